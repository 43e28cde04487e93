/*
 * test_libk.c - host unit tests for libk's string and printf functions.
 *
 * The code under test is the real libk source, compiled for the host and
 * linked in with every symbol renamed libk_* (see libk_host.h). Most checks
 * use the host C library as the reference: the same call goes to both, and
 * the results must agree. glibc is the reference on purpose: libk promises
 * glibc's output for the cases C leaves open (%p, %s with NULL).
 *
 * Usage:
 *   test_libk            run every test
 *   test_libk --list     print the test names, one per line
 *   test_libk NAME       run only the test NAME; fails if there is none
 * tests/test_libk.py uses the last two to make one pytest test per test here.
 */
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h> /* needs stdarg.h, stddef.h, setjmp.h, stdint.h first */

#include <libk/align.h> /* header only, no name the host has */

#include "libk_host.h"
#include "unit_main.h"

/* C only promises the sign of memcmp/strcmp results, not the value. */
static int sign_of(int value)
{
    return (value > 0) - (value < 0);
}

/* ==== memory functions ================================================ */

/* A buffer with a recognisable, non-repeating pattern, so that a byte copied
 * from the wrong place shows up. */
#define PATTERN_SIZE 64

static void fill_pattern(unsigned char *buf, size_t size)
{
    for (size_t i = 0; i < size; i++)
        buf[i] = (unsigned char)(i * 7 + 1);
}

static void test_memcpy_copies_and_returns_dst(void **state)
{
    (void)state;
    unsigned char src[PATTERN_SIZE];
    unsigned char dst[PATTERN_SIZE];
    unsigned char expected[PATTERN_SIZE];

    fill_pattern(src, sizeof(src));
    /* Every offset and length inside the buffer, so odd alignments and
     * lengths are covered; the bytes around the copy must stay as they were. */
    for (size_t offset = 0; offset < 8; offset++) {
        for (size_t n = 0; n + offset <= 40; n++) {
            memset(dst, 0xAA, sizeof(dst));
            memset(expected, 0xAA, sizeof(expected));
            memcpy(expected + offset, src + 3, n);

            assert_ptr_equal(libk_memcpy(dst + offset, src + 3, n), dst + offset);
            assert_memory_equal(dst, expected, sizeof(dst));
        }
    }
}

static void test_memcpy_zero_length_touches_nothing(void **state)
{
    (void)state;
    unsigned char dst[4] = {1, 2, 3, 4};
    const unsigned char src[4] = {9, 9, 9, 9};

    assert_ptr_equal(libk_memcpy(dst, src, 0), dst);
    assert_int_equal(dst[0], 1);
    assert_int_equal(dst[3], 4);
}

/* Compares libk_memmove with the host's memmove for every source offset,
 * destination offset and length in a small buffer: that covers overlap in
 * both directions, dst == src, adjacency and n == 0. */
static void test_memmove_all_overlaps(void **state)
{
    (void)state;
    enum { SIZE = 24 };
    unsigned char ours[SIZE];
    unsigned char reference[SIZE];

    for (size_t src = 0; src < SIZE; src++) {
        for (size_t dst = 0; dst < SIZE; dst++) {
            size_t max_n = SIZE - (src > dst ? src : dst);
            for (size_t n = 0; n <= max_n; n++) {
                fill_pattern(ours, SIZE);
                fill_pattern(reference, SIZE);
                memmove(reference + dst, reference + src, n);

                assert_ptr_equal(libk_memmove(ours + dst, ours + src, n), ours + dst);
                if (memcmp(ours, reference, SIZE) != 0)
                    fail_msg("memmove(buf + %zu, buf + %zu, %zu) differs "
                             "from the host's",
                             dst, src, n);
            }
        }
    }
}

static void test_memmove_overlap_examples(void **state)
{
    (void)state;
    /* Shift right by two (dst above src): a naive forward copy would
     * smear "ab" over the whole string. */
    char right[] = "abcdef";
    libk_memmove(right + 2, right, 4);
    assert_string_equal(right, "ababcd");

    /* Shift left by two (dst below src): a naive backward copy fails. */
    char left[] = "abcdef";
    libk_memmove(left, left + 2, 4);
    assert_string_equal(left, "cdefef");
}

static void test_memset_fills_and_returns_dst(void **state)
{
    (void)state;
    unsigned char buf[16];

    memset(buf, 0, sizeof(buf));
    assert_ptr_equal(libk_memset(buf + 2, 0x5A, 10), buf + 2);
    for (size_t i = 0; i < sizeof(buf); i++)
        assert_int_equal(buf[i], i >= 2 && i < 12 ? 0x5A : 0);
}

