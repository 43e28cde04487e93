/*
 * stack.h - the kernel stack (entry.asm) and its guard page.
 */
#ifndef KERNEL_CPU_STACK_H
#define KERNEL_CPU_STACK_H

#include <stdbool.h>
#include <stdint.h>

#define KERNEL_PAGE_SIZE 4096

/* [bottom, top) of the stack kernel_main runs on. */
void kernel_stack_bounds(uintptr_t *bottom, uintptr_t *top);

/* The start of the guard page just below the stack. */
uintptr_t kernel_stack_guard_page(void);

#endif
