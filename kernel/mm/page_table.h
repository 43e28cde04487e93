/*
 * page_table.h - the layout of x86-64 4-level paging structures, shared by
 * paging.c (which changes them) and paging_print.c (which shows them).
 *
 * Every table is one 4 KiB page of 512 8-byte entries. A virtual address
 * picks one entry per level with 9 bits each (Intel SDM Vol. 3A, 4.5,
 * figure 4-8):
 *
 *   bits 47-39  PML4 entry   each covers 512 GiB
 *   bits 38-30  PDPT entry   1 GiB  (a 1 GiB page when PS is set)
 *   bits 29-21  PD entry     2 MiB  (a 2 MiB page when PS is set)
 *   bits 20-12  PT entry     4 KiB page
 *   bits 11-0   offset in the page
 *
 * and bits 63-48 must copy bit 47 (a "canonical" address).
 */
#ifndef KERNEL_MM_PAGE_TABLE_H
#define KERNEL_MM_PAGE_TABLE_H

#include <stdint.h>

/* Entry bits (SDM Vol. 3A, 4.5, tables 4-14 to 4-20). */
#define ENTRY_PRESENT (1ull << 0)
#define ENTRY_WRITABLE (1ull << 1)
#define ENTRY_USER (1ull << 2)
#define ENTRY_WRITE_THROUGH (1ull << 3) /* PWT */
#define ENTRY_CACHE_DISABLE (1ull << 4) /* PCD */
#define ENTRY_ACCESSED (1ull << 5)
#define ENTRY_DIRTY (1ull << 6)       /* leaves only */
#define ENTRY_LARGE (1ull << 7)       /* PS, in a PDPT or PD entry: maps a 1 GiB or 2 MiB page */
#define ENTRY_PTE_PAT (1ull << 7)     /* the same bit in a PT entry is PAT */
#define ENTRY_GLOBAL (1ull << 8)      /* leaves only */
#define ENTRY_LARGE_PAT (1ull << 12)  /* PAT moves to bit 12 in a large page's entry */
#define ENTRY_NO_EXECUTE (1ull << 63) /* only with EFER.NXE; else a reserved bit */

/* Bits 12-51: the physical address of the next table or of the page. */
#define ENTRY_ADDRESS_MASK 0x000FFFFFFFFFF000ull

#define PAGE_TABLE_ENTRIES 512u
#define PAGING_LEVELS 4

/* Level 0 is the PML4, 3 the page table. */
enum paging_level {
    LEVEL_PML4 = 0,
    LEVEL_PDPT = 1,
    LEVEL_PD = 2,
    LEVEL_PT = 3,
};

/* The lowest address bit each level's index uses: 39, 30, 21, 12. */
static inline unsigned int level_shift(int level)
{
    return 39u - 9u * (unsigned int)level;
}

static inline unsigned int level_index(uint64_t virt, int level)
{
    return (unsigned int)(virt >> level_shift(level)) & (PAGE_TABLE_ENTRIES - 1);
}

/* Bytes one entry of `level` covers: 512 GiB, 1 GiB, 2 MiB, 4 KiB. */
static inline uint64_t level_span(int level)
{
    return 1ull << level_shift(level);
}

/* A table through the identity map (virtual = physical). */
static inline uint64_t *table_at(uint64_t physical)
{
    return (uint64_t *)(uintptr_t)(physical & ENTRY_ADDRESS_MASK);
}

#endif
