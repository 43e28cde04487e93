/*
 * console_input_test.c - the console input ring buffer and the serial
 * input translation.
 *
 * Interrupts are off while these run, so that no real keystroke or serial
 * byte mixes with the characters the test pushes.
 */
#include <stdint.h>

#include "console.h"
#include "drivers/serial.h"
#include "ktest/ktest.h"

#define OVERFLOW_EXTRA 10

static void drain(void)
{
    char c;
    while (console_try_read_char(&c))
        ;
}

static char pattern(unsigned int i)
{
    return (char)('A' + i % 26);
}

KTEST(console_input_full_buffer_drops_new_input_and_keeps_the_old)
{
    __asm__ volatile("cli");
    drain();
    unsigned long dropped_before = console_input_dropped();
    for (unsigned int i = 0; i < CONSOLE_INPUT_BUFFER_SIZE; i++)
        KASSERT(console_input_push(pattern(i)));
    for (unsigned int i = 0; i < OVERFLOW_EXTRA; i++)
        KASSERT(!console_input_push('!'));
    KASSERT_EQ(console_input_dropped() - dropped_before, OVERFLOW_EXTRA);

    char c;
    for (unsigned int i = 0; i < CONSOLE_INPUT_BUFFER_SIZE; i++) {
        KASSERT(console_try_read_char(&c));
        KASSERT_EQ(c, pattern(i));
    }
    KASSERT(!console_try_read_char(&c));
    /* Room again: new input is taken. */
    KASSERT(console_input_push('z'));
    KASSERT(console_try_read_char(&c));
    KASSERT_EQ(c, 'z');
    __asm__ volatile("sti");
}

KTEST(console_serial_cr_lf_and_delete_are_translated)
{
    __asm__ volatile("cli");
    drain();
    const uint8_t bytes[] = {'h', '\r', '\n', 'i', '\r', 'x', 0x7F, 0x08, '\n'};
    const char expected[] = {'h', '\n', 'i', '\n', 'x', CONSOLE_BACKSPACE, CONSOLE_BACKSPACE, '\n'};
    for (unsigned int i = 0; i < sizeof bytes; i++)
        serial_input_receive(bytes[i]);
    char c;
    for (unsigned int i = 0; i < sizeof expected; i++) {
        KASSERT(console_try_read_char(&c));
        KASSERT_EQ(c, expected[i]);
    }
    KASSERT(!console_try_read_char(&c));
    __asm__ volatile("sti");
}
