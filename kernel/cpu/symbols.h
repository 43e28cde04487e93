/*
 * symbols.h - the kernel's own symbol table, for names in backtraces.
 *
 * The build links the kernel twice (kernel/Makefile): the first link's
 * text symbols (`nm`) become a sorted table, generated as assembly into
 * the build directory, which the second link places last in the image
 * (section .ksymtab, linker.ld), so that no other address moves. Before
 * the second link, and in a kernel built some other way, the table is
 * empty and lookups fail.
 */
#ifndef KERNEL_CPU_SYMBOLS_H
#define KERNEL_CPU_SYMBOLS_H

#include <stdbool.h>
#include <stdint.h>

struct kernel_symbol {
    uint64_t address;
    const char *name;
};

/* The function holding `address`: true and *name, *offset when found. */
bool symbols_lookup(uint64_t address, const char **name, uint64_t *offset);

/* The number of symbols in the table. */
unsigned long symbols_count(void);

#endif
