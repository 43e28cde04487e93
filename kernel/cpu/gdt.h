/*
 * gdt.h - the kernel's own Global Descriptor Table and Task State Segment.
 *
 * The loader's GDT lives in loader memory (docs/boot-protocol.md), which the
 * kernel will reuse, so the kernel installs a table of its own. In 64-bit
 * mode segments are flat (base 0, no limit checks, Intel SDM Vol. 3A, 3.2.4)
 * but the CPU still needs: a code descriptor with L = 1 for CS, a data
 * descriptor for SS, and a TSS, which in long mode holds no task state but
 * the stack pointers the CPU switches to on an interrupt (SDM 8.7).
 */
#ifndef KERNEL_CPU_GDT_H
#define KERNEL_CPU_GDT_H

#include <stdint.h>

/* Selectors: index * 8 (bits 3-15), TI = 0 (GDT), RPL in bits 0-1. */
#define GDT_KERNEL_CODE_SELECTOR 0x08
#define GDT_KERNEL_DATA_SELECTOR 0x10
#define GDT_USER_DATA_SELECTOR (0x18 | 3) /* RPL 3; unused until user mode */
#define GDT_USER_CODE_SELECTOR (0x20 | 3)
#define GDT_TSS_SELECTOR 0x28 /* takes two slots: 0x28 and 0x30 */

/*
 * Interrupt Stack Table slots (SDM 6.14.5): an IDT gate naming IST n makes
 * the CPU load RSP from TSS.IST[n] before pushing anything, whatever the
 * old stack was. A double fault caused by a broken kernel stack can then
 * still be reported. 0 in a gate means "no stack switch".
 */
#define IST_DOUBLE_FAULT 1
#define IST_NMI 2
#define IST_MACHINE_CHECK 3
#define IST_STACK_SIZE 4096

/* Load the kernel GDT, reload CS/DS/ES/FS/GS/SS, load the TSS (TR). */
void gdt_init(void);

/* The [bottom, top) of IST stack `ist` (1-3), for the backtrace's checks. */
void gdt_ist_stack(unsigned int ist, uintptr_t *bottom, uintptr_t *top);

#endif
