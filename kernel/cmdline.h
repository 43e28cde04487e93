/*
 * cmdline.h - reading the kernel command line.
 */
#ifndef KERNEL_CMDLINE_H
#define KERNEL_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True when `word` appears as a whole word in `cmdline`, a NUL-terminated
 * string of words separated by spaces. "qemu-exit" matches in
 * "panic-test qemu-exit" but not in "qemu-exit-later". An empty word never
 * matches.
 */
bool cmdline_has(const char *cmdline, const char *word);

/*
 * For a word of the form PREFIX... (e.g. prefix "fault=" and the word
 * "fault=pf"): copy what follows the prefix, up to the next space, into
 * `value` (at most size - 1 characters, always terminated) and return true.
 * False when no word starts with `prefix`.
 */
bool cmdline_value(const char *cmdline, const char *prefix, char *value, size_t size);

#endif
