/*
 * boot_report.c - print what the loader handed over in struct boot_info:
 * at boot, and again for the shell's `boot` and `mmap` commands.
 */
#include "boot_report.h"

#include <stddef.h>
#include <stdint.h>

#include <libk/memory_map.h>

#include "console.h"

#define MIB (1024ull * 1024ull)

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
        kprintf("%s%s %llu", i == 0 ? "" : ", ", steps[i].name, (unsigned long long)cycles);
    }
    kprintf("\n");
}

void boot_report_memory_map(const struct boot_info *boot_info)
{
    unsigned int count = boot_info->e820_count;
    if (count > BOOT_INFO_E820_MAX)
        count = BOOT_INFO_E820_MAX; /* never read past the array */

    kprintf("memory map (%s, %u entries):\n", memory_map_source_name(boot_info->memory_map_source),
            count);

    uint64_t usable_bytes = 0;
    for (unsigned int i = 0; i < count; i++) {
        const struct e820_entry *entry = &boot_info->e820[i];
        kprintf("  [%02u] base 0x%016llx length 0x%016llx type %u %s\n", i,
                (unsigned long long)entry->base, (unsigned long long)entry->length,
                (unsigned int)entry->type, memory_type_name(entry->type));
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
void boot_report_print(const struct boot_info *boot_info)
{
    kprintf("boot info: at 0x%016llx, version %u, %u bytes\n",
            (unsigned long long)(uintptr_t)boot_info, (unsigned int)boot_info->version,
            (unsigned int)boot_info->size);
    kprintf("boot drive: 0x%02x\n", (unsigned int)boot_info->boot_drive);
    kprintf("command line: \"%s\"\n", boot_info->cmdline);
    kprintf("kernel: 0x%016llx-0x%016llx, entry 0x%016llx\n",
            (unsigned long long)boot_info->kernel_start, (unsigned long long)boot_info->kernel_end,
            (unsigned long long)boot_info->kernel_entry);
    kprintf("loader memory: 0x%016llx-0x%016llx\n", (unsigned long long)boot_info->loader_start,
            (unsigned long long)boot_info->loader_end);
    kprintf("page tables: 0x%016llx-0x%016llx, identity map up to 0x%016llx\n",
            (unsigned long long)boot_info->page_tables_start,
            (unsigned long long)boot_info->page_tables_end,
            (unsigned long long)boot_info->identity_map_end);
    kprintf("loader disk reads: %u calls, %u sectors, %u retries\n",
            (unsigned int)boot_info->disk_read_calls, (unsigned int)boot_info->disk_sectors_read,
            (unsigned int)boot_info->disk_retries);
    print_loader_timestamps(boot_info);
    boot_report_memory_map(boot_info);
}