static void test_memset_converts_to_unsigned_char(void **state)
{
    (void)state;
    unsigned char buf[4] = {0};

    /* Only the low byte of the int counts: 0x1FF and -1 both give 0xFF. */
    libk_memset(buf, 0x1FF, 2);
    libk_memset(buf + 2, -1, 1);
    assert_int_equal(buf[0], 0xFF);
    assert_int_equal(buf[1], 0xFF);
    assert_int_equal(buf[2], 0xFF);
    assert_int_equal(buf[3], 0);
}

static void test_memset_zero_length(void **state)
{
    (void)state;
    unsigned char buf[2] = {7, 7};

    assert_ptr_equal(libk_memset(buf, 0, 0), buf);
    assert_int_equal(buf[0], 7);
}

static void test_memcmp(void **state)
{
    (void)state;
    const unsigned char a[] = {1, 2, 3, 4};
    const unsigned char b[] = {1, 2, 9, 0};
    const unsigned char high[] = {0x80};
    const unsigned char low[] = {0x01};

    assert_int_equal(libk_memcmp(a, a, sizeof(a)), 0);
    assert_int_equal(libk_memcmp(a, b, 2), 0); /* equal prefix */
    assert_int_equal(libk_memcmp(a, b, 0), 0); /* n == 0 */
    assert_true(libk_memcmp(a, b, 3) < 0);     /* 3 < 9 */
    assert_true(libk_memcmp(b, a, 4) > 0);
    /* Bytes compare as unsigned char: 0x80 is greater than 0x01 even
     * though (signed) char would make it negative. */
    assert_true(libk_memcmp(high, low, 1) > 0);
    assert_int_equal(sign_of(libk_memcmp(high, low, 1)), sign_of(memcmp(high, low, 1)));
    /* Bytes after the first difference do not matter. */
    assert_true(libk_memcmp(b, a, 3) > 0);
}

/* ==== string functions ================================================ */

static void test_strlen(void **state)
{
    (void)state;
    const char embedded[] = "ab\0cd";

    assert_int_equal(libk_strlen(""), 0);
    assert_int_equal(libk_strlen("a"), 1);
    assert_int_equal(libk_strlen("hello, world"), 12);
    assert_int_equal(libk_strlen(embedded), 2); /* stops at the first NUL */
}

static void test_strnlen(void **state)
{
    (void)state;
    /* Not NUL-terminated: strnlen must not look past max bytes. */
    const char unterminated[3] = {'x', 'y', 'z'};

    assert_int_equal(libk_strnlen("hello", 0), 0);
    assert_int_equal(libk_strnlen("hello", 3), 3);
    assert_int_equal(libk_strnlen("hello", 5), 5);
    assert_int_equal(libk_strnlen("hello", 100), 5);
    assert_int_equal(libk_strnlen("", 10), 0);
    assert_int_equal(libk_strnlen(unterminated, sizeof(unterminated)), 3);
}

static void test_strcmp(void **state)
{
    (void)state;
    /* Pairs checked against the host's strcmp for the sign. */
    static const char *const pairs[][2] = {
        {"", ""},
        {"a", ""},
        {"", "a"},
        {"abc", "abc"},
        {"abc", "abd"},
        {"abd", "abc"},
        {"ab", "abc"},
        {"abc", "ab"},
        /* Bytes above 0x7F: an unsigned comparison. */
        {"\x80", "\x01"},
        {"a\xff", "a\x7f"},
    };

    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        const char *a = pairs[i][0];
        const char *b = pairs[i][1];
        assert_int_equal(sign_of(libk_strcmp(a, b)), sign_of(strcmp(a, b)));
    }
    assert_true(libk_strcmp("\x80", "a") > 0);
    assert_true(libk_strcmp("ab", "abc") < 0);
}

static void test_strncmp(void **state)
{
    (void)state;
    assert_int_equal(libk_strncmp("abc", "xyz", 0), 0);   /* n == 0 */
    assert_int_equal(libk_strncmp("abcX", "abcY", 3), 0); /* stops at n */
    assert_true(libk_strncmp("abcX", "abcY", 4) < 0);
    assert_int_equal(libk_strncmp("ab", "ab", 100), 0); /* stops at NUL */
    assert_true(libk_strncmp("ab", "abc", 3) < 0);
    assert_true(libk_strncmp("abc", "ab", 3) > 0);
    assert_true(libk_strncmp("\x80", "\x01", 1) > 0);
    assert_int_equal(libk_strncmp("", "", 5), 0);
    /* Bytes after a common NUL are not compared. */
    assert_int_equal(libk_strncmp("a\0x", "a\0y", 3), 0);
}

