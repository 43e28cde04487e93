/*
 * timer.h - the system tick, from channel 0 of the 8253/8254 PIT.
 */
#ifndef KERNEL_DRIVERS_TIMER_H
#define KERNEL_DRIVERS_TIMER_H

#include <stdint.h>

/*
 * Ticks per second. 100 Hz (a tick every 10 ms) is fine enough for a
 * shell's sleeps and costs an emulator (QEMU's TCG, Bochs) few interrupts.
 * An emulator short of host CPU time can still lose ticks: timer_test.c.
 */
#define TIMER_FREQUENCY_HZ 100

/* Program PIT channel 0 for TIMER_FREQUENCY_HZ and take IRQ 0. */
void timer_init(void);

/* Ticks since timer_init(). */
uint64_t timer_ticks(void);

/* Wait at least `ms` milliseconds (rounded up to whole ticks), halting
 * between ticks. Enables interrupts (STI): it needs the timer IRQ. */
void timer_sleep_ms(uint64_t ms);

#endif
