/*
 * elf_check.c - see elf_check.h.
 *
 * Field offsets and constants are those of the System V gABI, chapter 4
 * ("Object Files"), and of "ELF-64 Object File Format" version 1.5; the
 * machine number is from the System V AMD64 psABI. The file is parsed byte
 * by byte so the checks work whatever the host's byte order.
 */
#include "elf_check.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "byte_order.h"

/* The ELF-64 numbers below are also in bootloader/stage2/elf.inc (what
 * stage 2 checks at boot) and tests/elf_factory.py (what the tests write);
 * tests/test_elf_constants.py checks that the three agree. */

/* e_ident[]: the first 16 bytes, the same for every class. */
#define EI_NIDENT 16
#define EI_CLASS 4
#define EI_DATA 5
#define EI_VERSION 6
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ELFDATA2MSB 2
#define EV_CURRENT 1

/* Elf32_Ehdr and Elf64_Ehdr agree up to e_version: e_type at 16, e_machine
 * at 18, so those two can be named even for a 32-bit file. */
#define EHDR_TYPE 16
#define EHDR_MACHINE 18
#define EHDR_COMMON_END 20

/* Elf64_Ehdr, 64 bytes. */
#define EHDR64_SIZE 64
#define EHDR64_VERSION 20   /* Elf64_Word */
#define EHDR64_ENTRY 24     /* Elf64_Addr */
#define EHDR64_PHOFF 32     /* Elf64_Off */
#define EHDR64_PHENTSIZE 54 /* Elf64_Half */
#define EHDR64_PHNUM 56     /* Elf64_Half */

#define ET_REL 1
#define ET_EXEC 2
#define ET_DYN 3
#define EM_386 3
#define EM_X86_64 62

/* Elf64_Phdr, 56 bytes. */
#define PHDR64_SIZE 56
#define PHDR_TYPE 0    /* Elf64_Word */
#define PHDR_FLAGS 4   /* Elf64_Word */
#define PHDR_OFFSET 8  /* Elf64_Off */
#define PHDR_VADDR 16  /* Elf64_Addr */
#define PHDR_PADDR 24  /* Elf64_Addr */
#define PHDR_FILESZ 32 /* Elf64_Xword */
#define PHDR_MEMSZ 40  /* Elf64_Xword */

#define PT_LOAD 1
#define PF_X 0x1
#define PF_W 0x2
#define PF_R 0x4

static const uint8_t elf_magic[4] = {0x7F, 'E', 'L', 'F'};

void elf_flags_string(uint32_t flags, char out[ELF_FLAGS_STRING_SIZE])
{
    out[0] = (flags & PF_R) ? 'R' : '-';
    out[1] = (flags & PF_W) ? 'W' : '-';
    out[2] = (flags & PF_X) ? 'X' : '-';
    out[3] = '\0';
}

/* Header fields that are laid out alike in ELF32 and ELF64. */
static void check_type_and_machine(const uint8_t *head, struct problems *p)
{
    uint16_t type = get_le16(head + EHDR_TYPE);
    uint16_t machine = get_le16(head + EHDR_MACHINE);

    if (type == ET_DYN)
        problem(p, "is ET_DYN (a position-independent executable or shared object), "
                   "not ET_EXEC: link with -static -no-pie");
    else if (type == ET_REL)
        problem(p, "is ET_REL (an unlinked object file), not ET_EXEC: "
                   "link it into an executable with the kernel's linker script");
    else if (type != ET_EXEC)
        problem(p, "has ELF type %u, not ET_EXEC (%u): link the kernel as a static executable",
                type, ET_EXEC);

    if (machine == EM_386)
        problem(p, "is built for i386 (EM_386), not x86-64 (EM_X86_64): "
                   "build the kernel with an x86-64 compiler (-m64)");
    else if (machine != EM_X86_64)
        problem(p,
                "is built for machine %u, not x86-64 (EM_X86_64 = %u): "
                "build the kernel with an x86-64 toolchain",
                machine, EM_X86_64);
}

