/*
 * kernel_kind.c - decide a kernel's boot protocol; check Multiboot2 headers.
 *
 * The numbers are those of the Multiboot2 specification 2.0, section 3.1
 * ("OS image format"), of GNU Multiboot 0.6.96, section 3.1, and of the
 * Linux x86 boot protocol; kernel_kind.h says which is which.
 */
#include "kernel_kind.h"

#include <inttypes.h>
#include <string.h>

#include "byte_order.h"
#include "elf_check.h"
#include "elf_sections.h"

static const char *const kind_names[KERNEL_KIND_COUNT] = {
    [KERNEL_KIND_BOOTSTACK] = "bootstack",
    [KERNEL_KIND_MULTIBOOT2] = "multiboot2",
    [KERNEL_KIND_MULTIBOOT1] = "multiboot1",
    [KERNEL_KIND_LINUX] = "linux",
};

const char *kernel_kind_name(uint32_t kind)
{
    return kind < KERNEL_KIND_COUNT ? kind_names[kind] : "unknown";
}

bool kernel_kind_from_name(const char *name, uint32_t *kind)
{
    for (uint32_t k = 0; k < KERNEL_KIND_COUNT; k++) {
        if (strcmp(name, kind_names[k]) == 0) {
            *kind = k;
            return true;
        }
    }
    return false;
}

/* Multiboot2 3.1.2 / Multiboot 3.1.2: magic, then fields whose sum with the
 * magic and the checksum is 0 mod 2^32. */
long multiboot2_header_find(const uint8_t *head, size_t len)
{
    /* magic, architecture, header_length, checksum */
    for (size_t at = 0; at + 16 <= len && at < MULTIBOOT2_SEARCH_BYTES;
         at += MULTIBOOT2_HEADER_ALIGN) {
        if (get_le32(head + at) != MULTIBOOT2_HEADER_MAGIC)
            continue;
        uint32_t sum = get_le32(head + at) + get_le32(head + at + 4) + get_le32(head + at + 8) +
                       get_le32(head + at + 12);
        if (sum == 0)
            return (long)at;
    }
    return -1;
}

long multiboot1_header_find(const uint8_t *head, size_t len)
{
    /* magic, flags, checksum */
    for (size_t at = 0; at + 12 <= len && at < MULTIBOOT1_SEARCH_BYTES;
         at += MULTIBOOT1_HEADER_ALIGN) {
        if (get_le32(head + at) != MULTIBOOT1_HEADER_MAGIC)
            continue;
        if (get_le32(head + at) + get_le32(head + at + 4) + get_le32(head + at + 8) == 0)
            return (long)at;
    }
    return -1;
}

static bool is_linux_bzimage(const uint8_t *head, size_t len)
{
    return len >= LINUX_HEADER_MAGIC_OFFSET + 4 &&
           get_le16(head + LINUX_BOOT_FLAG_OFFSET) == LINUX_BOOT_FLAG &&
           get_le32(head + LINUX_HEADER_MAGIC_OFFSET) == LINUX_HEADER_MAGIC;
}

uint32_t kernel_kind_detect(const uint8_t *head, size_t len)
{
    if (is_linux_bzimage(head, len))
        return KERNEL_KIND_LINUX;
    if (multiboot2_header_find(head, len) >= 0)
        return KERNEL_KIND_MULTIBOOT2;
    if (multiboot1_header_find(head, len) >= 0)
        return KERNEL_KIND_MULTIBOOT1;
    return KERNEL_KIND_BOOTSTACK;
}

/* ---- Multiboot2 header tags (Multiboot2 spec 3.1.3-3.1.13) --------------- */
#define MB2_HEADER_SIZE 16
#define MB2_TAG_HEADER_SIZE 8         /* u16 type, u16 flags, u32 size */
#define MB2_TAG_OPTIONAL 1u           /* flags bit 0: the loader may ignore the tag */
#define MB2_TAG_END 0                 /* 3.1.3 */
#define MB2_TAG_INFORMATION_REQUEST 1 /* 3.1.4: u32 mbi_tag_types[] */
#define MB2_TAG_ADDRESS 2          /* 3.1.5: header_addr, load_addr, load_end_addr, bss_end_addr */
#define MB2_TAG_ENTRY_ADDRESS 3    /* 3.1.6: entry_addr */
#define MB2_TAG_CONSOLE_FLAGS 4    /* 3.1.9 */
#define MB2_TAG_FRAMEBUFFER 5      /* 3.1.10: width, height, depth */
#define MB2_TAG_MODULE_ALIGNMENT 6 /* 3.1.11: modules page-aligned */
#define MB2_TAG_RELOCATABLE 10     /* 3.1.13: min_addr, max_addr, align, preference */
#define MB2_ADDRESS_TAG_SIZE 24
#define MB2_ENTRY_TAG_SIZE 12
/* 3.1.5: load_addr -1 is not a placement this loader implements. */
#define MB2_LOAD_ADDR_UNSET 0xFFFFFFFFu

