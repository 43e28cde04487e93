/*
 * panic.h - stopping the kernel after an unrecoverable error.
 */
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H

#include <stdbool.h>

/*
 * Whether panic() should end a QEMU virtual machine with the failure status
 * (the "qemu-exit" command-line word) instead of only halting. Off until
 * the kernel has a command line it can trust.
 */
void panic_set_qemu_exit(bool enabled);

/*
 * Print "PANIC: <message>" on every console, then stop: exit QEMU with
 * QEMU_EXIT_FAILURE if enabled above, otherwise halt forever.
 */
_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
