/*
 * build.c - `mkimage build`.
 *
 * Every input is checked before anything is written, and every problem in
 * every input is reported, so one run shows all that needs fixing. Only then
 * is the image assembled in a temporary file and renamed over the output.
 */
#include "build.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "byte_order.h"
#include "checksum.h"
#include "diag.h"
#include "disk_layout.h"
#include "elf_check.h"
#include "elf_sections.h"
#include "file_io.h"
#include "kernel_kind.h"
#include "loader_checksums.h"

/* The command line field holds the text and its terminating NUL. */
#define CMDLINE_MAX_LENGTH (STAGE2_CMDLINE_MAX - 1)

/* The kernel is copied in chunks of this size (a multiple of the checksum's
 * 4-byte word, though checksum_update() does not depend on that). */
#define COPY_CHUNK_BYTES (1024u * 1024u)

/* The most modules' names and files: "FILE" or "FILE,STRING" split. */
struct module_input {
    char *path;
    const char *string;
    struct input_file file;
    struct problems p;
};

/* Copy a file (the kernel or a module: `what`) into the image at
 * `image_offset`, computing its checksum on the way. */
static bool copy_file(const struct input_file *kernel, const char *what, struct output_file *out,
                      uint64_t image_offset, uint64_t *checksum)
{
    struct checksum_state cs;
    uint8_t *buf = malloc(COPY_CHUNK_BYTES);
    bool ok = false;

    if (!buf) {
        diag_error("%s: out of memory copying the %s", out->final_path, what);
        return false;
    }
    checksum_init(&cs);
    for (uint64_t done = 0; done < kernel->size;) {
        size_t n = kernel->size - done < COPY_CHUNK_BYTES ? (size_t)(kernel->size - done)
                                                          : COPY_CHUNK_BYTES;
        if (!read_exact_at(kernel->fd, buf, n, done)) {
            diag_error("%s: cannot read at offset %" PRIu64 ": %s: make sure nothing rewrites "
                       "the %s while mkimage runs",
                       kernel->path, done, errno ? strerror(errno) : "the file shrank", what);
            goto out;
        }
        if (!write_all_at(out->fd, buf, n, image_offset + done)) {
            diag_error("%s: cannot write the temporary file %s: %s: check the free disk space",
                       out->final_path, out->temp_path, strerror(errno));
            goto out;
        }
        checksum_update(&cs, buf, n);
        done += n;
    }

    /* The size was checked and laid out before copying; a file that grew
     * meanwhile would be recorded with the wrong size. */
    struct stat st;
    if (fstat(kernel->fd, &st) != 0 || (uint64_t)st.st_size != kernel->size) {
        diag_error("%s: changed size while being copied: make sure nothing rewrites the "
                   "%s while mkimage runs, then run mkimage again",
                   kernel->path, what);
        goto out;
    }
    *checksum = checksum_final(&cs);
    ok = true;
out:
    free(buf);
    return ok;
}