/* Information tags (3.6) stage 2 writes for every Multiboot2 kernel: what a
 * required information request may name. The ACPI RSDP copies (14, 15) are
 * written only when the firmware has an RSDP, so a request that requires
 * them is refused here like any other tag we cannot promise. */
static const uint32_t provided_information[] = {
    1, /* 3.6.5 boot command line */
    2, /* 3.6.9 boot loader name */
    3, /* 3.6.6 modules (one tag per module; none without modules) */
    4, /* 3.6.3 basic memory information */
    5, /* 3.6.4 BIOS boot device */
    6, /* 3.6.8 memory map */
};
/* 3.6.7 ELF-Symbols: written for an ELF kernel (no address tag) that has
 * section headers; checked on its own below. */
#define MB2_INFO_ELF_SECTIONS 9

static bool information_provided(uint32_t type)
{
    for (size_t i = 0; i < sizeof(provided_information) / sizeof(provided_information[0]); i++)
        if (provided_information[i] == type)
            return true;
    return false;
}

/* The address fields, as a Multiboot2 address and entry address tag
 * (3.1.5, 3.1.6) or a Multiboot header with flags bit 16 (Multiboot 0.6.96,
 * 3.1.3) give them. */
struct address_fields {
    uint32_t header_addr;
    uint32_t load_addr;
    uint32_t load_end_addr; /* 0: to the end of the file */
    uint32_t bss_end_addr;  /* 0: no BSS */
    uint32_t entry;
};

/* Check where the address fields of the header at file offset `at` put the
 * kernel (`what` names them in messages); fill `load` (may be NULL). */
static void check_address_fields(const struct address_fields *f, size_t at, uint64_t file_size,
                                 bool have_entry, const char *what, struct problems *p,
                                 struct multiboot_load *load)
{
    /* The file is loaded from (header offset - (header_addr - load_addr)). */
    uint64_t end_of_file_part = 0;
    if (f->load_addr == MB2_LOAD_ADDR_UNSET || f->load_addr > f->header_addr ||
        f->header_addr - f->load_addr > at) {
        problem(p,
                "%s: load_addr 0x%" PRIX32 " and header_addr 0x%" PRIX32
                " put the start of the file's text before its first byte",
                what, f->load_addr, f->header_addr);
        return;
    }
    uint32_t file_offset = (uint32_t)at - (f->header_addr - f->load_addr);
    if (f->load_end_addr == 0)
        end_of_file_part = (uint64_t)f->load_addr + (file_size - file_offset);
    else
        end_of_file_part = f->load_end_addr;
    if (end_of_file_part < f->load_addr ||
        end_of_file_part - f->load_addr > file_size - file_offset) {
        problem(p,
                "%s: load_end_addr 0x%" PRIX32 " lies beyond the end of "
                "the file",
                what, f->load_end_addr);
        return;
    }
    uint64_t end = f->bss_end_addr == 0 ? end_of_file_part : f->bss_end_addr;
    if (end < end_of_file_part)
        problem(p,
                "%s: bss_end_addr 0x%" PRIX32 " lies below "
                "load_end_addr",
                what, f->bss_end_addr);
    if (f->load_addr < KERNEL_MIN_ADDRESS)
        problem(p,
                "%s: load_addr 0x%" PRIX32 " is below 1 MiB, where the "
                "BIOS and this loader live: link the kernel at or above 0x%X",
                what, f->load_addr, KERNEL_MIN_ADDRESS);
    if (end > KERNEL_ADDRESS_LIMIT - 1)
        problem(p, "%s: the kernel ends at 0x%" PRIX64 ", above 4 GiB", what, end);
    if (have_entry && (f->entry < f->load_addr || f->entry >= end_of_file_part))
        problem(p,
                "%s: the entry address 0x%" PRIX32 " lies outside the loaded bytes "
                "0x%" PRIX32 "-0x%" PRIX64,
                what, f->entry, f->load_addr, end_of_file_part);
    if (load) {
        load->elf = false;
        load->file_offset = file_offset;
        load->load_addr = f->load_addr;
        load->load_end_addr = (uint32_t)end_of_file_part;
        load->bss_end_addr = (uint32_t)end;
        load->entry_addr = f->entry;
    }
}

