/*
 * timer.c - PIT channel 0 as a periodic tick (see timer.h).
 *
 * The 8254 PIT's counters run from a 1.193182 MHz clock (the PC's
 * 14.31818 MHz crystal divided by 12). In mode 2 ("rate generator")
 * channel 0 counts down from a reload value and pulses its output, wired
 * to IRQ 0, each time it wraps: frequency = 1193182 / reload. (Intel 8254 data sheet; ports
 * 0x40-0x43 on the PC.)
 */
#include "drivers/timer.h"

#include "interrupts/irq.h"
#include "io.h"

#define PIT_INPUT_HZ 1193182u
#define PIT_CHANNEL0_DATA 0x40
#define PIT_MODE_COMMAND 0x43

/* Mode/command byte: bits 6-7 channel 0 (00), bits 4-5 access mode
 * "low byte then high byte" (11), bits 1-3 mode 2 (010), bit 0 binary (0). */
#define PIT_SELECT_CHANNEL0 0x00
#define PIT_ACCESS_LOW_HIGH 0x30
#define PIT_MODE_RATE_GENERATOR 0x04
#define PIT_BINARY 0x00

/* Rounded to the nearest whole count: 11932 at 100 Hz (99.998 Hz). */
#define PIT_RELOAD ((PIT_INPUT_HZ + TIMER_FREQUENCY_HZ / 2) / TIMER_FREQUENCY_HZ)
_Static_assert(PIT_RELOAD > 1 && PIT_RELOAD <= 65535, "the reload value is 16 bits");

#define MS_PER_SECOND 1000u

/* Written by the IRQ handler, read by everyone: volatile so every read
 * goes to memory. A 64-bit aligned load or store is atomic on x86-64. */
static volatile uint64_t ticks;

static void timer_interrupt(void)
{
    ticks = ticks + 1;
}

void timer_init(void)
{
    outb(PIT_MODE_COMMAND,
         PIT_SELECT_CHANNEL0 | PIT_ACCESS_LOW_HIGH | PIT_MODE_RATE_GENERATOR | PIT_BINARY);
    outb(PIT_CHANNEL0_DATA, PIT_RELOAD & 0xFF);
    outb(PIT_CHANNEL0_DATA, (PIT_RELOAD >> 8) & 0xFF);
    irq_register(IRQ_TIMER, timer_interrupt);
}

uint64_t timer_ticks(void)
{
    return ticks;
}

void timer_sleep_ms(uint64_t ms)
{
    uint64_t wait = (ms * TIMER_FREQUENCY_HZ + MS_PER_SECOND - 1) / MS_PER_SECOND;
    uint64_t until = timer_ticks() + wait;
    while (timer_ticks() < until)
        __asm__ volatile("sti; hlt" : : : "memory"); /* wake on the next interrupt */
}
