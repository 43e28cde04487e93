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

/* A VT100 escape sequence: ESC [ then parameters, ending in a letter or '~'. */
static void skip_escape_sequence(void)
{
    char c = console_read_char();
    if (c != '[')
        return;
    do {
        c = console_read_char();
    } while (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '~'));
}

static void erase_last_character(void)
{
    console_write("\b \b"); /* back, blank it, back again */
}

void line_read(char *line, size_t size)
{
    size_t length = 0;
    for (;;) {
        char c = console_read_char();
        if (c == '\n') {
            console_write("\n");
            break;
        }
        if (c == CONSOLE_BACKSPACE || c == CONSOLE_SERIAL_DELETE) {
            if (length > 0) {
                length--;
                erase_last_character();
            }
        } else if (c == KEY_CTRL_C) {
            console_write("^C\n");
            length = 0;
            break;
        } else if (c == KEY_CTRL_U) {
            while (length > 0) {
                length--;
                erase_last_character();
            }
        } else if (c == KEY_ESCAPE) {
            skip_escape_sequence();
        } else if (c >= FIRST_PRINTABLE && c <= LAST_PRINTABLE && length + 1 < size) {
            line[length++] = c;
            char echo[2] = {c, '\0'};
            console_write(echo);
        }
        /* Anything else (tabs, other control keys, a full line) is ignored. */
    }
    line[length] = '\0';
}
