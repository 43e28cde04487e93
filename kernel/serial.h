/*
 * serial.h - output on the first serial port (COM1).
 */
#ifndef KERNEL_SERIAL_H
#define KERNEL_SERIAL_H

#include <stddef.h>

/* Program COM1 for 115200 baud, 8 data bits, no parity, 1 stop bit. */
void serial_init(void);

/* Send `len` bytes; each "\n" goes out as "\r\n" for terminals. */
void serial_write(const char *s, size_t len);

#endif
