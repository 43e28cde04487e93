/*
 * shell.h - the kernel's command shell on the console (screen + keyboard,
 * and the serial line).
 */
#ifndef KERNEL_SHELL_H
#define KERNEL_SHELL_H

#include "boot_info.h"

/* Read and run commands forever. */
_Noreturn void shell_run(const struct boot_info *boot_info);

#endif
