/*
 * align.h - rounding to a multiple of a power of two.
 *
 * Header only, and needing nothing but <stdint.h>: the kernel uses it for
 * frames and pages, and the host's image builder (image/disk_layout.c) for
 * sectors, so both round the same way. `alignment` must be a power of two
 * (4096, 2048 sectors, ...): then alignment - 1 is a mask of the low bits
 * to clear.
 */
#ifndef LIBK_ALIGN_H
#define LIBK_ALIGN_H

#include <stdint.h>

/* The largest multiple of `alignment` not above `value`. */
static inline uint64_t align_down(uint64_t value, uint64_t alignment)
{
    return value & ~(alignment - 1);
}

/* The smallest multiple of `alignment` not below `value`. (Wraps to 0
 * when there is none below 2^64.) */
static inline uint64_t align_up(uint64_t value, uint64_t alignment)
{
    return align_down(value + alignment - 1, alignment);
}

#endif
