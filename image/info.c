/*
 * info.c - `mkimage info IMAGE`.
 *
 * Reads an image the way the loader does: the MBR, stage 2 through the DAP,
 * the kernel through the stage-2 header. Prints what it finds on stdout,
 * one "name: value" line per item, and every problem on stderr; the kernel
 * is recomputed and ELF-checked so a damaged image is caught here rather
 * than by a failing boot.
 */
#include "info.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "byte_order.h"
#include "checksum.h"
#include "diag.h"
#include "disk_layout.h"
#include "elf_check.h"
#include "file_io.h"
#include "kernel_kind.h"
#include "loader_checksums.h"

#define CHUNK_BYTES (1024u * 1024u)

static void print_partition(unsigned number, const struct partition_entry *e)
{
    printf("partition %u: status 0x%02X (%s), type 0x%02X, first LBA %" PRIu32 ", %" PRIu32
           " sectors, CHS %u/%u/%u to %u/%u/%u\n",
           number, e->status, e->status == PART_STATUS_ACTIVE ? "active" : "inactive", e->type,
           e->first_lba, e->sector_count, e->first.cylinder, e->first.head, e->first.sector,
           e->last.cylinder, e->last.head, e->last.sector);
}

/* The MBR's partition table must be the single entry mkimage writes. */
static void check_partitions(const uint8_t *mbr, uint64_t image_sectors, struct problems *p)
{
    const uint8_t *table = mbr + MBR_PARTITION_TABLE_OFFSET;
    struct partition_entry e;
    static const uint8_t empty[MBR_PARTITION_ENTRY_SIZE];

    for (unsigned i = 0; i < MBR_PARTITION_ENTRIES; i++) {
        const uint8_t *raw = table + i * MBR_PARTITION_ENTRY_SIZE;
        if (memcmp(raw, empty, sizeof(empty)) == 0)
            continue;
        partition_decode(raw, &e);
        print_partition(i + 1, &e);
        if (i > 0)
            problem(p,
                    "partition table entry %u is in use; mkimage writes only entry 1: "
                    "rebuild the image with mkimage",
                    i + 1);
    }
    partition_decode(table, &e);
    if (e.status != PART_STATUS_ACTIVE || e.type != PART_TYPE_EXPERIMENTAL ||
        e.first_lba != STAGE2_FIRST_LBA) {
        problem(p,
                "partition table entry 1 is not the active type-0x%02X partition from LBA %d "
                "that mkimage writes: rebuild the image with mkimage",
                PART_TYPE_EXPERIMENTAL, STAGE2_FIRST_LBA);
    } else if ((uint64_t)e.first_lba + e.sector_count != image_sectors) {
        problem(p,
                "partition 1 ends at sector %" PRIu64 " but the image has %" PRIu64
                " sectors: the image was truncated or extended after mkimage wrote it; "
                "rebuild it with mkimage",
                (uint64_t)e.first_lba + e.sector_count, image_sectors);
    }
}

/* Print a string as a C-style string, escaping anything odd. */
static void print_cmdline_value(const char *cmdline, size_t max)
{
    fputs("\"", stdout);
    for (size_t i = 0; i < max && cmdline[i]; i++) {
        unsigned char c = (unsigned char)cmdline[i];
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20 || c >= 0x7F)
            printf("\\x%02X", c);
        else
            putchar(c);
    }
    fputs("\"\n", stdout);
}

static bool kernel_checksum_at(const struct input_file *image, uint64_t offset, uint64_t size,
                               uint64_t *checksum, struct problems *p)
{
    struct checksum_state cs;
    uint8_t *buf = malloc(CHUNK_BYTES);

    if (!buf) {
        problem(p, "out of memory");
        return false;
    }
    checksum_init(&cs);
    for (uint64_t done = 0; done < size;) {
        size_t n = size - done < CHUNK_BYTES ? (size_t)(size - done) : CHUNK_BYTES;
        if (!read_exact_at(image->fd, buf, n, offset + done)) {
            problem(p, "cannot read the kernel at byte %" PRIu64 ": %s", offset + done,
                    errno ? strerror(errno) : "unexpected end of file");
            free(buf);
            return false;
        }
        checksum_update(&cs, buf, n);
        done += n;
    }
    free(buf);
    *checksum = checksum_final(&cs);
    return true;
}

