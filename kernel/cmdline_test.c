/*
 * cmdline_test.c - the command line into struct kernel_options: whole
 * words, NAME=VALUE words, values cut to fit.
 */
#include <libk/string.h>

#include "cmdline.h"
#include "ktest/ktest.h"

KTEST(cmdline_empty_asks_for_nothing)
{
    struct kernel_options o;
    kernel_options_parse("", &o);
    KASSERT(!o.qemu_exit && !o.panic_test && !o.provoke_fault && !o.run_tests &&
            !o.memory_selftest);
}

KTEST(cmdline_flags_are_whole_words)
{
    struct kernel_options o;
    kernel_options_parse("  panic-test   qemu-exit ", &o);
    KASSERT(o.qemu_exit);
    KASSERT(o.panic_test);
    kernel_options_parse("qemu-exit-later xqemu-exit testing", &o);
    KASSERT(!o.qemu_exit);
    KASSERT(!o.run_tests);
}

KTEST(cmdline_test_alone_runs_every_test)
{
    struct kernel_options o;
    kernel_options_parse("qemu-exit test", &o);
    KASSERT(o.run_tests);
    KASSERT_EQ(strcmp(o.test_pattern, ""), 0);
}

KTEST(cmdline_values_end_at_a_space)
{
    struct kernel_options o;
    kernel_options_parse("test=heap_ fault=pf memory-selftest=double-free qemu-exit", &o);
    KASSERT(o.run_tests);
    KASSERT_EQ(strcmp(o.test_pattern, "heap_"), 0);
    KASSERT(o.provoke_fault);
    KASSERT_EQ(strcmp(o.fault_kind, "pf"), 0);
    KASSERT(o.memory_selftest);
    KASSERT_EQ(strcmp(o.memory_selftest_name, "double-free"), 0);
    KASSERT(o.qemu_exit);
}

KTEST(cmdline_prefix_counts_only_at_a_word_start)
{
    struct kernel_options o;
    kernel_options_parse("nofault=pf", &o);
    KASSERT(!o.provoke_fault);
    kernel_options_parse("fault=", &o);
    KASSERT(o.provoke_fault);
    KASSERT_EQ(strcmp(o.fault_kind, ""), 0);
}

KTEST(cmdline_long_value_is_cut_to_fit)
{
    struct kernel_options o;
    kernel_options_parse("fault=abcdefghijklmnopqrstuvwxyz", &o);
    KASSERT(o.provoke_fault);
    KASSERT_EQ(strlen(o.fault_kind), sizeof o.fault_kind - 1);
    KASSERT_EQ(memcmp(o.fault_kind, "abcdefghijklmno", sizeof o.fault_kind - 1), 0);
}
