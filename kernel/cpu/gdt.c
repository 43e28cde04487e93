/*
 * gdt.c - the kernel's GDT and TSS (see gdt.h).
 *
 * Descriptor formats: Intel SDM Vol. 3A, 3.4.5 "Segment Descriptors"
 * (code/data) and 8.2.3 "TSS Descriptor in 64-bit Mode" (16 bytes).
 */
#include "cpu/gdt.h"

#include <stdbool.h>
#include <stddef.h>

#include <libk/string.h>

#include "cpu/descriptor_table.h"

/* Access byte (descriptor bits 40-47). */
#define ACCESS_PRESENT 0x80       /* P, bit 47 */
#define ACCESS_DPL_USER 0x60      /* DPL = 3, bits 45-46 */
#define ACCESS_CODE_OR_DATA 0x10  /* S, bit 44: code/data (not a system segment) */
#define ACCESS_EXECUTABLE 0x08    /* type bit 3: code segment */
#define ACCESS_READ_WRITE 0x02    /* type bit 1: readable code / writable data */
#define ACCESS_ACCESSED 0x01      /* type bit 0: set now so the CPU never writes the table */
#define ACCESS_TSS_AVAILABLE 0x09 /* system type 9: 64-bit TSS, available */

/* Flags nibble (descriptor bits 52-55). */
#define FLAG_LONG_MODE 0x2      /* L, bit 53: 64-bit code segment */
#define FLAG_GRANULARITY_4K 0x8 /* G, bit 55: limit counts 4 KiB units */

#define FLAT_LIMIT 0xFFFFF /* 20-bit limit; ignored in 64-bit mode */

#define GDT_ENTRIES 7 /* null, kcode, kdata, udata, ucode, TSS (2) */
#define IST_STACKS 3

/* The 64-bit TSS (SDM Figure 8-11); packed: the RSP fields sit at offset 4. */
struct tss {
    uint32_t reserved0;
    uint64_t rsp[3]; /* stacks for a change to ring 0-2 */
    uint64_t reserved1;
    uint64_t ist[7]; /* IST1-IST7: ist[0] is IST1 */
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t io_map_base; /* offset of the I/O permission bitmap */
} __attribute__((packed));

_Static_assert(sizeof(struct tss) == 104, "the 64-bit TSS is 104 bytes (SDM 8.7)");

static uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16)));
static struct tss tss __attribute__((aligned(16)));
static uint8_t ist_stacks[IST_STACKS][IST_STACK_SIZE] __attribute__((aligned(16)));

/* segments.asm: LGDT, far return to reload CS, then the data registers. */
void gdt_load(const struct descriptor_table_register *gdtr, uint64_t code_selector,
              uint64_t data_selector);

static uint64_t segment_descriptor(uint8_t access, uint8_t flags)
{
    /* Base 0; limit bits 0-15 in bits 0-15 and bits 16-19 in bits 48-51. */
    uint64_t d = FLAT_LIMIT & 0xFFFF;
    d |= (uint64_t)((FLAT_LIMIT >> 16) & 0xF) << 48;
    d |= (uint64_t)access << 40;
    d |= (uint64_t)flags << 52;
    return d;
}

/* Write the two 8-byte halves of a TSS descriptor at gdt[index]. */
static void set_tss_descriptor(unsigned int index, uintptr_t base, uint32_t limit)
{
    uint64_t low = limit & 0xFFFF;
    low |= (uint64_t)(base & 0xFFFFFF) << 16; /* base 0-23 in bits 16-39 */
    low |= (uint64_t)(ACCESS_PRESENT | ACCESS_TSS_AVAILABLE) << 40;
    low |= (uint64_t)((limit >> 16) & 0xF) << 48;
    low |= (uint64_t)((base >> 24) & 0xFF) << 56; /* base 24-31 in bits 56-63 */
    gdt[index] = low;
    gdt[index + 1] = base >> 32; /* base 32-63, rest reserved 0 */
}

void gdt_ist_stack(unsigned int ist, uintptr_t *bottom, uintptr_t *top)
{
    if (ist < 1 || ist > IST_STACKS) {
        *bottom = *top = 0;
        return;
    }
    *bottom = (uintptr_t)ist_stacks[ist - 1];
    *top = *bottom + IST_STACK_SIZE;
}

void gdt_init(void)
{
    const uint8_t code_access = ACCESS_PRESENT | ACCESS_CODE_OR_DATA | ACCESS_EXECUTABLE |
                                ACCESS_READ_WRITE | ACCESS_ACCESSED;
    const uint8_t data_access =
        ACCESS_PRESENT | ACCESS_CODE_OR_DATA | ACCESS_READ_WRITE | ACCESS_ACCESSED;

    gdt[0] = 0; /* the null descriptor: selector 0 must never be usable */
    gdt[GDT_KERNEL_CODE_SELECTOR / 8] =
        segment_descriptor(code_access, FLAG_LONG_MODE | FLAG_GRANULARITY_4K);
    gdt[GDT_KERNEL_DATA_SELECTOR / 8] = segment_descriptor(data_access, FLAG_GRANULARITY_4K);
    /* User data before user code: the order SYSRET expects (SDM SYSRET). */
    gdt[GDT_USER_DATA_SELECTOR / 8] =
        segment_descriptor(data_access | ACCESS_DPL_USER, FLAG_GRANULARITY_4K);
    gdt[GDT_USER_CODE_SELECTOR / 8] =
        segment_descriptor(code_access | ACCESS_DPL_USER, FLAG_LONG_MODE | FLAG_GRANULARITY_4K);

    memset(&tss, 0, sizeof tss);
    for (unsigned int i = 0; i < IST_STACKS; i++)
        tss.ist[i] = (uint64_t)(uintptr_t)(ist_stacks[i] + IST_STACK_SIZE); /* stacks grow down */
    /* A base beyond the TSS limit means "no I/O permission bitmap". */
    tss.io_map_base = sizeof tss;
    set_tss_descriptor(GDT_TSS_SELECTOR / 8, (uintptr_t)&tss, sizeof tss - 1);

    struct descriptor_table_register gdtr = {sizeof gdt - 1, (uint64_t)(uintptr_t)gdt};
    gdt_load(&gdtr, GDT_KERNEL_CODE_SELECTOR, GDT_KERNEL_DATA_SELECTOR);

    /* LTR marks the descriptor busy; the CPU reads the IST pointers from here on. */
    __asm__ volatile("ltr %w0" : : "r"((uint16_t)GDT_TSS_SELECTOR) : "memory");
}
