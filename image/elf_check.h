/*
 * elf_check.h - check that a kernel ELF file is one stage 2 can load.
 *
 * Stage 2 reads the kernel file from disk, takes the ELF header and the
 * program headers from the first chunk it reads, copies every PT_LOAD
 * segment to its physical address and jumps to the entry point with memory
 * identity-mapped (and higher-half segments mapped at their virtual
 * addresses too; the entry point is virtual). These checks reject, at build time and with a message
 * saying what to change, every file the loader would refuse or that would
 * overwrite the loader while it runs. The loader repeats the checks itself;
 * `mkimage build --force` skips them here so tests can reach those.
 */
#ifndef ELF_CHECK_H
#define ELF_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "loader_fields.h"

/* Largest kernel file mkimage accepts. Far above any kernel of this project
 * (strip it and it is a few hundred KiB); the limit exists so that a wrong
 * --kernel argument (a disk image, a core dump) fails at once with a clear
 * message instead of producing a huge image. */
#define KERNEL_MAX_FILE_BYTES (256u * 1024u * 1024u)

/* Stage 2 takes the ELF header and the program headers from the first chunk
 * of the file it reads: DISK_BUFFER_SECTORS = 127 sectors (the most many
 * BIOSes move in one INT 13h call; bootloader/stage2/memory_layout.inc),
 * i.e. 65024 bytes, just under 64 KiB. They must lie inside it. */
#define LOADER_FIRST_CHUNK_SECTORS 127u
#define ELF_HEADER_WINDOW (LOADER_FIRST_CHUNK_SECTORS * SECTOR_SIZE)

/* Stage 2 keeps at most this many program headers (PROGRAM_HEADERS_MAX:
 * 64 * 56 bytes fit in the 4 KiB page it copies them to). */
#define ELF_MAX_PROGRAM_HEADERS 64

/* Physical memory below 1 MiB belongs to the BIOS and the loader: the loader
 * uses 0x500 (the first byte after the BIOS data area) up to 0xFFFFF for its
 * code, stacks, buffers and page tables. Kernel segments start at 1 MiB. */
#define LOADER_MEMORY_START 0x500u
#define LOADER_MEMORY_END 0xFFFFFu /* inclusive */
#define KERNEL_MIN_ADDRESS 0x100000u

/* A segment whose p_vaddr differs from its p_paddr is a higher-half
 * segment: stage 2 copies it to p_paddr and maps p_vaddr to it as well.
 * Its virtual range must lie in the upper half of the 48-bit address space
 * (canonical addresses: Intel SDM Vol. 1, 3.3.7.1), since the lower half is
 * the identity map's, and start at the same offset in a 4 KiB page. */
#define UPPER_HALF_START 0xFFFF800000000000ull
#define LOWER_HALF_END 0x0000800000000000ull
#define PAGE_SIZE_4K 0x1000u

/* Stage 2 builds its page tables in 0x20000-0x6FFFF (PAGE_TABLES_ADDRESS
 * and PAGE_TABLES_END in bootloader/stage2/memory_layout.inc): 80 tables
 * of 4 KiB. The identity map of the first 4 GiB takes six (the PML4, a
 * PDPT, four page directories) and the first 2 MiB's page table one more;
 * the rest is the kernel's (count_kernel_page_tables in page_tables.inc
 * counts them as kernel_page_tables() here does). tests/test_mkimage.py
 * checks these numbers against stage 2's. */
#define LOADER_PAGE_TABLES_START 0x20000u
#define LOADER_PAGE_TABLES_END 0x70000u
#define LOADER_PAGE_TABLE_BYTES 4096u
#define LOADER_IDENTITY_MAP_TABLES 7u
#define KERNEL_PAGE_TABLES_MAX                                                                     \
    ((LOADER_PAGE_TABLES_END - LOADER_PAGE_TABLES_START) / LOADER_PAGE_TABLE_BYTES -               \
     LOADER_IDENTITY_MAP_TABLES)

/* One PT_LOAD segment, as the summary for `mkimage info` lists it. */
struct elf_load_segment {
    unsigned index; /* position in the program header table */
    uint32_t flags; /* PF_* */
    uint64_t offset;
    uint64_t vaddr;
    uint64_t paddr;
    uint64_t filesz;
    uint64_t memsz;
};

struct elf_summary {
    bool header_parsed; /* an ELF64 little-endian header was read */
    uint64_t entry;
    uint16_t type;
    uint16_t machine;
    uint16_t phnum;
    bool segments_parsed; /* the program header table was read */
    unsigned load_count;
    struct elf_load_segment loads[ELF_MAX_PROGRAM_HEADERS];
};

/*
 * Check a kernel file. `head` holds its first `head_len` bytes: all of it,
 * or ELF_HEADER_WINDOW bytes when the file is longer (nothing the loader
 * looks at lies beyond). `file_size` is the size of the whole file.
 * Reports every problem found to `p` and returns how many there were.
 * `summary` (may be NULL) receives what could be parsed.
 */
unsigned elf_check(const uint8_t *head, size_t head_len, uint64_t file_size, struct problems *p,
                   struct elf_summary *summary);

/* "RWX" with '-' for flags not set, as readelf prints them. */
#define ELF_FLAGS_STRING_SIZE 4
void elf_flags_string(uint32_t flags, char out[ELF_FLAGS_STRING_SIZE]);

#endif
