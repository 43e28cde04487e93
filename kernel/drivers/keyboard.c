/*
 * keyboard.c - read scancodes from the 8042 controller on IRQ 1 and turn
 * them into console input (see keyboard.h).
 *
 * The BIOS has already set the controller and keyboard up (scancode set 2
 * translated to set 1, the keyboard's interrupt enabled), so the kernel
 * only reads: port 0x60 is the data port, port 0x64 the status register,
 * whose bit 0 says a byte is waiting (IBM PC/AT Technical Reference,
 * "Keyboard Controller").
 */
#include "drivers/keyboard.h"

#include <stddef.h>
#include <stdint.h>

#include "console.h"
#include "interrupts/irq.h"
#include "io.h"

/*
 * Scancode set 1, US layout. Make codes from the IBM PC/AT Technical
 * Reference keyboard tables (set 1 is the XT numbering): 0x01 Esc,
 * 0x02-0x0B the digit row, 0x10-0x19 QWERTYUIOP, 0x1E-0x26 ASDFGHJKL,
 * 0x2C-0x32 ZXCVBNM, and so on.
 */
#define SCANCODE_RELEASE 0x80    /* bit 7: the key was let go */
#define SCANCODE_EXTENDED 0xE0   /* prefix of the 101-key additions */
#define SCANCODE_TABLE_SIZE 0x3A /* the main block, up to the space bar */

/* Make codes of the keys handled by name. */
#define KEY_LEFT_CTRL 0x1D /* with 0xE0: the right Ctrl */
#define KEY_LEFT_SHIFT 0x2A
#define KEY_RIGHT_SHIFT 0x36
#define KEY_CAPS_LOCK 0x3A
#define KEY_EXT_HOME 0x47 /* these after 0xE0 (keypad keys without it) */
#define KEY_EXT_UP 0x48
#define KEY_EXT_LEFT 0x4B
#define KEY_EXT_RIGHT 0x4D
#define KEY_EXT_END 0x4F
#define KEY_EXT_DOWN 0x50
#define KEY_EXT_DELETE 0x53
#define KEY_EXT_KEYPAD_ENTER 0x1C

#define ESCAPE '\x1b'
/* Ctrl+letter is the letter's code with bits 5 and 6 cleared: ASCII's
 * control characters 0x01-0x1A are Ctrl-A to Ctrl-Z. */
#define CONTROL_MASK 0x1F

/* Unshifted and shifted characters for make codes 0x00-0x39; 0 = none. */
/* clang-format off: one row of the keyboard per line */
static const char plain[SCANCODE_TABLE_SIZE] = {
    0,    ESCAPE, '1', '2',  '3',
    '4',  '5',    '6', '7',  '8',
    '9',  '0',    '-', '=',  CONSOLE_BACKSPACE,
    '\t', 'q',    'w', 'e',  'r',
    't',  'y',    'u', 'i',  'o',
    'p',  '[',    ']', '\n', 0, /* 0x1D left Ctrl */
    'a',  's',    'd', 'f',  'g',
    'h',  'j',    'k', 'l',  ';',
    '\'', '`',    0, /* 0x2A left Shift */
    '\\', 'z',    'x', 'c',  'v',
    'b',  'n',    'm', ',',  '.',
    '/',  0, /* 0x36 right Shift */
    '*',     /* 0x37 keypad * */
    0,       /* 0x38 left Alt */
    ' ',
};
/* clang-format on */

/* clang-format off: one row of the keyboard per line */
static const char shifted[SCANCODE_TABLE_SIZE] = {
    0,    ESCAPE, '!', '@', '#', '$', '%', '^', '&', '*', '(', ')', '_', '+',  CONSOLE_BACKSPACE,
    '\t', 'Q',    'W', 'E', 'R', 'T', 'Y', 'U', 'I', 'O', 'P', '{', '}', '\n', 0,
    'A',  'S',    'D', 'F', 'G', 'H', 'J', 'K', 'L', ':', '"', '~', 0,   '|',  'Z',
    'X',  'C',    'V', 'B', 'N', 'M', '<', '>', '?', 0,   '*', 0,   ' ',
};
/* clang-format on */

static unsigned int emit(char out[SCANCODE_OUTPUT_MAX], const char *sequence)
{
    unsigned int n = 0;
    while (sequence[n] != '\0' && n < SCANCODE_OUTPUT_MAX) {
        out[n] = sequence[n];
        n++;
    }
    return n;
}

static unsigned int translate_extended(struct keyboard_state *state, uint8_t code, bool released,
                                       char out[SCANCODE_OUTPUT_MAX])
{
    if (code == KEY_LEFT_CTRL) { /* E0 1D: the right Ctrl */
        state->right_ctrl = !released;
        return 0;
    }
    if (released)
        return 0;
    switch (code) {
    case KEY_EXT_UP:
        return emit(out, CONSOLE_KEY_UP);
    case KEY_EXT_DOWN:
        return emit(out, CONSOLE_KEY_DOWN);
    case KEY_EXT_RIGHT:
        return emit(out, CONSOLE_KEY_RIGHT);
    case KEY_EXT_LEFT:
        return emit(out, CONSOLE_KEY_LEFT);
    case KEY_EXT_HOME:
        return emit(out, CONSOLE_KEY_HOME);
    case KEY_EXT_END:
        return emit(out, CONSOLE_KEY_END);
    case KEY_EXT_DELETE:
        return emit(out, CONSOLE_KEY_DELETE);
    case KEY_EXT_KEYPAD_ENTER:
        out[0] = '\n';
        return 1;
    default:
        return 0; /* E0 2A fake shifts, multimedia keys, ... */
    }
}

unsigned int scancode_translate(struct keyboard_state *state, uint8_t scancode,
                                char out[SCANCODE_OUTPUT_MAX])
{
    if (scancode == SCANCODE_EXTENDED) {
        state->extended = true;
        return 0;
    }
    bool released = scancode & SCANCODE_RELEASE;
    uint8_t code = scancode & (uint8_t)~SCANCODE_RELEASE;
    if (state->extended) {
        state->extended = false;
        return translate_extended(state, code, released, out);
    }

    switch (code) {
    case KEY_LEFT_SHIFT:
        state->left_shift = !released;
        return 0;
    case KEY_RIGHT_SHIFT:
        state->right_shift = !released;
        return 0;
    case KEY_LEFT_CTRL:
        state->left_ctrl = !released;
        return 0;
    case KEY_CAPS_LOCK:
        if (!released)
            state->caps_lock = !state->caps_lock; /* toggles on each press */
        return 0;
    default:
        break;
    }
    if (released || code >= SCANCODE_TABLE_SIZE)
        return 0;

    bool shift = state->left_shift || state->right_shift;
    char c = plain[code];
    if (c == 0)
        return 0;
    bool letter = c >= 'a' && c <= 'z';
    /* Caps Lock affects letters only, and Shift undoes it. */
    bool upper = letter ? shift != state->caps_lock : shift;
    c = upper ? shifted[code] : plain[code];

    if ((state->left_ctrl || state->right_ctrl) && letter)
        c = (char)(c & CONTROL_MASK);
    out[0] = c;
    return 1;
}

/* The controller. */
#define KEYBOARD_DATA_PORT 0x60
#define KEYBOARD_STATUS_PORT 0x64
#define STATUS_OUTPUT_FULL 0x01 /* bit 0: a byte waits at port 0x60 */
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
