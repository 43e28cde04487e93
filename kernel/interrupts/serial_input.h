/*
 * serial_input.h - characters typed on the serial console (COM1), by
 * interrupt, into the console's input buffer.
 */
#ifndef KERNEL_INTERRUPTS_SERIAL_INPUT_H
#define KERNEL_INTERRUPTS_SERIAL_INPUT_H

#include <stdbool.h>
#include <stdint.h>

/* Take IRQ 4 and switch on the UART's receive interrupt. */
void serial_input_init(void);

/* Turn one received byte into console input (CR -> '\n', LF after CR
 * dropped, 0x7F -> CONSOLE_BACKSPACE) and push it. Kept apart for tests. */
void serial_input_receive(uint8_t byte);

#endif
