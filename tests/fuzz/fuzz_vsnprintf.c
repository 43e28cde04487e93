/*
 * fuzz_vsnprintf.c - libk's vsnprintf against the host C library's.
 *
 * Differential: the input describes one conversion at a time (flags, width,
 * precision, length modifier, conversion, argument) from the set libk
 * supports (libk/include/libk/printf.h), wrapped in literal text, and a
 * buffer size; libk_snprintf and the host's snprintf must return the same
 * length and write the same bytes. Combinations the C standard leaves
 * undefined (C11 7.21.6.1: '#' on d/i/u/c/s/p, '0' on c/s/p, a length
 * modifier on c/s/p, a precision on c/p) are never generated, so any
 * difference is libk's to explain. %n is left out: it writes through
 * its argument rather than printing, and test_libk checks it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "libk_host.h"

#define MAX_WIDTH 40      /* enough to pad past any 64-bit number in octal (22 digits) */
#define MAX_LITERAL 8     /* literal characters around each conversion */
#define MAX_STRING 24     /* the length of a %s argument */
#define MAX_BUFFER 128    /* the largest buffer size tried; 0 is tried too */
#define MAX_FORMAT 64     /* room for literals, flags, width, precision, length */
#define MAX_CONVERSIONS 8 /* conversions per input */

enum length { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_J, LEN_T, LENGTH_COUNT };
static const char *const length_text[LENGTH_COUNT] = {"", "hh", "h", "l", "ll", "z", "j", "t"};

static const char conversions[] = "diuoxXcsp%";
static const char flag_chars[] = "-+ #0";

/* Printable characters other than '%', for literal text. */
static char literal_char(uint8_t byte)
{
    char c = (char)(' ' + byte % ('~' - ' ' + 1));
    return c == '%' ? '.' : c;
}

/* Precision is defined for the integer conversions and %s only. */
static int precision_allowed(char conversion)
{
    return strchr("diuoxXs", conversion) != NULL;
}

static void append(char *fmt, size_t *used, const char *text)
{
    size_t n = strlen(text);
    memcpy(fmt + *used, text, n);
    *used += n;
    fmt[*used] = '\0';
}

static void append_literal(struct fuzz_input *in, char *fmt, size_t *used)
{
    unsigned count = take_byte(in) % (MAX_LITERAL + 1);
    for (unsigned i = 0; i < count; i++)
        fmt[(*used)++] = literal_char(take_byte(in));
    fmt[*used] = '\0';
}

static void report(const char *fmt, int host_ret, int libk_ret, const char *host_buf,
                   const char *libk_buf, size_t size)
{
    fprintf(stderr,
            "fuzz_vsnprintf: format \"%s\", buffer size %zu:\n"
            "  host returned %d, wrote \"%s\"\n"
            "  libk returned %d, wrote \"%s\"\n",
            fmt, size, host_ret, size ? host_buf : "", libk_ret, size ? libk_buf : "");
    abort();
}

/* Both libraries print with the same arguments into buffers of `size`. The
 * call is repeated per argument type so each gets exactly what it expects. */
#define COMPARE(...)                                                                               \
    do {                                                                                           \
        char host_buf[MAX_BUFFER + 1], libk_buf[MAX_BUFFER + 1];                                   \
        memset(host_buf, 'H', sizeof(host_buf));                                                   \
        memset(libk_buf, 'H', sizeof(libk_buf));                                                   \
        int host_ret = snprintf(host_buf, size, fmt, __VA_ARGS__);                                 \
        int libk_ret = libk_snprintf(libk_buf, size, fmt, __VA_ARGS__);                            \
        if (host_ret != libk_ret || memcmp(host_buf, libk_buf, sizeof(host_buf)) != 0)             \
            report(fmt, host_ret, libk_ret, host_buf, libk_buf, size);                             \
    } while (0)

#pragma clang diagnostic ignored "-Wformat-nonliteral"
#pragma clang diagnostic ignored "-Wformat-security"

