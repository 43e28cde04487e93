/*
 * main.c - kernel_main, the first C function (called from entry.asm).
 *
 * This kernel checks that a compatible loader started it, sets up its own
 * CPU tables (GDT, TSS, IDT) and hardware interrupts (PIC, timer, keyboard,
 * serial input), prints what the loader handed over in struct boot_info,
 * and then echoes what is typed. The command line can ask it to end the
 * QEMU virtual machine ("qemu-exit"), to exercise the panic path
 * ("panic-test"), to provoke a CPU exception ("fault=KIND", see
 * cpu/fault_demo.h) and to run the in-kernel tests ("test"), which is how
 * the automated tests drive it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libk/string.h>

#include "boot_info.h"
#include "cmdline.h"
#include "ktest/ktest.h"
#include "console.h"
#include "cpu.h"
#include "cpu/fault_demo.h"
#include "cpu/gdt.h"
#include "cpu/idt.h"
#include "interrupts/interrupts.h"
#include "interrupts/timer.h"
#include "mm/memory.h"
#include "panic.h"
#include "qemu_exit.h"

/* The loader promises that at least [0, 4 GiB) is identity-mapped at entry
 * (docs/boot-protocol.md); anything outside it would page-fault. */
#define GUARANTEED_IDENTITY_MAP_END 0x100000000ull

#define MIB (1024ull * 1024ull)

/* Command-line words this kernel understands. */
#define CMDLINE_QEMU_EXIT "qemu-exit"
#define CMDLINE_PANIC_TEST "panic-test"
#define CMDLINE_FAULT_PREFIX "fault="
/* ... and "test" / "test=PATTERN": see ktest/ktest.h. */
#define TEST_PATTERN_MAX 64
#define FAULT_KIND_MAX 16

/* The printable ASCII range, for the echo. */
#define ASCII_FIRST_PRINTABLE ' '
#define ASCII_LAST_PRINTABLE '~'
/* A control character c is shown as '^' followed by c + 0x40 ("^C"). */
#define CONTROL_CARET_OFFSET 0x40

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
        panic("boot info is %u bytes, expected at least %u",
              (unsigned int)boot_info->size, (unsigned int)sizeof *boot_info);
    /* Everything below treats cmdline as a C string. */
    if (strnlen(boot_info->cmdline, BOOT_INFO_CMDLINE_MAX) == BOOT_INFO_CMDLINE_MAX)
        panic("boot info command line is not NUL-terminated");
}

static const char *memory_map_source_name(uint8_t source)
{
    switch (source) {
    case MEMORY_MAP_FROM_E820:
        return "E820";
    case MEMORY_MAP_FROM_E801:
        return "E801";
    case MEMORY_MAP_FROM_88H:
        return "INT15-88";
    default:
        return "unknown source";
    }
}

static const char *e820_type_name(uint32_t type)
{
    switch (type) {
    case E820_USABLE:
        return "usable";
    case E820_RESERVED:
        return "reserved";
    case E820_ACPI_RECLAIMABLE:
        return "ACPI reclaimable";
    case E820_ACPI_NVS:
        return "ACPI NVS";
    case E820_BAD:
        return "bad";
    default:
        return "unknown";
    }
}

static void print_loader_timestamps(const struct boot_info *boot_info)
{
    /* Loader steps in the order they happen, each with its TSC reading. */
    static const struct {
        enum boot_timestamp index;
        const char *name;
    } steps[] = {
        {TIMESTAMP_A20_ENABLED, "a20"},
        {TIMESTAMP_MEMORY_MAP_READ, "memory map"},
        {TIMESTAMP_KERNEL_READ, "kernel read"},
        {TIMESTAMP_KERNEL_VERIFIED, "kernel verified"},
        {TIMESTAMP_PAGE_TABLES_BUILT, "page tables"},
        {TIMESTAMP_KERNEL_ENTRY, "kernel entry"},
    };
    uint64_t start = boot_info->timestamps[TIMESTAMP_STAGE2_START];

    kprintf("loader timestamps (TSC cycles since stage 2 start): ");
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        uint64_t at = boot_info->timestamps[steps[i].index];
        /* The TSC only counts up; a smaller value means "not recorded". */
        uint64_t cycles = at >= start ? at - start : 0;
        kprintf("%s%s %llu", i == 0 ? "" : ", ", steps[i].name,
                (unsigned long long)cycles);
    }
    kprintf("\n");
}

static void print_memory_map(const struct boot_info *boot_info)
{
    unsigned int count = boot_info->e820_count;
    if (count > BOOT_INFO_E820_MAX)
        count = BOOT_INFO_E820_MAX; /* never read past the array */

    kprintf("memory map (%s, %u entries):\n",
            memory_map_source_name(boot_info->memory_map_source), count);

    uint64_t usable_bytes = 0;
    for (unsigned int i = 0; i < count; i++) {
        const struct e820_entry *entry = &boot_info->e820[i];
        kprintf("  [%02u] base 0x%016llx length 0x%016llx type %u %s\n", i,
                (unsigned long long)entry->base, (unsigned long long)entry->length,
                (unsigned int)entry->type, e820_type_name(entry->type));
        if (entry->type == E820_USABLE)
            usable_bytes += entry->length;
    }
    if (boot_info->e820_dropped != 0)
        kprintf("  (%u more entries did not fit in boot info)\n",
                (unsigned int)boot_info->e820_dropped);

    kprintf("usable memory: %llu MiB\n", (unsigned long long)(usable_bytes / MIB));
}

