/* string.h - memory and string functions for freestanding code.
 * The compiler itself may emit calls to memcpy, memmove, memset and memcmp
 * (struct copies, zeroing), so a freestanding kernel must provide them. */
#ifndef LIBK_STRING_H
#define LIBK_STRING_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int byte, size_t n);
int memcmp(const void *a, const void *b, size_t n);

size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strstr(const char *haystack, const char *needle);
/* Copies at most size-1 bytes and always NUL-terminates (when size > 0);
 * returns strlen(src) so callers can detect truncation. */
size_t strlcpy(char *dst, const char *src, size_t size);

#endif