/* Returns false when nothing beyond e_ident can be interpreted. */
static bool check_ident(const uint8_t *head, size_t head_len, struct problems *p)
{
    uint8_t class = head[EI_CLASS];
    uint8_t data = head[EI_DATA];
    uint8_t version = head[EI_VERSION];

    if (class == ELFCLASS32)
        problem(p, "is ELF32 (ELFCLASS32); the loader needs ELF64: "
                   "build the kernel for x86-64 (-m64)");
    else if (class != ELFCLASS64)
        problem(p,
                "has unknown ELF class %u (byte 4 of e_ident): "
                "the file is damaged or not a kernel; rebuild it for x86-64",
                class);

    if (data == ELFDATA2MSB)
        problem(p, "is big-endian (ELFDATA2MSB); x86-64 is little-endian: "
                   "build the kernel with an x86-64 toolchain");
    else if (data != ELFDATA2LSB)
        problem(p,
                "has unknown data encoding %u (byte 5 of e_ident): "
                "the file is damaged; rebuild the kernel",
                data);

    if (version != EV_CURRENT)
        problem(p,
                "has ELF version %u in e_ident, not EV_CURRENT (%u): "
                "the file is damaged; rebuild the kernel",
                version, EV_CURRENT);

    if (data == ELFDATA2LSB && head_len >= EHDR_COMMON_END)
        check_type_and_machine(head, p);

    return class == ELFCLASS64 && data == ELFDATA2LSB;
}

static void read_segment(const uint8_t *ph, unsigned index, struct elf_load_segment *s)
{
    s->index = index;
    s->flags = get_le32(ph + PHDR_FLAGS);
    s->offset = get_le64(ph + PHDR_OFFSET);
    s->vaddr = get_le64(ph + PHDR_VADDR);
    s->paddr = get_le64(ph + PHDR_PADDR);
    s->filesz = get_le64(ph + PHDR_FILESZ);
    s->memsz = get_le64(ph + PHDR_MEMSZ);
}

/* The same rules, in the same order, as check_virtual_range in
 * bootloader/stage2/elf_check.inc. */
static void check_higher_half_segment(const struct elf_load_segment *s, struct problems *p)
{
    if (s->vaddr < LOWER_HALF_END)
        problem(p,
                "segment %u has virtual address 0x%" PRIX64 " but physical address 0x%" PRIX64
                ": the lower half of the address space is identity-mapped (virtual = physical), "
                "so there they must be equal; for a higher-half kernel link at 0x%" PRIX64
                " or above, e.g. 0xFFFFFFFF80000000 + the physical address (AT() in the linker "
                "script gives the physical one)",
                s->index, s->vaddr, s->paddr, (uint64_t)UPPER_HALF_START);
    else if (s->vaddr < UPPER_HALF_START || s->memsz > UINT64_MAX - s->vaddr)
        problem(p,
                "segment %u at virtual address 0x%" PRIX64 " (0x%" PRIX64 " bytes) is not in "
                "the canonical upper half 0x%" PRIX64 "-0xFFFFFFFFFFFFFFFF: link the "
                "higher-half kernel inside it, e.g. at 0xFFFFFFFF80000000 + the physical address",
                s->index, s->vaddr, s->memsz, (uint64_t)UPPER_HALF_START);
    else if ((s->vaddr ^ s->paddr) & (PAGE_SIZE_4K - 1))
        problem(p,
                "segment %u has virtual address 0x%" PRIX64 " and physical address 0x%" PRIX64
                ", at different offsets in a 4 KiB page: the loader maps whole pages, so "
                "align both alike (AT() with the same low 12 bits as the address)",
                s->index, s->vaddr, s->paddr);
}

static void check_segment(const struct elf_load_segment *s, uint64_t file_size, struct problems *p)
{
    if (s->filesz > s->memsz)
        problem(p,
                "segment %u has p_filesz 0x%" PRIX64 " larger than p_memsz 0x%" PRIX64
                ": the file is malformed; relink the kernel",
                s->index, s->filesz, s->memsz);

    if (s->offset > file_size || s->filesz > file_size - s->offset)
        problem(p,
                "segment %u (file offset 0x%" PRIX64 ", 0x%" PRIX64 " bytes) extends past "
                "the end of the file (0x%" PRIX64 " bytes): the file is truncated; "
                "rebuild the kernel",
                s->index, s->offset, s->filesz, file_size);

    if (s->paddr < KERNEL_MIN_ADDRESS) {
        if (s->offset == 0 && s->filesz >= EHDR64_SIZE)
            problem(p,
                    "segment %u at 0x%" PRIX64 " holds the ELF header and program headers "
                    "(file offset 0), below 1 MiB (0x%X): ld puts them in the page before the "
                    "code when given -Ttext=ADDRESS; link with -Ttext-segment=0x%X instead, "
                    "or with a linker script (README.md, \"Bring your own kernel\")",
                    s->index, s->paddr, KERNEL_MIN_ADDRESS, KERNEL_MIN_ADDRESS);
        else if (s->paddr >= LOADER_MEMORY_START || s->memsz > LOADER_MEMORY_START - s->paddr)
            problem(p,
                    "segment %u at 0x%" PRIX64 " overlaps the loader's memory "
                    "(0x%X-0x%X): link the kernel at or above 1 MiB (0x%X)",
                    s->index, s->paddr, LOADER_MEMORY_START, LOADER_MEMORY_END, KERNEL_MIN_ADDRESS);
        else
            problem(p,
                    "segment %u at 0x%" PRIX64 " overlaps the real-mode interrupt table "
                    "and BIOS data area (0x0-0x%X): link the kernel at or above 1 MiB (0x%X)",
                    s->index, s->paddr, LOADER_MEMORY_START - 1, KERNEL_MIN_ADDRESS);
    }

    /* The rule of KERNEL_ADDRESS_LIMIT (loader_fields.h): starts below the
     * limit, ends at or below it; an empty segment at 4 GiB starts too high. */
    if (s->paddr >= KERNEL_ADDRESS_LIMIT || s->memsz > KERNEL_ADDRESS_LIMIT - s->paddr)
        problem(p,
                "segment %u at 0x%" PRIX64 " (0x%" PRIX64 " bytes in memory) lies or ends "
                "above 4 GiB; the loader copies segments with 32-bit addresses: "
                "link the kernel below 4 GiB",
                s->index, s->paddr, s->memsz);

    if (s->vaddr != s->paddr)
        check_higher_half_segment(s, p);
}

