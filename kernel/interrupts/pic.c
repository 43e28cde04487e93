/*
 * pic.c - program the 8259A pair (see pic.h).
 *
 * Initialisation is a sequence of four Initialization Command Words (8259A
 * data sheet, "Initialization Command Words"): ICW1 to the command port
 * starts it, ICW2-ICW4 follow on the data port.
 */
#include "interrupts/pic.h"

#include <stdint.h>

#include "io.h"

#define MASTER_COMMAND 0x20
#define MASTER_DATA 0x21 /* also the interrupt mask register (OCW1) */
#define SLAVE_COMMAND 0xA0
#define SLAVE_DATA 0xA1

#define ICW1_ICW4_NEEDED 0x01 /* bit 0: an ICW4 follows */
#define ICW1_INIT 0x10        /* bit 4: this is ICW1 (edge triggered, cascade mode) */
#define ICW3_MASTER_SLAVE_ON_IRQ2 (1u << PIC_CASCADE_IRQ) /* master: bit mask of slave inputs */
#define ICW3_SLAVE_ID 2     /* slave: its cascade identity, the master's input number */
#define ICW4_8086_MODE 0x01 /* bit 0: 8086/88 mode (not 8080/85) */

#define OCW2_END_OF_INTERRUPT 0x20 /* non-specific EOI */
#define OCW3_READ_ISR 0x0B         /* next read of the command port returns the ISR */

#define ALL_MASKED 0xFF
#define IRQS_PER_PIC 8
#define SPURIOUS_MASTER_IRQ 7
#define SPURIOUS_SLAVE_IRQ 15

/*
 * Port 0x80 is the POST diagnostic port: writing to it does nothing but
 * takes about a microsecond on the ISA bus, the customary pause between
 * the ICWs for old PICs that need time to settle.
 */
#define IO_DELAY_PORT 0x80

static void io_wait(void)
{
    outb(IO_DELAY_PORT, 0);
}

void pic_init(unsigned int base_vector)
{
    outb(MASTER_COMMAND, ICW1_INIT | ICW1_ICW4_NEEDED);
    io_wait();
    outb(SLAVE_COMMAND, ICW1_INIT | ICW1_ICW4_NEEDED);
    io_wait();
    /* ICW2: the vector of IRQ 0 (resp. 8); the low 3 bits must be 0. */
    outb(MASTER_DATA, (uint8_t)base_vector);
    io_wait();
    outb(SLAVE_DATA, (uint8_t)(base_vector + IRQS_PER_PIC));
    io_wait();
    outb(MASTER_DATA, ICW3_MASTER_SLAVE_ON_IRQ2);
    io_wait();
    outb(SLAVE_DATA, ICW3_SLAVE_ID);
    io_wait();
    outb(MASTER_DATA, ICW4_8086_MODE);
    io_wait();
    outb(SLAVE_DATA, ICW4_8086_MODE);
    io_wait();

    /* Everything off; drivers unmask their own line. The cascade line is
     * unmasked with the first slave IRQ (pic_unmask). */
    outb(MASTER_DATA, ALL_MASKED);
    outb(SLAVE_DATA, ALL_MASKED);
}

static void set_mask_bit(unsigned int irq, bool masked)
{
    uint16_t port = irq < IRQS_PER_PIC ? MASTER_DATA : SLAVE_DATA;
    uint8_t bit = (uint8_t)(1u << (irq % IRQS_PER_PIC));
    uint8_t mask = inb(port);
    outb(port, masked ? (uint8_t)(mask | bit) : (uint8_t)(mask & ~bit));
}

void pic_unmask(unsigned int irq)
{
    if (irq >= PIC_IRQ_COUNT)
        return;
    set_mask_bit(irq, false);
    if (irq >= IRQS_PER_PIC)
        set_mask_bit(PIC_CASCADE_IRQ, false); /* the slave reaches the CPU through it */
}

void pic_mask(unsigned int irq)
{
    if (irq < PIC_IRQ_COUNT)
        set_mask_bit(irq, true);
}

void pic_send_eoi(unsigned int irq)
{
    if (irq >= IRQS_PER_PIC)
        outb(SLAVE_COMMAND, OCW2_END_OF_INTERRUPT);
    outb(MASTER_COMMAND, OCW2_END_OF_INTERRUPT);
}

static uint8_t read_in_service(uint16_t command_port)
{
    outb(command_port, OCW3_READ_ISR);
    return inb(command_port);
}

bool pic_spurious(unsigned int irq)
{
    const uint8_t lowest_priority = 1u << (IRQS_PER_PIC - 1); /* bit 7 */
    if (irq == SPURIOUS_MASTER_IRQ)
        return !(read_in_service(MASTER_COMMAND) & lowest_priority);
    if (irq == SPURIOUS_SLAVE_IRQ && !(read_in_service(SLAVE_COMMAND) & lowest_priority)) {
        /* The master did see a real request on its cascade line. */
        outb(MASTER_COMMAND, OCW2_END_OF_INTERRUPT);
        return true;
    }
    return false;
}
