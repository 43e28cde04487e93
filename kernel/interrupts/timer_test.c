/*
 * timer_test.c - the PIT ticks, at the rate timer.h names.
 *
 * The TSC's frequency is not known (nothing calibrates it), so the rate
 * is checked against the CMOS real-time clock, which counts seconds from
 * its own 32.768 kHz crystal, and the ticks' evenness against the TSC.
 */
#include <stdbool.h>
#include <stdint.h>

#include "interrupts/timer.h"
#include "io.h"
#include "ktest/ktest.h"

/* CMOS/RTC (Motorola MC146818): write a register number to port 0x70,
 * read its value from 0x71. */
#define CMOS_INDEX_PORT 0x70
#define CMOS_DATA_PORT 0x71
#define RTC_SECONDS 0x00
#define RTC_STATUS_A 0x0A
#define RTC_UPDATE_IN_PROGRESS 0x80   /* status A bit 7: the time is changing */
/* Bit 7 of the index port disables NMIs on a PC; leave it set as the
 * BIOS does. */
#define CMOS_NMI_DISABLE 0x80

/* Percent the measured rate may differ from TIMER_FREQUENCY_HZ: an
 * emulator on a busy host delivers ticks late, now and then. */
#define RATE_TOLERANCE_PERCENT 15

static uint8_t cmos_read(uint8_t reg)
{
    outb(CMOS_INDEX_PORT, CMOS_NMI_DISABLE | reg);
    return inb(CMOS_DATA_PORT);
}

static uint8_t rtc_seconds(void)
{
    while (cmos_read(RTC_STATUS_A) & RTC_UPDATE_IN_PROGRESS)
        ;
    return cmos_read(RTC_SECONDS);
}

/* Tick count at the moment the RTC's seconds change. */
static uint64_t ticks_at_next_second(void)
{
    uint8_t start = rtc_seconds();
    while (rtc_seconds() == start)
        __asm__ volatile("pause");
    return timer_ticks();
}

static uint64_t rdtsc(void)
{
    uint32_t low, high;
    __asm__ volatile("rdtsc" : "=a"(low), "=d"(high));
    return ((uint64_t)high << 32) | low;
}

static void wait_for_tick(void)
{
    uint64_t now = timer_ticks();
    while (timer_ticks() == now)
        __asm__ volatile("sti; hlt");
}

KTEST(timer_ticks_advance)
{
    uint64_t before = timer_ticks();
    timer_sleep_ms(30);
    KASSERT_GE(timer_ticks(), before + 3);
}

KTEST(timer_sleep_100ms_is_the_right_number_of_ticks)
{
    const uint64_t expected = 100 * TIMER_FREQUENCY_HZ / 1000;
    wait_for_tick();            /* start right after a tick */
    uint64_t before = timer_ticks();
    timer_sleep_ms(100);
    uint64_t elapsed = timer_ticks() - before;
    KASSERT_GE(elapsed + 1, expected);
    KASSERT_LE(elapsed, expected + 1);
}

/*
 * An emulator on a busy host can lose ticks (when its CPU thread is not
 * scheduled for longer than a tick period, the PIT's pulses merge into one
 * interrupt), which only ever makes the count low. A wrong reload value
 * would be off in every second, so a few tries are allowed.
 */
#define RTC_MEASUREMENT_TRIES 3

KTEST(timer_rate_matches_the_rtc_second)
{
    const uint64_t low = TIMER_FREQUENCY_HZ * (100 - RATE_TOLERANCE_PERCENT);
    const uint64_t high = TIMER_FREQUENCY_HZ * (100 + RATE_TOLERANCE_PERCENT);
    uint64_t per_second = 0;
    uint64_t start = ticks_at_next_second();
    for (int i = 0; i < RTC_MEASUREMENT_TRIES; i++) {
        uint64_t end = ticks_at_next_second();
        per_second = end - start;
        if (per_second * 100 >= low && per_second * 100 <= high)
            break;
        start = end;
    }
    KASSERT_GE(per_second * 100, low);
    KASSERT_LE(per_second * 100, high);
}

KTEST(timer_ticks_are_even_against_the_tsc)
{
    /* Twice the ticks should take twice the TSC cycles, whatever the
     * TSC's frequency. */
    wait_for_tick();
    uint64_t start = rdtsc();
    timer_sleep_ms(100);
    uint64_t short_interval = rdtsc() - start;
    wait_for_tick();
    start = rdtsc();
    timer_sleep_ms(200);
    uint64_t long_interval = rdtsc() - start;
    KASSERT_GE(long_interval * 100, short_interval * 2 * (100 - RATE_TOLERANCE_PERCENT));
    KASSERT_LE(long_interval * 100, short_interval * 2 * (100 + RATE_TOLERANCE_PERCENT));
}