static void test_strchr(void **state)
{
    (void)state;
    const char *s = "hello";

    assert_ptr_equal(libk_strchr(s, 'l'), s + 2); /* first match */
    assert_ptr_equal(libk_strchr(s, 'h'), s);
    assert_ptr_equal(libk_strchr(s, 'z'), NULL);
    assert_ptr_equal(libk_strchr(s, '\0'), s + 5); /* the terminator */
    assert_ptr_equal(libk_strchr("", 'a'), NULL);
    assert_ptr_equal(libk_strchr(s, 'o' + 256), s + 4); /* c is cut to char */
    const char *high = "a\xe9z";
    assert_ptr_equal(libk_strchr(high, 0xe9), high + 1); /* int 0xe9 vs char */
}

static void test_strrchr(void **state)
{
    (void)state;
    const char *s = "hello";

    assert_ptr_equal(libk_strrchr(s, 'l'), s + 3); /* last match */
    assert_ptr_equal(libk_strrchr(s, 'h'), s);
    assert_ptr_equal(libk_strrchr(s, 'z'), NULL);
    assert_ptr_equal(libk_strrchr(s, '\0'), s + 5);
    const char *empty = "";
    assert_ptr_equal(libk_strrchr(empty, '\0'), empty);
    assert_ptr_equal(libk_strrchr(empty, 'a'), NULL);
}

static void test_strstr(void **state)
{
    (void)state;
    const char *s = "abracadabra";

    assert_ptr_equal(libk_strstr(s, "abra"), s);
    assert_ptr_equal(libk_strstr(s, "cad"), s + 4);
    assert_ptr_equal(libk_strstr(s, "bra"), s + 1);
    assert_ptr_equal(libk_strstr(s, "ra"), s + 2);
    assert_ptr_equal(libk_strstr(s, "a"), s);
    assert_ptr_equal(libk_strstr(s, "dabra"), s + 6); /* at the very end */
    assert_ptr_equal(libk_strstr(s, "abrax"), NULL);
    assert_ptr_equal(libk_strstr(s, "abracadabraX"), NULL); /* longer */
    assert_ptr_equal(libk_strstr(s, ""), s);                /* empty needle */
    const char *empty = "";
    assert_ptr_equal(libk_strstr(empty, ""), empty);
    assert_ptr_equal(libk_strstr(empty, "a"), NULL);
    /* A partial match must not skip the real one that starts inside it. */
    const char *tricky = "aaab";
    assert_ptr_equal(libk_strstr(tricky, "aab"), tricky + 1);
}

static void test_align_up_and_down(void **state)
{
    (void)state;
    assert_int_equal(align_down(0, 4096), 0);
    assert_int_equal(align_up(0, 4096), 0);
    assert_int_equal(align_down(4095, 4096), 0);
    assert_int_equal(align_up(1, 4096), 4096);
    assert_int_equal(align_up(4096, 4096), 4096);
    assert_int_equal(align_down(4097, 4096), 4096);
    assert_int_equal(align_up(4097, 4096), 8192);
    assert_int_equal(align_up(17, 8), 24); /* sectors, as mkimage */
    assert_int_equal(align_up(0x100000001ull, 0x200000), 0x100200000ull);
    assert_int_equal(align_down(UINT64_MAX, 16), UINT64_MAX - 15);
}

