/*
 * console.c - one output path for every message.
 *
 * Everything the kernel prints goes to both COM1 and the VGA screen: the
 * serial copy is what tests and "qemu -serial stdio" see, the screen copy
 * is what a person at a real machine sees.
 */
#include "console.h"

#include <libk/printf.h>
#include <libk/string.h>

#include "serial.h"
#include "vga.h"

/*
 * kprintf formats into this much stack before printing. Longer output is
 * cut and marked; the longest line this kernel prints is well under it.
 */
#define KPRINTF_BUFFER_SIZE 512
#define TRUNCATION_MARK "...[truncated]\n"

void console_init(void)
{
    serial_init();
    vga_init();
}

static void console_write_bytes(const char *s, size_t len)
{
    serial_write(s, len);
    vga_write(s, len);
}

void console_write(const char *s)
{
    console_write_bytes(s, strlen(s));
}

void vkprintf(const char *fmt, va_list ap)
{
    char buffer[KPRINTF_BUFFER_SIZE];
    int needed = vsnprintf(buffer, sizeof buffer, fmt, ap);
    if (needed < 0)
        return; /* a format error: nothing sensible to print */

    /* vsnprintf returns the length the whole output would have had. */
    size_t written = (size_t)needed < sizeof buffer ? (size_t)needed : sizeof buffer - 1;
    console_write_bytes(buffer, written);
    if (written < (size_t)needed)
        console_write(TRUNCATION_MARK);
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vkprintf(fmt, ap);
    va_end(ap);
}
