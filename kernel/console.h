/*
 * console.h - kernel text output, to the serial port and the screen at once.
 */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <stdarg.h>
#include <stddef.h>

/* Set up COM1 and the VGA screen. Call before any output. */
void console_init(void);

/* Write a NUL-terminated string as is. */
void console_write(const char *s);

/* printf-style output (libk's vsnprintf conversions: no floating point). */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vkprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
