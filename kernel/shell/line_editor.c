/*
 * line_editor.c - one line of input with backspace, for the shell.
 *
 * Input comes from console_read_char(): keyboard and serial characters in
 * one stream (console.h lists what arrives). Echo goes to both the screen
 * and the serial line, so a terminal and the screen show the same thing.
 */
#include "shell/line_editor.h"

#include <stdbool.h>

#include "console.h"

#define CONTROL(letter) ((letter) - 'A' + 1) /* Ctrl+letter: 0x01-0x1A */
#define KEY_CTRL_C CONTROL('C')
#define KEY_CTRL_U CONTROL('U')
#define KEY_ESCAPE 0x1B
#define FIRST_PRINTABLE ' '
#define LAST_PRINTABLE '~'

/*
 * A control sequence (ECMA-48 5.4, what VT100 cursor keys send) is ESC [,
 * then parameter bytes 0x30-0x3F and intermediate bytes 0x20-0x2F, then
 * one final byte 0x40-0x7E. Any other byte (Enter, Ctrl-C, a second ESC)
 * cannot be part of it: the sequence was cut short, and that byte is input.
 */
#define CONTROL_SEQUENCE_INTRODUCER '['
#define FIRST_SEQUENCE_BYTE 0x20 /* first intermediate byte */
#define FIRST_FINAL_BYTE 0x40
#define LAST_FINAL_BYTE 0x7E

/* No character left over. A NUL byte typed on the serial line is ignored
 * input anyway (not printable), so it can stand for none. */
#define NO_CHARACTER '\0'

/*
 * Skip an escape sequence whose ESC was just read. Returns the first
 * character that turned out not to belong to it (to be handled as typed
 * input), or NO_CHARACTER if the whole sequence was consumed.
 */
static char skip_escape_sequence(void)
{
    char c = console_read_char();
    if (c != CONTROL_SEQUENCE_INTRODUCER)
        return c; /* a lone ESC (or ESC + other key): the key is input */
    for (;;) {
        c = console_read_char();
        if (c < FIRST_SEQUENCE_BYTE || c > LAST_FINAL_BYTE)
            return c;
        if (c >= FIRST_FINAL_BYTE)
            return NO_CHARACTER;
    }
}

static void erase_last_character(void)
{
    console_write("\b \b"); /* back, blank it, back again */
}

static void echo_character(char c)
{
    char echo[2] = {c, '\0'};
    console_write(echo);
}

void line_read(char *line, size_t size)
{
    size_t length = 0;
    /* Printable characters typed past the end of `line`: echoed, so that
     * backspace can take them back, but not stored. A line that still has
     * some when Enter comes is refused whole: cutting it could change what
     * it means (`mem` + spaces + `x` would run `mem`). */
    size_t overflow = 0;
    char pending = NO_CHARACTER; /* a character an escape sequence gave back */
    for (;;) {
        char c = pending != NO_CHARACTER ? pending : console_read_char();
        pending = NO_CHARACTER;
        if (c == '\n') {
            console_write("\n");
            if (overflow > 0) {
                kprintf("line too long (max %zu characters): ignored\n", size - 1);
                length = 0;
            }
            break;
        }
        if (c == CONSOLE_BACKSPACE || c == CONSOLE_SERIAL_DELETE) {
            if (overflow > 0) {
                overflow--;
                erase_last_character();
            } else if (length > 0) {
                length--;
                erase_last_character();
            }
        } else if (c == KEY_CTRL_C) {
            console_write("^C\n");
            length = 0;
            break;
        } else if (c == KEY_CTRL_U) {
            for (; overflow > 0; overflow--)
                erase_last_character();
            for (; length > 0; length--)
                erase_last_character();
        } else if (c == KEY_ESCAPE) {
            pending = skip_escape_sequence();
        } else if (c >= FIRST_PRINTABLE && c <= LAST_PRINTABLE) {
            if (length + 1 < size)
                line[length++] = c;
            else
                overflow++;
            echo_character(c);
        }
        /* Anything else (tabs, other control keys) is ignored. */
    }
    line[length] = '\0';
}
