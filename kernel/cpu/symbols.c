/*
 * symbols.c - binary search in the generated symbol table (symbols.h).
 */
#include "cpu/symbols.h"

#include <stddef.h>

/* linker.ld, around the generated table (sorted by address). */
extern const struct kernel_symbol __ksymtab_start[];
extern const struct kernel_symbol __ksymtab_end[];
/* linker.ld: the end of the kernel's code; beyond it is no function. */
extern const char __text_end[];

unsigned long symbols_count(void)
{
    return (unsigned long)(__ksymtab_end - __ksymtab_start);
}

bool symbols_lookup(uint64_t address, const char **name, uint64_t *offset)
{
    size_t count = symbols_count();
    if (count == 0 || address < __ksymtab_start[0].address ||
        address >= (uint64_t)(uintptr_t)__text_end)
        return false;

    /* The last symbol at or below the address. */
    size_t low = 0, high = count; /* invariant: table[low].address <= address */
    while (high - low > 1) {
        size_t middle = low + (high - low) / 2;
        if (__ksymtab_start[middle].address <= address)
            low = middle;
        else
            high = middle;
    }
    *name = __ksymtab_start[low].name;
    *offset = address - __ksymtab_start[low].address;
    return true;
}
