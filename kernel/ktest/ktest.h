/*
 * ktest.h - tests that run inside the real kernel, in QEMU.
 *
 * Write a test anywhere in the kernel:
 *
 *     #include "ktest/ktest.h"
 *
 *     KTEST(frames_never_hand_out_frame_zero)
 *     {
 *         KASSERT(frame_alloc() != 0);
 *         KASSERT_EQ(frames_free_count(), before - 1);
 *     }
 *
 *     KTEST_EXPECT_FAULT(writing_rodata_faults, EXCEPTION_PAGE_FAULT)
 *     {
 *         *(volatile char *)some_rodata_address = 1;   // must fault
 *     }
 *
 * KTEST puts a descriptor of the test in the linker section .ktests, so
 * the runner finds every test without a list to keep up to date. The
 * kernel runs them when its command line says `test` (all tests) or
 * `test=PATTERN` (names containing PATTERN), prints one line per test and
 * a summary, and ends the VM through isa-debug-exit: success when all
 * passed, failure otherwise (kernel/qemu_exit.h). tests/test_ktest.py boots
 * the kernel that way and turns each line into a pytest result.
 *
 * A failed KASSERT ends its test at once (the runner jumps back out of the
 * test) and reports the file, line, expression and, for KASSERT_EQ and
 * friends, both values. An expected-fault test passes when the CPU raises
 * that exception while it runs and fails when it returns normally.
 */
#ifndef KERNEL_KTEST_H
#define KERNEL_KTEST_H

#include <stdbool.h>
#include <stdint.h>

/* No fault expected (an ordinary test). */
#define KTEST_NO_FAULT (-1)

struct ktest {
    const char *name;
    void (*run)(void);
    int expected_fault;     /* CPU exception vector, or KTEST_NO_FAULT */
    const char *file;
    int line;
};

#define KTEST_REGISTER(test_name, fault)                                       \
    static void ktest_body_##test_name(void);                                  \
    static const struct ktest ktest_##test_name                                \
        __attribute__((used, section(".ktests"), aligned(8))) = {              \
            #test_name, ktest_body_##test_name, (fault), __FILE__, __LINE__};  \
    static void ktest_body_##test_name(void)

#define KTEST(test_name) KTEST_REGISTER(test_name, KTEST_NO_FAULT)
#define KTEST_EXPECT_FAULT(test_name, vector) KTEST_REGISTER(test_name, (vector))

/* Assertions: on failure, report and leave the test. */
_Noreturn void ktest_fail(const char *file, int line, const char *message);
_Noreturn void ktest_fail_values(const char *file, int line, const char *expression,
                                 unsigned long long left, unsigned long long right);

#define KASSERT(condition)                                                     \
    do {                                                                       \
        if (!(condition))                                                      \
            ktest_fail(__FILE__, __LINE__, "KASSERT(" #condition ")");         \
    } while (0)

#define KASSERT_OP(a, op, b)                                                   \
    do {                                                                       \
        unsigned long long ktest_left_ = (unsigned long long)(a);              \
        unsigned long long ktest_right_ = (unsigned long long)(b);             \
        if (!(ktest_left_ op ktest_right_))                                    \
            ktest_fail_values(__FILE__, __LINE__, #a " " #op " " #b,           \
                              ktest_left_, ktest_right_);                      \
    } while (0)

#define KASSERT_EQ(a, b) KASSERT_OP(a, ==, b)
#define KASSERT_NE(a, b) KASSERT_OP(a, !=, b)
#define KASSERT_LT(a, b) KASSERT_OP(a, <, b)
#define KASSERT_LE(a, b) KASSERT_OP(a, <=, b)
#define KASSERT_GE(a, b) KASSERT_OP(a, >=, b)

/*
 * Run the tests whose names contain `pattern` (all when it is NULL or
 * empty). Returns the number that failed.
 */
unsigned int ktest_run(const char *pattern);

/*
 * For the exception handler (cpu/exceptions.c): when a test that expects
 * exception `vector` is running, record it and jump back to the runner
 * (does not return). Otherwise return false and let the handler report
 * the exception as usual.
 */
bool ktest_handle_exception(unsigned int vector, uint64_t error_code, uint64_t rip);

/* The kernel command line asks for tests: `test` or `test=PATTERN`.
 * Returns true and sets *pattern (NULL for all) if so. */
bool ktest_requested(const char *cmdline, char *pattern, unsigned int pattern_size);

#endif