static void show_kernel_elf(const struct input_file *image, uint64_t offset, uint64_t size,
                            struct problems *p)
{
    size_t head_len = size < ELF_HEADER_WINDOW ? (size_t)size : ELF_HEADER_WINDOW;
    uint8_t *head = malloc(head_len ? head_len : 1);
    struct elf_summary *sum = malloc(sizeof(*sum));

    if (!head || !sum) {
        problem(p, "out of memory");
        goto out;
    }
    if (!read_exact_at(image->fd, head, head_len, offset)) {
        problem(p, "cannot read the kernel's ELF header: %s",
                errno ? strerror(errno) : "unexpected end of file");
        goto out;
    }

    /* Problems are reported as being about the kernel inside the image. */
    p->part = "kernel";
    elf_check(head, head_len, size, p, sum);
    p->part = NULL;

    if (!sum->header_parsed) {
        printf("kernel ELF: not a loadable ELF64 file\n");
        goto out;
    }
    printf("kernel ELF: entry 0x%" PRIX64 ", type %u, machine %u, %u program headers, "
           "%u PT_LOAD segments\n",
           sum->entry, sum->type, sum->machine, sum->phnum, sum->load_count);
    for (unsigned i = 0; i < sum->load_count; i++) {
        const struct elf_load_segment *s = &sum->loads[i];
        char flags[ELF_FLAGS_STRING_SIZE];
        elf_flags_string(s->flags, flags);
        printf("  segment %u: offset 0x%" PRIX64 ", paddr 0x%" PRIX64 ", vaddr 0x%" PRIX64
               ", filesz 0x%" PRIX64 ", memsz 0x%" PRIX64 ", flags %s\n",
               s->index, s->offset, s->paddr, s->vaddr, s->filesz, s->memsz, flags);
    }
out:
    free(head);
    free(sum);
}

/* The modules the header records: where, how big, their strings and
 * checksums. */
/* Stage 1 and stage 2 as mkimage wrote them (loader_checksums.h): a changed
 * disk address packet or code byte cannot boot, whatever the kernel. */
static void check_loader_checksums(const struct input_file *image, const uint8_t *mbr,
                                   const struct disk_address_packet *dap,
                                   const struct stage2_header *h, uint64_t image_sectors,
                                   struct problems *p)
{
    uint64_t computed = stage1_checksum(mbr);
    bool match = computed == h->stage1_checksum;
    printf("stage 1 checksum: recorded 0x%016" PRIX64 ", computed 0x%016" PRIX64 ": %s\n",
           (uint64_t)h->stage1_checksum, computed, match ? "ok" : "MISMATCH");
    if (!match)
        problem(p,
                "stage 1 checksum MISMATCH: the boot sector's code, messages or disk address "
                "packet (offsets 0x000-0x%X, its BPB area and disk timestamp left out) changed "
                "after mkimage wrote it, and stage 1 may not load stage 2: rebuild the image "
                "with mkimage build",
                STAGE1_CHECKSUM_END - 1);

    uint32_t sectors = h->stage2_sectors;
    if (sectors == 0 || sectors > STAGE2_MAX_SECTORS ||
        (uint64_t)dap->lba + sectors > image_sectors) {
        problem(p,
                "the stage-2 header says stage 2 has %" PRIu32 " sectors from LBA %" PRIu64
                "; it has 1 to %d inside the image: stage 2 is damaged; rebuild the image "
                "with mkimage build",
                sectors, (uint64_t)dap->lba, STAGE2_MAX_SECTORS);
        return;
    }
    if (sectors != dap->sectors)
        problem(p,
                "stage 1's disk address packet loads %u sectors of stage 2, which has %" PRIu32
                ": rebuild the image with mkimage build",
                (unsigned)dap->sectors, sectors);
    uint8_t *stage2 = malloc((size_t)sectors * SECTOR_SIZE);
    if (!stage2) {
        problem(p, "out of memory reading stage 2");
        return;
    }
    if (!read_exact_at(image->fd, stage2, (size_t)sectors * SECTOR_SIZE, dap->lba * SECTOR_SIZE)) {
        problem(p, "cannot read stage 2: %s", errno ? strerror(errno) : "unexpected end of file");
        free(stage2);
        return;
    }
    computed = stage2_checksum(stage2, (size_t)sectors * SECTOR_SIZE);
    free(stage2);
    match = computed == h->stage2_checksum;
    printf("stage 2 checksum: recorded 0x%016" PRIX64 ", computed 0x%016" PRIX64 ": %s\n",
           (uint64_t)h->stage2_checksum, computed, match ? "ok" : "MISMATCH");
    if (!match)
        problem(p,
                "stage 2 checksum MISMATCH: stage 2's %" PRIu32 " sectors (its code, data or "
                "header) changed after mkimage wrote them, and stage 2 will refuse to run: "
                "rebuild the image with mkimage build",
                sectors);
}

