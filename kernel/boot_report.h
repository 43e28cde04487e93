/*
 * boot_report.h - what the loader handed over, printed for people.
 */
#ifndef KERNEL_BOOT_REPORT_H
#define KERNEL_BOOT_REPORT_H

#include <stdint.h>

#include "boot_info.h"

/* Everything: the block's own fields, loader statistics and timestamps,
 * and the firmware memory map. */
void boot_report_print(const struct boot_info *boot_info);

/* The firmware memory map as the loader passed it, one entry per line. */
void boot_report_memory_map(const struct boot_info *boot_info);

/* "usable", "reserved", ... for an E820 type number. */
const char *boot_report_e820_type_name(uint32_t type);

#endif
