/*
 * magic_break.h - MAGIC_BREAK(): a Bochs magic breakpoint in debug builds.
 *
 * Bochs, with "magic_break: enabled=1" in its configuration, stops in its
 * debugger after `xchg bx, bx`, an instruction that changes nothing (not
 * even the flags) anywhere else. `DEBUG_BREAKS=1 ./build.sh bochs` builds
 * the kernel with -DMAGIC_BREAKS (KERNEL_EXTRA_CFLAGS) so that `c` at the
 * Bochs prompt runs from one stage boundary to the next, kernel_main the
 * last; bootloader/magic_break.inc is the loader's half.
 *
 * Without MAGIC_BREAKS the macro is an empty statement and the normal
 * kernel is unchanged.
 */
#ifndef KERNEL_MAGIC_BREAK_H
#define KERNEL_MAGIC_BREAK_H

#ifdef MAGIC_BREAKS
/* "memory": the compiler must not move loads or stores across the break,
 * so memory looks at it as the source says it does. */
#define MAGIC_BREAK() __asm__ volatile("xchg %%bx, %%bx" ::: "memory")
#else
#define MAGIC_BREAK()                                                                              \
    do {                                                                                           \
    } while (0)
#endif

#endif
