/*
 * fuzz_line_editor.c - the shell's line editor (kernel/shell/line_editor.c)
 * built for the host and fed the fuzz input as keystrokes.
 *
 * console.h's functions are replaced here: console_read_char() hands out
 * the input's bytes, console_write() counts what is echoed. line_read()
 * waits for input forever, as a keyboard does; when the input runs out,
 * console_read_char() jumps back to the harness (longjmp), which is where a
 * real user would stop typing. The line buffer is a heap block of exactly
 * the size given (the first byte picks it), so AddressSanitizer reports
 * the first byte written past it. Checked for every line read:
 *   - it is NUL-terminated within the buffer, at most size - 1 characters;
 *   - it holds only printable characters (the editor takes no others);
 *   - it is no longer than the printable bytes that were typed for it.
 */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "shell/line_editor.h"

#define MAX_LINE_SIZE 256 /* the shell's own buffer is 128 bytes (kernel/shell/shell.c) */
#define MAX_LINES 64      /* lines per input: enough to reach every state */

static const uint8_t *keys;
static size_t keys_left;
static size_t printable_typed; /* printable bytes handed out for the current line */
static jmp_buf out_of_input;

char console_read_char(void)
{
    if (keys_left == 0)
        longjmp(out_of_input, 1);
    keys_left--;
    char c = (char)*keys++;
    if (c >= ' ' && c <= '~')
        printable_typed++;
    return c;
}

bool console_try_read_char(char *c)
{
    if (keys_left == 0)
        return false;
    *c = console_read_char();
    return true;
}

void console_write(const char *s)
{
    (void)strlen(s); /* ASan: the editor's echo strings must be terminated */
}

void kprintf(const char *fmt, ...)
{
    (void)fmt;
}

void vkprintf(const char *fmt, va_list ap)
{
    (void)fmt;
    (void)ap;
}

static void fail(const char *what, size_t size, const char *line)
{
    fprintf(stderr, "fuzz_line_editor: buffer size %zu: %s\n", size, what);
    (void)line;
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t line_size = 1 + data[0] % MAX_LINE_SIZE;
    keys = data + 1;
    keys_left = size - 1;
    /* volatile: read after longjmp returns to setjmp (C11 7.13.2.1p3). */
    char *volatile line = malloc(line_size);
    if (setjmp(out_of_input) == 0) {
        for (int i = 0; i < MAX_LINES; i++) {
            printable_typed = 0;
            memset(line, 'X', line_size);
            line_read(line, line_size);
            size_t length = strnlen(line, line_size);
            if (length == line_size)
                fail("line not NUL-terminated within its buffer", line_size, line);
            if (length > printable_typed)
                fail("longer than the printable characters typed", line_size, line);
            for (size_t k = 0; k < length; k++)
                if (line[k] < ' ' || line[k] > '~')
                    fail("holds a character that is not printable", line_size, line);
        }
    }
    free(line);
    return 0;
}
