/*
 * paging_print.c - paging_walk_print: the walk the CPU makes for one
 * virtual address, level by level, for the shell's `pt ADDR` command and
 * for anyone debugging a page fault. For 0x100000 on our kernel:
 *
 *   page walk for 0x0000000000100000 (CR3 0x0000000000020000):
 *     PML4E [  0] 0x0000000000021003 P W S X -> table 0x0000000000021000
 *     PDPTE [  0] 0x0000000000022003 P W S X -> table 0x0000000000022000
 *     PDE   [  0] 0x0000000000024003 P W S X -> table 0x0000000000024000
 *     PTE   [256] 0x0000000000100001 P R S X -> 4 KiB page 0x0000000000100000
 *     => physical 0x0000000000100000, read-only, supervisor, executable
 *
 * Flags: P present, W writable / R read-only, U user / S supervisor,
 * X executable / NX no-execute, then A accessed, D dirty, G global, PS
 * large page, PWT, PCD when set.
 */
#include "mm/paging.h"

#include <libk/align.h>

#include "console.h"
#include "cpu/control_registers.h"
#include "mm/page_table.h"

static const char *const level_names[PAGING_LEVELS] = {"PML4E", "PDPTE", "PDE  ", "PTE  "};

static void print_flags(uint64_t entry, bool nx_enabled)
{
    kprintf("P %s %s %s", entry & ENTRY_WRITABLE ? "W" : "R", entry & ENTRY_USER ? "U" : "S",
            nx_enabled && (entry & ENTRY_NO_EXECUTE) ? "NX" : "X");
    if (entry & ENTRY_ACCESSED)
        kprintf(" A");
    if (entry & ENTRY_DIRTY)
        kprintf(" D");
    if (entry & ENTRY_GLOBAL)
        kprintf(" G");
    if (entry & ENTRY_WRITE_THROUGH)
        kprintf(" PWT");
    if (entry & ENTRY_CACHE_DISABLE)
        kprintf(" PCD");
}

void paging_walk_print(uint64_t virt)
{
    uint64_t cr3 = read_cr3() & CR3_ADDRESS_MASK;
    bool nx = paging_nx_enabled();
    kprintf("page walk for 0x%016llx (CR3 0x%016llx):\n", (unsigned long long)virt,
            (unsigned long long)cr3);

    uint64_t upper = virt >> 47; /* bits 63-47 must all be equal (canonical) */
    if (upper != 0 && upper != (UINT64_MAX >> 47)) {
        kprintf("  not a canonical address: any access raises #GP, no walk happens\n");
        return;
    }

    uint64_t *table = table_at(cr3);
    for (int level = LEVEL_PML4; level <= LEVEL_PT; level++) {
        unsigned int index = level_index(virt, level);
        uint64_t entry = table[index];
        kprintf("  %s [%3u] 0x%016llx ", level_names[level], index, (unsigned long long)entry);
        if (!(entry & ENTRY_PRESENT)) {
            kprintf("not present\n  => not mapped: the walk stops here\n");
            return;
        }
        print_flags(entry, nx);
        bool large = level != LEVEL_PML4 && level != LEVEL_PT && (entry & ENTRY_LARGE);
        if (!large && level != LEVEL_PT) {
            kprintf(" -> table 0x%016llx\n", (unsigned long long)(entry & ENTRY_ADDRESS_MASK));
            table = table_at(entry);
            continue;
        }
        uint64_t span = level_span(level);
        uint64_t page = align_down(entry & ENTRY_ADDRESS_MASK, span);
        kprintf("%s -> %s page 0x%016llx\n", large ? " PS" : "",
                level == LEVEL_PDPT ? "1 GiB"
                : level == LEVEL_PD ? "2 MiB"
                                    : "4 KiB",
                (unsigned long long)page);
        break;
    }

    /* The permissions that count: all levels combined. */
    uint64_t phys;
    unsigned int flags;
    if (paging_translate(virt, &phys, &flags))
        kprintf("  => physical 0x%016llx, %s, %s, %s\n", (unsigned long long)phys,
                flags & PAGE_WRITABLE ? "writable" : "read-only",
                flags & PAGE_USER ? "user" : "supervisor",
                flags & PAGE_NO_EXECUTE ? "no-execute" : "executable");
}
