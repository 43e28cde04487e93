/* elf_sections.c - see elf_sections.h. */
#include "elf_sections.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "byte_order.h"
#include "elf_check.h"
#include "loader_fields.h"

/* ELF header fields (System V ABI, "ELF Header"; ELF-64 Object File Format
 * 1.5 for ELF64): e_ident[EI_CLASS], then e_shoff, e_shentsize, e_shnum,
 * e_shstrndx at their offsets for each class. */
#define EI_CLASS 4
#define ELFCLASS64 2
#define ELF32_SHOFF 32 /* u32 */
#define ELF32_SHENTSIZE 46
#define ELF32_SHNUM 48
#define ELF32_SHSTRNDX 50
#define ELF64_SHOFF 40 /* u64 */
#define ELF64_SHENTSIZE 58
#define ELF64_SHNUM 60
#define ELF64_SHSTRNDX 62
#define ELF64_HEADER_SIZE 64
/* Section header fields: sh_type (u32 at 4 in both), sh_flags (at 8), then
 * sh_addr, sh_offset, sh_size, sh_addralign: u32 each in ELF32, u64 in ELF64. */
#define ELF32_SHDR_SIZE 40
#define ELF64_SHDR_SIZE 64
#define SH_TYPE 4
#define SH_FLAGS 8
#define ELF32_SH_ADDR 12
#define ELF32_SH_OFFSET 16
#define ELF32_SH_SIZE 20
#define ELF32_SH_ADDRALIGN 32
#define ELF64_SH_ADDR 16
#define ELF64_SH_OFFSET 24
#define ELF64_SH_SIZE 32
#define ELF64_SH_ADDRALIGN 48
#define SHT_NOBITS 8         /* occupies no file bytes (.bss) */
#define SHF_ALLOC 0x2        /* occupies memory while the program runs: a PT_LOAD loads it */
#define SHN_LORESERVE 0xFF00 /* e_shnum 0 with e_shoff set, or e_shstrndx SHN_XINDEX: */
#define SHN_XINDEX 0xFFFF    /*   extended numbering, the real values in section 0 */
/* The blob starts on a page (modules.inc); a larger sh_addralign cannot be
 * honoured by offsets in the blob. */
#define SECTION_BLOB_MAX_ALIGN 4096u

struct elf_sections_header {
    bool is64;
    uint64_t shoff;
    unsigned entry_size, count, string_index;
};

static bool header_read(const uint8_t *head, size_t len, struct elf_sections_header *h)
{
    if (len < ELF64_HEADER_SIZE || memcmp(head,
                                          "\x7F"
                                          "ELF",
                                          4) != 0)
        return false;
    h->is64 = head[EI_CLASS] == ELFCLASS64;
    h->shoff = h->is64 ? get_le64(head + ELF64_SHOFF) : get_le32(head + ELF32_SHOFF);
    h->entry_size = get_le16(head + (h->is64 ? ELF64_SHENTSIZE : ELF32_SHENTSIZE));
    h->count = get_le16(head + (h->is64 ? ELF64_SHNUM : ELF32_SHNUM));
    h->string_index = get_le16(head + (h->is64 ? ELF64_SHSTRNDX : ELF32_SHSTRNDX));
    return true;
}

bool elf_has_section_headers(const uint8_t *head, size_t len)
{
    struct elf_sections_header h;
    /* e_shnum 0 with e_shoff set is extended numbering: the headers exist. */
    return header_read(head, len, &h) && h.shoff != 0;
}

static uint64_t field(const uint8_t *sh, bool is64, unsigned off32, unsigned off64)
{
    return is64 ? get_le64(sh + off64) : get_le32(sh + off32);
}

static void put_addr(uint8_t *sh, bool is64, uint64_t addr)
{
    if (is64)
        put_le64(sh + ELF64_SH_ADDR, addr);
    else
        put_le32(sh + ELF32_SH_ADDR, (uint32_t)addr);
}

/* Whether the loader copies this section into the blob: what no program
 * header loads (SHF_ALLOC clear) and the file holds bytes of. */
static bool loaded_into_blob(const uint8_t *sh, bool is64)
{
    return !(field(sh, is64, SH_FLAGS, SH_FLAGS) & SHF_ALLOC) &&
           get_le32(sh + SH_TYPE) != SHT_NOBITS &&
           field(sh, is64, ELF32_SH_SIZE, ELF64_SH_SIZE) > 0;
}

bool section_blob_build(const struct input_file *kernel, struct section_blob *blob,
                        struct problems *p)
{
    unsigned before = p->count;
    struct elf_sections_header h;

