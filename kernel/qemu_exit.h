/*
 * qemu_exit.h - ending the virtual machine from inside the guest.
 */
#ifndef KERNEL_QEMU_EXIT_H
#define KERNEL_QEMU_EXIT_H

#include <stdint.h>

/*
 * Values for QEMU's isa-debug-exit device. QEMU exits with status
 * (value << 1) | 1, so a guest can never produce status 0; tests compare
 * against these two instead.
 */
enum qemu_exit_code {
    QEMU_EXIT_SUCCESS = 0x10, /* QEMU exit status (0x10 << 1) | 1 = 33 */
    QEMU_EXIT_FAILURE = 0x11, /* QEMU exit status (0x11 << 1) | 1 = 35 */
};

/*
 * Ask QEMU to exit with the given code. Returns only when nothing is
 * listening on the port (real hardware, Bochs, QEMU without the device);
 * callers should then halt.
 */
void qemu_exit(enum qemu_exit_code code);

#endif
