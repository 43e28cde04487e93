/*
 * line_editor.h - read one line from the console with simple editing.
 */
#ifndef KERNEL_SHELL_LINE_EDITOR_H
#define KERNEL_SHELL_LINE_EDITOR_H

#include <stddef.h>

/*
 * Read a line into `line` (at most size - 1 characters, always
 * NUL-terminated), echoing what is typed. Backspace deletes the last
 * character, Ctrl-C abandons the line (returns an empty one), Ctrl-U
 * clears it; cursor keys and other escape sequences are ignored, and a
 * sequence cut short by Enter (or any other control key) leaves that key
 * to act as usual. A line longer than size - 1 characters when Enter comes
 * is refused with a message and returned empty, never cut.
 */
void line_read(char *line, size_t size);

#endif
