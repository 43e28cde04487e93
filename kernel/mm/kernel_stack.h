/*
 * kernel_stack.h - stacks with a guard page, for the boot stack, the TSS's
 * interrupt stacks (IST) and later tasks.
 *
 * A stack that overflows runs into the unmapped page below it and page-
 * faults at once, instead of silently overwriting whatever lies below.
 */
#ifndef KERNEL_MM_KERNEL_STACK_H
#define KERNEL_MM_KERNEL_STACK_H

#include <stddef.h>
#include <stdint.h>

/*
 * A new stack of `pages` 4 KiB pages (writable, no-execute) at its own
 * place in the kernel-stack area, with an unmapped guard page right below.
 * Returns the address just above its highest byte, the initial RSP
 * (16-byte aligned), or 0 when frames or the area ran out. Stacks are
 * never freed (few are needed: one per IST and per task).
 */
uint64_t kernel_stack_alloc(size_t pages);

/* The lowest address of the stack whose top kernel_stack_alloc returned
 * as `top`; the guard page is the page below it. */
uint64_t kernel_stack_bottom(uint64_t top, size_t pages);

/*
 * Unmap the guard page entry.asm leaves below the boot stack (the stack
 * kernel_main runs on). Called once by memory_init.
 */
void kernel_stack_guard_boot_stack(void);

/* The boot stack and its guard page, from entry.asm. */
extern char kernel_boot_stack_guard[];
extern char kernel_boot_stack_bottom[];
extern char kernel_boot_stack_top[];

#endif
