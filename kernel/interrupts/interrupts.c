/*
 * interrupts.c - hardware interrupts come up: the PICs, then the IRQ
 * dispatch behind vectors 32-47.
 */
#include "interrupts/interrupts.h"

#include "cpu/idt.h"
#include "interrupts/irq.h"
#include "interrupts/pic.h"

void interrupts_init(void)
{
    /* First move the PICs off the exception vectors (every line masked),
     * then let the IDT send their vectors here; each driver unmasks its
     * own line when it registers. */
    pic_init(IDT_IRQ_BASE_VECTOR);
    idt_set_irq_handler(irq_handle);
}
