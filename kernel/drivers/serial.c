/*
 * serial.c - COM1 through its 16550-compatible UART.
 *
 * The UART is programmed through eight consecutive I/O ports starting at
 * its base address; the BIOS puts COM1 at 0x3F8. Register offsets and bits
 * below are those of the National Semiconductor PC16550D data sheet.
 *
 * QEMU and Bochs connect COM1 to whatever "-serial" (or the Bochs "com1:"
 * option) names: a file, a terminal, a pipe. The tests read the kernel's
 * output from there.
 */
#include "drivers/serial.h"

#include <stdint.h>

#include "console.h"
#include "interrupts/irq.h"
#include "io.h"

#define COM1_BASE 0x3F8

/* Register offsets from the base port. */
#define UART_DATA 0 /* read: receive buffer; write: transmit holding register */
#define UART_INTERRUPT_ENABLE 1
#define UART_DIVISOR_LOW 0 /* the same two ports, while LCR.DLAB = 1 */
#define UART_DIVISOR_HIGH 1
#define UART_FIFO_CONTROL 2 /* write only */
#define UART_LINE_CONTROL 3
#define UART_MODEM_CONTROL 4
#define UART_LINE_STATUS 5

/* Line Control Register (LCR) bits. */
#define LCR_WORD_LENGTH_8 0x03 /* bits 0-1 = 11: 8 data bits */
                               /* bit 2 = 0: 1 stop bit; bit 3 = 0: no parity */
#define LCR_DLAB 0x80          /* bit 7: Divisor Latch Access Bit */

/* FIFO Control Register (FCR) bits. */
#define FCR_ENABLE 0x01         /* bit 0: turn the 16-byte FIFOs on */
#define FCR_CLEAR_RECEIVE 0x02  /* bit 1: empty the receive FIFO */
#define FCR_CLEAR_TRANSMIT 0x04 /* bit 2: empty the transmit FIFO */

/* Modem Control Register (MCR) bits. */
#define MCR_DTR 0x01 /* bit 0: Data Terminal Ready */
#define MCR_RTS 0x02 /* bit 1: Request To Send */
#define MCR_OUT2                                                                                   \
    0x08 /* bit 3: OUT2; on the PC it gates the UART's                                             \
          * interrupt line to the PIC (IRQ 4 for COM1) */

/* Interrupt Enable Register (IER) bits. */
#define IER_RECEIVED_DATA 0x01 /* bit 0: interrupt when received data is available */

#define UART_INTERRUPT_ID 2 /* read: Interrupt Identification Register (IIR) */
#define UART_MODEM_STATUS 6

/* Line Status Register (LSR) bits. */
#define LSR_DATA_READY 0x01       /* bit 0: a received byte waits in RBR (or the FIFO) */
#define LSR_TRANSMIT_EMPTY 0x20   /* bit 5: transmitter holding register empty */
#define LSR_TRANSMITTER_IDLE 0x40 /* bit 6: holding and shift registers both empty */

/*
 * The UART's clock is 1.8432 MHz divided by 16: 115200 is the fastest rate,
 * and the divisor for a baud rate B is 115200 / B.
 */
#define UART_MAX_BAUD 115200
#define SERIAL_BAUD 115200
#define SERIAL_DIVISOR (UART_MAX_BAUD / SERIAL_BAUD)

/*
 * How many times to poll the LSR before sending anyway. At 115200 baud a
 * byte takes about 87 microseconds and an IN instruction about one, so a
 * working UART is ready long before this; the limit only keeps a broken or
 * absent UART from hanging the kernel. (An absent one usually reads as 0xFF,
 * which has bit 5 set anyway.)
 */
#define TRANSMIT_POLL_LIMIT 100000

void serial_init(void)
{
    /*
     * The loader may still be sending its last byte. Changing the divisor
     * or clearing the FIFO now would garble it (Bochs turns it into a NUL),
     * so wait, bounded, until the transmitter is idle.
     */
    for (int i = 0; i < TRANSMIT_POLL_LIMIT; i++) {
        if (inb(COM1_BASE + UART_LINE_STATUS) & LSR_TRANSMITTER_IDLE)
            break;
    }

    /* Output is polled; input interrupts come later (serial_input_init). */
    outb(COM1_BASE + UART_INTERRUPT_ENABLE, 0x00);

    /* Set the baud rate: with DLAB set, ports 0 and 1 are the divisor. */
    outb(COM1_BASE + UART_LINE_CONTROL, LCR_DLAB);
    outb(COM1_BASE + UART_DIVISOR_LOW, SERIAL_DIVISOR & 0xFF);
    outb(COM1_BASE + UART_DIVISOR_HIGH, (SERIAL_DIVISOR >> 8) & 0xFF);

    /* 8N1, and DLAB back to 0 so port 0 is the data register again. */
    outb(COM1_BASE + UART_LINE_CONTROL, LCR_WORD_LENGTH_8);

    /* FIFOs on and empty: the UART then buffers up to 16 bytes. */
    outb(COM1_BASE + UART_FIFO_CONTROL, FCR_ENABLE | FCR_CLEAR_RECEIVE | FCR_CLEAR_TRANSMIT);

    /* Tell the other end we are ready; some terminals wait for DTR/RTS. */
    outb(COM1_BASE + UART_MODEM_CONTROL, MCR_DTR | MCR_RTS);
}

static void serial_put_byte(uint8_t byte)
{
    /*
     * Wait until the UART can take another byte. QEMU accepts bytes at any
     * time, but Bochs (like real hardware) silently drops a byte written
     * while the transmitter is still busy.
     */
    for (int i = 0; i < TRANSMIT_POLL_LIMIT; i++) {
        if (inb(COM1_BASE + UART_LINE_STATUS) & LSR_TRANSMIT_EMPTY)
            break;
    }
    outb(COM1_BASE + UART_DATA, byte);
}

void serial_write(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        /* A terminal needs a carriage return to go back to column 0. */
        if (s[i] == '\n')
            serial_put_byte('\r');
        serial_put_byte((uint8_t)s[i]);
    }
}

bool serial_try_read_byte(uint8_t *byte)
{
    if (!(inb(COM1_BASE + UART_LINE_STATUS) & LSR_DATA_READY))
        return false;
    *byte = inb(COM1_BASE + UART_DATA); /* reading RBR takes the byte */
    return true;
}

/* Input: the receive interrupt. */

#define CARRIAGE_RETURN '\r'
#define LINE_FEED '\n'

static bool previous_was_cr;

void serial_input_receive(uint8_t byte)
{
    char c = (char)byte;
    bool was_cr = previous_was_cr;
    previous_was_cr = c == CARRIAGE_RETURN;

    if (c == LINE_FEED && was_cr)
        return; /* the LF of a CR LF pair: Enter counted already */
    if (c == CARRIAGE_RETURN)
        c = '\n'; /* terminals send CR for Enter */
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

static void enable_receive_interrupt(void)
{
    /* Empty what arrived before anyone listened, and read IIR and MSR once
     * so no old interrupt condition is left pending. */
    uint8_t ignored;
    while (serial_try_read_byte(&ignored))
        ;
    (void)inb(COM1_BASE + UART_INTERRUPT_ID);
    (void)inb(COM1_BASE + UART_MODEM_STATUS);

    outb(COM1_BASE + UART_INTERRUPT_ENABLE, IER_RECEIVED_DATA);
    outb(COM1_BASE + UART_MODEM_CONTROL, MCR_DTR | MCR_RTS | MCR_OUT2);
}

void serial_input_init(void)
{
    irq_register(IRQ_COM1, serial_interrupt);
    enable_receive_interrupt();
}
