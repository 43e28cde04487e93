/*
 * keyboard.c - read scancodes from the 8042 controller on IRQ 1.
 *
 * The BIOS has already set the controller and keyboard up (scancode set 2
 * translated to set 1, the keyboard's interrupt enabled), so the kernel
 * only reads: port 0x60 is the data port, port 0x64 the status register,
 * whose bit 0 says a byte is waiting (IBM PC/AT Technical Reference,
 * "Keyboard Controller").
 */
#include "interrupts/keyboard.h"

#include <stdint.h>

#include "console.h"
#include "interrupts/irq.h"
#include "interrupts/scancode.h"
#include "io.h"

#define KEYBOARD_DATA_PORT 0x60
#define KEYBOARD_STATUS_PORT 0x64
#define STATUS_OUTPUT_FULL 0x01      /* bit 0: a byte waits at port 0x60 */
/* Bytes to drain at most at start-up: a stuck controller must not hang us. */
#define DRAIN_LIMIT 64

static struct keyboard_state state;

static void keyboard_interrupt(void)
{
    /* One IRQ per byte: reading port 0x60 takes it and lets the
     * controller raise the next interrupt. */
    uint8_t scancode = inb(KEYBOARD_DATA_PORT);
    char out[SCANCODE_OUTPUT_MAX];
    unsigned int n = scancode_translate(&state, scancode, out);
    for (unsigned int i = 0; i < n; i++)
        console_input_push(out[i]);
}

void keyboard_init(void)
{
    for (int i = 0; i < DRAIN_LIMIT && (inb(KEYBOARD_STATUS_PORT) & STATUS_OUTPUT_FULL); i++)
        (void)inb(KEYBOARD_DATA_PORT);
    irq_register(IRQ_KEYBOARD, keyboard_interrupt);
}
