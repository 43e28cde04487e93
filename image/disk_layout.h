/*
 * disk_layout.h - where mkimage puts things on the disk, and the bytes it
 * patches into stage 1 (the MBR) and stage 2 so they can find each other.
 *
 *   LBA 0                    stage 1, the MBR: code, the disk address packet
 *                            (DAP) that reads stage 2, the partition table
 *   LBA 1 ..                 stage 2, padded to whole sectors
 *   next multiple of 8 ..    the kernel ELF file, verbatim, last sector padded
 *   next multiple of 8 ..    each module (--module), verbatim, likewise
 *   next multiple of 8 ..    the ELF section blob of an ELF Multiboot kernel
 *                            (loader_fields.h), likewise
 *   .. whole MiB             zeros
 *
 * The partition table holds a single active entry from LBA 1 to the end of
 * the image, so partitioning tools see the space as taken.
 */
#ifndef DISK_LAYOUT_H
#define DISK_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "loader_fields.h"

/* ---- The classic MBR (the layout every PC BIOS and OS expects) ----------- */
#define MBR_SIZE SECTOR_SIZE
#define MBR_DISK_SIGNATURE_OFFSET 0x1B8 /* 4-byte disk signature, 2 reserved bytes */
#define MBR_PARTITION_TABLE_OFFSET 0x1BE
#define MBR_PARTITION_ENTRY_SIZE 16
#define MBR_PARTITION_ENTRIES 4
#define MBR_BOOT_SIGNATURE_OFFSET 0x1FE /* the BIOS boots a sector only if it ends 0x55 0xAA */
#define MBR_BOOT_SIGNATURE_0 0x55
#define MBR_BOOT_SIGNATURE_1 0xAA

/* Partition entry bytes: 0 status, 1-3 CHS of the first sector, 4 type,
 * 5-7 CHS of the last sector, 8-11 first LBA, 12-15 sector count (LE). */
#define PART_STATUS 0
#define PART_CHS_FIRST 1
#define PART_TYPE 4
#define PART_CHS_LAST 5
#define PART_LBA_FIRST 8
#define PART_SECTOR_COUNT 12
#define PART_STATUS_ACTIVE 0x80 /* bootable; 0x00 = inactive */
/* 0x7F is set aside for experimental and individual use (the Alternative OS
 * Development Partition Standard), so no other OS claims our partition. */
#define PART_TYPE_EXPERIMENTAL 0x7F

/* CHS fields use the customary translated geometry of 255 heads and 63
 * sectors per track. A CHS address holds cylinders 0-1023 only (10 bits);
 * sectors beyond that are written as 1023/254/63, and tools use the LBA. */
#define CHS_HEADS 255u
#define CHS_SECTORS_PER_TRACK 63u
#define CHS_MAX_CYLINDER 1023u

/* ---- The layout mkimage chooses ------------------------------------------ */
#define DAP_SIZE_BYTE 0x10 /* disk_address_packet.size: a 16-byte packet */
#define STAGE2_FIRST_LBA 1 /* right after the MBR */
/* The kernel starts on a 4 KiB boundary: on disks with 4 KiB physical
 * sectors ("Advanced Format") its reads then start on a physical sector. */
#define KERNEL_ALIGN_SECTORS 8
/* Images are a whole number of MiB: partitioning tools align partitions to
 * 1 MiB and some image converters insist on whole-MiB disk sizes. */
#define IMAGE_ALIGN_BYTES (1024u * 1024u)
#define IMAGE_ALIGN_SECTORS (IMAGE_ALIGN_BYTES / SECTOR_SIZE)
#define STAGE2_MAX_BYTES (STAGE2_MAX_SECTORS * SECTOR_SIZE)

struct disk_layout {
    uint32_t stage2_lba;
    uint32_t stage2_sectors;
    uint32_t kernel_lba;
    uint32_t kernel_sectors;
    uint32_t kernel_size;  /* bytes */
    unsigned module_count; /* modules after the kernel, each from a 4 KiB boundary */
    uint32_t module_lba[STAGE2_MODULES_MAX];
    uint32_t module_sectors[STAGE2_MODULES_MAX];
    uint32_t module_size[STAGE2_MODULES_MAX]; /* bytes */
    uint32_t sections_lba;                    /* the ELF section blob, after the modules */
    uint32_t sections_sectors;
    uint32_t sections_size; /* bytes; 0: none */
    uint32_t image_sectors; /* whole image, a multiple of IMAGE_ALIGN_SECTORS */
};

struct chs {
    unsigned cylinder;
    unsigned head;
    unsigned sector; /* counted from 1 */
};

struct partition_entry {
    uint8_t status;
    uint8_t type;
    struct chs first;
    struct chs last;
    uint32_t first_lba;
    uint32_t sector_count;
};

static inline uint64_t sectors_for_bytes(uint64_t bytes)
{
    return (bytes + SECTOR_SIZE - 1) / SECTOR_SIZE;
}

/* Lay out a stage 2 of `stage2_bytes` (1..STAGE2_MAX_BYTES), a kernel of
 * `kernel_bytes`, `module_count` modules of `module_bytes` (each at most
 * KERNEL_MAX_FILE_BYTES) and an ELF section blob of `section_bytes` (0: none). */
void layout_compute(struct disk_layout *l, uint32_t stage2_bytes, uint32_t kernel_bytes,
                    unsigned module_count, const uint32_t *module_bytes, uint32_t section_bytes);

struct chs lba_to_chs(uint64_t lba);
void partition_encode(uint8_t entry[MBR_PARTITION_ENTRY_SIZE], const struct partition_entry *e);
void partition_decode(const uint8_t entry[MBR_PARTITION_ENTRY_SIZE], struct partition_entry *e);
/* The single entry mkimage writes for a layout. */
struct partition_entry layout_partition(const struct disk_layout *l);

/* Stage 1: checks report to `p` and return false on any problem. */
bool stage1_check(const uint8_t *data, size_t len, uint64_t file_size, struct problems *p);
/* Fill the DAP's sector count and LBA and the partition table. The DAP's
 * other fields, the disk signature and the boot signature stay as they are. */
void stage1_patch(uint8_t mbr[MBR_SIZE], const struct disk_layout *l);
struct disk_address_packet dap_read(const uint8_t mbr[MBR_SIZE]);

/* Stage 2: the header must carry STAGE2_MAGIC, STAGE2_HEADER_VERSION and
 * the header size this mkimage was built with. */
bool stage2_check(const uint8_t *data, size_t len, uint64_t file_size, struct problems *p);
/* The ELF section blob's record besides its place (loader_fields.h). */
struct section_record {
    uint64_t checksum;
    uint32_t count;        /* e_shnum */
    uint32_t entry_size;   /* e_shentsize */
    uint32_t string_index; /* e_shstrndx */
};
void stage2_patch(uint8_t *stage2, const struct disk_layout *l, uint64_t checksum,
                  uint32_t kernel_kind, const char *cmdline, const uint64_t *module_checksums,
                  const char *const *module_strings, const struct section_record *sections);
struct stage2_header stage2_header_read(const uint8_t *stage2);
/* Problems with a header as found in an image (magic, version, size). */
bool stage2_header_check(const struct stage2_header *h, struct problems *p);

#endif
