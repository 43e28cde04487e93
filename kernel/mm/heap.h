/*
 * heap.h - the kernel heap: kmalloc, kfree, krealloc, kcalloc.
 *
 * Every pointer handed out is 16-byte aligned (as the System V AMD64 ABI
 * promises for malloc, and as SSE data will need). Blocks carry guards:
 * a canary before and after the caller's bytes and a state word, so kfree
 * and krealloc can tell an overrun, a double free or a pointer that never
 * came from the heap, and panic saying which, with the address.
 */
#ifndef KERNEL_MM_HEAP_H
#define KERNEL_MM_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEAP_ALIGNMENT 16u

/* Map the heap's first pages. Needs the frame allocator and paging. */
void heap_init(void);

/* `size` bytes, uninitialised; NULL when size is 0 or memory ran out. */
void *kmalloc(size_t size);

/* Give back a block from kmalloc/kcalloc/krealloc; NULL does nothing. */
void kfree(void *pointer);

/* Resize a block, keeping its first min(old, new) bytes; may move it.
 * krealloc(NULL, n) is kmalloc(n); krealloc(p, 0) frees p and returns
 * NULL. On failure returns NULL and leaves p as it was. */
void *krealloc(void *pointer, size_t size);

/* count * size bytes, zeroed; NULL on overflow or when memory ran out. */
void *kcalloc(size_t count, size_t size);

struct heap_stats {
    uint64_t heap_bytes;       /* mapped heap: used_block_bytes + free_block_bytes */
    uint64_t used_block_bytes; /* blocks in use, with their headers and guards */
    uint64_t free_block_bytes; /* free blocks, with their headers */
    uint64_t requested_bytes;  /* what callers asked for, summed over blocks in use */
    uint64_t used_blocks;
    uint64_t free_blocks;
    uint64_t largest_free; /* the largest kmalloc that needs no more pages */
};

/* Walk every block, checking its guards (panics on damage), and count. */
struct heap_stats heap_stats(void);

/* Where the heap starts (virtual). */
uint64_t heap_base(void);

#endif
