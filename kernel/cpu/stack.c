/*
 * stack.c - the guard page below the kernel stack.
 *
 * There is no paging API yet (memory management will bring one), so this
 * edits the loader's page tables directly: walk from CR3 down the four
 * levels to the 4 KiB entry of the guard page and clear its Present bit.
 * The loader maps every page of the kernel's segments with 4 KiB pages
 * (docs/boot-protocol.md, "Paging"), and the guard page is in .bss, so
 * the walk always ends in a page table. Once the kernel builds its own
 * page tables, the guard page should simply be left unmapped there.
 *
 * Paging structures: Intel SDM Vol. 3A, 4.5 "4-Level Paging": 512
 * entries of 8 bytes per table; each level indexes 9 bits of the linear
 * address (PML4 bits 39-47, PDPT 30-38, PD 21-29, PT 12-20).
 */
#include "cpu/stack.h"

#include "cpu/control_registers.h"

#define PAGE_PRESENT 0x1ull                  /* bit 0 */
#define PAGE_LARGE 0x80ull                   /* bit 7 (PS) in a PDPT or PD entry */
#define PAGE_ADDRESS_MASK 0x000FFFFFFFFFF000ull /* bits 12-51: the next table */
#define TABLE_INDEX_MASK 0x1FF               /* 9 bits: 512 entries */
#define PML4_SHIFT 39
#define PDPT_SHIFT 30
#define PD_SHIFT 21
#define PT_SHIFT 12

extern char kernel_stack_guard[];
extern char kernel_stack_bottom[];
extern char kernel_stack_top[];

void kernel_stack_bounds(uintptr_t *bottom, uintptr_t *top)
{
    *bottom = (uintptr_t)kernel_stack_bottom;
    *top = (uintptr_t)kernel_stack_top;
}

uintptr_t kernel_stack_guard_page(void)
{
    return (uintptr_t)kernel_stack_guard;
}

/* The entry for `address` in the table at physical (= virtual, identity
 * map) address `table`. */
static uint64_t *entry_in(uint64_t table, uintptr_t address, unsigned int shift)
{
    uint64_t *entries = (uint64_t *)(uintptr_t)(table & PAGE_ADDRESS_MASK);
    return &entries[(address >> shift) & TABLE_INDEX_MASK];
}

bool kernel_stack_guard_install(void)
{
    uintptr_t guard = kernel_stack_guard_page();
    static const unsigned int shifts[] = {PML4_SHIFT, PDPT_SHIFT, PD_SHIFT};

    uint64_t table = read_cr3();
    for (unsigned int level = 0; level < sizeof shifts / sizeof shifts[0]; level++) {
        uint64_t entry = *entry_in(table, guard, shifts[level]);
        if (!(entry & PAGE_PRESENT) || (level > 0 && (entry & PAGE_LARGE)))
            return false;       /* not the 4 KiB mapping the protocol promises */
        table = entry;
    }
    uint64_t *pte = entry_in(table, guard, PT_SHIFT);
    *pte &= ~PAGE_PRESENT;
    invlpg(guard);
    return true;
}
