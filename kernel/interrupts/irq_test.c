/*
 * irq_test.c - only the lines in use are unmasked, and a line has one
 * handler.
 */
#include <stdint.h>

#include "interrupts/irq.h"
#include "io.h"
#include "ktest/ktest.h"

/* OCW1: reading a PIC's data port returns its interrupt mask register. */
#define MASTER_DATA 0x21
#define SLAVE_DATA 0xA1
#define ALL_MASKED 0xFF

static void unused_handler(void)
{
}

KTEST(irq_only_timer_keyboard_and_com1_are_unmasked)
{
    uint8_t in_use = (1u << IRQ_TIMER) | (1u << IRQ_KEYBOARD) | (1u << IRQ_COM1);
    KASSERT_EQ(inb(MASTER_DATA), (uint8_t)~in_use);
    KASSERT_EQ(inb(SLAVE_DATA), ALL_MASKED);
}

KTEST(irq_register_refuses_taken_and_bad_lines)
{
    KASSERT(!irq_register(IRQ_TIMER, unused_handler)); /* the timer has it */
    KASSERT(!irq_register(16, unused_handler));        /* there are 16 lines */
    KASSERT(!irq_register(IRQ_SPURIOUS_MASTER, 0));
}
