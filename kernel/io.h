/*
 * io.h - the x86 IN and OUT instructions.
 *
 * Besides memory, x86 CPUs have a separate 64 KiB "I/O port" address space
 * reached only with IN and OUT. Legacy PC devices (the serial port, the VGA
 * CRT controller, QEMU's debug-exit device) live there.
 */
#ifndef KERNEL_IO_H
#define KERNEL_IO_H

#include <stdint.h>

/*
 * Constraints: "a" puts the byte in AL, which IN/OUT require. "Nd" lets the
 * compiler use the short form with an 8-bit immediate port (ports 0-255) or
 * put the port in DX, the only register IN/OUT accept.
 *
 * The "memory" clobber keeps the compiler from moving ordinary memory
 * accesses (for example, writes to the VGA buffer) across a port access:
 * for devices the order matters.
 */
static inline void outb(uint16_t port, uint8_t value)
{
    __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port) : "memory");
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t value;
    __asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port) : "memory");
    return value;
}

/* 16-bit port write (ACPI PM1 control registers are 16 bits wide). */
static inline void outw(uint16_t port, uint16_t value)
{
    __asm__ volatile("outw %0, %1" : : "a"(value), "Nd"(port) : "memory");
}

#endif
