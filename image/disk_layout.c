/* disk_layout.c - see disk_layout.h. */
#include "disk_layout.h"

#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include <libk/align.h>

#include "byte_order.h"

/* loader_fields.h mirrors loader_fields.inc; these sizes are what the NASM
 * struc definitions add up to (tests/test_layout.py compares the offsets). */
_Static_assert(sizeof(struct disk_address_packet) == 16, "EDD 3.0 DAP is 16 bytes");
_Static_assert(sizeof(struct stage2_module) == 20 + STAGE2_MODULE_STRING_MAX,
               "stage 2 module entry: 20 bytes of fields, then the string");
_Static_assert(sizeof(struct stage2_header) ==
                   36 + STAGE2_CMDLINE_MAX + 4 +
                       (STAGE2_MODULES_MAX + 1) * sizeof(struct stage2_module) + 12 + 20,
               "stage 2 header: 36 bytes of fields, then the command line");
_Static_assert(STAGE1_DAP_OFFSET + sizeof(struct disk_address_packet) <= MBR_DISK_SIGNATURE_OFFSET,
               "the DAP must end before the disk signature");

/* align_up (libk/align.h) rounds to powers of two only. */
_Static_assert((KERNEL_ALIGN_SECTORS & (KERNEL_ALIGN_SECTORS - 1)) == 0,
               "KERNEL_ALIGN_SECTORS must be a power of two");
_Static_assert((IMAGE_ALIGN_SECTORS & (IMAGE_ALIGN_SECTORS - 1)) == 0,
               "IMAGE_ALIGN_SECTORS must be a power of two");

#define DAP_AT(field) (STAGE1_DAP_OFFSET + offsetof(struct disk_address_packet, field))
#define HDR_AT(field) offsetof(struct stage2_header, field)

void layout_compute(struct disk_layout *l, uint32_t stage2_bytes, uint32_t kernel_bytes,
                    unsigned module_count, const uint32_t *module_bytes, uint32_t section_bytes)
{
    l->stage2_lba = STAGE2_FIRST_LBA;
    l->stage2_sectors = (uint32_t)sectors_for_bytes(stage2_bytes);
    l->kernel_lba = (uint32_t)align_up(l->stage2_lba + l->stage2_sectors, KERNEL_ALIGN_SECTORS);
    l->kernel_sectors = (uint32_t)sectors_for_bytes(kernel_bytes);
    l->kernel_size = kernel_bytes;
    /* Each module from the next 4 KiB boundary, for the same reason. */
    uint64_t used = (uint64_t)l->kernel_lba + l->kernel_sectors;
    l->module_count = module_count;
    for (unsigned i = 0; i < module_count; i++) {
        l->module_lba[i] = (uint32_t)align_up(used, KERNEL_ALIGN_SECTORS);
        l->module_sectors[i] = (uint32_t)sectors_for_bytes(module_bytes[i]);
        l->module_size[i] = module_bytes[i];
        used = (uint64_t)l->module_lba[i] + l->module_sectors[i];
    }
    l->sections_lba = 0;
    l->sections_sectors = 0;
    l->sections_size = section_bytes;
    if (section_bytes > 0) {
        l->sections_lba = (uint32_t)align_up(used, KERNEL_ALIGN_SECTORS);
        l->sections_sectors = (uint32_t)sectors_for_bytes(section_bytes);
        used = (uint64_t)l->sections_lba + l->sections_sectors;
    }
    /* Even with an empty kernel the image keeps at least one whole MiB. */
    l->image_sectors = (uint32_t)align_up(used, IMAGE_ALIGN_SECTORS);
}

struct chs lba_to_chs(uint64_t lba)
{
    const uint64_t per_cylinder = (uint64_t)CHS_HEADS * CHS_SECTORS_PER_TRACK;
    struct chs c;

    if (lba / per_cylinder > CHS_MAX_CYLINDER)
        return (struct chs){CHS_MAX_CYLINDER, CHS_HEADS - 1, CHS_SECTORS_PER_TRACK};
    c.cylinder = (unsigned)(lba / per_cylinder);
    c.head = (unsigned)(lba / CHS_SECTORS_PER_TRACK % CHS_HEADS);
    c.sector = (unsigned)(lba % CHS_SECTORS_PER_TRACK) + 1;
    return c;
}

