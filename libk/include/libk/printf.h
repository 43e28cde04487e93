/* printf.h - formatted output into a buffer, C99 semantics.
 * Conversions: d i u o x X c s p n %; flags - + space # 0; width and
 * precision (also as *); length modifiers hh h l ll z j t. No floating point:
 * the kernel is built with -mgeneral-regs-only. */
#ifndef LIBK_PRINTF_H
#define LIBK_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

/* Like C99 vsnprintf: writes at most size bytes including the NUL and
 * returns the length the full output would have had. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
