/*
 * loader_fields.h - the fields of stage 1 and stage 2 that the image
 * builder fills in. The NASM half is bootloader/loader_fields.inc;
 * tests/test_layout.py checks that both agree field by field.
 */
#ifndef LOADER_FIELDS_H
#define LOADER_FIELDS_H

#include <stdint.h>

#define SECTOR_SIZE 512
#define SECTOR_SHIFT 9 /* bytes = sectors << SECTOR_SHIFT */

/* Stage 1: the boot sector reads stage 2 with the INT 13h AH=42h disk
 * address packet stored at this offset; the builder fills in sectors and lba. */
#define STAGE1_DAP_OFFSET 0x1A8
#define STAGE1_LOAD_ADDRESS 0x7C00
#define STAGE2_LOAD_ADDRESS 0x7E00
#define STAGE2_MAX_SECTORS 64

/* INT 13h AH=42h disk address packet (EDD 3.0, T13/1572D, section 8.1). */
struct disk_address_packet {
    uint8_t size; /* 0x10 */
    uint8_t reserved;
    uint16_t sectors;
    uint16_t buffer_offset;
    uint16_t buffer_segment;
    uint64_t lba;
} __attribute__((packed));

/* Stage 2: a header right after its first jump. */
#define STAGE2_MAGIC 0x444C3253u /* "S2LD" */
#define STAGE2_HEADER_VERSION 2
#define STAGE2_CMDLINE_MAX 256

/* The boot protocol the kernel speaks (stage2_header.kernel_kind). */
#define KERNEL_KIND_BOOTSTACK 0  /* our own: ELF64, long mode, boot_info */
#define KERNEL_KIND_MULTIBOOT2 1 /* Multiboot2 specification 2.0 */
#define KERNEL_KIND_MULTIBOOT1 2 /* GNU Multiboot 0.6.96 */
#define KERNEL_KIND_LINUX 3      /* the Linux x86 boot protocol (a bzImage) */
#define KERNEL_KIND_COUNT 4

/* Modules: files after the kernel on the disk, loaded for Multiboot kernels. */
#define STAGE2_MODULES_MAX 8
#define STAGE2_MODULE_STRING_MAX 128 /* including the terminating NUL */

struct stage2_module {
    uint32_t lba;
    uint32_t sectors;
    uint32_t size;
    uint64_t checksum;
    char string[STAGE2_MODULE_STRING_MAX];
} __attribute__((packed));

struct stage2_header {
    uint8_t jump[4];
    uint32_t magic;
    uint16_t version;
    uint16_t size;
    uint32_t kernel_lba;
    uint32_t kernel_sectors;
    uint32_t kernel_size;
    uint64_t kernel_checksum;
    uint32_t kernel_kind; /* KERNEL_KIND_* */
    char cmdline[STAGE2_CMDLINE_MAX];
    uint32_t module_count;
    struct stage2_module modules[STAGE2_MODULES_MAX];
} __attribute__((packed));

#endif