/* The three CHS bytes: head; sector in bits 0-5 with cylinder bits 8-9 in
 * bits 6-7; cylinder bits 0-7. */
static void chs_encode(uint8_t out[3], struct chs c)
{
    out[0] = (uint8_t)c.head;
    out[1] = (uint8_t)((c.sector & 0x3F) | ((c.cylinder >> 8) & 0x03) << 6);
    out[2] = (uint8_t)c.cylinder;
}

static struct chs chs_decode(const uint8_t in[3])
{
    return (struct chs){
        .cylinder = in[2] | ((unsigned)(in[1] & 0xC0) << 2),
        .head = in[0],
        .sector = in[1] & 0x3Fu,
    };
}

void partition_encode(uint8_t entry[MBR_PARTITION_ENTRY_SIZE], const struct partition_entry *e)
{
    entry[PART_STATUS] = e->status;
    chs_encode(entry + PART_CHS_FIRST, e->first);
    entry[PART_TYPE] = e->type;
    chs_encode(entry + PART_CHS_LAST, e->last);
    put_le32(entry + PART_LBA_FIRST, e->first_lba);
    put_le32(entry + PART_SECTOR_COUNT, e->sector_count);
}

void partition_decode(const uint8_t entry[MBR_PARTITION_ENTRY_SIZE], struct partition_entry *e)
{
    e->status = entry[PART_STATUS];
    e->first = chs_decode(entry + PART_CHS_FIRST);
    e->type = entry[PART_TYPE];
    e->last = chs_decode(entry + PART_CHS_LAST);
    e->first_lba = get_le32(entry + PART_LBA_FIRST);
    e->sector_count = get_le32(entry + PART_SECTOR_COUNT);
}

struct partition_entry layout_partition(const struct disk_layout *l)
{
    uint32_t last_lba = l->image_sectors - 1;

    return (struct partition_entry){
        .status = PART_STATUS_ACTIVE,
        .type = PART_TYPE_EXPERIMENTAL,
        .first = lba_to_chs(l->stage2_lba),
        .last = lba_to_chs(last_lba),
        .first_lba = l->stage2_lba,
        .sector_count = last_lba - l->stage2_lba + 1,
    };
}

bool stage1_check(const uint8_t *data, size_t len, uint64_t file_size, struct problems *p)
{
    unsigned before = p->count;

    if (file_size != MBR_SIZE)
        problem(p,
                "is %" PRIu64 " bytes; stage 1 must be exactly one %d-byte sector: "
                "pass the stage-1 boot sector (stage1.bin), assembled with -f bin",
                file_size, MBR_SIZE);
    if (len < MBR_SIZE)
        return false;
    if (data[MBR_BOOT_SIGNATURE_OFFSET] != MBR_BOOT_SIGNATURE_0 ||
        data[MBR_BOOT_SIGNATURE_OFFSET + 1] != MBR_BOOT_SIGNATURE_1)
        problem(p,
                "does not end in the boot signature 0x55 0xAA (offset 0x%X): the BIOS "
                "would not boot it; make stage 1 end with dw 0xAA55",
                MBR_BOOT_SIGNATURE_OFFSET);
    if (data[DAP_AT(size)] != DAP_SIZE_BYTE)
        problem(p,
                "has 0x%02X at offset 0x%X where the disk address packet's size byte "
                "(0x%02X) belongs: stage 1 does not keep its DAP where loader_fields.inc "
                "says; rebuild it with the current loader_fields.inc",
                data[DAP_AT(size)], STAGE1_DAP_OFFSET, DAP_SIZE_BYTE);
    return p->count == before;
}

void stage1_patch(uint8_t mbr[MBR_SIZE], const struct disk_layout *l)
{
    put_le16(mbr + DAP_AT(sectors), (uint16_t)l->stage2_sectors);
    put_le64(mbr + DAP_AT(lba), l->stage2_lba);

    /* Exactly one entry: clear all four first. */
    uint8_t *table = mbr + MBR_PARTITION_TABLE_OFFSET;
    struct partition_entry e = layout_partition(l);
    memset(table, 0, MBR_PARTITION_ENTRIES * MBR_PARTITION_ENTRY_SIZE);
    partition_encode(table, &e);
}