static bool write_image(const struct build_options *o, const struct input_file *stage1,
                        const struct input_file *stage2, const struct input_file *kernel,
                        uint32_t kernel_kind, struct module_input *modules, unsigned module_count,
                        const struct section_blob *sections, struct disk_layout *layout)
{
    uint8_t mbr[MBR_SIZE];
    uint8_t *stage2_sectors;
    struct output_file out;
    uint64_t checksum = 0;
    bool ok = false;

    uint32_t module_bytes[STAGE2_MODULES_MAX];
    uint64_t module_checksums[STAGE2_MODULES_MAX];
    const char *module_strings[STAGE2_MODULES_MAX];
    for (unsigned i = 0; i < module_count; i++) {
        module_bytes[i] = (uint32_t)modules[i].file.size;
        module_strings[i] = modules[i].string;
    }
    layout_compute(layout, (uint32_t)stage2->size, (uint32_t)kernel->size, module_count,
                   module_bytes, sections->size);

    memcpy(mbr, stage1->head, MBR_SIZE);
    stage1_patch(mbr, layout);

    /* Stage 2 padded with zeros to whole sectors. */
    size_t stage2_bytes = (size_t)layout->stage2_sectors * SECTOR_SIZE;
    stage2_sectors = calloc(1, stage2_bytes);
    if (!stage2_sectors) {
        diag_error("%s: out of memory", o->output);
        return false;
    }
    memcpy(stage2_sectors, stage2->head, stage2->head_len);

    if (!output_open(&out, o->output))
        goto done;
    /* The kernel goes first so that its checksum is known when the stage-2
     * header is written; everything not written stays zero. */
    if (!copy_file(kernel, "kernel", &out, (uint64_t)layout->kernel_lba * SECTOR_SIZE, &checksum))
        goto fail;
    for (unsigned i = 0; i < module_count; i++)
        if (!copy_file(&modules[i].file, "module", &out,
                       (uint64_t)layout->module_lba[i] * SECTOR_SIZE, &module_checksums[i]))
            goto fail;
    struct section_record record = {0, sections->count, sections->entry_size,
                                    sections->string_index};
    if (sections->size > 0) {
        struct checksum_state cs;
        checksum_init(&cs);
        checksum_update(&cs, sections->bytes, sections->size);
        record.checksum = checksum_final(&cs);
        if (!write_all_at(out.fd, sections->bytes, sections->size,
                          (uint64_t)layout->sections_lba * SECTOR_SIZE)) {
            diag_error("%s: cannot write the temporary file %s: %s: check the free disk space",
                       o->output, out.temp_path, strerror(errno));
            goto fail;
        }
    }
    stage2_patch(stage2_sectors, layout, checksum, kernel_kind, o->cmdline, module_checksums,
                 module_strings, &record);
    /* The loader's own checksums come last, over what is written: stage 1
     * with its DAP filled in, stage 2 with its whole header. */
    put_le32(stage2_sectors + offsetof(struct stage2_header, stage2_sectors),
             layout->stage2_sectors);
    put_le64(stage2_sectors + offsetof(struct stage2_header, stage1_checksum),
             stage1_checksum(mbr));
    put_le64(stage2_sectors + offsetof(struct stage2_header, stage2_checksum),
             stage2_checksum(stage2_sectors, stage2_bytes));
    if (!write_all_at(out.fd, mbr, MBR_SIZE, 0) ||
        !write_all_at(out.fd, stage2_sectors, stage2_bytes,
                      (uint64_t)layout->stage2_lba * SECTOR_SIZE)) {
        diag_error("%s: cannot write the temporary file %s: %s: check the free disk space",
                   o->output, out.temp_path, strerror(errno));
        goto fail;
    }
    ok = output_commit(&out, (uint64_t)layout->image_sectors * SECTOR_SIZE);
    goto done;

fail:
    output_abort(&out);
done:
    free(stage2_sectors);
    return ok;
}

/* The checks of the kernel's kind; returns how many problems they found. */
static unsigned check_kernel_kind(const struct input_file *kernel, uint32_t kind,
                                  struct problems *p, struct multiboot_load *load)
{
    switch (kind) {
    case KERNEL_KIND_MULTIBOOT2:
        return multiboot2_check(kernel->head, kernel->head_len, kernel->size, p, load);
    case KERNEL_KIND_MULTIBOOT1:
        return multiboot1_check(kernel->head, kernel->head_len, kernel->size, p, load);
    case KERNEL_KIND_LINUX:
        return linux_check(kernel->head, kernel->head_len, kernel->size, p, NULL);
    default:
        return elf_check(kernel->head, kernel->head_len, kernel->size, p, NULL);
    }
}

/* Open every --module FILE[,STRING] (Multiboot kernels) or --initrd FILE
 * (Linux) and check it; both are stored as module records. Sets *stored to
 * how many records there will be; returns the problems. */
static unsigned open_modules(const struct build_options *o, uint32_t kind,
                             struct module_input *modules, unsigned *stored,
                             struct problems *general)
{
    unsigned count = 0;
    bool linux = kind == KERNEL_KIND_LINUX;

