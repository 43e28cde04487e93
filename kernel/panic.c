/*
 * panic.c - report a fatal error and stop.
 */
#include "panic.h"

#include <stdarg.h>

#include "console.h"
#include "cpu/halt.h"
#include "qemu_exit.h"

static bool exit_qemu_on_panic;

void panic_set_qemu_exit(bool enabled)
{
    exit_qemu_on_panic = enabled;
}

_Noreturn void panic(const char *fmt, ...)
{
    /* Nothing may interrupt us from here on: no timer tick or keystroke
     * output in the middle of the report. */
    __asm__ volatile("cli");

    va_list ap;
    va_start(ap, fmt);
    console_write("PANIC: ");
    vkprintf(fmt, ap);
    console_write("\n");
    va_end(ap);

    /* A test run wants a failure status rather than a hung VM. */
    if (exit_qemu_on_panic)
        qemu_exit(QEMU_EXIT_FAILURE);
    halt_forever();
}
