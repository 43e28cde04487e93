/*
 * vga.h - output on the VGA text-mode screen.
 */
#ifndef KERNEL_DRIVERS_VGA_H
#define KERNEL_DRIVERS_VGA_H

#include <stddef.h>

/* Start writing on the line after whatever the BIOS and loader printed. */
void vga_init(void);

/* Write `len` characters; handles "\n", "\r", "\b", "\t" and scrolls at the bottom. */
void vga_write(const char *s, size_t len);

#endif
