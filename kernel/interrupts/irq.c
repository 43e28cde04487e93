/*
 * irq.c - route IRQ vectors to drivers and acknowledge them.
 */
#include "interrupts/irq.h"

#include <stddef.h>

#include "cpu/idt.h"
#include "interrupts/pic.h"

static irq_handler handlers[PIC_IRQ_COUNT];
static unsigned long spurious_count;

bool irq_register(unsigned int irq, irq_handler handler)
{
    if (irq >= PIC_IRQ_COUNT || handler == NULL || handlers[irq] != NULL)
        return false;
    handlers[irq] = handler;
    pic_unmask(irq);
    return true;
}

unsigned long irq_spurious_count(void)
{
    return spurious_count;
}

void irq_handle(struct interrupt_frame *frame)
{
    unsigned int irq = (unsigned int)(frame->vector - IDT_IRQ_BASE_VECTOR);
    if (irq >= PIC_IRQ_COUNT)
        return;
    if ((irq == IRQ_SPURIOUS_MASTER || irq == IRQ_SPURIOUS_SLAVE) && pic_spurious(irq)) {
        spurious_count++;
        return; /* nothing in service: no EOI (pic.h) */
    }
    if (handlers[irq] != NULL)
        handlers[irq]();
    pic_send_eoi(irq);
}
