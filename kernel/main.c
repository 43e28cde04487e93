/*
 * main.c - kernel_main, the first C function (called from entry.asm).
 *
 * This kernel checks that a compatible loader started it, sets up its own
 * CPU tables (GDT, TSS, IDT) and hardware interrupts (PIC, timer, keyboard,
 * serial input) and memory management, prints what the loader handed over
 * in struct boot_info, and then runs the shell (shell/shell.c). The command
 * line, parsed once into struct kernel_options (cmdline.h), can ask it to
 * end the QEMU virtual machine ("qemu-exit"), to exercise the panic path
 * ("panic-test"), to provoke a CPU exception ("fault=KIND", see
 * cpu/fault_demo.h), to make a mistake the memory allocators must catch
 * ("memory-selftest=NAME") and to run the in-kernel tests ("test"), which
 * is how the automated tests drive it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libk/string.h>

#include "boot_info.h"
#include "boot_report.h"
#include "cmdline.h"
#include "console.h"
#include "cpu/fault_demo.h"
#include "cpu/halt.h"
#include "cpu/gdt.h"
#include "cpu/idt.h"
#include "drivers/keyboard.h"
#include "drivers/serial.h"
#include "drivers/timer.h"
#include "interrupts/interrupts.h"
#include "ktest/ktest.h"
#include "magic_break.h"
#include "mm/memory.h"
#include "mm/memory_selftest.h"
#include "panic.h"
#include "qemu_exit.h"
#include "shell/shell.h"

/* The loader promises that at least [0, 4 GiB) is identity-mapped at entry
 * (docs/boot-protocol.md); anything outside it would page-fault. */
#define GUARANTEED_IDENTITY_MAP_END 0x100000000ull

_Noreturn void kernel_main(const struct boot_info *boot_info);

/*
 * Make sure boot_info really is one before trusting any field of it: a
 * different loader (or a stray jump) would leave garbage in RDI.
 */
static void check_boot_info(const struct boot_info *boot_info)
{
    uintptr_t address = (uintptr_t)boot_info;
    if (boot_info == NULL)
        panic("no boot info: RDI was 0 at kernel entry");
    if (address > GUARANTEED_IDENTITY_MAP_END - sizeof *boot_info)
        panic("boot info pointer 0x%016llx is outside the identity-mapped first 4 GiB",
              (unsigned long long)address);
    if (boot_info->magic != BOOT_INFO_MAGIC)
        panic("boot info magic is 0x%08X, expected 0x%08X: not started by a compatible loader?",
              (unsigned int)boot_info->magic, (unsigned int)BOOT_INFO_MAGIC);
    if (boot_info->version != BOOT_INFO_VERSION)
        panic("boot info version is %u, expected %u: loader and kernel do not match",
              (unsigned int)boot_info->version, (unsigned int)BOOT_INFO_VERSION);
    /* A smaller block would mean the fields at the end are not really there. */
    if (boot_info->size < sizeof *boot_info)
        panic("boot info is %u bytes, expected at least %u", (unsigned int)boot_info->size,
              (unsigned int)sizeof *boot_info);
    /* Everything below treats cmdline as a C string. */
    if (strnlen(boot_info->cmdline, BOOT_INFO_CMDLINE_MAX) == BOOT_INFO_CMDLINE_MAX)
        panic("boot info command line is not NUL-terminated");
}

_Noreturn void kernel_main(const struct boot_info *boot_info)
{
    MAGIC_BREAK(); /* debug builds: the last stage boundary (magic_break.h) */
    console_init();
    check_boot_info(boot_info);

    /* The command line, read once (cmdline.h); its parts go where they
     * are needed. */
    struct kernel_options options;
    kernel_options_parse(boot_info->cmdline, &options);
    panic_set_qemu_exit(options.qemu_exit);

    kprintf("Kernel: running in 64-bit long mode\n");

    /* The kernel's own descriptor tables: from here on an exception is
     * reported instead of resetting the machine. */
    gdt_init();
    idt_init();

    /* Frames, paging (with the guard page below this stack), the heap. */
    memory_init(boot_info);
    /* A mistake on purpose, if the command line asks for one: the
     * allocators must catch it and panic (mm/memory_selftest.h). */
    if (options.memory_selftest)
        memory_selftest(options.memory_selftest_name);

    /* The PICs and IRQ dispatch, then the drivers, each taking its line:
     * the PIT (IRQ 0), the keyboard (IRQ 1), COM1's input (IRQ 4). */
    interrupts_init();
    timer_init();
    keyboard_init();
    serial_input_init();
    __asm__ volatile("sti");
    kprintf("Kernel: GDT, IDT, PIC, timer (%u Hz), keyboard and serial input ready\n",
            (unsigned int)TIMER_FREQUENCY_HZ);

    if (options.panic_test)
        panic("panic-test requested on the command line");

    if (options.provoke_fault) {
        kprintf("Kernel: provoking fault \"%s\"\n", options.fault_kind);
        fault_provoke(options.fault_kind);
        panic("unknown fault kind \"%s\" (known: %s)", options.fault_kind, FAULT_DEMO_KINDS);
    }

    if (options.run_tests) {
        unsigned int failed = ktest_run(options.test_pattern);
        qemu_exit(failed == 0 ? QEMU_EXIT_SUCCESS : QEMU_EXIT_FAILURE);
        halt_forever(); /* not under QEMU: stop here, the results are printed */
    }

    boot_report_print(boot_info);

    if (options.qemu_exit) {
        kprintf("Kernel: boot complete, halting\n");
        qemu_exit(QEMU_EXIT_SUCCESS);
        halt_forever(); /* no debug-exit device after all */
    }
    kprintf("Kernel: boot complete, starting the shell\n");
    shell_run(boot_info);
}