/* ---- Multiboot kernels without address fields: ELF32 or ELF64 ------------
 * Both specifications let the loader place an ELF kernel by its program
 * headers (Multiboot 0.6.96 3.1.3, Multiboot2 3.1.5). Stage 2 loads each
 * PT_LOAD at p_paddr; the entry point is taken as virtual and translated
 * when it lies in a segment's virtual range, else accepted as physical when
 * it lies in a segment's physical range (bootloader/stage2/multiboot_elf.inc). */
#define MB_ELF_CLASS 4
#define MB_ELF_DATA 5
#define MB_ELFCLASS32 1
#define MB_ELFCLASS64 2
#define MB_ELFDATA2LSB 1
#define MB_ELF_MACHINE 18
#define MB_EM_386 3
#define MB_EM_X86_64 62
#define MB_PT_LOAD 1
#define MB_ELF32_PHDR_SIZE 32
#define MB_ELF64_PHDR_SIZE 56

struct mb_segment {
    uint32_t type;
    uint64_t offset, vaddr, paddr, filesz, memsz;
};

static struct mb_segment mb_segment_read(const uint8_t *ph, bool is64)
{
    if (is64)
        return (struct mb_segment){get_le32(ph),      get_le64(ph + 8),  get_le64(ph + 16),
                                   get_le64(ph + 24), get_le64(ph + 32), get_le64(ph + 40)};
    return (struct mb_segment){get_le32(ph),      get_le32(ph + 4),  get_le32(ph + 8),
                               get_le32(ph + 12), get_le32(ph + 16), get_le32(ph + 20)};
}

static unsigned multiboot_elf_check(const uint8_t *head, size_t len, uint64_t file_size,
                                    struct problems *p, struct multiboot_load *load)
{
    unsigned before = p->count;
    static const uint8_t magic[4] = {0x7F, 'E', 'L', 'F'};
    if (len < 64 || memcmp(head, magic, sizeof(magic)) != 0 ||
        head[MB_ELF_DATA] != MB_ELFDATA2LSB ||
        (head[MB_ELF_CLASS] != MB_ELFCLASS32 && head[MB_ELF_CLASS] != MB_ELFCLASS64)) {
        problem(p, "the Multiboot kernel has no address fields, so this loader places it by its "
                   "ELF program headers, but it is no little-endian ELF32 or ELF64 file: give "
                   "its header the address fields, or pass an ELF file");
        return p->count - before;
    }
    bool is64 = head[MB_ELF_CLASS] == MB_ELFCLASS64;
    uint16_t machine = get_le16(head + MB_ELF_MACHINE);
    if (machine != (is64 ? MB_EM_X86_64 : MB_EM_386))
        problem(p, "the Multiboot kernel is an ELF%s file for machine %u, not %s",
                is64 ? "64" : "32", machine, is64 ? "x86-64 (62)" : "i386 (3)");
    uint64_t entry = is64 ? get_le64(head + 24) : get_le32(head + 24);
    uint64_t phoff = is64 ? get_le64(head + 32) : get_le32(head + 28);
    unsigned phentsize = get_le16(head + (is64 ? 54 : 42));
    unsigned phnum = get_le16(head + (is64 ? 56 : 44));
    unsigned expected = is64 ? MB_ELF64_PHDR_SIZE : MB_ELF32_PHDR_SIZE;
    if (phentsize != expected || phnum == 0 || phnum > ELF_MAX_PROGRAM_HEADERS ||
        phoff + (uint64_t)phnum * expected > len) {
        problem(p,
                "the Multiboot kernel's ELF program headers are not 1 to %d entries of %u "
                "bytes within the file's first %zu bytes, where stage 2 reads them",
                ELF_MAX_PROGRAM_HEADERS, expected, len);
        return p->count - before;
    }

