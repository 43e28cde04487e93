/*
 * cmdline.c - whole-word search in the command line.
 *
 * The image builder stores the command line in stage 2; the loader copies
 * it into boot_info.cmdline for us.
 */
#include "cmdline.h"

#include <libk/string.h>
#include <stddef.h>

#define CMDLINE_SEPARATOR ' '

bool cmdline_has(const char *cmdline, const char *word)
{
    size_t word_len = strlen(word);
    if (word_len == 0)
        return false;

    const char *p = cmdline;
    while (*p != '\0') {
        /* Skip separators (runs of them count as one) ... */
        while (*p == CMDLINE_SEPARATOR)
            p++;
        /* ... then measure the word that starts here. */
        const char *start = p;
        while (*p != '\0' && *p != CMDLINE_SEPARATOR)
            p++;
        size_t len = (size_t)(p - start);
        if (len == word_len && memcmp(start, word, len) == 0)
            return true;
    }
    return false;
}

bool cmdline_value(const char *cmdline, const char *prefix, char *value, size_t size)
{
    size_t prefix_length = strlen(prefix);
    for (const char *p = cmdline; *p; p++) {
        bool word_start = p == cmdline || p[-1] == ' ';
        if (word_start && strncmp(p, prefix, prefix_length) == 0) {
            const char *v = p + prefix_length;
            size_t n = 0;
            while (v[n] && v[n] != ' ' && n + 1 < size) {
                value[n] = v[n];
                n++;
            }
            value[n] = '\0';
            return true;
        }
    }
    return false;
}
