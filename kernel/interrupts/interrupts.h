/*
 * interrupts.h - bring up hardware interrupts.
 */
#ifndef KERNEL_INTERRUPTS_INTERRUPTS_H
#define KERNEL_INTERRUPTS_INTERRUPTS_H

/*
 * Remap the PICs to vectors 32-47, every line masked, and route those
 * vectors to the IRQ dispatch (irq.h). Needs idt_init() first. Then the
 * drivers can take their lines (irq_register unmasks each); interrupts
 * stay off until the caller enables them (STI).
 */
void interrupts_init(void);

#endif
