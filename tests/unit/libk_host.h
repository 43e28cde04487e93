/*
 * libk_host.h - libk as the host unit tests see it.
 *
 * libk/Makefile builds $(BUILD)/host/libk/libk_host.a from the same sources
 * as the kernel's libk.a and then renames every symbol with objcopy
 * --prefix-symbols=libk_. So libk's memcpy is libk_memcpy here, and a test
 * can call libk_snprintf and the host C library's snprintf side by side.
 *
 * These declarations must match libk/include/libk/string.h, printf.h and
 * memory_map.h with the prefix added. (string.h and printf.h cannot be
 * included directly: their unprefixed names would clash with the host's
 * <string.h> and <stdio.h>.)
 */
#ifndef LIBK_HOST_H
#define LIBK_HOST_H

#include <stdarg.h>
#include <stddef.h>

void *libk_memcpy(void *dst, const void *src, size_t n);
void *libk_memmove(void *dst, const void *src, size_t n);
void *libk_memset(void *dst, int byte, size_t n);
int libk_memcmp(const void *a, const void *b, size_t n);

size_t libk_strlen(const char *s);
size_t libk_strnlen(const char *s, size_t max);
int libk_strcmp(const char *a, const char *b);
int libk_strncmp(const char *a, const char *b, size_t n);
char *libk_strchr(const char *s, int c);
char *libk_strrchr(const char *s, int c);
char *libk_strstr(const char *haystack, const char *needle);
size_t libk_strlcpy(char *dst, const char *src, size_t size);

/* The format attributes let the compiler check the tests' format strings
 * against their arguments, exactly as it does for the kernel's callers. */
int libk_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
int libk_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* libk/include/libk/memory_map.h clashes with nothing on the host, so its
 * structure and type numbers are used as they are; only the functions get
 * the prefix. */
#include <libk/memory_map.h>

size_t libk_memory_map_sanitise(const struct memory_range *in, size_t in_count,
                                struct memory_range *out, size_t out_capacity);
const char *libk_memory_type_name(uint32_t type);

#endif
