/*
 * interrupts.c - the order in which hardware interrupts come up.
 */
#include "interrupts/interrupts.h"

#include "cpu/idt.h"
#include "interrupts/keyboard.h"
#include "interrupts/pic.h"
#include "interrupts/serial_input.h"
#include "interrupts/timer.h"

void interrupts_init(void)
{
    /* First move the PICs off the exception vectors (every line masked),
     * then let each driver unmask its own line. */
    pic_init(IDT_IRQ_BASE_VECTOR);
    timer_init();
    keyboard_init();
    serial_input_init();
}