/* Half-open [paddr, paddr + memsz) ranges; empty segments overlap nothing.
 * The end is computed without wrapping (memsz may be absurd). */
static bool segments_overlap(const struct elf_load_segment *x, const struct elf_load_segment *y)
{
    if (x->memsz == 0 || y->memsz == 0)
        return false;
    /* x starts before y ends and y starts before x ends. */
    bool x_before_y_end = x->paddr < y->paddr || x->paddr - y->paddr < y->memsz;
    bool y_before_x_end = y->paddr < x->paddr || y->paddr - x->paddr < x->memsz;
    return x_before_y_end && y_before_x_end;
}

static uint64_t segment_last_byte(const struct elf_load_segment *s)
{
    return s->paddr + s->memsz - 1; /* only for messages; wrap-around is harmless there */
}

static bool is_higher_half(const struct elf_load_segment *s)
{
    return s->vaddr != s->paddr;
}

/* A higher-half segment whose virtual range check_higher_half_segment
 * accepts: in the upper half, and p_vaddr + p_memsz does not wrap. */
static bool is_mappable_higher_half(const struct elf_load_segment *s)
{
    return is_higher_half(s) && s->vaddr >= UPPER_HALF_START && s->memsz <= UINT64_MAX - s->vaddr;
}

/* The same test on virtual ranges, for mappable higher-half segments
 * (whose p_vaddr + p_memsz does not wrap). Two
 * segments must not share a virtual page either, unless they share the
 * physical page behind it too. */
static bool virtual_pages_clash(const struct elf_load_segment *x, const struct elf_load_segment *y)
{
    if (x->memsz == 0 || y->memsz == 0)
        return false;
    uint64_t x_first = x->vaddr & ~(uint64_t)(PAGE_SIZE_4K - 1);
    uint64_t y_first = y->vaddr & ~(uint64_t)(PAGE_SIZE_4K - 1);
    uint64_t x_last = x->vaddr + (x->memsz - 1), y_last = y->vaddr + (y->memsz - 1);
    if (x_first > y_last || y_first > x_last)
        return false; /* no page in common */
    bool bytes_overlap = x->vaddr <= y_last && y->vaddr <= x_last;
    return bytes_overlap || x->vaddr - x->paddr != y->vaddr - y->paddr;
}

/* Regions of 2^shift bytes that [first, first + size) touches; size > 0. */
static uint64_t regions_touched(uint64_t first, uint64_t size, unsigned shift)
{
    return ((first + (size - 1)) >> shift) - (first >> shift) + 1;
}

#define LARGE_PAGE_SHIFT 21 /* a page table maps 2 MiB */
#define GIB_SHIFT 30        /* a page directory maps 1 GiB */
#define PML4_ENTRY_SHIFT 39 /* a PDPT maps 512 GiB */

/* The page tables stage 2 sets aside for the kernel, counted as
 * count_kernel_page_tables in bootloader/stage2/page_tables.inc does: a
 * page table per 2 MiB region of each segment's physical range and, for a
 * higher-half segment, per 2 MiB of its virtual range, plus a page
 * directory per GiB and a PDPT per 512 GiB of it. */
