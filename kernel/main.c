/*
 * main.c - kernel_main, the first C function (called from entry.asm).
 *
 * This kernel checks that a compatible loader started it, prints what the
 * loader handed over in struct boot_info, and stops. The command line can
 * ask it to end the QEMU virtual machine ("qemu-exit") and to exercise the
 * panic path ("panic-test"), which is how the automated tests drive it.
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
/* ... and "test" / "test=PATTERN": see ktest/ktest.h. */
#define TEST_PATTERN_MAX 64

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

_Noreturn void kernel_main(const struct boot_info *boot_info)
{
    console_init();
    check_boot_info(boot_info);

    bool qemu_exit_requested = cmdline_has(boot_info->cmdline, CMDLINE_QEMU_EXIT);
    panic_set_qemu_exit(qemu_exit_requested);

    kprintf("Kernel: running in 64-bit long mode\n");
    memory_init(boot_info);

    if (cmdline_has(boot_info->cmdline, CMDLINE_PANIC_TEST))
        panic("panic-test requested on the command line");

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

    if (qemu_exit_requested)
        qemu_exit(QEMU_EXIT_SUCCESS);
    /* Not under QEMU, or not asked to exit: stay halted, interrupts off. */
    halt_forever();
}
