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

/* Stage 2 copies kernel segments with 32-bit addresses (unreal mode), so a
 * segment must start below this limit and end at or below it:
 * p_paddr < KERNEL_ADDRESS_LIMIT and p_paddr + p_memsz <= KERNEL_ADDRESS_LIMIT,
 * computed without wrapping. mkimage (image/elf_check.c) and stage 2
 * (bootloader/stage2/elf_check.inc) both test exactly this; the NASM half
 * has the same number (tests/test_layout.py). */
#define KERNEL_ADDRESS_LIMIT 0x100000000ull

/* Stage 2: a header right after its first jump. */
#define STAGE2_MAGIC 0x444C3253u /* "S2LD" */
#define STAGE2_HEADER_VERSION 4
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

/* The ELF section headers of an ELF Multiboot kernel (Multiboot2 3.6.7,
 * Multiboot 0.6.96 3.3 flags bit 5): mkimage stores a "section blob" like a
 * module: the file's section header table, then the contents of every
 * section that no program header loads (SHF_ALLOC clear, not SHT_NOBITS,
 * size > 0), each at its sh_addralign (at least SECTION_BLOB_ALIGN). In the
 * blob's table such a section's sh_addr is its offset in the blob (never 0:
 * the table comes first); every other section without SHF_ALLOC has sh_addr
 * 0. Stage 2 adds the blob's load address to every non-zero sh_addr of a
 * section without SHF_ALLOC, and to nothing else. The Multiboot2 tag holds a
 * copy of the table, so the table may take at most SECTION_TABLE_MAX bytes
 * of the Multiboot information area (MULTIBOOT_INFO_SIZE, memory_layout.inc). */
#define SECTION_TABLE_MAX 0x8000 /* 512 ELF64 or 819 ELF32 section headers */
#define SECTION_BLOB_ALIGN 8     /* every section's contents at least 8-byte aligned */
#define SECTION_BLOB_STRING "ELF section headers"

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
    /* The ELF section blob of an ELF Multiboot kernel (size 0: none), and
     * the e_shnum, e_shentsize and e_shstrndx of its section header table. */
    struct stage2_module sections;
    uint32_t section_count;
    uint32_t section_entry_size;
    uint32_t section_string_index;
    /* The loader's own checksums (docs/boot-protocol.md, "Loader
     * checksums"), computed as the kernel's, last, over what mkimage wrote:
     * stage 2's sectors with stage2_checksum read as zero, and the boot
     * sector up to the disk signature with its BPB area and disk timestamp
     * read as zero (other tools may write those). */
    uint32_t stage2_sectors;
    uint64_t stage2_checksum;
    uint64_t stage1_checksum;
} __attribute__((packed));

#endif