static void show_modules(const struct input_file *image, const struct stage2_header *h,
                         uint64_t image_sectors, struct problems *p)
{
    if (h->module_count > STAGE2_MODULES_MAX) {
        problem(p,
                "the stage-2 header records %" PRIu32 " modules; it holds at most %d: "
                "rebuild the image with mkimage",
                (uint32_t)h->module_count, STAGE2_MODULES_MAX);
        return;
    }
    for (unsigned i = 0; i < h->module_count; i++) {
        const struct stage2_module *m = &h->modules[i];
        printf("module %u: LBA %" PRIu32 ", %" PRIu32 " sectors, %" PRIu32 " bytes, string ", i,
               (uint32_t)m->lba, (uint32_t)m->sectors, (uint32_t)m->size);
        print_cmdline_value(m->string, STAGE2_MODULE_STRING_MAX);
        if (strnlen(m->string, STAGE2_MODULE_STRING_MAX) == STAGE2_MODULE_STRING_MAX ||
            sectors_for_bytes(m->size) != m->sectors ||
            (uint64_t)m->lba + m->sectors > image_sectors) {
            problem(p,
                    "module %u: its string has no NUL, or its size does not fill its sectors, "
                    "or it lies beyond the image: rebuild the image with mkimage",
                    i);
            continue;
        }
        uint64_t computed;
        if (kernel_checksum_at(image, (uint64_t)m->lba * SECTOR_SIZE, m->size, &computed, p)) {
            bool match = computed == m->checksum;
            printf("module %u checksum: recorded 0x%016" PRIX64 ", computed 0x%016" PRIX64 ": %s\n",
                   i, (uint64_t)m->checksum, computed, match ? "ok" : "MISMATCH");
            if (!match)
                problem(p,
                        "module %u checksum MISMATCH: the image was damaged or edited after "
                        "mkimage wrote it: rebuild it",
                        i);
        }
    }
}

/* The ELF section blob (loader_fields.h): where, how big, the table it
 * starts with, its checksum. */
static void show_sections(const struct input_file *image, const struct stage2_header *h,
                          uint64_t image_sectors, struct problems *p)
{
    const struct stage2_module *m = &h->sections;
    if (m->size == 0)
        return;
    uint64_t table_bytes = (uint64_t)h->section_count * h->section_entry_size;
    printf("ELF section headers: LBA %" PRIu32 ", %" PRIu32 " sectors, %" PRIu32 " bytes: %" PRIu32
           " headers of %" PRIu32 " bytes (%" PRIu64
           " bytes of the table), names in section %" PRIu32 "\n",
           (uint32_t)m->lba, (uint32_t)m->sectors, (uint32_t)m->size, (uint32_t)h->section_count,
           (uint32_t)h->section_entry_size, table_bytes, (uint32_t)h->section_string_index);
    if (sectors_for_bytes(m->size) != m->sectors || (uint64_t)m->lba + m->sectors > image_sectors ||
        table_bytes > m->size || table_bytes > SECTION_TABLE_MAX) {
        problem(p, "ELF section headers: the size does not fill the sectors, the blob lies "
                   "beyond the image, or the table does not fit in it or in the Multiboot "
                   "information area: rebuild the image with mkimage");
        return;
    }
    uint64_t computed;
    if (kernel_checksum_at(image, (uint64_t)m->lba * SECTOR_SIZE, m->size, &computed, p)) {
        bool match = computed == m->checksum;
        printf("ELF section headers checksum: recorded 0x%016" PRIX64 ", computed 0x%016" PRIX64
               ": %s\n",
               (uint64_t)m->checksum, computed, match ? "ok" : "MISMATCH");
        if (!match)
            problem(p, "ELF section headers checksum MISMATCH: the image was damaged or edited "
                       "after mkimage wrote it: rebuild it");
    }
}

