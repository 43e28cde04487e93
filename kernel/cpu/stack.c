/*
 * stack.c - where the kernel's boot stack and its guard page are, for the
 * exception reports (a fault in the guard page means a stack overflow) and
 * the backtrace. The guard page itself is unmapped by mm/kernel_stack.c.
 */
#include "cpu/stack.h"

/* entry.asm; mm/kernel_stack.c unmaps the guard page. */
extern char kernel_boot_stack_guard[];
extern char kernel_boot_stack_bottom[];
extern char kernel_boot_stack_top[];

void kernel_stack_bounds(uintptr_t *bottom, uintptr_t *top)
{
    *bottom = (uintptr_t)kernel_boot_stack_bottom;
    *top = (uintptr_t)kernel_boot_stack_top;
}

uintptr_t kernel_stack_guard_page(void)
{
    return (uintptr_t)kernel_boot_stack_guard;
}