static void test_strlcpy(void **state)
{
    (void)state;
    char buf[8];

    /* Fits: copied whole, result is the source length. */
    memset(buf, 'X', sizeof(buf));
    assert_int_equal(libk_strlcpy(buf, "abc", sizeof(buf)), 3);
    assert_string_equal(buf, "abc");
    assert_int_equal(buf[4], 'X'); /* nothing written past the NUL */

    /* Exactly fills the buffer. */
    assert_int_equal(libk_strlcpy(buf, "1234567", sizeof(buf)), 7);
    assert_string_equal(buf, "1234567");

    /* Too long: truncated and terminated; the result reveals it. */
    memset(buf, 'X', sizeof(buf));
    assert_int_equal(libk_strlcpy(buf, "abcdefghijkl", sizeof(buf)), 12);
    assert_string_equal(buf, "abcdefg");

    /* size 1: only the terminator fits. */
    memset(buf, 'X', sizeof(buf));
    assert_int_equal(libk_strlcpy(buf, "abc", 1), 3);
    assert_int_equal(buf[0], '\0');
    assert_int_equal(buf[1], 'X');

    /* size 0: dst is not touched at all (it may even be NULL). */
    memset(buf, 'X', sizeof(buf));
    assert_int_equal(libk_strlcpy(buf, "abc", 0), 3);
    assert_int_equal(buf[0], 'X');
    assert_int_equal(libk_strlcpy(NULL, "abc", 0), 3);

    /* Empty source. */
    assert_int_equal(libk_strlcpy(buf, "", sizeof(buf)), 0);
    assert_string_equal(buf, "");
}

/* ==== printf: libk against the host =================================== */

/* Both outputs land in buffers of this size, surrounded by guard bytes. */
#define FORMAT_BUF_SIZE 256
#define GUARD_SIZE 16
#define GUARD_BYTE 0x5C

/*
 * Formats with the host's vsnprintf and with libk_vsnprintf into buffers of
 * `size` bytes and checks that the return values and every byte of the
 * buffers (including what lies after the NUL and the guard areas around the
 * buffer) are the same. file and line name the caller in the message.
 */
static void check_vformat(const char *file, int line, size_t size, const char *fmt, va_list ap)
{
    unsigned char host[GUARD_SIZE + FORMAT_BUF_SIZE + GUARD_SIZE];
    unsigned char ours[sizeof(host)];
    va_list host_ap;

    assert_true(size <= FORMAT_BUF_SIZE);
    memset(host, GUARD_BYTE, sizeof(host));
    memset(ours, GUARD_BYTE, sizeof(ours));

    va_copy(host_ap, ap);
    int host_len = vsnprintf((char *)host + GUARD_SIZE, size, fmt, host_ap);
    va_end(host_ap);
    int our_len = libk_vsnprintf((char *)ours + GUARD_SIZE, size, fmt, ap);

    if (host_len != our_len || memcmp(host, ours, sizeof(host)) != 0) {
        fail_msg("%s:%d: format \"%s\", size %zu:\n"
                 "  host: \"%.*s\" returned %d\n"
                 "  libk: \"%.*s\" returned %d",
                 file, line, fmt, size, (int)size, (char *)host + GUARD_SIZE, host_len, (int)size,
                 (char *)ours + GUARD_SIZE, our_len);
    }
}

