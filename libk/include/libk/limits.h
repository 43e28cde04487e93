/* limits.h - the <limits.h> values libk uses, from the compiler's own
 * predefined macros (GCC and clang both define __INT_MAX__ and
 * __CHAR_BIT__).
 *
 * Why not <limits.h>: the kernel and libk are compiled with -nostdinc,
 * seeing only the compiler's freestanding headers, and the limits.h that
 * Debian's host gcc ships is not one of them: it ends in #include_next of
 * the C library's limits.h. A cross compiler's would do, a host compiler's
 * does not. */
#ifndef LIBK_LIMITS_H
#define LIBK_LIMITS_H

#define CHAR_BIT __CHAR_BIT__
#define INT_MAX __INT_MAX__
#define INT_MIN (-INT_MAX - 1)

#endif
