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
