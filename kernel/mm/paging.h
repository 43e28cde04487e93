/*
 * paging.h - mapping 4 KiB pages in the page tables the CPU uses (CR3).
 *
 * The kernel keeps the loader's tables (docs/boot-protocol.md: an identity
 * map of all RAM with 4 KiB, 2 MiB and 1 GiB pages) and edits them in
 * place. Tables it needs are taken from the frame allocator and zeroed.
 * Changing a page that lies inside a 2 MiB or 1 GiB page first splits that
 * large page into 512 smaller ones with the same permissions, down to
 * 4 KiB.
 *
 * Page tables are reached through the identity map, so every table must
 * lie below boot_info.identity_map_end (the frame allocator sees to it).
 */
#ifndef KERNEL_MM_PAGING_H
#define KERNEL_MM_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#define PAGE_SIZE 4096ull

/* Permissions of a page; a page is always readable by the kernel. */
enum page_flags {
    PAGE_WRITABLE = 1u << 0,
    PAGE_NO_EXECUTE = 1u << 1, /* ignored when EFER.NXE is off (no NX) */
    PAGE_USER = 1u << 2,       /* reachable from ring 3 */
    /* Reported by paging_translate only: */
    PAGE_LARGE = 1u << 3, /* mapped by a 2 MiB or 1 GiB page */
};

enum paging_status {
    PAGING_OK = 0,
    PAGING_NO_MEMORY,      /* no frame left for a page table */
    PAGING_ALREADY_MAPPED, /* paging_map: the page is mapped; unmap it first */
    PAGING_NOT_MAPPED,     /* paging_unmap, paging_protect: nothing there */
    PAGING_BAD_ADDRESS,    /* not 4 KiB aligned, or not canonical */
};

/*
 * Take over the loader's tables: find the PML4 from CR3, make sure CR0.WP
 * is on and EFER.NXE is on when the CPU has NX. Needs the frame allocator.
 */
void paging_init(void);

/* Map the 4 KiB page at `virt` to the frame at `phys` with `flags`. */
enum paging_status paging_map(uint64_t virt, uint64_t phys, unsigned int flags);

/* Remove the mapping of the page at `virt` (splitting a large page). The
 * frame behind it is not freed: it belongs to whoever mapped it. */
enum paging_status paging_unmap(uint64_t virt);

/* Give the page at `virt` new permissions (splitting a large page). */
enum paging_status paging_protect(uint64_t virt, unsigned int flags);

/*
 * Where `virt` leads: true and the physical address and effective flags
 * (PAGE_WRITABLE only if every level allows writes, PAGE_NO_EXECUTE if any
 * level forbids execution, PAGE_USER only if every level allows ring 3),
 * or false when it is not mapped. Either pointer may be NULL.
 */
bool paging_translate(uint64_t virt, uint64_t *phys, unsigned int *flags);

/* Print the walk to `virt`, one line per level: index, raw entry, decoded
 * flags, and where the walk stops (not present, large page, 4 KiB page). */
void paging_walk_print(uint64_t virt);

/* Whether page entries may carry the NX bit (EFER.NXE is set). */
bool paging_nx_enabled(void);

const char *paging_status_name(enum paging_status status);

#endif
