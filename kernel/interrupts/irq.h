/*
 * irq.h - hardware interrupt lines (IRQ 0-15 of the 8259 PICs) and their
 * handlers.
 */
#ifndef KERNEL_INTERRUPTS_IRQ_H
#define KERNEL_INTERRUPTS_IRQ_H

#include <stdbool.h>

#include "cpu/interrupt_frame.h"

/* The PC/AT's fixed IRQ assignments. */
#define IRQ_TIMER 0    /* PIT channel 0 */
#define IRQ_KEYBOARD 1 /* 8042 keyboard controller, first port */
#define IRQ_COM1 4
#define IRQ_SPURIOUS_MASTER 7
#define IRQ_SPURIOUS_SLAVE 15

typedef void (*irq_handler)(void);

/*
 * Call `handler` on every interrupt of line `irq` (0-15) and unmask the
 * line. Handlers run with interrupts off; the EOI is sent after the
 * handler returns. Returns false for a bad line or one already taken.
 */
bool irq_register(unsigned int irq, irq_handler handler);

/* For vectors 32-47: call the line's handler, then send the EOI.
 * interrupts_init() has the IDT call it (idt_set_irq_handler). */
void irq_handle(struct interrupt_frame *frame);

/* How many spurious IRQ 7/15 were seen (for the curious and the tests). */
unsigned long irq_spurious_count(void);

#endif
