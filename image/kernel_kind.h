/*
 * kernel_kind.h - which boot protocol a kernel file speaks, and the build
 * checks of the Multiboot 2 header.
 *
 * mkimage decides the kind once, when it builds the image, and records it
 * in the stage 2 header (stage2_header.kernel_kind); stage 2 hands the
 * kernel over accordingly. The kinds are tried in this order, the first
 * match wins:
 *   linux       "HdrS" at 0x202 and 0xAA55 at 0x1FE (a bzImage)
 *   multiboot2  a Multiboot2 header in the first 32 KiB, 8-byte aligned
 *   multiboot1  a Multiboot header in the first 8 KiB, 4-byte aligned
 *   bootstack   else: our own ELF64 protocol (docs/boot-protocol.md)
 * `mkimage build --protocol NAME` forces one.
 */
#ifndef KERNEL_KIND_H
#define KERNEL_KIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "loader_fields.h"

/* The Linux x86 boot protocol (Documentation/arch/x86/boot.rst): the real
 * mode header of a bzImage carries the boot sector signature and "HdrS". */
#define LINUX_BOOT_FLAG_OFFSET 0x1FE
#define LINUX_BOOT_FLAG 0xAA55
#define LINUX_HEADER_MAGIC_OFFSET 0x202
#define LINUX_HEADER_MAGIC 0x53726448u /* "HdrS" */
/* Fields of the real-mode header this loader reads (boot.rst, "The real-mode
 * kernel header"; offsets from the start of the file). */
#define LINUX_SETUP_SECTS_OFFSET 0x1F1 /* u8: sectors of setup after the boot sector */
#define LINUX_SETUP_SECTS_DEFAULT 4    /* boot.rst: a setup_sects of 0 means 4 */
#define LINUX_VERSION_OFFSET 0x206     /* u16: boot protocol, major << 8 | minor */
#define LINUX_LOADFLAGS_OFFSET 0x211   /* u8 */
#define LINUX_LOADED_HIGH 0x01         /* loadflags bit 0: protected-mode code at 1 MiB */
#define LINUX_MIN_VERSION 0x0202       /* 2.02: cmd_line_ptr, the protocol stage 2 speaks */
/* boot.rst: the real-mode code (boot sector and setup) must fit in 32 KiB,
 * so that its heap, stack and command line fit in stage 2's 64 KiB segment. */
#define LINUX_SETUP_MAX_BYTES 0x8000u

/* Multiboot2 specification 2.0, 3.1.1: the header lies within the first
 * 32768 bytes of the file, 64-bit aligned. */
#define MULTIBOOT2_HEADER_MAGIC 0xE85250D6u
#define MULTIBOOT2_SEARCH_BYTES 32768u
#define MULTIBOOT2_HEADER_ALIGN 8u
#define MULTIBOOT2_ARCHITECTURE_I386 0u /* 32-bit protected mode of i386 */

/* GNU Multiboot 0.6.96, 3.1.1: within the first 8192 bytes, 32-bit aligned. */
#define MULTIBOOT1_HEADER_MAGIC 0x1BADB002u
#define MULTIBOOT1_SEARCH_BYTES 8192u
#define MULTIBOOT1_HEADER_ALIGN 4u

/* The NAME of each KERNEL_KIND_* for --protocol and `mkimage info`. */
const char *kernel_kind_name(uint32_t kind);
/* KERNEL_KIND_* for a name; false if there is none. */
bool kernel_kind_from_name(const char *name, uint32_t *kind);
/* "bootstack, multiboot2, multiboot1, linux" for messages. */
#define KERNEL_KIND_NAMES "bootstack, multiboot2, multiboot1, linux"

/* The kind of the file whose first `len` bytes are `head`. */
uint32_t kernel_kind_detect(const uint8_t *head, size_t len);

/* Offset of a valid Multiboot2 header (magic and checksum) in `head`,
 * or -1 when there is none. */
long multiboot2_header_find(const uint8_t *head, size_t len);
long multiboot1_header_find(const uint8_t *head, size_t len);

/* Where a Multiboot kernel goes: its address fields (a Multiboot2 address
 * tag or a Multiboot header with flags bit 16), as stage 2 places it. */
struct multiboot_load {
    bool elf;             /* placed by its ELF program headers, not address fields */
    uint32_t file_offset; /* first byte of the file that is loaded */
    uint32_t load_addr;
    uint32_t load_end_addr; /* exclusive */
    uint32_t bss_end_addr;  /* exclusive; == load_end_addr without BSS */
    uint32_t entry_addr;
};

/* Check what this loader needs of a Multiboot2 kernel (its header tags,
 * where it loads, its entry point); report every problem to `p` and
 * return how many there were. `load` (may be NULL) receives the placement. */
unsigned multiboot2_check(const uint8_t *head, size_t head_len, uint64_t file_size,
                          struct problems *p, struct multiboot_load *load);

/* The same for a Multiboot 1 kernel (GNU Multiboot 0.6.96): refuses the
 * requirements (flags bits 2-15) this loader does not meet, naming each. */
unsigned multiboot1_check(const uint8_t *head, size_t head_len, uint64_t file_size,
                          struct problems *p, struct multiboot_load *load);

/* What stage 2 needs of a Linux bzImage (boot.rst): boot protocol 2.02 or
 * later, LOADED_HIGH, a real-mode part of at most 32 KiB and some
 * protected-mode code after it. `setup_bytes` (may be NULL) receives the
 * size of the real-mode part: (setup_sects, or 4 for 0, + 1) sectors. */
unsigned linux_check(const uint8_t *head, size_t head_len, uint64_t file_size, struct problems *p,
                     uint32_t *setup_bytes);

#endif