    memset(blob, 0, sizeof(*blob));
    if (!header_read(kernel->head, kernel->head_len, &h) || h.shoff == 0)
        return true; /* no section headers: no tag 9, no flags bit 5 */
    if (h.count == 0 || h.string_index == SHN_XINDEX) {
        problem(p,
                "the ELF file uses extended section numbering (more than %u sections): "
                "stage 2 passes at most %u section headers: strip sections "
                "(strip --strip-debug)",
                SHN_LORESERVE - 1, SECTION_TABLE_MAX / ELF32_SHDR_SIZE);
        return false;
    }
    unsigned expected = h.is64 ? ELF64_SHDR_SIZE : ELF32_SHDR_SIZE;
    if (h.entry_size != expected) {
        problem(p, "the ELF file's section headers are %u bytes each, not the %u of ELF%s",
                h.entry_size, expected, h.is64 ? "64" : "32");
        return false;
    }
    uint64_t table_bytes = (uint64_t)h.count * h.entry_size;
    if (table_bytes > SECTION_TABLE_MAX) {
        problem(p,
                "the ELF section header table is %" PRIu64 " bytes (%u headers of %u bytes); "
                "the Multiboot information area keeps at most %u bytes for it: strip sections "
                "(strip --strip-debug, or -R NAME)",
                table_bytes, h.count, h.entry_size, SECTION_TABLE_MAX);
        return false;
    }
    if (h.shoff > kernel->size || table_bytes > kernel->size - h.shoff) {
        problem(p,
                "the ELF section header table (offset 0x%" PRIX64 ", %" PRIu64 " bytes) "
                "lies beyond the end of the file",
                h.shoff, table_bytes);
        return false;
    }
    uint8_t *table = malloc(table_bytes);
    if (!table || !read_exact_at(kernel->fd, table, table_bytes, h.shoff)) {
        problem(p, "cannot read the ELF section header table: %s",
                table ? (errno ? strerror(errno) : "the file shrank") : "out of memory");
        free(table);
        return false;
    }

    /* Where each section copied into the blob goes: after the table, at its
     * alignment. The blob's table gets these offsets as sh_addr. */
    uint64_t end = table_bytes;
    for (unsigned i = 0; i < h.count; i++) {
        uint8_t *sh = table + (size_t)i * h.entry_size;
        if (field(sh, h.is64, SH_FLAGS, SH_FLAGS) & SHF_ALLOC)
            continue; /* in memory already: keeps its sh_addr */
        if (!loaded_into_blob(sh, h.is64)) {
            put_addr(sh, h.is64, 0);
            continue;
        }
        uint64_t offset = field(sh, h.is64, ELF32_SH_OFFSET, ELF64_SH_OFFSET);
        uint64_t size = field(sh, h.is64, ELF32_SH_SIZE, ELF64_SH_SIZE);
        uint64_t align = field(sh, h.is64, ELF32_SH_ADDRALIGN, ELF64_SH_ADDRALIGN);
        if (offset > kernel->size || size > kernel->size - offset) {
            problem(p,
                    "ELF section %u: its bytes (offset 0x%" PRIX64 ", %" PRIu64 " bytes) lie "
                    "beyond the end of the file",
                    i, offset, size);
            continue;
        }
        /* 0 and 1 mean no constraint; any other value is a power of two
         * (System V ABI, "Sections"). */
        if (align > SECTION_BLOB_MAX_ALIGN || (align > 1 && (align & (align - 1)) != 0)) {
            problem(p,
                    "ELF section %u: sh_addralign %" PRIu64 " is not a power of two up to "
                    "%u, the alignment a page-aligned copy can keep",
                    i, align, SECTION_BLOB_MAX_ALIGN);
            continue;
        }
        if (align < SECTION_BLOB_ALIGN)
            align = SECTION_BLOB_ALIGN;
        end = (end + align - 1) & ~(align - 1);
        put_addr(sh, h.is64, end);
        end += size;
    }
    if (p->count == before && end > KERNEL_MAX_FILE_BYTES)
        problem(p,
                "the ELF sections to pass to the kernel take %" PRIu64 " bytes, more than %u MiB",
                end, KERNEL_MAX_FILE_BYTES / (1024u * 1024u));
    if (p->count != before) {
        free(table);
        return false;
    }

    blob->bytes = calloc(1, end);
    if (!blob->bytes) {
        problem(p, "out of memory for the ELF sections (%" PRIu64 " bytes)", end);
        free(table);
        return false;
    }
    memcpy(blob->bytes, table, table_bytes);
    for (unsigned i = 0; i < h.count; i++) {
        const uint8_t *sh = table + (size_t)i * h.entry_size;
        if (!loaded_into_blob(sh, h.is64))
            continue;
        uint64_t at = field(sh, h.is64, ELF32_SH_ADDR, ELF64_SH_ADDR);
        uint64_t offset = field(sh, h.is64, ELF32_SH_OFFSET, ELF64_SH_OFFSET);
        uint64_t size = field(sh, h.is64, ELF32_SH_SIZE, ELF64_SH_SIZE);
        if (!read_exact_at(kernel->fd, blob->bytes + at, size, offset)) {
            problem(p, "cannot read ELF section %u: %s", i,
                    errno ? strerror(errno) : "the file shrank");
            free(table);
            section_blob_free(blob);
            return false;
        }
    }
    free(table);
    blob->size = (uint32_t)end;
    blob->count = h.count;
    blob->entry_size = h.entry_size;
    blob->string_index = h.string_index;
    blob->table_bytes = (uint32_t)table_bytes;
    return true;
}

void section_blob_free(struct section_blob *blob)
{
    free(blob->bytes);
    blob->bytes = NULL;
}
