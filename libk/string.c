/*
 * string.c - memory and string functions for freestanding code.
 *
 * Every function here is a plain byte-at-a-time loop. That is slower than a
 * C library's word-sized or SIMD versions, but it is obviously correct, works
 * for any alignment and needs no SSE registers (the kernel is compiled with
 * -mgeneral-regs-only). Performance can come later, behind the same API.
 *
 * Comparisons go through unsigned char: the C standard defines the sign of
 * memcmp/strcmp results by the bytes read as unsigned char, and plain char
 * is signed on x86, so comparing chars directly would order 0x80 before 'a'.
 */
#include <libk/string.h>

#include <stdint.h>

void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    while (n-- > 0)
        *d++ = *s++;
    return dst;
}

/*
 * memmove allows the two regions to overlap, so the copy direction matters:
 * when dst lies below src a forward copy reads every byte before it is
 * overwritten; when dst lies above src only a backward copy does.
 * The addresses are compared as integers because comparing pointers into
 * different objects with < is undefined in C.
 */
void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    if ((uintptr_t)d < (uintptr_t)s) {
        while (n-- > 0)
            *d++ = *s++;
    } else if ((uintptr_t)d > (uintptr_t)s) {
        d += n;
        s += n;
        while (n-- > 0)
            *--d = *--s;
    }
    /* d == s: nothing to do. */
    return dst;
}

void *memset(void *dst, int byte, size_t n)
{
    unsigned char *d = dst;

    /* The standard says the int is converted to unsigned char. */
    while (n-- > 0)
        *d++ = (unsigned char)byte;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a;
    const unsigned char *y = b;

    for (; n > 0; n--, x++, y++) {
        if (*x != *y)
            return *x - *y;
    }
    return 0;
}

size_t strlen(const char *s)
{
    const char *p = s;

    while (*p != '\0')
        p++;
    return (size_t)(p - s);
}

/* Like strlen, but never reads more than max bytes: s need not be
 * NUL-terminated (printf's "%.3s" relies on this). */
size_t strnlen(const char *s, size_t max)
{
    size_t len = 0;

    while (len < max && s[len] != '\0')
        len++;
    return len;
}

int strcmp(const char *a, const char *b)
{
    const unsigned char *x = (const unsigned char *)a;
    const unsigned char *y = (const unsigned char *)b;

    /* Stop at the first difference or when both strings end together. */
    while (*x != '\0' && *x == *y) {
        x++;
        y++;
    }
    return *x - *y;
}

int strncmp(const char *a, const char *b, size_t n)
{
    const unsigned char *x = (const unsigned char *)a;
    const unsigned char *y = (const unsigned char *)b;

    for (; n > 0; n--, x++, y++) {
        if (*x != *y)
            return *x - *y;
        if (*x == '\0')
            return 0; /* both ended at the same place */
    }
    return 0;
}

/*
 * c is converted to char, and the terminating NUL counts as part of the
 * string, so strchr(s, '\0') returns a pointer to the terminator.
 * The result drops the const of s: that is the standard's signature.
 */
char *strchr(const char *s, int c)
{
    const char wanted = (char)c;

    for (;; s++) {
        if (*s == wanted)
            return (char *)s;
        if (*s == '\0')
            return NULL;
    }
}

char *strrchr(const char *s, int c)
{
    const char wanted = (char)c;
    const char *last = NULL;

    /* Scan the whole string, remembering the latest match; the do-while
     * also inspects the terminator so that c == '\0' is found. */
    do {
        if (*s == wanted)
            last = s;
    } while (*s++ != '\0');
    return (char *)last;
}

/*
 * The simple quadratic search: try every starting position in haystack.
 * Kernel strings are short, so a clever algorithm would not pay off.
 * An empty needle matches at the very start, as the standard requires.
 */
char *strstr(const char *haystack, const char *needle)
{
    size_t needle_len = strlen(needle);

    if (needle_len == 0)
        return (char *)haystack;
    for (; *haystack != '\0'; haystack++) {
        if (strncmp(haystack, needle, needle_len) == 0)
            return (char *)haystack;
    }
    return NULL;
}

size_t strlcpy(char *dst, const char *src, size_t size)
{
    size_t src_len = strlen(src);

    if (size > 0) {
        /* Leave room for the NUL that always terminates dst. */
        size_t copy_len = src_len < size - 1 ? src_len : size - 1;

        memcpy(dst, src, copy_len);
        dst[copy_len] = '\0';
    }
    return src_len;
}
