/*
 * keyboard.h - the PS/2 keyboard on IRQ 1, into the console's input buffer,
 * and the translation of its scancodes (set 1, US layout).
 *
 * The 8042 keyboard controller translates whatever the keyboard sends into
 * scancode set 1 (the PC/XT codes) unless told otherwise, and the BIOS
 * leaves translation on. In set 1 a key sends its "make" code when pressed
 * and the same code with bit 7 set ("break") when released; keys added
 * with the 101-key keyboard (arrows, Home, End, Delete, the right Ctrl)
 * send 0xE0 first.
 *
 * The translation does no I/O, so that it can be tested on its own
 * (keyboard_test.c).
 */
#ifndef KERNEL_DRIVERS_KEYBOARD_H
#define KERNEL_DRIVERS_KEYBOARD_H

#include <stdbool.h>
#include <stdint.h>

/* The longest output of one scancode: an escape sequence "\x1b[3~". */
#define SCANCODE_OUTPUT_MAX 4

struct keyboard_state {
    bool left_shift, right_shift;
    bool left_ctrl, right_ctrl;
    bool caps_lock;
    bool extended; /* the previous byte was the 0xE0 prefix */
};

/*
 * Feed one byte from the keyboard. Writes the characters it produces (see
 * console.h for the values: letters, '\n', CONSOLE_BACKSPACE, control
 * characters, escape sequences for arrows and friends) to `out` and
 * returns how many (0 for releases, modifiers, prefixes, unknown keys).
 */
unsigned int scancode_translate(struct keyboard_state *state, uint8_t scancode,
                                char out[SCANCODE_OUTPUT_MAX]);

/* Drop bytes already waiting in the controller and take IRQ 1. */
void keyboard_init(void);

#endif