    if (o->initrd_count > 0 && !linux) {
        problem(general,
                "--initrd: the kernel is of kind %s; an initial RAM disk goes to a Linux "
                "kernel (a Multiboot kernel takes files with --module)",
                kernel_kind_name(kind));
        count++;
    }
    if (o->module_count > 0 && linux) {
        problem(general, "--module: a Linux kernel takes no modules: pass its initial RAM disk "
                         "with --initrd FILE (repeatable; the files are concatenated)");
        count++;
    } else if (o->module_count > 0 && kind != KERNEL_KIND_MULTIBOOT2 &&
               kind != KERNEL_KIND_MULTIBOOT1) {
        problem(general,
                "--module: the kernel is of kind %s, whose handoff passes no modules; "
                "modules go to Multiboot kernels",
                kernel_kind_name(kind));
        count++;
    }
    const char *const *names = linux ? o->initrds : o->modules;
    const char *option = linux ? "--initrd" : "--module";
    *stored = linux ? o->initrd_count : o->module_count;
    for (unsigned i = 0; i < *stored; i++) {
        struct module_input *m = &modules[i];
        /* An --initrd names a file only; a --module may add ",STRING". */
        const char *comma = linux ? NULL : strchr(names[i], ',');
        size_t path_length = comma ? (size_t)(comma - names[i]) : strlen(names[i]);

        m->file.fd = -1;
        m->path = strndup(names[i], path_length);
        if (!m->path) {
            problem(general, "out of memory");
            count++;
            continue;
        }
        const char *slash = strrchr(m->path, '/');
        m->string = comma ? comma + 1 : slash ? slash + 1 : m->path;
        m->p = problems_for(m->path);
        if (strlen(m->string) >= STAGE2_MODULE_STRING_MAX)
            problem(&m->p,
                    "%s: the string \"%s\" is %zu bytes; stage 2 holds at most %d: "
                    "shorten it",
                    option, m->string, strlen(m->string), STAGE2_MODULE_STRING_MAX - 1);
        if (input_open(&m->file, m->path, SECTOR_SIZE,
                       linux ? "check the --initrd path" : "check the --module path", &m->p) &&
            m->file.size > KERNEL_MAX_FILE_BYTES)
            problem(&m->p, "%s: the file is %" PRIu64 " bytes; a file may have at most %u MiB",
                    option, m->file.size, KERNEL_MAX_FILE_BYTES / (1024u * 1024u));
        count += m->p.count;
    }
    return count;
}

static void close_modules(unsigned stored, struct module_input *modules)
{
    for (unsigned i = 0; i < stored; i++) {
        input_close(&modules[i].file);
        free(modules[i].path);
    }
}

