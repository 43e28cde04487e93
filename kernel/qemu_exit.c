/*
 * qemu_exit.c - QEMU's isa-debug-exit device.
 *
 * Started with "-device isa-debug-exit,iobase=0xf4,iosize=0x04", QEMU
 * listens on I/O port 0xF4; a write of value v there makes QEMU exit at
 * once with status (v << 1) | 1. Port 0xF4 is not used by standard PC
 * hardware, so on a real machine or in Bochs the write simply goes nowhere.
 */
#include "qemu_exit.h"

#include "io.h"

#define QEMU_DEBUG_EXIT_PORT 0xF4

void qemu_exit(enum qemu_exit_code code)
{
    outb(QEMU_DEBUG_EXIT_PORT, (uint8_t)code);
    /* Still here: no debug-exit device. Let the caller decide what next. */
}
