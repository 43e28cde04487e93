/*
 * boot_report.h - what the loader handed over, printed for people.
 */
#ifndef KERNEL_BOOT_REPORT_H
#define KERNEL_BOOT_REPORT_H

#include "boot_info.h"

/* Everything: the block's own fields, loader statistics and timestamps,
 * and the firmware memory map. */
void boot_report_print(const struct boot_info *boot_info);

/* The firmware memory map as the loader passed it, one entry per line. */
void boot_report_memory_map(const struct boot_info *boot_info);

#endif
