/*
 * idt.h - the Interrupt Descriptor Table.
 *
 * The IDT tells the CPU where the handler of each of the 256 vectors is
 * (Intel SDM Vol. 3A, 6.10 and 6.14.1). Vectors 0-31 are the CPU's own
 * exceptions; the kernel puts the 8259 PICs' IRQs at 32-47 (pic.h).
 */
#ifndef KERNEL_CPU_IDT_H
#define KERNEL_CPU_IDT_H

#include "cpu/interrupt_frame.h"

#define IDT_EXCEPTION_VECTORS 32 /* 0-31 are reserved for the CPU (SDM 6.2) */
#define IDT_IRQ_BASE_VECTOR 32   /* where pic.c puts IRQ 0 */
#define IDT_IRQ_VECTORS 16
#define IDT_STUB_VECTORS (IDT_IRQ_BASE_VECTOR + IDT_IRQ_VECTORS)

/* Fill the IDT with every stub of interrupt_stubs.asm (exceptions, with
 * IST stacks for #DF, NMI and #MC, and the 16 IRQ vectors) and load it.
 * Call after gdt_init(): the gates name the kernel code selector. */
void idt_init(void);

/*
 * Where vectors 32-47 go. interrupt_dispatch, the one C entry point of
 * every interrupt, hands exceptions (0-31) to exception_handle and every
 * other vector to this handler. The IDT does not know who handles IRQs:
 * the IRQ layer (interrupts/irq.c) registers itself here, so that cpu/
 * depends on nothing above it. Until then such a vector is ignored (none
 * can arrive: the PICs still point at their BIOS vectors and interrupts
 * are off).
 */
typedef void (*interrupt_handler)(struct interrupt_frame *frame);
void idt_set_irq_handler(interrupt_handler handler);

#endif
