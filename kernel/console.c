/*
 * console.c - one output path for every message.
 *
 * Everything the kernel prints goes to both COM1 and the VGA screen: the
 * serial copy is what tests and "qemu -serial stdio" see, the screen copy
 * is what a person at a real machine sees.
 *
 * Input goes the other way: the keyboard and serial interrupt handlers
 * push characters into one ring buffer, which readers drain.
 */
#include "console.h"

#include <stdint.h>

#include <libk/printf.h>
#include <libk/string.h>

#include "cpu/control_registers.h"
#include "drivers/serial.h"
#include "drivers/vga.h"

/*
 * kprintf formats into this much stack before printing. Longer output is
 * cut and marked; the longest line this kernel prints is well under it.
 */
#define KPRINTF_BUFFER_SIZE 512
#define TRUNCATION_MARK "...[truncated]\n"

void console_init(void)
{
    serial_init();
    vga_init();
}

static void console_write_bytes(const char *s, size_t len)
{
    serial_write(s, len);
    vga_write(s, len);
}

void console_write(const char *s)
{
    console_write_bytes(s, strlen(s));
}

void vkprintf(const char *fmt, va_list ap)
{
    char buffer[KPRINTF_BUFFER_SIZE];
    int needed = vsnprintf(buffer, sizeof buffer, fmt, ap);
    if (needed < 0)
        return; /* a format error: nothing sensible to print */

    /* vsnprintf returns the length the whole output would have had. */
    size_t written = (size_t)needed < sizeof buffer ? (size_t)needed : sizeof buffer - 1;
    console_write_bytes(buffer, written);
    if (written < (size_t)needed)
        console_write(TRUNCATION_MARK);
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vkprintf(fmt, ap);
    va_end(ap);
}

/*
 * The input ring buffer. Producers are interrupt handlers (interrupts off,
 * one at a time on our single CPU); the consumer is ordinary kernel code.
 * Only the producer writes `head`, only the consumer writes `tail`, and the
 * free-running counts (never reduced modulo the size) make full (head -
 * tail == size) and empty (head == tail) easy to tell apart. volatile: the
 * other side changes them behind the compiler's back.
 */
_Static_assert((CONSOLE_INPUT_BUFFER_SIZE & (CONSOLE_INPUT_BUFFER_SIZE - 1)) == 0,
               "a power of two, so that the counters may wrap around");

static char input_buffer[CONSOLE_INPUT_BUFFER_SIZE];
static volatile uint32_t input_head; /* total characters pushed */
static volatile uint32_t input_tail; /* total characters taken */
static volatile unsigned long input_dropped;
/* Characters dropped since the last notice; the reader prints the notice. */
static volatile unsigned long dropped_unreported;

#define INPUT_OVERFLOW_NOTICE "\n[console: input buffer full, %lu characters dropped]\n"

bool console_input_push(char c)
{
    uint32_t head = input_head;
    if (head - input_tail == CONSOLE_INPUT_BUFFER_SIZE) {
        /* No printing here: this runs in an interrupt handler, which may
         * have interrupted kprintf halfway through a line (the screen
         * code is not reentrant). The reader reports the loss instead. */
        input_dropped = input_dropped + 1;
        dropped_unreported = dropped_unreported + 1;
        return false;
    }
    input_buffer[head % CONSOLE_INPUT_BUFFER_SIZE] = c;
    /* The character must be in place before the consumer can see it. */
    __asm__ volatile("" : : : "memory");
    input_head = head + 1;
    return true;
}

bool console_try_read_char(char *c)
{
    if (dropped_unreported != 0) {
        /* One notice per overflow, however many characters it cost. The
         * producer only adds to the count; take what we print from it. */
        unsigned long dropped = dropped_unreported;
        kprintf(INPUT_OVERFLOW_NOTICE, dropped);
        /* Interrupts off for the read-modify-write, so that a drop counted
         * by an interrupt in between is not lost; then as they were. */
        uint64_t flags = read_rflags();
        __asm__ volatile("cli" : : : "memory");
        dropped_unreported = dropped_unreported - dropped;
        if (flags & RFLAGS_INTERRUPT_ENABLE)
            __asm__ volatile("sti" : : : "memory");
    }
    uint32_t tail = input_tail;
    if (tail == input_head)
        return false;
    *c = input_buffer[tail % CONSOLE_INPUT_BUFFER_SIZE];
    __asm__ volatile("" : : : "memory");
    input_tail = tail + 1;
    return true;
}

char console_read_char(void)
{
    char c;
    for (;;) {
        __asm__ volatile("cli" : : : "memory");
        if (console_try_read_char(&c))
            break;
        /* STI takes effect only after the next instruction (Intel SDM Vol. 2B,
         * STI), so no interrupt can slip in between the check above and
         * HLT and leave us asleep with a character waiting. */
        __asm__ volatile("sti; hlt" : : : "memory");
    }
    __asm__ volatile("sti" : : : "memory");
    return c;
}

unsigned long console_input_dropped(void)
{
    return input_dropped;
}
