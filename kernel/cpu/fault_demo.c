/*
 * fault_demo.c - the faults of fault_demo.h.
 */
#include "cpu/fault_demo.h"

#include <stdint.h>

#include <libk/string.h>

/*
 * Bit 47 and everything above must be equal in a canonical 48-bit address
 * (Intel SDM Vol. 1, 3.3.7.1); this one breaks the rule. Using it is a
 * #GP, not a page fault.
 */
#define NON_CANONICAL_ADDRESS 0x8000000000000000ull

/*
 * The last page of the lower canonical half: the loader identity-maps RAM
 * only (at most up to the CPU's physical address width, far below 128 TiB),
 * so nothing is mapped here.
 */
#define UNMAPPED_ADDRESS 0x00007FFFFFFFF000ull

__attribute__((noinline)) static void fault_page(void)
{
    *(volatile uint64_t *)UNMAPPED_ADDRESS = 0x600DF00D;
}

__attribute__((noinline)) static void fault_general_protection(void)
{
    (void)*(volatile uint64_t *)NON_CANONICAL_ADDRESS;
}

__attribute__((noinline)) static void fault_invalid_opcode(void)
{
    __asm__ volatile("ud2"); /* defined to be undefined (SDM Vol. 2B, UD) */
}

__attribute__((noinline)) static void fault_divide(void)
{
    /* In assembly: a C division by zero is undefined behaviour, which the
     * compiler may turn into anything. DIV with a zero divisor is #DE. */
    __asm__ volatile("xor %%ecx, %%ecx\n\t"
                     "mov $1, %%eax\n\t"
                     "xor %%edx, %%edx\n\t"
                     "div %%ecx"
                     :
                     :
                     : "rax", "rcx", "rdx");
}

__attribute__((noinline)) static void fault_double(void)
{
    /* Push onto an unmapped stack: the resulting #PF needs the same stack
     * for its own frame (no privilege change, no IST for #PF), which
     * faults again: a fault while delivering a #PF is a double fault
     * (SDM 6.15, Table 6-5). */
    __asm__ volatile("mov %0, %%rsp\n\t"
                     "push %%rax"
                     :
                     : "r"(UNMAPPED_ADDRESS + 0x800)
                     : "memory");
}

/* A depth no stack reaches; volatile, so that the compiler cannot tell the
 * recursion below never ends (and refuses, or turns it into a loop). */
static volatile unsigned long recursion_limit = ~0ul;

/* Every call takes a frame of stack; nothing stops it but the guard page. */
__attribute__((noinline)) static unsigned long fault_recurse(unsigned long depth)
{
    volatile char frame_filler[256];
    frame_filler[0] = (char)depth;
    if (depth == recursion_limit)
        return 0;
    return fault_recurse(depth + 1) + frame_filler[0];
}

void fault_provoke(const char *kind)
{
    if (strcmp(kind, "pf") == 0)
        fault_page();
    else if (strcmp(kind, "gp") == 0)
        fault_general_protection();
    else if (strcmp(kind, "ud") == 0)
        fault_invalid_opcode();
    else if (strcmp(kind, "de") == 0)
        fault_divide();
    else if (strcmp(kind, "df") == 0)
        fault_double();
    else if (strcmp(kind, "stack") == 0)
        fault_recurse(0);
}
