/*
 * boot_info.h - the boot information block the loader hands to the kernel.
 *
 * The loader puts the physical address of this block in RDI before jumping
 * to the kernel's entry point (see docs/boot-protocol.md for the full
 * machine state). This header is the C half of the protocol; the NASM half
 * is bootloader/boot_info.inc and tests/test_layout.py checks that both
 * agree field by field. Any kernel may copy this header.
 */
#ifndef BOOT_INFO_H
#define BOOT_INFO_H

#include <stdint.h>

#define BOOT_INFO_MAGIC 0x544F4F42u /* "BOOT" as a little-endian dword */
#define BOOT_INFO_VERSION 1
#define BOOT_INFO_CMDLINE_MAX 256
#define BOOT_INFO_E820_MAX 128

enum memory_map_source {
    MEMORY_MAP_FROM_E820 = 1, /* INT 15h EAX=E820h, entries as the BIOS gave them */
    MEMORY_MAP_FROM_E801 = 2, /* INT 15h AX=E801h, entries made up by the loader */
    MEMORY_MAP_FROM_88H = 3,  /* INT 15h AH=88h, entries made up by the loader */
};

/* Indexes into boot_info.timestamps: the TSC as each loader step finished. */
enum boot_timestamp {
    TIMESTAMP_STAGE2_START = 0,
    TIMESTAMP_A20_ENABLED = 1,
    TIMESTAMP_MEMORY_MAP_READ = 2,
    TIMESTAMP_KERNEL_READ = 3,
    TIMESTAMP_KERNEL_VERIFIED = 4,
    TIMESTAMP_PAGE_TABLES_BUILT = 5,
    TIMESTAMP_KERNEL_ENTRY = 6,
    TIMESTAMP_COUNT = 8,
};

/* E820 memory types (ACPI 6.x, section 15 "System Address Map Interfaces"). */
enum e820_type {
    E820_USABLE = 1,
    E820_RESERVED = 2,
    E820_ACPI_RECLAIMABLE = 3,
    E820_ACPI_NVS = 4,
    E820_BAD = 5,
};

struct e820_entry {
    uint64_t base;
    uint64_t length;
    uint32_t type;       /* enum e820_type; other values mean reserved */
    uint32_t attributes; /* ACPI 3.0 extended attributes; 1 when the BIOS gave 20 bytes */
} __attribute__((packed));

struct boot_info {
    uint32_t magic;            /* BOOT_INFO_MAGIC */
    uint16_t version;          /* BOOT_INFO_VERSION */
    uint16_t size;             /* sizeof(struct boot_info) as the loader knows it */
    uint8_t boot_drive;        /* BIOS drive the loader read (0x80 = first hard disk) */
    uint8_t memory_map_source; /* enum memory_map_source */
    uint16_t e820_count;       /* entries stored in e820[] */
    uint16_t e820_dropped;     /* entries the BIOS had beyond BOOT_INFO_E820_MAX */
    uint16_t reserved0;
    uint64_t kernel_entry;     /* ELF e_entry */
    uint64_t kernel_start;     /* lowest PT_LOAD physical address */
    uint64_t kernel_end;       /* highest p_paddr + p_memsz, exclusive */
    uint64_t kernel_file_size; /* bytes of the ELF file */
    uint64_t kernel_checksum;  /* see docs/boot-protocol.md */
    uint64_t loader_start;     /* memory the loader used, exclusive end */
    uint64_t loader_end;
    uint64_t page_tables_start; /* the identity map in CR3 at entry */
    uint64_t page_tables_end;
    uint64_t stack_bottom; /* the stack RSP points into at entry */
    uint64_t stack_top;
    uint64_t identity_map_end;  /* [0, identity_map_end) is identity-mapped */
    uint32_t disk_read_calls;   /* INT 13h read calls stage 2 made for the kernel */
    uint32_t disk_sectors_read; /* sectors those reads delivered */
    uint32_t disk_retries;      /* failed reads retried after a disk reset */
    uint32_t reserved1;
    uint64_t timestamps[TIMESTAMP_COUNT]; /* TSC values, enum boot_timestamp */
    char cmdline[BOOT_INFO_CMDLINE_MAX];  /* NUL-terminated */
    struct e820_entry e820[BOOT_INFO_E820_MAX];
} __attribute__((packed));

#endif
