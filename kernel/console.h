/*
 * console.h - kernel text output, to the serial port and the screen at once,
 * and console input, from the PS/2 keyboard and the serial port at once.
 */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* Set up COM1 and the VGA screen. Call before any output. */
void console_init(void);

/* Write a NUL-terminated string as is. */
void console_write(const char *s);

/* printf-style output (libk's vsnprintf conversions: no floating point). */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vkprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/*
 * Input. The keyboard (drivers/keyboard.c) and COM1 (drivers/serial.c)
 * both append to one ring buffer; readers take characters in arrival
 * order. What arrives:
 *   - printable ASCII as is;
 *   - Enter as '\n' (a serial CR is turned into '\n', and an LF right after
 *     a CR is dropped, so a terminal's CR LF counts once);
 *   - Backspace as CONSOLE_BACKSPACE, from the keyboard and from a terminal
 *     (which sends 0x08 or 0x7F: both become CONSOLE_BACKSPACE);
 *   - Ctrl+letter as the control character 0x01-0x1A (Ctrl-C = 0x03);
 *   - Tab '\t', Esc 0x1B;
 *   - the keys below as the escape sequences a VT100/xterm terminal sends
 *     for them, so keyboard and serial input look the same to a reader.
 */
#define CONSOLE_BACKSPACE '\b'     /* 0x08 */
#define CONSOLE_SERIAL_DELETE 0x7F /* what many terminals send for Backspace */
#define CONSOLE_KEY_UP "\x1b[A"
#define CONSOLE_KEY_DOWN "\x1b[B"
#define CONSOLE_KEY_RIGHT "\x1b[C"
#define CONSOLE_KEY_LEFT "\x1b[D"
#define CONSOLE_KEY_HOME "\x1b[H"
#define CONSOLE_KEY_END "\x1b[F"
#define CONSOLE_KEY_DELETE "\x1b[3~"

/* Bytes the input ring buffer holds; more input waiting is dropped. */
#define CONSOLE_INPUT_BUFFER_SIZE 256

/*
 * Append one character (called by the input drivers, with interrupts off).
 * When the buffer is full the character is dropped (what is in the buffer
 * stays as it is) and false returned; the next console_try_read_char
 * prints one notice line saying how many were lost.
 */
bool console_input_push(char c);

/* Take the oldest character, if any, without waiting. */
bool console_try_read_char(char *c);

/* Wait (STI; HLT between interrupts) until a character arrives. Leaves
 * interrupts enabled. */
char console_read_char(void);

/* Characters dropped because the buffer was full, since boot. */
unsigned long console_input_dropped(void);

#endif
