/*
 * frames.h - the physical frame allocator: hands out 4 KiB frames of RAM.
 *
 * Fed once, at boot, from the sanitised memory map (memory.c); from then
 * on frame_alloc() gives out one frame at a time and frame_free() takes it
 * back. A frame's address is physical; the kernel reaches it through the
 * loader's identity map (virtual = physical), which is why only frames
 * below boot_info.identity_map_end are ever handed out.
 */
#ifndef KERNEL_MM_FRAMES_H
#define KERNEL_MM_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libk/memory_map.h>

#include "boot_info.h"

/* The x86 small page (Intel SDM Vol. 3A, 4.5): the unit of allocation. */
#define FRAME_SIZE 4096ull

/*
 * Nothing below 1 MiB is handed out. The low megabyte holds frame 0 (a
 * NULL pointer's target), the interrupt vector table and BIOS data area,
 * the loader with the boot information, its GDT and page tables still in
 * use, the EBDA, video memory and ROMs; what little is usable there is
 * not worth the risk (docs/boot-protocol.md, "Memory the kernel may reuse").
 */
#define FRAMES_LOW_MEMORY_END 0x100000ull

/* A range of physical memory the allocator never hands out, and why. */
struct frame_reservation {
    const char *what;
    uint64_t start; /* physical, inclusive */
    uint64_t end;   /* physical, exclusive */
};

struct frame_stats {
    uint64_t total; /* frames the allocator manages: usable and not reserved */
    uint64_t free;  /* of those, not handed out now */
    uint64_t used;  /* total - free */
};

/*
 * Set up the allocator from `map` (sanitised: sorted, no overlaps, usable
 * ranges page-aligned) and the reservations the boot information names.
 * Panics when no room is left for the allocator's own bitmap.
 */
void frames_init(const struct boot_info *boot_info, const struct memory_range *map, size_t count);

/* The physical address of a free frame, now in use; 0 when none is left
 * (frame 0 is never handed out, so 0 cannot be a real answer). The frame's
 * contents are whatever was there. */
uint64_t frame_alloc(void);

/* Give back a frame from frame_alloc(). Panics, naming the address, on a
 * double free, a reserved frame, an address that is not page-aligned or
 * outside the memory the allocator manages. */
void frame_free(uint64_t address);

struct frame_stats frames_stats(void);

/* Whether the allocator may ever hand out the frame at `address`, and
 * whether it is free now. */
bool frame_is_managed(uint64_t address);
bool frame_is_free(uint64_t address);

/* The reserved ranges (kernel image, boot information, loader, bitmap...),
 * for tests and reports. */
size_t frames_reservations(const struct frame_reservation **list);

/* The end of the physical memory the allocator covers (exclusive). */
uint64_t frames_limit(void);

#endif
