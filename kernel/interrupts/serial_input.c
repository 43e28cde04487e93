/*
 * serial_input.c - COM1 receive interrupt (see serial_input.h).
 */
#include "interrupts/serial_input.h"

#include "console.h"
#include "interrupts/irq.h"
#include "serial.h"

#define CARRIAGE_RETURN '\r'
#define LINE_FEED '\n'

static bool previous_was_cr;

void serial_input_receive(uint8_t byte)
{
    char c = (char)byte;
    bool was_cr = previous_was_cr;
    previous_was_cr = c == CARRIAGE_RETURN;

    if (c == LINE_FEED && was_cr)
        return;                 /* the LF of a CR LF pair: Enter counted already */
    if (c == CARRIAGE_RETURN)
        c = '\n';               /* terminals send CR for Enter */
    else if (byte == CONSOLE_SERIAL_DELETE)
        c = CONSOLE_BACKSPACE;
    console_input_push(c);
}

static void serial_interrupt(void)
{
    /* The UART interrupts once for possibly several bytes (its FIFO):
     * take every byte until LSR bit 0 says there are no more. */
    uint8_t byte;
    while (serial_try_read_byte(&byte))
        serial_input_receive(byte);
}

void serial_input_init(void)
{
    irq_register(IRQ_COM1, serial_interrupt);
    serial_enable_receive_interrupt();
}