static uint64_t kernel_page_tables(const struct elf_summary *sum)
{
    uint64_t tables = 0;
    for (unsigned i = 0; i < sum->load_count; i++) {
        const struct elf_load_segment *s = &sum->loads[i];
        if (s->memsz == 0)
            continue;
        tables += regions_touched(s->paddr, s->memsz, LARGE_PAGE_SHIFT);
        if (is_mappable_higher_half(s))
            tables += regions_touched(s->vaddr, s->memsz, LARGE_PAGE_SHIFT) +
                      regions_touched(s->vaddr, s->memsz, GIB_SHIFT) +
                      regions_touched(s->vaddr, s->memsz, PML4_ENTRY_SHIFT);
    }
    return tables;
}

static void check_segments(const struct elf_summary *sum, uint64_t file_size, struct problems *p)
{
    if (sum->load_count == 0) {
        problem(p, "has no PT_LOAD segment, so there is nothing to load: "
                   "check the PHDRS and SECTIONS of the kernel's linker script");
        return;
    }

    for (unsigned i = 0; i < sum->load_count; i++)
        check_segment(&sum->loads[i], file_size, p);

    for (unsigned i = 0; i < sum->load_count; i++) {
        for (unsigned j = i + 1; j < sum->load_count; j++) {
            const struct elf_load_segment *x = &sum->loads[i], *y = &sum->loads[j];
            if (segments_overlap(x, y))
                problem(p,
                        "segments %u (0x%" PRIX64 "-0x%" PRIX64 ") and %u (0x%" PRIX64 "-0x%" PRIX64
                        ") overlap in memory: give each PT_LOAD segment "
                        "its own address range in the linker script",
                        x->index, x->paddr, segment_last_byte(x), y->index, y->paddr,
                        segment_last_byte(y));
        }
    }

    for (unsigned i = 0; i < sum->load_count; i++) {
        for (unsigned j = i + 1; j < sum->load_count; j++) {
            const struct elf_load_segment *x = &sum->loads[i], *y = &sum->loads[j];
            if (is_mappable_higher_half(x) && is_mappable_higher_half(y) &&
                virtual_pages_clash(x, y))
                problem(p,
                        "segments %u (virtual 0x%" PRIX64 ") and %u (virtual 0x%" PRIX64
                        ") overlap in virtual memory or share a virtual page backed by "
                        "different physical pages: give each its own pages, with the same "
                        "virtual-to-physical offset where they meet",
                        x->index, x->vaddr, y->index, y->vaddr);
        }
    }

    uint64_t tables = kernel_page_tables(sum);
    if (tables > KERNEL_PAGE_TABLES_MAX)
        problem(p,
                "needs up to %" PRIu64 " page tables to map its segments with 4 KiB pages "
                "(one per 2 MiB region, and for higher-half segments also per 2 MiB, GiB and "
                "512 GiB of their virtual range); the loader has room for %u: make the kernel "
                "smaller or allocate big buffers at run time instead of in .bss",
                tables, KERNEL_PAGE_TABLES_MAX);

    /* The loader jumps to the entry point with paging on, so it is a
     * virtual address: looked up among the segments' virtual ranges (for
     * identity-mapped segments the same as their physical ones). */
    const struct elf_load_segment *holder = NULL;
    for (unsigned i = 0; i < sum->load_count && !holder; i++) {
        const struct elf_load_segment *s = &sum->loads[i];
        if (sum->entry >= s->vaddr && sum->entry - s->vaddr < s->memsz)
            holder = s;
    }
    if (!holder) {
        problem(p,
                "entry point 0x%" PRIX64 " lies outside every PT_LOAD segment's virtual range "
                "(p_vaddr to p_vaddr + p_memsz): check ENTRY() in the kernel's linker script",
                sum->entry);
    } else if (!(holder->flags & PF_X)) {
        char flags[ELF_FLAGS_STRING_SIZE];
        elf_flags_string(holder->flags, flags);
        problem(p,
                "entry point 0x%" PRIX64 " lies in segment %u, which is not executable "
                "(flags %s): put the entry code in the executable (.text) segment",
                sum->entry, holder->index, flags);
    }
}

unsigned elf_check(const uint8_t *head, size_t head_len, uint64_t file_size, struct problems *p,
                   struct elf_summary *summary)
{
    struct elf_summary local;
    struct elf_summary *sum = summary ? summary : &local;
    unsigned before = p->count;

    memset(sum, 0, sizeof(*sum));