static void one_conversion(struct fuzz_input *in)
{
    char fmt[MAX_FORMAT + 1];
    size_t used = 0;
    fmt[0] = '\0';

    uint8_t shape = take_byte(in);
    char conversion = conversions[take_byte(in) % (sizeof(conversions) - 1)];
    int is_integer = strchr("diuoxX", conversion) != NULL;
    int is_unsigned = strchr("uoxX", conversion) != NULL;
    int use_star_width = shape & 1, use_width = shape & 2;
    int use_star_precision = shape & 4, use_precision = shape & 8;
    int width = take_byte(in) % (MAX_WIDTH + 1);
    int precision = take_byte(in) % (MAX_WIDTH + 1);
    /* A negative * width means the '-' flag; a negative * precision, none
     * (C11 7.21.6.1p5): both are defined, so both are tried. */
    if (take_byte(in) & 1)
        width = -width;
    if (take_byte(in) & 1)
        precision = -precision;
    uint8_t flags = take_byte(in);
    enum length length = is_integer ? take_byte(in) % LENGTH_COUNT : LEN_NONE;
    size_t size = take_byte(in) % (MAX_BUFFER + 1);

    append_literal(in, fmt, &used);
    append(fmt, &used, "%");
    if (conversion != '%') {
        for (int i = 0; flag_chars[i]; i++) {
            char flag = flag_chars[i];
            if (!(flags & (1u << i)))
                continue;
            if (flag == '#' && !(conversion == 'o' || conversion == 'x' || conversion == 'X'))
                continue;
            if (flag == '0' && !is_integer)
                continue;
            /* '+' and ' ' have no meaning for %p; glibc prints them, libk
             * ignores them (libk/printf.c): implementation-defined, not a bug. */
            if ((flag == '+' || flag == ' ') && conversion == 'p')
                continue;
            char text[2] = {flag, '\0'};
            append(fmt, &used, text);
        }
        if (use_star_width)
            append(fmt, &used, "*");
        else if (use_width)
            used += (size_t)sprintf(fmt + used, "%d", abs(width));
        if (precision_allowed(conversion) && use_star_precision)
            append(fmt, &used, ".*");
        else if (precision_allowed(conversion) && use_precision)
            used += (size_t)sprintf(fmt + used, ".%d", abs(precision));
        append(fmt, &used, length_text[length]);
    }
    char tail[2] = {conversion, '\0'};
    append(fmt, &used, tail);
    append_literal(in, fmt, &used);

    int star_w = use_star_width && conversion != '%';
    int star_p = use_star_precision && precision_allowed(conversion) && conversion != '%';
    uint64_t raw = take_u64(in);

/* The * arguments come before the value, width first (C11 7.21.6.1p5). */
#define WITH_STARS(value)                                                                          \
    do {                                                                                           \
        if (star_w && star_p)                                                                      \
            COMPARE(width, precision, value);                                                      \
        else if (star_w)                                                                           \
            COMPARE(width, value);                                                                 \
        else if (star_p)                                                                           \
            COMPARE(precision, value);                                                             \
        else                                                                                       \
            COMPARE(value);                                                                        \
    } while (0)

    switch (conversion) {
    case '%':
        COMPARE(0); /* no argument is consumed; the extra one is ignored (7.21.6.1p2) */
        return;
    case 's': {
        char text[MAX_STRING + 1];
        unsigned n = take_byte(in) % (MAX_STRING + 1);
        for (unsigned i = 0; i < n; i++)
            text[i] = literal_char(take_byte(in));
        text[n] = '\0';
        WITH_STARS(text);
        return;
    }
    case 'c':
        WITH_STARS((int)(unsigned char)raw);
        return;
    case 'p':
        WITH_STARS((void *)(uintptr_t)raw);
        return;
    }
    if (is_unsigned) {
        switch (length) {
        case LEN_L:
            WITH_STARS((unsigned long)raw);
            break;
        case LEN_LL:
            WITH_STARS((unsigned long long)raw);
            break;
        case LEN_Z:
        case LEN_T:
            WITH_STARS((size_t)raw);
            break;
        case LEN_J:
            WITH_STARS((uintmax_t)raw);
            break;
        default: /* none, hh, h: the argument is promoted to unsigned int */
            WITH_STARS((unsigned)raw);
            break;
        }
    } else {
        switch (length) {
        case LEN_L:
            WITH_STARS((long)raw);
            break;
        case LEN_LL:
            WITH_STARS((long long)raw);
            break;
        case LEN_Z:
        case LEN_T:
            WITH_STARS((ptrdiff_t)raw);
            break;
        case LEN_J:
            WITH_STARS((intmax_t)raw);
            break;
        default: /* none, hh, h: the argument is promoted to int */
            WITH_STARS((int)raw);
            break;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    for (int i = 0; i < MAX_CONVERSIONS && in.left > 0; i++)
        one_conversion(&in);
    return 0;
}