    uint64_t lowest = UINT64_MAX, highest = 0, physical_entry = 0;
    bool entry_virtual = false, entry_physical = false;
    for (unsigned i = 0; i < phnum; i++) {
        struct mb_segment s = mb_segment_read(head + phoff + (uint64_t)i * expected, is64);
        if (s.type != MB_PT_LOAD)
            continue;
        if (s.filesz > s.memsz || s.offset + s.filesz > file_size)
            problem(p,
                    "ELF segment %u: its file bytes (offset 0x%" PRIX64 ", 0x%" PRIX64
                    " bytes) lie beyond the file or exceed its memory size",
                    i, s.offset, s.filesz);
        if (s.paddr < KERNEL_MIN_ADDRESS)
            problem(p,
                    "ELF segment %u: p_paddr 0x%" PRIX64 " is below 1 MiB, where the BIOS "
                    "and this loader live",
                    i, s.paddr);
        if (s.paddr + s.memsz > KERNEL_ADDRESS_LIMIT)
            problem(p, "ELF segment %u: ends at 0x%" PRIX64 ", above 4 GiB", i, s.paddr + s.memsz);
        lowest = s.paddr < lowest ? s.paddr : lowest;
        highest = s.paddr + s.memsz > highest ? s.paddr + s.memsz : highest;
        if (!entry_virtual && entry >= s.vaddr && entry - s.vaddr < s.memsz) {
            entry_virtual = true;
            physical_entry = entry - s.vaddr + s.paddr;
        }
    }
    if (highest == 0) {
        problem(p, "the Multiboot kernel's ELF file has no PT_LOAD segment");
        return p->count - before;
    }
    if (!entry_virtual) {
        for (unsigned i = 0; i < phnum && !entry_physical; i++) {
            struct mb_segment s = mb_segment_read(head + phoff + (uint64_t)i * expected, is64);
            entry_physical = s.type == MB_PT_LOAD && entry >= s.paddr && entry - s.paddr < s.memsz;
        }
        physical_entry = entry;
        if (!entry_physical)
            problem(p,
                    "the entry point 0x%" PRIX64 " lies in no segment, neither in one's "
                    "virtual range nor in one's physical range",
                    entry);
    }
    if (load) {
        load->elf = true;
        load->file_offset = 0;
        load->load_addr = (uint32_t)lowest;
        load->load_end_addr = (uint32_t)highest;
        load->bss_end_addr = (uint32_t)highest;
        load->entry_addr = (uint32_t)physical_entry;
    }
    return p->count - before;
}

unsigned multiboot2_check(const uint8_t *head, size_t head_len, uint64_t file_size,
                          struct problems *p, struct multiboot_load *load)
{
    unsigned before = p->count;
    long found = multiboot2_header_find(head, head_len);
    if (found < 0) {
        problem(p,
                "has no Multiboot2 header (magic 0x%08X with a valid checksum, 8-byte "
                "aligned in the first 32 KiB): pass a Multiboot2 kernel or another --protocol",
                MULTIBOOT2_HEADER_MAGIC);
        return p->count - before;
    }
    size_t at = (size_t)found;
    uint32_t architecture = get_le32(head + at + 4);
    uint32_t header_length = get_le32(head + at + 8);
    if (architecture != MULTIBOOT2_ARCHITECTURE_I386)
        problem(p,
                "Multiboot2 header: architecture %" PRIu32 " is not 0 (i386 protected mode), "
                "the only one a BIOS loader can start",
                architecture);
    if (header_length < MB2_HEADER_SIZE + MB2_TAG_HEADER_SIZE || at + header_length > head_len) {
        problem(p,
                "Multiboot2 header: header_length %" PRIu32 " does not hold the header and "
                "its end tag within the file's first %zu bytes",
                header_length, head_len);
        return p->count - before;
    }

