/*
 * idt.c - the IDT and the one C entry point of every interrupt.
 *
 * Gate format: Intel SDM Vol. 3A, 6.14.1, Figure 6-8 "64-Bit IDT Gate
 * Descriptors" (16 bytes each).
 */
#include "cpu/idt.h"

#include <stddef.h>
#include <stdint.h>

#include "cpu/descriptor_table.h"
#include "cpu/exceptions.h"
#include "cpu/gdt.h"
#include "cpu/interrupt_frame.h"
#include "panic.h" /* the lab exceptions starting point panics in set_gate */

#define IDT_ENTRIES 256

/* Type and attribute byte (gate bits 40-47). */
#define GATE_PRESENT 0x80
#define GATE_DPL_KERNEL 0x00     /* bits 45-46: only ring 0 may INT n */
#define GATE_TYPE_INTERRUPT 0x0E /* interrupt gate: the CPU clears IF on entry */

struct idt_gate {
    uint16_t offset_low; /* handler address bits 0-15 */
    uint16_t selector;   /* code segment of the handler */
    uint8_t ist;         /* bits 0-2: IST slot, 0 = none */
    uint8_t type_attributes;
    uint16_t offset_middle; /* bits 16-31 */
    uint32_t offset_high;   /* bits 32-63 */
    uint32_t reserved;
} __attribute__((packed));

_Static_assert(sizeof(struct idt_gate) == 16, "a 64-bit IDT gate is 16 bytes");

static struct idt_gate idt[IDT_ENTRIES] __attribute__((aligned(16)));

/* interrupt_stubs.asm */
extern const uint64_t interrupt_stub_table[IDT_STUB_VECTORS];

static void set_gate(unsigned int vector, uint64_t handler, uint8_t ist)
{
    // LAB exceptions BEGIN
    // TODO: fill idt[vector], a struct idt_gate, so that the CPU runs
    // TODO: `handler` (a 64-bit address) for this vector in ring 0: split
    // TODO: the address over offset_low (bits 0-15), offset_middle
    // TODO: (16-31) and offset_high (32-63); the kernel code selector; the
    // TODO: IST slot `ist` (0 = stay on the current stack); a type byte
    // TODO: that says present, DPL 0, 64-bit interrupt gate; reserved 0.
    // HINT: SDM Vol. 3A, 6.14.1, Figure 6-8: type 0xE is an interrupt gate
    // HINT: (IF cleared on entry), 0xF a trap gate; bit 7 is P (present).
    // HINT: The constants are above (GATE_...) and in cpu/gdt.h.
    // HINT: A gate that is not present, or has a wrong selector, turns the
    // HINT: first interrupt into #GP, then #DF, then a triple fault.
    // STUB: (void)handler;
    // STUB: (void)ist;
    // STUB: panic("set_gate(%u): the IDT gate is not written yet (lab exceptions)", vector);
    idt[vector] = (struct idt_gate){
        .offset_low = handler & 0xFFFF,
        .selector = GDT_KERNEL_CODE_SELECTOR,
        .ist = ist,
        .type_attributes = GATE_PRESENT | GATE_DPL_KERNEL | GATE_TYPE_INTERRUPT,
        .offset_middle = (handler >> 16) & 0xFFFF,
        .offset_high = (uint32_t)(handler >> 32),
        .reserved = 0,
    };
    // LAB exceptions END
}

void idt_init(void)
{
    /* Interrupt gates everywhere (not trap gates): IF is cleared on entry,
     * so an IRQ handler never interrupts another, nor an exception report. */
    for (unsigned int vector = 0; vector < IDT_STUB_VECTORS; vector++)
        set_gate(vector, interrupt_stub_table[vector], 0);

    /* Their own stacks: a double fault often means the kernel stack is
     * gone; an NMI or machine check may arrive at any instruction, even
     * one that just switched RSP (SDM 6.14.5). */
    set_gate(EXCEPTION_DOUBLE_FAULT, interrupt_stub_table[EXCEPTION_DOUBLE_FAULT],
             IST_DOUBLE_FAULT);
    set_gate(EXCEPTION_NMI, interrupt_stub_table[EXCEPTION_NMI], IST_NMI);
    set_gate(EXCEPTION_MACHINE_CHECK, interrupt_stub_table[EXCEPTION_MACHINE_CHECK],
             IST_MACHINE_CHECK);

    /* Vectors 48-255 stay not-present: raising one gives a #GP whose error
     * code names the vector (SDM 6.13), which the report shows. */
    struct descriptor_table_register idtr = {sizeof idt - 1, (uint64_t)(uintptr_t)idt};
    __asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
}

static interrupt_handler irq_handler;

void idt_set_irq_handler(interrupt_handler handler)
{
    irq_handler = handler;
}

void interrupt_dispatch(struct interrupt_frame *frame)
{
    if (frame->vector < IDT_EXCEPTION_VECTORS)
        exception_handle(frame);
    else if (irq_handler != NULL)
        irq_handler(frame);
}
