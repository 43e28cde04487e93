/*
 * keyboard.h - the PS/2 keyboard on IRQ 1, into the console's input buffer.
 */
#ifndef KERNEL_INTERRUPTS_KEYBOARD_H
#define KERNEL_INTERRUPTS_KEYBOARD_H

/* Drop bytes already waiting in the controller and take IRQ 1. */
void keyboard_init(void);

#endif