static void check_format_sized(const char *file, int line, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void check_format_sized(const char *file, int line, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    check_vformat(file, line, size, fmt, ap);
    va_end(ap);
}

/* CHECK(fmt, args...): libk and host must agree with a roomy buffer.
 * CHECK_SIZED(size, fmt, args...): the same with a buffer of `size` bytes. */
#define CHECK(...) check_format_sized(__FILE__, __LINE__, FORMAT_BUF_SIZE, __VA_ARGS__)
#define CHECK_SIZED(size, ...) check_format_sized(__FILE__, __LINE__, (size), __VA_ARGS__)

/* Also compare against a fixed expectation, for behaviour we promise
 * regardless of what the host does. */
static void expect_format(const char *expected, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void expect_format(const char *expected, const char *fmt, ...)
{
    char buf[FORMAT_BUF_SIZE];
    va_list ap;

    va_start(ap, fmt);
    int len = libk_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    assert_string_equal(buf, expected);
    assert_int_equal(len, strlen(expected));
}

static void test_printf_plain_text(void **state)
{
    (void)state;
    CHECK("%s", "");
    CHECK("hello, world");
    CHECK("100%% sure, %%%%");
    CHECK("tab\tnewline\n");
    expect_format("", "%s", "");
    expect_format("50%", "50%%");
}

static void test_printf_decimal(void **state)
{
    (void)state;
    CHECK("%d", 0);
    CHECK("%d", 1);
    CHECK("%d", -1);
    CHECK("%d %i", 12345, -67890);
    CHECK("%u", 0u);
    CHECK("%u", 4000000000u);
    CHECK("%d", INT_MAX);
    CHECK("%d", INT_MIN);
    CHECK("%u", UINT_MAX);
    CHECK("[%d|%d|%d]", 7, -8, 9);
    expect_format("-2147483648", "%d", INT_MIN);
}

static void test_printf_octal_and_hex(void **state)
{
    (void)state;
    CHECK("%o", 0u);
    CHECK("%o", 8u);
    CHECK("%o", 0777u);
    CHECK("%x", 0u);
    CHECK("%x", 0xdeadbeefu);
    CHECK("%X", 0xdeadbeefu);
    CHECK("%x", UINT_MAX);
    CHECK("%o", UINT_MAX);
    CHECK("%#o", 0u);
    CHECK("%#o", 8u);
    CHECK("%#o", 01234u);
    CHECK("%#x", 0u); /* no 0x for zero */
    CHECK("%#X", 0u);
    CHECK("%#x", 255u);
    CHECK("%#X", 255u);
    CHECK("%#.0o", 0u); /* '#' still forces a single 0 */
    CHECK("%#.0x", 0u); /* nothing at all */
    CHECK("%#.3o", 8u); /* precision already gives the leading 0 */
    CHECK("%#5o", 8u);
    CHECK("%#08x", 255u); /* zeros go after the 0x */
    CHECK("%#-8x|", 255u);
    CHECK("%#.4x", 255u);
    expect_format("0", "%#x", 0u);
    expect_format("0xff", "%#x", 255u);
}

static void test_printf_flags(void **state)
{
    (void)state;
    CHECK("%+d", 5);
    CHECK("%+d", -5);
    CHECK("%+d", 0);
    CHECK("% d", 5);
    CHECK("% d", -5);
    CHECK("% d", 0);
    CHECK("%-5d|", 42);
    CHECK("%-5d|", -42);
    CHECK("%05d", 42);
    CHECK("%05d", -42);
    CHECK("%+05d", 42);
    CHECK("% 05d", 42);
    CHECK("%05u", 42u);
    CHECK("%05x", 0xabu);
    CHECK("%+-6d|", 3);
    CHECK("%-+6d|", 3);
}

/* C gives these flag combinations a meaning (one flag is ignored), but GCC
 * warns about them because they usually are mistakes. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
static void test_printf_overridden_flags(void **state)
{
    (void)state;
    CHECK("%-08d|", 42); /* '-' beats '0' */
    CHECK("%-08d|", -42);
    CHECK("% +d", 42); /* '+' beats ' ' */
    CHECK("%+ d", -42);
    CHECK("%08.3d", 42); /* a precision turns '0' off */
    CHECK("%-#08x|", 255u);
    CHECK("%--5d|", 1); /* repeated flags are harmless */
    CHECK("%00005d", 1);
    CHECK("%+u", 7u); /* '+' and ' ' only affect signed numbers */
    CHECK("% x", 7u);
    CHECK("%+o", 7u);
    expect_format("42      |", "%-08d|", 42);
}
#pragma GCC diagnostic pop

static void test_printf_width(void **state)
{
    (void)state;
    CHECK("%5d|", 123);
    CHECK("%2d|", 12345); /* too narrow: never truncates */
    CHECK("%1d|", 0);
    CHECK("%10s|", "abc");
    CHECK("%-10s|", "abc");
    CHECK("%3c|", 'x');
    CHECK("%-3c|", 'x');
    CHECK("%*d|", 6, 42);
    CHECK("%*d|", -6, 42); /* negative width: '-' plus 6 */
    CHECK("%-*d|", -6, 42);
    CHECK("%*d|", 0, 42);
    CHECK("%*s|", -8, "left");
    CHECK("%0*d", 5, -3);
    CHECK("%*d|%*d|", 3, 1, -3, 2);
    expect_format("42    |", "%*d|", -6, 42);
}

static void test_printf_precision(void **state)
{
    (void)state;
    CHECK("%.3d", 7);
    CHECK("%.3d", -7);
    CHECK("%+.3d", 7);
    CHECK("%+.3d", -7);
    CHECK("%.3d", 12345); /* precision is a minimum, not a maximum */
    CHECK("%.0d", 0);     /* zero with zero precision: no digits */
    CHECK("%.0d", 1);
    CHECK("%+.0d", 0); /* only the sign is left */
    CHECK("% .0d|", 0);
    CHECK("%5.0d|", 0);
    CHECK("%.d", 0); /* '.' alone means precision 0 */
    CHECK("%.0u %.0x %.0o", 0u, 0u, 0u);
    CHECK("%8.5d|", -42);
    CHECK("%-8.5d|", 42);
    CHECK("%.10x", 0xabcu);
    CHECK("%.*d", 4, 9);
    CHECK("%.*d", -4, 9); /* negative precision: as if none */
    CHECK("%.*d", -1, 0);
    CHECK("%*.*d|", 8, 4, -9);
    CHECK("%-*.*d|", -8, 4, 9);
    CHECK("%.60d", 1); /* more zeros than any digit buffer */
    expect_format("", "%.0d", 0);
    expect_format("+007", "%+.3d", 7);
}

static void test_printf_strings(void **state)
{
    (void)state;
    const char unterminated[3] = {'a', 'b', 'c'};

    CHECK("%s", "hello");
    CHECK("[%s]", "");
    CHECK("%.2s", "hello");
    CHECK("%.0s|", "hello");
    CHECK("%.10s", "hello");
    CHECK("%8.3s|", "hello");
    CHECK("%-8.3s|", "hello");
    CHECK("%.*s", 3, "hello");
    CHECK("%.*s", -3, "hello");
    /* With a precision the argument need not be NUL-terminated. */
    CHECK("%.3s", unterminated);
    CHECK("%s|%s", "one", "two");
    /* NULL prints "(null)", like glibc; with a precision below 6 glibc
     * prints nothing rather than a cut-off "(nu". The null pointer goes
     * through a volatile variable: GCC rejects a visible NULL for %s. */
    char *volatile null_string = NULL;
    CHECK("%s", null_string);
    CHECK("%10s|", null_string);
    CHECK("%-10s|", null_string);
    CHECK("%.6s", null_string);
    CHECK("%.3s|", null_string);
    expect_format("(null)", "%s", null_string);
}

static void test_printf_chars(void **state)
{
    (void)state;
    CHECK("%c", 'a');
    CHECK("%c%c%c", 'x', 'y', 'z');
    CHECK("%c", 0xe9);      /* high byte: passed as int, printed as byte */
    CHECK("%c", 'a' + 256); /* only the low byte counts */
    CHECK("[%5c]", '!');
    CHECK("[%-5c]", '!');
    /* %c with 0 writes a NUL into the middle of the output and counts it;
     * check_vformat compares the whole buffer, so this is checked too. */
    CHECK("a%cb", 0);
}

static void test_printf_pointers(void **state)
{
    (void)state;
    int object;

    CHECK("%p", (void *)&object);
    CHECK("%p", (void *)0x1);
    CHECK("%p", (void *)0xdeadbeef);
    CHECK("%p", (void *)UINTPTR_MAX);
    CHECK("%p", (void *)NULL);
    CHECK("%20p|", (void *)0x1234);
    CHECK("%-20p|", (void *)0x1234);
    CHECK("%10p|", (void *)NULL);
    CHECK("%-10p|", (void *)NULL);
    expect_format("0x1234", "%p", (void *)0x1234);
    expect_format("0xffffffffffffffff", "%p", (void *)UINTPTR_MAX);
    expect_format("(nil)", "%p", (void *)NULL);
}

static void test_printf_length_modifiers(void **state)
{
    (void)state;
    CHECK("%hhd %hhd", (signed char)-128, (signed char)127);
    CHECK("%hhu %hhx", (unsigned char)255, (unsigned char)0xab);
    CHECK("%hd %hd", (short)-32768, (short)32767);
    CHECK("%hu %hx", (unsigned short)65535, (unsigned short)0xbeef);
    CHECK("%ld", LONG_MIN);
    CHECK("%ld", LONG_MAX);
    CHECK("%lu", ULONG_MAX);
    CHECK("%lx", 0x123456789abcdefUL);
    CHECK("%lld", LLONG_MIN);
    CHECK("%lld", LLONG_MAX);
    CHECK("%llu", ULLONG_MAX);
    CHECK("%llx", ULLONG_MAX);
    CHECK("%llX", 0xfedcba9876543210ULL);
    CHECK("%llo", ULLONG_MAX); /* the longest output: 22 digits */
    CHECK("%#llo", ULLONG_MAX);
    CHECK("%lli", -1LL);
    CHECK("%zu", (size_t)0);
    CHECK("%zu", SIZE_MAX);
    CHECK("%zx", (size_t)0xabcdef);
    CHECK("%zd", (ptrdiff_t)-5);
    CHECK("%jd", INTMAX_MIN);
    CHECK("%jd", INTMAX_MAX);
    CHECK("%ju", UINTMAX_MAX);
    CHECK("%td", PTRDIFF_MIN);
    CHECK("%td", PTRDIFF_MAX);
    CHECK("%tx", (ptrdiff_t)255);
    /* A wide argument followed by narrower ones: each consumes its own
     * amount of the argument list. */
    CHECK("%lld %d %hhd %s", LLONG_MIN, 1, (signed char)2, "end");
    expect_format("-9223372036854775808", "%lld", LLONG_MIN);
    expect_format("18446744073709551615", "%llu", ULLONG_MAX);
}

/* hh and h receive an int (the promoted argument) and must cut it down to
 * char or short before printing. Passing values that do not fit is exactly
 * the point here, so silence the compilers' warnings about it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
static void test_printf_narrowing(void **state)
{
    (void)state;
    CHECK("%hhd", 300); /* 300 as signed char is 44 */
    CHECK("%hhd", 200); /* ... and 200 is -56 */
    CHECK("%hhu", 300);
    CHECK("%hhx", -1);
    CHECK("%hhi", INT_MIN);
    CHECK("%hd", 70000);
    CHECK("%hd", -32769);
    CHECK("%hu", 70000);
    CHECK("%hx", 0x12345);
    CHECK("%hu", -1);
    expect_format("44", "%hhd", 300);
    expect_format("-56", "%hhd", 200);
}
#pragma GCC diagnostic pop