    bool have_address = false, have_entry = false, ended = false, sections_required = false;
    uint32_t header_addr = 0, load_addr = 0, load_end_addr = 0, bss_end_addr = 0, entry = 0;
    for (size_t t = at + MB2_HEADER_SIZE; t + MB2_TAG_HEADER_SIZE <= at + header_length;) {
        uint16_t type = get_le16(head + t);
        bool optional = get_le16(head + t + 2) & MB2_TAG_OPTIONAL;
        uint32_t size = get_le32(head + t + 4);
        if (size < MB2_TAG_HEADER_SIZE || t + size > at + header_length) {
            problem(p,
                    "Multiboot2 header: the tag of type %u at offset 0x%zX has size %" PRIu32
                    ", which does not fit in the header",
                    type, t, size);
            return p->count - before;
        }
        if (type == MB2_TAG_END) {
            ended = true;
            break;
        }
        switch (type) {
        case MB2_TAG_INFORMATION_REQUEST:
            for (uint32_t i = MB2_TAG_HEADER_SIZE; i + 4 <= size; i += 4) {
                uint32_t wanted = get_le32(head + t + i);
                if (!optional && wanted == MB2_INFO_ELF_SECTIONS)
                    sections_required = true;
                else if (!optional && !information_provided(wanted))
                    problem(p,
                            "Multiboot2 header: the information request requires tag type "
                            "%" PRIu32 ", which this loader does not provide (it gives types "
                            "1-6: command line, loader name, modules, basic memory, boot "
                            "device, memory map, and 9, the ELF sections of an ELF kernel): "
                            "mark the request optional (flags bit 0)",
                            wanted);
            }
            break;
        case MB2_TAG_ADDRESS:
            if (size < MB2_ADDRESS_TAG_SIZE) {
                problem(p, "Multiboot2 header: the address tag is %" PRIu32 " bytes, not %d", size,
                        MB2_ADDRESS_TAG_SIZE);
                break;
            }
            have_address = true;
            header_addr = get_le32(head + t + 8);
            load_addr = get_le32(head + t + 12);
            load_end_addr = get_le32(head + t + 16);
            bss_end_addr = get_le32(head + t + 20);
            break;
        case MB2_TAG_ENTRY_ADDRESS:
            if (size < MB2_ENTRY_TAG_SIZE) {
                problem(p, "Multiboot2 header: the entry address tag is %" PRIu32 " bytes, not %d",
                        size, MB2_ENTRY_TAG_SIZE);
                break;
            }
            have_entry = true;
            entry = get_le32(head + t + 8);
            break;
        case MB2_TAG_CONSOLE_FLAGS:    /* we leave the VGA text console as the BIOS set it */
        case MB2_TAG_MODULE_ALIGNMENT: /* modules are always page-aligned */
        case MB2_TAG_RELOCATABLE:      /* loaded where the address tag says: allowed */
            break;
        case MB2_TAG_FRAMEBUFFER:
            if (!optional)
                problem(p, "Multiboot2 header: the framebuffer tag (3.1.10) is required, but this "
                           "loader sets no video mode: mark it optional (flags bit 0)");
            break;
        default:
            if (!optional)
                problem(p,
                        "Multiboot2 header: the required tag of type %u is not supported by "
                        "this loader (EFI tags, for instance): mark it optional (flags bit 0)",
                        type);
            break;
        }
        t += (size + MULTIBOOT2_HEADER_ALIGN - 1) & ~(size_t)(MULTIBOOT2_HEADER_ALIGN - 1);
    }
    if (!ended)
        problem(p, "Multiboot2 header: no end tag (type 0, size 8) within header_length");

    if (sections_required && have_address)
        problem(p, "Multiboot2 header: the information request requires tag type 9 (ELF "
                   "sections), but the address tag places the kernel as a flat file, which has "
                   "no ELF section headers to pass: mark the request optional (flags bit 0), or "
                   "leave the address tags out and pass an ELF file");
    if (!have_address) {
        if (have_entry)
            problem(p, "Multiboot2 header: an entry address tag without an address tag: this "
                       "loader takes the entry point of an ELF kernel from its ELF header: "
                       "leave the tag out");
        unsigned elf_problems = multiboot_elf_check(head, head_len, file_size, p, load);
        if (sections_required && elf_problems == 0 && !elf_has_section_headers(head, head_len))
            problem(p, "Multiboot2 header: the information request requires tag type 9 (ELF "
                       "sections), but the ELF file has no section headers (e_shoff is 0): mark "
                       "the request optional (flags bit 0), or keep the sections");
        return p->count - before;
    }
    if (!have_entry)
        problem(p, "Multiboot2 header: an address tag but no entry address tag (3.1.6): add one");

    struct address_fields fields = {header_addr, load_addr, load_end_addr, bss_end_addr, entry};
    check_address_fields(&fields, at, file_size, have_entry, "Multiboot2 address tag", p, load);
    return p->count - before;
}

/* ---- Multiboot 1 (GNU Multiboot 0.6.96, 3.1.2 and 3.1.3) ------------------ */
#define MB1_FLAGS_OFFSET 4
#define MB1_FLAG_VIDEO_MODE 2u             /* bit 2: a video mode, the graphics fields (3.1.4) */
#define MB1_FIRST_UNMET_REQUIREMENT 2u     /* bits 0 (page-aligned modules) and 1 (memory */
#define MB1_LAST_REQUIREMENT 15u           /*   information) we meet; bits 2-15 we do not */
#define MB1_FLAG_ADDRESS_FIELDS (1u << 16) /* the address fields at offsets 12-28 are valid */
#define MB1_ADDRESS_HEADER_SIZE 32

