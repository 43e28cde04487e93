/*
 * cmdline.c - the command line into struct kernel_options (see cmdline.h).
 */
#include "cmdline.h"

#include <libk/string.h>
#include <stddef.h>

#define CMDLINE_SEPARATOR ' '

#define CMDLINE_QEMU_EXIT "qemu-exit"
#define CMDLINE_PANIC_TEST "panic-test"
#define CMDLINE_FAULT_PREFIX "fault="
#define CMDLINE_TEST "test"
#define CMDLINE_TEST_PREFIX "test="
#define CMDLINE_MEMORY_SELFTEST_PREFIX "memory-selftest="

/* True when `word` appears as a whole word in `cmdline`. An empty word
 * never matches. */
static bool has_word(const char *cmdline, const char *word)
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

/* For the first word of the form PREFIX... (e.g. prefix "fault=" and the
 * word "fault=pf"): copy what follows the prefix, up to the next space,
 * into `value` (at most size - 1 characters, always terminated) and return
 * true. False when no word starts with `prefix`. */
static bool word_value(const char *cmdline, const char *prefix, char *value, size_t size)
{
    size_t prefix_length = strlen(prefix);
    for (const char *p = cmdline; *p; p++) {
        bool word_start = p == cmdline || p[-1] == CMDLINE_SEPARATOR;
        if (word_start && strncmp(p, prefix, prefix_length) == 0) {
            const char *v = p + prefix_length;
            size_t n = 0;
            while (v[n] && v[n] != CMDLINE_SEPARATOR && n + 1 < size) {
                value[n] = v[n];
                n++;
            }
            value[n] = '\0';
            return true;
        }
    }
    return false;
}

void kernel_options_parse(const char *cmdline, struct kernel_options *options)
{
    *options = (struct kernel_options){0};
    options->qemu_exit = has_word(cmdline, CMDLINE_QEMU_EXIT);
    options->panic_test = has_word(cmdline, CMDLINE_PANIC_TEST);
    options->provoke_fault =
        word_value(cmdline, CMDLINE_FAULT_PREFIX, options->fault_kind, sizeof options->fault_kind);
    /* `test` alone runs every test (the pattern stays ""). */
    options->run_tests = has_word(cmdline, CMDLINE_TEST) ||
                         word_value(cmdline, CMDLINE_TEST_PREFIX, options->test_pattern,
                                    sizeof options->test_pattern);
    options->memory_selftest =
        word_value(cmdline, CMDLINE_MEMORY_SELFTEST_PREFIX, options->memory_selftest_name,
                   sizeof options->memory_selftest_name);
}