static void show_multiboot(const struct input_file *image, uint32_t kind, uint64_t offset,
                           uint64_t size, struct problems *p)
{
    size_t head_len = size < ELF_HEADER_WINDOW ? (size_t)size : ELF_HEADER_WINDOW;
    uint8_t *head = malloc(head_len ? head_len : 1);
    struct multiboot_load load;

    if (!head) {
        problem(p, "out of memory");
        return;
    }
    if (!read_exact_at(image->fd, head, head_len, offset)) {
        problem(p, "cannot read the kernel's first bytes: %s",
                errno ? strerror(errno) : "unexpected end of file");
        free(head);
        return;
    }
    p->part = "kernel";
    unsigned problems = kind == KERNEL_KIND_MULTIBOOT2
                            ? multiboot2_check(head, head_len, size, p, &load)
                            : multiboot1_check(head, head_len, size, p, &load);
    if (problems == 0 && load.elf)
        printf("kernel %s: ELF segments at 0x%" PRIX32 "-0x%" PRIX32 ", entry 0x%" PRIX32
               " (physical)\n",
               kind == KERNEL_KIND_MULTIBOOT2 ? "Multiboot2" : "Multiboot", load.load_addr,
               load.load_end_addr, load.entry_addr);
    else if (problems == 0)
        printf("kernel %s: file offset 0x%" PRIX32 " loaded at 0x%" PRIX32 "-0x%" PRIX32
               ", BSS to 0x%" PRIX32 ", entry 0x%" PRIX32 "\n",
               kind == KERNEL_KIND_MULTIBOOT2 ? "Multiboot2" : "Multiboot", load.file_offset,
               load.load_addr, load.load_end_addr, load.bss_end_addr, load.entry_addr);
    p->part = NULL;
    free(head);
}

/* A Linux bzImage: its boot protocol and real-mode part as stage 2 reads
 * them, and the initial RAM disk (the module records, concatenated). */
static void show_linux(const struct input_file *image, const struct stage2_header *h,
                       uint64_t offset, uint64_t size, struct problems *p)
{
    uint8_t head[LINUX_SETUP_MAX_BYTES];
    size_t head_len = size < sizeof(head) ? (size_t)size : sizeof(head);
    uint32_t setup_bytes = 0;

    if (!read_exact_at(image->fd, head, head_len, offset)) {
        problem(p, "cannot read the kernel's first bytes: %s",
                errno ? strerror(errno) : "unexpected end of file");
        return;
    }
    p->part = "kernel";
    if (linux_check(head, head_len, size, p, &setup_bytes) == 0) {
        unsigned version = get_le16(head + LINUX_VERSION_OFFSET);
        printf("kernel Linux: boot protocol %u.%02u, setup %u sectors (%" PRIu32
               " bytes with the boot sector), protected-mode code %" PRIu64 " bytes at 0x100000\n",
               version >> 8, version & 0xFF, setup_bytes / SECTOR_SIZE - 1, setup_bytes,
               size - setup_bytes);
    }
    p->part = NULL;
    uint64_t initrd_bytes = 0;
    for (unsigned i = 0; i < h->module_count && i < STAGE2_MODULES_MAX; i++)
        initrd_bytes += h->modules[i].size;
    if (h->module_count == 0)
        printf("initrd: none\n");
    else
        printf("initrd: %" PRIu64 " bytes in %" PRIu32 " part%s (the module records above, "
               "concatenated)\n",
               initrd_bytes, (uint32_t)h->module_count, h->module_count == 1 ? "" : "s");
}