static void test_printf_mixed(void **state)
{
    (void)state;
    CHECK("%s=%d (%#x) at %p", "irq", 14, 14u, (void *)0xb8000);
    CHECK("[%-10s|%10s|%-5d|%5d]", "left", "right", -1, 1);
    CHECK("%c%s%c %+d%%", '<', "mid", '>', 99);
    CHECK("%8.3x|%-#10o|%+i", 0x1fu, 8u, 0);
}

/* %n stores the number of characters produced so far; it produces no
 * output itself. Compare with what the host stores for the same format. */
static void test_printf_percent_n(void **state)
{
    (void)state;
    char host_buf[64];
    char our_buf[64];
    int host_n = -1, our_n = -1;
    signed char host_hh = -1, our_hh = -1;
    short host_h = -1, our_h = -1;
    long host_l = -1, our_l = -1;
    long long host_ll = -1, our_ll = -1;
    size_t host_z = 0, our_z = 0;

    int host_len = snprintf(host_buf, sizeof(host_buf), "abc%n%5d%hhn|%s%hn%ln%-4c%lln.%zn",
                            &host_n, 42, &host_hh, "xy", &host_h, &host_l, 'q', &host_ll, &host_z);
    int our_len = libk_snprintf(our_buf, sizeof(our_buf), "abc%n%5d%hhn|%s%hn%ln%-4c%lln.%zn",
                                &our_n, 42, &our_hh, "xy", &our_h, &our_l, 'q', &our_ll, &our_z);

    assert_string_equal(our_buf, host_buf);
    assert_int_equal(our_len, host_len);
    assert_int_equal(our_n, 3);
    assert_int_equal(our_n, host_n);
    assert_int_equal(our_hh, host_hh);
    assert_int_equal(our_h, host_h);
    assert_int_equal(our_l, host_l);
    assert_int_equal(our_ll, host_ll);
    assert_int_equal(our_z, host_z);

    /* %n counts what would have been written, even past a full buffer. */
    char tiny[4];
    our_n = -1;
    assert_int_equal(libk_snprintf(tiny, sizeof(tiny), "0123456789%n", &our_n), 10);
    assert_int_equal(our_n, 10);
    assert_string_equal(tiny, "012");
}