struct disk_address_packet dap_read(const uint8_t mbr[MBR_SIZE])
{
    struct disk_address_packet d;

    d.size = mbr[DAP_AT(size)];
    d.reserved = mbr[DAP_AT(reserved)];
    d.sectors = get_le16(mbr + DAP_AT(sectors));
    d.buffer_offset = get_le16(mbr + DAP_AT(buffer_offset));
    d.buffer_segment = get_le16(mbr + DAP_AT(buffer_segment));
    d.lba = get_le64(mbr + DAP_AT(lba));
    return d;
}

struct stage2_header stage2_header_read(const uint8_t *s)
{
    struct stage2_header h;

    memcpy(h.jump, s + HDR_AT(jump), sizeof(h.jump));
    h.magic = get_le32(s + HDR_AT(magic));
    h.version = get_le16(s + HDR_AT(version));
    h.size = get_le16(s + HDR_AT(size));
    h.kernel_lba = get_le32(s + HDR_AT(kernel_lba));
    h.kernel_sectors = get_le32(s + HDR_AT(kernel_sectors));
    h.kernel_size = get_le32(s + HDR_AT(kernel_size));
    h.kernel_checksum = get_le64(s + HDR_AT(kernel_checksum));
    h.kernel_kind = get_le32(s + HDR_AT(kernel_kind));
    memcpy(h.cmdline, s + HDR_AT(cmdline), sizeof(h.cmdline));
    h.module_count = get_le32(s + HDR_AT(module_count));
    for (unsigned i = 0; i <= STAGE2_MODULES_MAX; i++) {
        const uint8_t *m = i < STAGE2_MODULES_MAX
                               ? s + HDR_AT(modules) + i * sizeof(struct stage2_module)
                               : s + HDR_AT(sections);
        struct stage2_module *to = i < STAGE2_MODULES_MAX ? &h.modules[i] : &h.sections;
        to->lba = get_le32(m + offsetof(struct stage2_module, lba));
        to->sectors = get_le32(m + offsetof(struct stage2_module, sectors));
        to->size = get_le32(m + offsetof(struct stage2_module, size));
        to->checksum = get_le64(m + offsetof(struct stage2_module, checksum));
        memcpy(to->string, m + offsetof(struct stage2_module, string), STAGE2_MODULE_STRING_MAX);
    }
    h.section_count = get_le32(s + HDR_AT(section_count));
    h.section_entry_size = get_le32(s + HDR_AT(section_entry_size));
    h.section_string_index = get_le32(s + HDR_AT(section_string_index));
    h.stage2_sectors = get_le32(s + HDR_AT(stage2_sectors));
    h.stage2_checksum = get_le64(s + HDR_AT(stage2_checksum));
    h.stage1_checksum = get_le64(s + HDR_AT(stage1_checksum));
    return h;
}

bool stage2_header_check(const struct stage2_header *h, struct problems *p)
{
    unsigned before = p->count;

    if (h->magic != STAGE2_MAGIC) {
        /* Without the magic the other fields mean nothing. */
        problem(p,
                "has no stage-2 header: expected magic 0x%08X (\"S2LD\") at offset %zu, "
                "found 0x%08" PRIX32 ": pass stage2.bin, built with the current "
                "loader_fields.inc",
                STAGE2_MAGIC, HDR_AT(magic), (uint32_t)h->magic);
        return false;
    }
    if (h->version != STAGE2_HEADER_VERSION)
        problem(p,
                "has stage-2 header version %u; this mkimage writes version %d: "
                "rebuild mkimage and stage 2 from the same source tree",
                (unsigned)h->version, STAGE2_HEADER_VERSION);
    if (h->size != sizeof(struct stage2_header))
        problem(p,
                "has a %u-byte stage-2 header; this mkimage expects %zu bytes: "
                "rebuild mkimage and stage 2 from the same loader_fields files",
                (unsigned)h->size, sizeof(struct stage2_header));
    return p->count == before;
}

