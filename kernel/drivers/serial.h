/*
 * serial.h - output on, and input from, the first serial port (COM1):
 * polled output, and input by interrupt into the console's input buffer.
 */
#ifndef KERNEL_DRIVERS_SERIAL_H
#define KERNEL_DRIVERS_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Program COM1 for 115200 baud, 8 data bits, no parity, 1 stop bit. */
void serial_init(void);

/* Send `len` bytes; each "\n" goes out as "\r\n" for terminals. */
void serial_write(const char *s, size_t len);

/* Take one received byte if the UART has one (LSR bit 0). */
bool serial_try_read_byte(uint8_t *byte);

/* Take IRQ 4 and switch on the UART's receive interrupt: IER bit 0, and
 * MCR OUT2, which connects the UART's interrupt output to the PIC on a PC.
 * Each byte received then goes to the console (serial_input_receive). */
void serial_input_init(void);

/* Turn one received byte into console input (CR -> '\n', LF after CR
 * dropped, 0x7F -> CONSOLE_BACKSPACE) and push it. Kept apart for tests. */
void serial_input_receive(uint8_t byte);

#endif
