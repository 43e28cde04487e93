/*
 * elf_sections.h - the ELF section blob of an ELF Multiboot kernel: what
 * stage 2 loads so that it can pass the kernel its section headers
 * (Multiboot2 3.6.7 tag type 9, Multiboot 0.6.96 3.3 flags bit 5). The
 * blob's format is described in loader_fields.h.
 */
#ifndef ELF_SECTIONS_H
#define ELF_SECTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "file_io.h"

struct section_blob {
    uint8_t *bytes; /* malloc'd; NULL when the file has no section headers */
    uint32_t size;
    uint32_t count;        /* e_shnum */
    uint32_t entry_size;   /* e_shentsize */
    uint32_t string_index; /* e_shstrndx */
    uint32_t table_bytes;  /* count * entry_size */
};

/* Whether the ELF file whose first bytes are `head` has section headers
 * (e_shoff not 0); false for a file that is not ELF. */
bool elf_has_section_headers(const uint8_t *head, size_t len);

/* Build the blob of the ELF32 or ELF64 file `kernel` (already checked as a
 * Multiboot ELF kernel). Reports every problem to `p` and returns false on
 * any; a file without section headers gives an empty blob and true. */
bool section_blob_build(const struct input_file *kernel, struct section_blob *blob,
                        struct problems *p);
void section_blob_free(struct section_blob *blob);

#endif
