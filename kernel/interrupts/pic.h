/*
 * pic.h - the two 8259A Programmable Interrupt Controllers of the PC.
 *
 * The master PIC takes IRQ 0-7; the slave's output is wired to the
 * master's IRQ 2 and takes IRQ 8-15 (Intel 8259A data sheet; the PC/AT
 * wiring). At power-on the BIOS points IRQ 0-7 at vectors 8-15, which in
 * protected and long mode are CPU exceptions, so the kernel moves them.
 */
#ifndef KERNEL_INTERRUPTS_PIC_H
#define KERNEL_INTERRUPTS_PIC_H

#include <stdbool.h>

#define PIC_IRQ_COUNT 16
#define PIC_CASCADE_IRQ 2 /* the master's input that carries the slave */

/* Move IRQ 0-15 to vectors `base`..`base`+15 and mask every line. */
void pic_init(unsigned int base_vector);

void pic_unmask(unsigned int irq);
void pic_mask(unsigned int irq);

/* End of interrupt for `irq`: to the slave and the master for IRQ 8-15,
 * to the master only for IRQ 0-7. */
void pic_send_eoi(unsigned int irq);

/*
 * IRQ 7 and IRQ 15 can be spurious: a request that went away before the
 * PIC's acknowledge cycle is reported as the lowest-priority line of that
 * PIC without the line being in service. True when `irq` is 7 or 15 and
 * its in-service bit is clear; then no EOI is due to that PIC (but a
 * spurious IRQ 15 still needs one to the master, for the cascade line:
 * pic_spurious() sends it).
 */
bool pic_spurious(unsigned int irq);

#endif