int info_image(const char *path)
{
    struct problems p = problems_for(path);
    struct input_file image = {.fd = -1};

    if (!input_open(&image, path, MBR_SIZE, "check the image path", &p))
        goto done;

    uint64_t image_sectors = image.size / SECTOR_SIZE;
    printf("image: %s, %" PRIu64 " bytes (%" PRIu64 " sectors)\n", path, image.size, image_sectors);
    if (image.size < MBR_SIZE) {
        problem(&p,
                "is truncated: %" PRIu64 " bytes, shorter than the %d-byte boot sector: "
                "rebuild the image with mkimage",
                image.size, MBR_SIZE);
        goto done;
    }
    if (image.size % SECTOR_SIZE != 0)
        problem(&p,
                "is %" PRIu64 " bytes, not a whole number of %d-byte sectors: the image "
                "was truncated or appended to; rebuild it with mkimage",
                image.size, SECTOR_SIZE);

    const uint8_t *mbr = image.head;
    if (mbr[MBR_BOOT_SIGNATURE_OFFSET] != MBR_BOOT_SIGNATURE_0 ||
        mbr[MBR_BOOT_SIGNATURE_OFFSET + 1] != MBR_BOOT_SIGNATURE_1)
        problem(&p,
                "has no boot signature 0x55 0xAA at offset 0x%X: the BIOS will not boot "
                "it; rebuild the image with mkimage",
                MBR_BOOT_SIGNATURE_OFFSET);
    check_partitions(mbr, image_sectors, &p);

    /* Stage 2, found the way stage 1 finds it. */
    struct disk_address_packet dap = dap_read(mbr);
    printf("stage 2: LBA %" PRIu64 ", %u sectors (from the stage-1 disk address packet)\n",
           (uint64_t)dap.lba, (unsigned)dap.sectors);
    if (dap.size != DAP_SIZE_BYTE) {
        problem(&p,
                "has 0x%02X as the disk address packet's size byte at offset 0x%X, "
                "not 0x%02X: this is not a stage 1 written by mkimage",
                dap.size, STAGE1_DAP_OFFSET, DAP_SIZE_BYTE);
        goto done;
    }
    if (dap.sectors == 0 || dap.sectors > STAGE2_MAX_SECTORS || dap.lba == 0) {
        problem(&p,
                "the disk address packet reads %u sectors from LBA %" PRIu64 "; stage 2 "
                "is 1 to %d sectors from LBA 1 on: rebuild the image with mkimage",
                (unsigned)dap.sectors, (uint64_t)dap.lba, STAGE2_MAX_SECTORS);
        goto done;
    }
    uint64_t stage2_end = (uint64_t)dap.lba + dap.sectors;
    if (stage2_end > image_sectors) {
        problem(&p,
                "is truncated: stage 2 ends at sector %" PRIu64 " but the image has only "
                "%" PRIu64 " sectors: rebuild the image with mkimage",
                stage2_end, image_sectors);
        goto done;
    }
    /* The header lies in stage 2's first sectors, which lie inside the
     * image as just checked, if stage 2 is long enough to hold it. */
    if ((size_t)dap.sectors * SECTOR_SIZE < sizeof(struct stage2_header)) {
        problem(&p,
                "stage 2 has %u sectors, too few for the %zu-byte stage-2 header: "
                "rebuild the image with mkimage",
                (unsigned)dap.sectors, sizeof(struct stage2_header));
        goto done;
    }
    uint8_t raw_header[sizeof(struct stage2_header)];
    if (!read_exact_at(image.fd, raw_header, sizeof(raw_header), dap.lba * SECTOR_SIZE)) {
        problem(&p, "cannot read the stage-2 header: %s",
                errno ? strerror(errno) : "unexpected end of file");
        goto done;
    }
    struct stage2_header h = stage2_header_read(raw_header);
    printf("stage 2 header: magic 0x%08" PRIX32 "%s, version %u, size %u\n", (uint32_t)h.magic,
           h.magic == STAGE2_MAGIC ? " (\"S2LD\")" : "", (unsigned)h.version, (unsigned)h.size);
    p.part = "stage 2";
    bool header_ok = stage2_header_check(&h, &p);
    p.part = NULL;
    if (h.magic != STAGE2_MAGIC)
        goto done; /* the other fields mean nothing */
    if (header_ok) /* an older header has no loader checksums */
        check_loader_checksums(&image, mbr, &dap, &h, image_sectors, &p);

    /* The kernel, found the way stage 2 finds it. */
    uint32_t kernel_lba = h.kernel_lba, kernel_sectors = h.kernel_sectors;
    uint32_t kernel_size = h.kernel_size;
    printf("kernel: LBA %" PRIu32 ", %" PRIu32 " sectors, %" PRIu32 " bytes\n", kernel_lba,
           kernel_sectors, kernel_size);
    printf("kernel kind: %s\n", kernel_kind_name(h.kernel_kind));
    if (h.kernel_kind >= KERNEL_KIND_COUNT)
        problem(&p,
                "the stage-2 header records kernel kind %" PRIu32 ", which stage 2 does not "
                "know: rebuild the image with mkimage",
                (uint32_t)h.kernel_kind);
    size_t cmdline_len = strnlen(h.cmdline, STAGE2_CMDLINE_MAX);
    fputs("command line: ", stdout);
    print_cmdline_value(h.cmdline, STAGE2_CMDLINE_MAX);
    if (cmdline_len == STAGE2_CMDLINE_MAX)
        problem(&p, "the command line in the stage-2 header has no terminating NUL: "
                    "rebuild the image with mkimage");

    bool kernel_placed = true;
    if (sectors_for_bytes(kernel_size) != kernel_sectors) {
        problem(&p,
                "the stage-2 header says the kernel is %" PRIu32 " bytes in %" PRIu32
                " sectors, but %" PRIu32 " bytes need %" PRIu64 " sectors: "
                "rebuild the image with mkimage",
                kernel_size, kernel_sectors, kernel_size, sectors_for_bytes(kernel_size));
        kernel_placed = false;
    }
    if (kernel_lba < stage2_end) {
        problem(&p,
                "the kernel at LBA %" PRIu32 " overlaps stage 2 (LBA %" PRIu64 "-%" PRIu64
                "): rebuild the image with mkimage",
                kernel_lba, (uint64_t)dap.lba, stage2_end - 1);
        kernel_placed = false;
    }
    uint64_t kernel_end = (uint64_t)kernel_lba + kernel_sectors;
    if (kernel_end > image_sectors) {
        problem(&p,
                "is truncated: the kernel ends at sector %" PRIu64 " but the image has "
                "only %" PRIu64 " sectors: rebuild the image with mkimage",
                kernel_end, image_sectors);
        kernel_placed = false;
    }
    if (!kernel_placed)
        goto done;

    uint64_t kernel_offset = (uint64_t)kernel_lba * SECTOR_SIZE;
    uint64_t computed;
    if (kernel_checksum_at(&image, kernel_offset, kernel_size, &computed, &p)) {
        bool match = computed == h.kernel_checksum;
        printf("checksum: recorded 0x%016" PRIX64 ", computed 0x%016" PRIX64 ": %s\n",
               (uint64_t)h.kernel_checksum, computed, match ? "ok" : "MISMATCH");
        if (!match)
            problem(&p,
                    "kernel checksum MISMATCH: the stage-2 header records 0x%016" PRIX64
                    " but the kernel's bytes give 0x%016" PRIX64 "; the image was "
                    "damaged or edited after mkimage wrote it: rebuild it",
                    (uint64_t)h.kernel_checksum, computed);
    }
    show_modules(&image, &h, image_sectors, &p);
    show_sections(&image, &h, image_sectors, &p);
    if (h.kernel_kind == KERNEL_KIND_BOOTSTACK)
        show_kernel_elf(&image, kernel_offset, kernel_size, &p);
    else if (h.kernel_kind == KERNEL_KIND_MULTIBOOT2 || h.kernel_kind == KERNEL_KIND_MULTIBOOT1)
        show_multiboot(&image, h.kernel_kind, kernel_offset, kernel_size, &p);
    else if (h.kernel_kind == KERNEL_KIND_LINUX)
        show_linux(&image, &h, kernel_offset, kernel_size, &p);

done:
    printf("result: %s\n", p.count == 0 ? "ok" : "problems found");
    if (p.count > 0)
        diag_error("%s: %u problem%s found", path, p.count, p.count == 1 ? "" : "s");
    input_close(&image);
    return p.count == 0 ? 0 : 1;
}