/* Truncation: C99 writes at most `size` bytes including the NUL and returns
 * the length of the full output. check_vformat compares all bytes, so it
 * also catches writes past the end of the buffer. */
static void test_printf_truncation(void **state)
{
    (void)state;
    for (size_t size = 0; size <= 14; size++) {
        CHECK_SIZED(size, "hello, world");
        CHECK_SIZED(size, "%d|%s", -12345, "abc");
        CHECK_SIZED(size, "%8x", 0xbeefu);
        CHECK_SIZED(size, "%-8s|", "ab");
        CHECK_SIZED(size, "%p", (void *)0x12345);
        CHECK_SIZED(size, "%lld", LLONG_MIN);
    }

    char buf[8];
    memset(buf, 'X', sizeof(buf));
    /* size 1: only the NUL fits. */
    assert_int_equal(libk_snprintf(buf, 1, "%s", "abc"), 3);
    assert_int_equal(buf[0], '\0');
    assert_int_equal(buf[1], 'X');
    /* size 0: nothing is written at all. */
    memset(buf, 'X', sizeof(buf));
    assert_int_equal(libk_snprintf(buf, 0, "%s", "abc"), 3);
    assert_int_equal(buf[0], 'X');
    /* Cut in the middle of a number. */
    assert_int_equal(libk_snprintf(buf, 4, "%d", 123456), 6);
    assert_string_equal(buf, "123");
}