/*
 * The value of a "key=value" word in the command line, copied into `value`
 * (at most size - 1 characters). False when no word starts with `prefix`.
 */
static bool cmdline_value(const char *cmdline, const char *prefix, char *value,
                          size_t size)
{
    size_t prefix_length = strlen(prefix);
    for (const char *p = cmdline; *p; p++) {
        bool word_start = p == cmdline || p[-1] == ' ';
        if (word_start && strncmp(p, prefix, prefix_length) == 0) {
            const char *v = p + prefix_length;
            size_t n = 0;
            while (v[n] && v[n] != ' ' && n + 1 < size) {
                value[n] = v[n];
                n++;
            }
            value[n] = '\0';
            return true;
        }
    }
    return false;
}

/*
 * Until the shell arrives: show every character typed on the keyboard or
 * the serial console. Control characters (and the escape sequences of the
 * arrow keys) are shown as ^X, Backspace rubs out the last character.
 */
static _Noreturn void echo_input_forever(void)
{
    for (;;) {
        char c = console_read_char();
        if (c == '\n')
            kprintf("\n");
        else if (c == CONSOLE_BACKSPACE)
            kprintf("\b \b");
        else if (c >= ASCII_FIRST_PRINTABLE && c <= ASCII_LAST_PRINTABLE)
            kprintf("%c", c);
        else
            kprintf("^%c", (char)((c + CONTROL_CARET_OFFSET) & 0x7F));
    }
}

_Noreturn void kernel_main(const struct boot_info *boot_info)
{
    console_init();
    check_boot_info(boot_info);

    bool qemu_exit_requested = cmdline_has(boot_info->cmdline, CMDLINE_QEMU_EXIT);
    panic_set_qemu_exit(qemu_exit_requested);

    kprintf("Kernel: running in 64-bit long mode\n");

    /* The kernel's own descriptor tables: from here on an exception is
     * reported instead of resetting the machine. */
    gdt_init();
    idt_init();

    /* Frames, paging (with the guard page below this stack), the heap. */
    memory_init(boot_info);

    interrupts_init();
    __asm__ volatile("sti");
    kprintf("Kernel: GDT, IDT, PIC, timer (%u Hz), keyboard and serial input ready\n",
            (unsigned int)TIMER_FREQUENCY_HZ);

    if (cmdline_has(boot_info->cmdline, CMDLINE_PANIC_TEST))
        panic("panic-test requested on the command line");

    char fault_kind[FAULT_KIND_MAX];
    if (cmdline_value(boot_info->cmdline, CMDLINE_FAULT_PREFIX, fault_kind, sizeof fault_kind)) {
        kprintf("Kernel: provoking fault \"%s\"\n", fault_kind);
        fault_provoke(fault_kind);
        panic("unknown fault kind \"%s\" (known: %s)", fault_kind, FAULT_DEMO_KINDS);
    }

    char test_pattern[TEST_PATTERN_MAX];
    if (ktest_requested(boot_info->cmdline, test_pattern, sizeof test_pattern)) {
        unsigned int failed = ktest_run(test_pattern);
        qemu_exit(failed == 0 ? QEMU_EXIT_SUCCESS : QEMU_EXIT_FAILURE);
        halt_forever();     /* not under QEMU: stop here, the results are printed */
    }

    kprintf("boot info: at 0x%016llx, version %u, %u bytes\n",
            (unsigned long long)(uintptr_t)boot_info, (unsigned int)boot_info->version,
            (unsigned int)boot_info->size);
    kprintf("boot drive: 0x%02x\n", (unsigned int)boot_info->boot_drive);
    kprintf("command line: \"%s\"\n", boot_info->cmdline);
    kprintf("kernel: 0x%016llx-0x%016llx, entry 0x%016llx\n",
            (unsigned long long)boot_info->kernel_start,
            (unsigned long long)boot_info->kernel_end,
            (unsigned long long)boot_info->kernel_entry);
    kprintf("loader memory: 0x%016llx-0x%016llx\n",
            (unsigned long long)boot_info->loader_start,
            (unsigned long long)boot_info->loader_end);
    kprintf("page tables: 0x%016llx-0x%016llx, identity map up to 0x%016llx\n",
            (unsigned long long)boot_info->page_tables_start,
            (unsigned long long)boot_info->page_tables_end,
            (unsigned long long)boot_info->identity_map_end);
    kprintf("loader disk reads: %u calls, %u sectors, %u retries\n",
            (unsigned int)boot_info->disk_read_calls,
            (unsigned int)boot_info->disk_sectors_read,
            (unsigned int)boot_info->disk_retries);
    print_loader_timestamps(boot_info);
    print_memory_map(boot_info);

    kprintf("Kernel: boot complete, halting\n");

    if (qemu_exit_requested) {
        qemu_exit(QEMU_EXIT_SUCCESS);
        halt_forever();     /* no debug-exit device after all */
    }
    /* Not asked to exit: a placeholder for the shell. */
    echo_input_forever();
}