    if (file_size == 0) {
        problem(p, "is empty: build the kernel first, or pass the right file with --kernel");
        return p->count - before;
    }
    if (file_size > KERNEL_MAX_FILE_BYTES)
        problem(p,
                "is %" PRIu64 " bytes, more than the %u-byte (%u MiB) limit for a kernel: "
                "pass the stripped kernel ELF file, not a disk image or other large file",
                file_size, KERNEL_MAX_FILE_BYTES, KERNEL_MAX_FILE_BYTES / (1024u * 1024u));

    if (head_len < sizeof(elf_magic) || memcmp(head, elf_magic, sizeof(elf_magic)) != 0) {
        problem(p, "is not an ELF file (it does not start with 0x7F 'E' 'L' 'F'): "
                   "pass the kernel's ELF file (e.g. kernel-stripped.elf), not a flat binary");
        return p->count - before;
    }
    if (head_len < EI_NIDENT) {
        problem(p,
                "is truncated: %zu bytes, shorter than the %d-byte ELF identification: "
                "rebuild the kernel",
                head_len, EI_NIDENT);
        return p->count - before;
    }
    if (!check_ident(head, head_len, p))
        return p->count - before;
    if (head_len < EHDR64_SIZE) {
        problem(p,
                "is truncated: %zu bytes, shorter than the %d-byte ELF64 header: "
                "rebuild the kernel",
                head_len, EHDR64_SIZE);
        return p->count - before;
    }

    sum->header_parsed = true;
    sum->type = get_le16(head + EHDR_TYPE);
    sum->machine = get_le16(head + EHDR_MACHINE);
    sum->entry = get_le64(head + EHDR64_ENTRY);
    sum->phnum = get_le16(head + EHDR64_PHNUM);

    uint32_t version = get_le32(head + EHDR64_VERSION);
    uint64_t phoff = get_le64(head + EHDR64_PHOFF);
    uint16_t phentsize = get_le16(head + EHDR64_PHENTSIZE);
    bool table_readable = true;

    if (version != EV_CURRENT)
        problem(p,
                "has e_version %" PRIu32 ", not EV_CURRENT (%u): "
                "the file is damaged; rebuild the kernel",
                version, EV_CURRENT);
    if (phentsize != PHDR64_SIZE) {
        problem(p,
                "has program headers of %u bytes (e_phentsize), not the %d bytes of "
                "Elf64_Phdr: the file is damaged; rebuild the kernel",
                phentsize, PHDR64_SIZE);
        table_readable = false;
    }
    if (sum->phnum == 0) {
        problem(p, "has no program headers: link the kernel as an executable "
                   "(not with -r) using its linker script");
        return p->count - before;
    }
    if (sum->phnum > ELF_MAX_PROGRAM_HEADERS) {
        problem(p,
                "has %u program headers; the loader handles at most %d: "
                "merge output sections in the linker script (see its PHDRS)",
                sum->phnum, ELF_MAX_PROGRAM_HEADERS);
        table_readable = false;
    }

    /* phnum < 2^16 and phentsize < 2^16, so the table size cannot overflow. */
    uint64_t table_size = (uint64_t)sum->phnum * phentsize;
    if (phoff > file_size || table_size > file_size - phoff) {
        problem(p,
                "has its program header table (offset 0x%" PRIX64 ", %u entries) past the "
                "end of the file (0x%" PRIX64 " bytes): the file is truncated; "
                "rebuild the kernel",
                phoff, sum->phnum, file_size);
        table_readable = false;
    } else if (phoff + table_size > ELF_HEADER_WINDOW) {
        problem(p,
                "has its program header table at 0x%" PRIX64 "-0x%" PRIX64 ", beyond the "
                "first %u bytes (%u sectors) of the file, the chunk the loader reads it "
                "from: put the program headers right after the ELF header (the linker's "
                "default)",
                phoff, phoff + table_size - 1, ELF_HEADER_WINDOW, LOADER_FIRST_CHUNK_SECTORS);
        table_readable = false;
    } else if (phoff + table_size > head_len) {
        /* Cannot happen when the caller follows the contract in elf_check.h. */
        problem(p, "program header table could not be read: internal error in mkimage");
        table_readable = false;
    }
    if (!table_readable)
        return p->count - before;

    sum->segments_parsed = true;
    for (unsigned i = 0; i < sum->phnum; i++) {
        const uint8_t *ph = head + phoff + (uint64_t)i * PHDR64_SIZE;
        if (get_le32(ph + PHDR_TYPE) == PT_LOAD)
            read_segment(ph, i, &sum->loads[sum->load_count++]);
    }
    check_segments(sum, file_size, p);
    return p->count - before;
}