unsigned multiboot1_check(const uint8_t *head, size_t head_len, uint64_t file_size,
                          struct problems *p, struct multiboot_load *load)
{
    unsigned before = p->count;
    long found = multiboot1_header_find(head, head_len);
    if (found < 0) {
        problem(p,
                "has no Multiboot header (magic 0x%08X with a valid checksum, 4-byte aligned in "
                "the first 8 KiB): pass a Multiboot kernel or another --protocol",
                MULTIBOOT1_HEADER_MAGIC);
        return p->count - before;
    }
    size_t at = (size_t)found;
    uint32_t flags = get_le32(head + at + MB1_FLAGS_OFFSET);
    for (unsigned bit = MB1_FIRST_UNMET_REQUIREMENT; bit <= MB1_LAST_REQUIREMENT; bit++) {
        if (!(flags & (1u << bit)))
            continue;
        if (bit == MB1_FLAG_VIDEO_MODE)
            problem(p, "Multiboot header: flags bit 2 requires a video mode (the graphics "
                       "fields, 3.1.4), but this loader sets none: clear the bit");
        else
            problem(p,
                    "Multiboot header: flags bit %u is a requirement this loader does not "
                    "know (bits 2-15 must be met or the kernel refused, 3.1.2): clear it",
                    bit);
    }
    if (!(flags & MB1_FLAG_ADDRESS_FIELDS)) {
        multiboot_elf_check(head, head_len, file_size, p, load);
        return p->count - before;
    }
    if (at + MB1_ADDRESS_HEADER_SIZE > head_len) {
        problem(p, "Multiboot header: the address fields run past the end of the file");
        return p->count - before;
    }
    struct address_fields fields = {get_le32(head + at + 12), get_le32(head + at + 16),
                                    get_le32(head + at + 20), get_le32(head + at + 24),
                                    get_le32(head + at + 28)};
    check_address_fields(&fields, at, file_size, true, "Multiboot header address fields", p, load);
    return p->count - before;
}

/* ---- Linux bzImage (Documentation/arch/x86/boot.rst) --------------------- */
unsigned linux_check(const uint8_t *head, size_t head_len, uint64_t file_size, struct problems *p,
                     uint32_t *setup_bytes)
{
    unsigned before = p->count;

    if (!is_linux_bzimage(head, head_len)) {
        problem(p,
                "--protocol linux: the file is no bzImage (no 0xAA55 at 0x%X and \"HdrS\" "
                "at 0x%X)",
                LINUX_BOOT_FLAG_OFFSET, LINUX_HEADER_MAGIC_OFFSET);
        return p->count - before;
    }
    unsigned version = get_le16(head + LINUX_VERSION_OFFSET);
    if (version < LINUX_MIN_VERSION)
        problem(p,
                "Linux boot protocol %u.%02u (the version at 0x%X); this loader needs 2.02 or "
                "later (kernels since 2.4.0): use a newer kernel",
                version >> 8, version & 0xFF, LINUX_VERSION_OFFSET);
    else if (!(head[LINUX_LOADFLAGS_OFFSET] & LINUX_LOADED_HIGH))
        problem(p,
                "the kernel is no bzImage loaded high (loadflags at 0x%X lacks LOADED_HIGH): "
                "this loader puts the protected-mode code at 1 MiB only",
                LINUX_LOADFLAGS_OFFSET);

    uint32_t sects = head[LINUX_SETUP_SECTS_OFFSET];
    if (sects == 0)
        sects = LINUX_SETUP_SECTS_DEFAULT;
    uint32_t bytes = (sects + 1) * SECTOR_SIZE;
    if (bytes > LINUX_SETUP_MAX_BYTES)
        problem(p,
                "setup_sects (0x%X) is %u: the real-mode part would be %u bytes, more than the "
                "%u boot.rst allows",
                LINUX_SETUP_SECTS_OFFSET, sects, bytes, LINUX_SETUP_MAX_BYTES);
    else if (file_size <= bytes)
        problem(p,
                "the file has %" PRIu64 " bytes: no protected-mode code after the %u bytes of "
                "the real-mode part",
                file_size, bytes);
    if (setup_bytes)
        *setup_bytes = bytes;
    return p->count - before;
}
