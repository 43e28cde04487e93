/*
 * serial.h - output on, and input from, the first serial port (COM1).
 */
#ifndef KERNEL_SERIAL_H
#define KERNEL_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Program COM1 for 115200 baud, 8 data bits, no parity, 1 stop bit. */
void serial_init(void);

/* Send `len` bytes; each "\n" goes out as "\r\n" for terminals. */
void serial_write(const char *s, size_t len);

/* Take one received byte if the UART has one (LSR bit 0). */
bool serial_try_read_byte(uint8_t *byte);

/* Raise IRQ 4 whenever a byte arrives: IER bit 0, and MCR OUT2, which
 * connects the UART's interrupt output to the PIC on a PC. */
void serial_enable_receive_interrupt(void);

#endif
