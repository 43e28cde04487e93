/*
 * interrupts.h - bring up hardware interrupts.
 */
#ifndef KERNEL_INTERRUPTS_INTERRUPTS_H
#define KERNEL_INTERRUPTS_INTERRUPTS_H

/*
 * Remap the PICs to vectors 32-47, then start the timer (IRQ 0), the
 * keyboard (IRQ 1) and serial input (IRQ 4). Needs idt_init() first.
 * Interrupts stay off: the caller enables them (STI) when ready.
 */
void interrupts_init(void);

#endif
