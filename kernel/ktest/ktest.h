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
 *
 * A test that wants to look at an exception and carry on (the error code,
 * CR2) probes it instead; see ktest_probe_arm below.
 *
 * Where the tests live: in the one kernel that ships. Every *_test.c
 * file, the memory self-tests and ktest/ are compiled and linked into the
 * same kernel.elf as the rest (kernel/Makefile lists them apart, in
 * TEST_C_SOURCES), and none of them runs unless the command line asks
 * (`test`, `memory-selftest=NAME`). We keep one kernel because the tests
 * are then about the very binary the image boots: the same addresses,
 * section permissions and segments the loader maps (the paging and
 * exception tests write to its real .text and .rodata, and the symbol
 * table they read is its own), with one build and one image for QEMU,
 * Bochs and the tests alike. A separate test kernel would leave the
 * shipped one much smaller (the tests' code and constants outweigh the
 * production code's: about 37 KB against 28 KB when this was written,
 * `size` on the objects), but it would test a different link, and every
 * boot test would need an image of each.
 *
 * The price of the one kernel is its size, and a rule, which
 * tests/test_kernel_structure.py enforces: no production file includes a
 * ktest/ header, except main.c, which decides what a boot runs. The
 * exception path knows only its claim hook (cpu/exceptions.h), which the
 * runner sets while tests run and clears afterwards.
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
    int expected_fault; /* CPU exception vector, or KTEST_NO_FAULT */
    const char *file;
    int line;
};

#define KTEST_REGISTER(test_name, fault)                                                           \
    static void ktest_body_##test_name(void);                                                      \
    static const struct ktest ktest_##test_name                                                    \
        __attribute__((used, section(".ktests"), aligned(8))) = {                                  \
            #test_name, ktest_body_##test_name, (fault), __FILE__, __LINE__};                      \
    static void ktest_body_##test_name(void)

#define KTEST(test_name) KTEST_REGISTER(test_name, KTEST_NO_FAULT)
#define KTEST_EXPECT_FAULT(test_name, vector) KTEST_REGISTER(test_name, (vector))

/* Assertions: on failure, report and leave the test. */
_Noreturn void ktest_fail(const char *file, int line, const char *message);
_Noreturn void ktest_fail_values(const char *file, int line, const char *expression,
                                 unsigned long long left, unsigned long long right);

#define KASSERT(condition)                                                                         \
    do {                                                                                           \
        if (!(condition))                                                                          \
            ktest_fail(__FILE__, __LINE__, "KASSERT(" #condition ")");                             \
    } while (0)

#define KASSERT_OP(a, op, b)                                                                       \
    do {                                                                                           \
        unsigned long long ktest_left_ = (unsigned long long)(a);                                  \
        unsigned long long ktest_right_ = (unsigned long long)(b);                                 \
        if (!(ktest_left_ op ktest_right_))                                                        \
            ktest_fail_values(__FILE__, __LINE__, #a " " #op " " #b, ktest_left_, ktest_right_);   \
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
 * Probing: survive one exception and continue, for tests that want to
 * look at the error code and CR2 (a KTEST_EXPECT_FAULT test ends at the
 * fault). Arm with the vector; then, in the same asm statement as the
 * faulting instruction, store the address to continue at into
 * ktest_probe_resume:
 *
 *     ktest_probe_arm(EXCEPTION_PAGE_FAULT);
 *     __asm__ volatile("leaq 1f(%%rip), %%rax\n\t"
 *                      "movq %%rax, ktest_probe_resume(%%rip)\n\t"
 *                      "movb $1, (%0)\n"          // faults
 *                      "1:" : : "r"(address) : "rax", "memory");
 *     bool fired = ktest_probe_take(&fault);
 *
 * The runner's exception hook then records the exception and returns to
 * that address instead of letting it be reported. One exception per
 * arming; only while ktest_run runs.
 */
struct ktest_fault {
    unsigned int vector;
    uint64_t error_code;
    uint64_t rip;
    uint64_t cr2; /* the faulting address, for #PF only */
};

extern volatile uint64_t ktest_probe_resume;
void ktest_probe_arm(unsigned int vector);
/* True (and *fault filled) when the armed exception happened; disarms. */
bool ktest_probe_take(struct ktest_fault *fault);

#endif