/* size 0 with a NULL buffer is the standard way to ask how long the output
 * would be before allocating space for it. */
static void test_printf_null_buffer_measures(void **state)
{
    (void)state;
    assert_int_equal(libk_snprintf(NULL, 0, "hello"), 5);
    assert_int_equal(libk_snprintf(NULL, 0, "%s", ""), 0);
    assert_int_equal(libk_snprintf(NULL, 0, "%d %s %p", -100, "xyz", (void *)0xabc),
                     snprintf(NULL, 0, "%d %s %p", -100, "xyz", (void *)0xabc));
    assert_int_equal(libk_snprintf(NULL, 0, "%.100d", 1), 100);
}

static void test_printf_return_value(void **state)
{
    (void)state;
    char buf[32];

    assert_int_equal(libk_snprintf(buf, sizeof(buf), "%s", ""), 0);
    assert_int_equal(libk_snprintf(buf, sizeof(buf), "abc"), 3);
    assert_int_equal(libk_snprintf(buf, sizeof(buf), "%5d", 1), 5);
    assert_int_equal(libk_snprintf(buf, sizeof(buf), "%llu", ULLONG_MAX), 20);
    /* Longer than the buffer: still the full length. */
    assert_int_equal(libk_snprintf(buf, sizeof(buf), "%100d", 1), 100);
    assert_int_equal(strlen(buf), sizeof(buf) - 1);
    /* The NUL that %c can produce counts as a character. */
    assert_int_equal(libk_snprintf(buf, sizeof(buf), "%c", 0), 1);
}

/* libk_vsnprintf is also used directly (the kernel's printk will wrap it);
 * make sure a va_list passed in is consumed correctly. */
static int call_libk_vsnprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int call_libk_vsnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int len = libk_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return len;
}

static void test_vsnprintf_va_list(void **state)
{
    (void)state;
    char buf[64];

    assert_int_equal(call_libk_vsnprintf(buf, sizeof(buf), "%d-%s-%llx", 1, "two", 0x3ULL), 7);
    assert_string_equal(buf, "1-two-3");
}

/* ==== test list and main ============================================== */

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_memcpy_copies_and_returns_dst),
    cmocka_unit_test(test_memcpy_zero_length_touches_nothing),
    cmocka_unit_test(test_memmove_all_overlaps),
    cmocka_unit_test(test_memmove_overlap_examples),
    cmocka_unit_test(test_memset_fills_and_returns_dst),
    cmocka_unit_test(test_memset_converts_to_unsigned_char),
    cmocka_unit_test(test_memset_zero_length),
    cmocka_unit_test(test_memcmp),
    cmocka_unit_test(test_strlen),
    cmocka_unit_test(test_strnlen),
    cmocka_unit_test(test_strcmp),
    cmocka_unit_test(test_strncmp),
    cmocka_unit_test(test_strchr),
    cmocka_unit_test(test_strrchr),
    cmocka_unit_test(test_strstr),
    cmocka_unit_test(test_align_up_and_down),
    cmocka_unit_test(test_strlcpy),
    cmocka_unit_test(test_printf_plain_text),
    cmocka_unit_test(test_printf_decimal),
    cmocka_unit_test(test_printf_octal_and_hex),
    cmocka_unit_test(test_printf_flags),
    cmocka_unit_test(test_printf_overridden_flags),
    cmocka_unit_test(test_printf_width),
    cmocka_unit_test(test_printf_precision),
    cmocka_unit_test(test_printf_strings),
    cmocka_unit_test(test_printf_chars),
    cmocka_unit_test(test_printf_pointers),
    cmocka_unit_test(test_printf_length_modifiers),
    cmocka_unit_test(test_printf_narrowing),
    cmocka_unit_test(test_printf_mixed),
    cmocka_unit_test(test_printf_percent_n),
    cmocka_unit_test(test_printf_truncation),
    cmocka_unit_test(test_printf_null_buffer_measures),
    cmocka_unit_test(test_printf_return_value),
    cmocka_unit_test(test_vsnprintf_va_list),
};

int main(int argc, char **argv)
{
    return unit_main(tests, sizeof tests / sizeof tests[0], argc, argv);
}