int build_image(const struct build_options *o)
{
    struct input_file stage1 = {.fd = -1}, stage2 = {.fd = -1}, kernel = {.fd = -1};
    struct problems p1 = problems_for(o->stage1);
    struct problems p2 = problems_for(o->stage2);
    struct problems pk = problems_for(o->kernel);
    struct problems general = problems_for(NULL);
    unsigned kernel_elf_problems = 0;
    struct disk_layout layout;
    uint32_t kind = KERNEL_KIND_BOOTSTACK;
    struct multiboot_load load = {0};
    struct section_blob sections = {0};
    int status = 1;

    size_t cmdline_length = strlen(o->cmdline);
    if (cmdline_length > CMDLINE_MAX_LENGTH)
        problem(&general,
                "--cmdline: the command line is %zu bytes; stage 2 holds at most %d "
                "(a %d-byte field with the terminating NUL): shorten it",
                cmdline_length, CMDLINE_MAX_LENGTH, STAGE2_CMDLINE_MAX);

    if (input_open(&stage1, o->stage1, MBR_SIZE,
                   "check the --stage1 path (build the bootloader first)", &p1))
        stage1_check(stage1.head, stage1.head_len, stage1.size, &p1);

    if (input_open(&stage2, o->stage2, STAGE2_MAX_BYTES,
                   "check the --stage2 path (build the bootloader first)", &p2))
        stage2_check(stage2.head, stage2.head_len, stage2.size, &p2);

    if (input_open(&kernel, o->kernel, ELF_HEADER_WINDOW,
                   "check the --kernel path (build the kernel first)", &pk)) {
        /* main.c accepted only known names. */
        if (o->protocol)
            kernel_kind_from_name(o->protocol, &kind);
        else
            kind = kernel_kind_detect(kernel.head, kernel.head_len);
        /* With --force the problems of the kernel's kind are shown but do
         * not stop the build: tests use that to hand the loader kernels it
         * must refuse. */
        pk.level = o->force ? "warning" : "error";
        kernel_elf_problems = check_kernel_kind(&kernel, kind, &pk, &load);
        pk.level = "error";
        /* An ELF Multiboot kernel gets its section headers (Multiboot2
         * 3.6.7, Multiboot 0.6.96 3.3 flags bit 5): stage 2 loads them
         * from the section blob. */
        if ((kind == KERNEL_KIND_MULTIBOOT2 || kind == KERNEL_KIND_MULTIBOOT1) &&
            kernel_elf_problems == 0 && load.elf)
            section_blob_build(&kernel, &sections, &pk);
        if (o->force && kernel.size > KERNEL_MAX_FILE_BYTES)
            /* The limit keeps image sizes sane and the 32-bit size fields
             * valid; --force is for odd kernel contents, not for huge files. */
            problem(&pk, "--force does not lift the %u MiB size limit: pass the kernel file",
                    KERNEL_MAX_FILE_BYTES / (1024u * 1024u));
    }

    struct module_input modules[STAGE2_MODULES_MAX];
    unsigned stored_modules = 0;
    unsigned module_errors = open_modules(o, kind, modules, &stored_modules, &general);

    unsigned errors = general.count + p1.count + p2.count + module_errors +
                      (o->force ? pk.count - kernel_elf_problems : pk.count);
    if (errors > 0) {
        diag_error("%s: not written because of the %u problem%s above; an existing %s "
                   "is left as it was",
                   o->output, errors, errors == 1 ? "" : "s", o->output);
        goto done;
    }

    if (!write_image(o, &stage1, &stage2, &kernel, kind, modules, stored_modules, &sections,
                     &layout))
        goto done;

    printf("%s: stage 2 at LBA %" PRIu32 " (%" PRIu32 " sectors), kernel at LBA %" PRIu32
           " (%" PRIu32 " sectors, %" PRIu32 " bytes, kind %s), %" PRIu32 " sectors in all%s\n",
           o->output, layout.stage2_lba, layout.stage2_sectors, layout.kernel_lba,
           layout.kernel_sectors, layout.kernel_size, kernel_kind_name(kind), layout.image_sectors,
           kernel_elf_problems > 0 ? " (kernel fails the checks of its kind: written because of "
                                     "--force)"
                                   : "");
    for (unsigned i = 0; i < stored_modules; i++)
        printf("%s: %s %u at LBA %" PRIu32 " (%" PRIu32 " sectors, %" PRIu32 " bytes): \"%s\"\n",
               o->output, kind == KERNEL_KIND_LINUX ? "initrd part" : "module", i,
               layout.module_lba[i], layout.module_sectors[i], layout.module_size[i],
               modules[i].string);
    if (sections.size > 0)
        printf("%s: ELF section headers at LBA %" PRIu32 " (%" PRIu32 " sectors, %" PRIu32
               " bytes): %" PRIu32 " headers of %" PRIu32 " bytes, %" PRIu32
               " bytes of the table\n",
               o->output, layout.sections_lba, layout.sections_sectors, layout.sections_size,
               sections.count, sections.entry_size, sections.table_bytes);
    status = 0;
done:
    input_close(&stage1);
    input_close(&stage2);
    input_close(&kernel);
    close_modules(stored_modules, modules);
    section_blob_free(&sections);
    return status;
}
