/*
 * cmdline.h - reading the kernel command line.
 */
#ifndef KERNEL_CMDLINE_H
#define KERNEL_CMDLINE_H

#include <stdbool.h>

/*
 * True when `word` appears as a whole word in `cmdline`, a NUL-terminated
 * string of words separated by spaces. "qemu-exit" matches in
 * "panic-test qemu-exit" but not in "qemu-exit-later". An empty word never
 * matches.
 */
bool cmdline_has(const char *cmdline, const char *word);

#endif
