/*
 * loader_checksums.h - the checksums of the loader itself that mkimage
 * records in the stage 2 header (docs/boot-protocol.md, "Loader
 * checksums"), so that `mkimage info` and stage 2 notice a damaged loader
 * the way they notice a damaged kernel. Both use the kernel's checksum
 * (checksum.h).
 *
 * Stage 1: the boot sector up to the disk signature (its code, messages and
 * the disk address packet mkimage filled in), with the two areas other
 * tools may write read as zero: the BIOS Parameter Block (some BIOSes and
 * formatting tools write one) and the Windows disk timestamp. The disk
 * signature and the partition table are left out: they are not the
 * loader's, and `mkimage info` checks the partition entry on its own.
 *
 * Stage 2: its sectors as written to the disk (the file, zero-padded to a
 * whole sector) after mkimage has filled in the header, with the
 * stage2_checksum field itself read as zero. Stage 2 recomputes this in
 * memory before it uses anything it loaded (stage2/self_check.inc).
 */
#ifndef LOADER_CHECKSUMS_H
#define LOADER_CHECKSUMS_H

#include <stddef.h>
#include <stdint.h>

/* Boot sector offsets (the layout in bootloader/stage1.asm's header). */
#define STAGE1_BPB_START 0x03       /* after jmp short + nop */
#define STAGE1_BPB_END 0x5A         /* a FAT32 BPB, the longest kind, ends here */
#define STAGE1_TIMESTAMP_START 0xDA /* 6 bytes Windows uses for a disk timestamp */
#define STAGE1_TIMESTAMP_END 0xE0
#define STAGE1_CHECKSUM_END 0x1B8 /* the disk signature (MBR_DISK_SIGNATURE_OFFSET) */

/* The checksum of the boot sector `mbr` (512 bytes) as described above. */
uint64_t stage1_checksum(const uint8_t *mbr);

/* The checksum of stage 2's `len` bytes (whole sectors, starting with the
 * header), its stage2_checksum field read as zero. */
uint64_t stage2_checksum(const uint8_t *stage2, size_t len);

#endif
