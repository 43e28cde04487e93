/*
 * cmdline.h - the kernel command line, read once.
 *
 * The image builder stores the command line in stage 2 and the loader
 * copies it into boot_info.cmdline: words separated by spaces. main.c
 * parses it once, right after checking the boot information, into a
 * struct kernel_options, and hands each part to whoever needs it; nobody
 * else reads the string.
 */
#ifndef KERNEL_CMDLINE_H
#define KERNEL_CMDLINE_H

#include <stdbool.h>

/* Room for each value, with its NUL; a longer value is cut short. */
#define KERNEL_OPTION_FAULT_KIND_MAX 16
#define KERNEL_OPTION_TEST_PATTERN_MAX 64
#define KERNEL_OPTION_MEMORY_SELFTEST_MAX 32

/* The words this kernel understands; anything else is ignored. */
struct kernel_options {
    bool qemu_exit;     /* qemu-exit: end QEMU when done (qemu_exit.h) */
    bool panic_test;    /* panic-test: panic on purpose once started */
    bool provoke_fault; /* fault=KIND: a CPU exception (cpu/fault_demo.h) */
    char fault_kind[KERNEL_OPTION_FAULT_KIND_MAX];
    bool run_tests;                                    /* test, or test=PATTERN (ktest/ktest.h) */
    char test_pattern[KERNEL_OPTION_TEST_PATTERN_MAX]; /* "" for every test */
    bool memory_selftest; /* memory-selftest=NAME (mm/memory_selftest.h) */
    char memory_selftest_name[KERNEL_OPTION_MEMORY_SELFTEST_MAX];
};

/*
 * Fill *options from `cmdline`, a NUL-terminated string. A flag word
 * counts only as a whole word ("qemu-exit" is not in "qemu-exit-later");
 * a NAME=VALUE word takes the first word with that prefix, its value up to
 * the next space ("fault=" alone asks for the fault kind "").
 */
void kernel_options_parse(const char *cmdline, struct kernel_options *options);

#endif