bool stage2_check(const uint8_t *data, size_t len, uint64_t file_size, struct problems *p)
{
    unsigned before = p->count;

    if (file_size > STAGE2_MAX_BYTES)
        problem(p,
                "is %" PRIu64 " bytes (%" PRIu64 " sectors); stage 1 loads at most %d "
                "sectors (%d bytes) at 0x%X: make stage 2 smaller",
                file_size, sectors_for_bytes(file_size), STAGE2_MAX_SECTORS, STAGE2_MAX_BYTES,
                STAGE2_LOAD_ADDRESS);
    if (len < sizeof(struct stage2_header)) {
        problem(p,
                "is %" PRIu64 " bytes, too short to hold the %zu-byte stage-2 header: "
                "pass stage2.bin, built with the current loader_fields.inc",
                file_size, sizeof(struct stage2_header));
        return false;
    }
    struct stage2_header h = stage2_header_read(data);
    stage2_header_check(&h, p);
    return p->count == before;
}

void stage2_patch(uint8_t *s, const struct disk_layout *l, uint64_t checksum, uint32_t kernel_kind,
                  const char *cmdline, const uint64_t *module_checksums,
                  const char *const *module_strings, const struct section_record *sections)
{
    put_le32(s + HDR_AT(kernel_lba), l->kernel_lba);
    put_le32(s + HDR_AT(kernel_sectors), l->kernel_sectors);
    put_le32(s + HDR_AT(kernel_size), l->kernel_size);
    put_le64(s + HDR_AT(kernel_checksum), checksum);
    put_le32(s + HDR_AT(kernel_kind), kernel_kind);

    /* The whole field is rewritten: the text, then NULs to the end, so no
     * bytes from stage 2's own copy can follow the terminator. */
    uint8_t *field = s + HDR_AT(cmdline);
    size_t n = strlen(cmdline); /* callers check n < STAGE2_CMDLINE_MAX */
    memset(field, 0, STAGE2_CMDLINE_MAX);
    memcpy(field, cmdline, n);

    /* Every module entry is rewritten, unused ones as zeros. */
    put_le32(s + HDR_AT(module_count), l->module_count);
    memset(s + HDR_AT(modules), 0, STAGE2_MODULES_MAX * sizeof(struct stage2_module));
    for (unsigned i = 0; i < l->module_count; i++) {
        uint8_t *m = s + HDR_AT(modules) + i * sizeof(struct stage2_module);
        put_le32(m + offsetof(struct stage2_module, lba), l->module_lba[i]);
        put_le32(m + offsetof(struct stage2_module, sectors), l->module_sectors[i]);
        put_le32(m + offsetof(struct stage2_module, size), l->module_size[i]);
        put_le64(m + offsetof(struct stage2_module, checksum), module_checksums[i]);
        /* callers check the length < STAGE2_MODULE_STRING_MAX */
        memcpy(m + offsetof(struct stage2_module, string), module_strings[i],
               strlen(module_strings[i]));
    }

    /* The section blob's record, zeros when there is none. */
    uint8_t *b = s + HDR_AT(sections);
    memset(b, 0, sizeof(struct stage2_module));
    put_le32(s + HDR_AT(section_count), 0);
    put_le32(s + HDR_AT(section_entry_size), 0);
    put_le32(s + HDR_AT(section_string_index), 0);
    if (l->sections_size == 0)
        return;
    put_le32(b + offsetof(struct stage2_module, lba), l->sections_lba);
    put_le32(b + offsetof(struct stage2_module, sectors), l->sections_sectors);
    put_le32(b + offsetof(struct stage2_module, size), l->sections_size);
    put_le64(b + offsetof(struct stage2_module, checksum), sections->checksum);
    memcpy(b + offsetof(struct stage2_module, string), SECTION_BLOB_STRING,
           sizeof(SECTION_BLOB_STRING));
    put_le32(s + HDR_AT(section_count), sections->count);
    put_le32(s + HDR_AT(section_entry_size), sections->entry_size);
    put_le32(s + HDR_AT(section_string_index), sections->string_index);
}
