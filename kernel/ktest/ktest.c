/*
 * ktest.c - the in-kernel test runner (see ktest.h).
 *
 * Output, one line per test and a summary, is what tests/test_ktest.py
 * reads:
 *     ktest: start 12 tests
 *     ktest: PASS heap_alloc_and_free
 *     ktest: FAIL frames_exhaust: kernel/mm/frames_test.c:42: KASSERT_EQ ... (left 3, right 4)
 *     ktest: 11 passed, 1 failed
 */
#include "ktest/ktest.h"

#include <stddef.h>

#include <libk/string.h>

#include "console.h"
#include "cpu/control_registers.h"
#include "cpu/exceptions.h"
#include "cpu/interrupt_frame.h"

/* The .ktests section, collected by the linker (linker.ld). */
extern const struct ktest __ktests_start[];
extern const struct ktest __ktests_end[];

/* Registers ktest_save keeps (ktest_context.asm has the layout). */
struct ktest_context {
    uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
};

int ktest_save(struct ktest_context *context) __attribute__((returns_twice));
_Noreturn void ktest_resume(const struct ktest_context *context);

static struct ktest_context runner_context;
static const struct ktest *current_test;
static bool current_failed;
static bool current_faulted;

_Noreturn void ktest_fail(const char *file, int line, const char *message)
{
    kprintf("ktest: FAIL %s: %s:%d: %s\n", current_test ? current_test->name : "?", file, line,
            message);
    current_failed = true;
    ktest_resume(&runner_context);
}

_Noreturn void ktest_fail_values(const char *file, int line, const char *expression,
                                 unsigned long long left, unsigned long long right)
{
    kprintf("ktest: FAIL %s: %s:%d: %s (left %llu = 0x%llx, right %llu = 0x%llx)\n",
            current_test ? current_test->name : "?", file, line, expression, left, left, right,
            right);
    current_failed = true;
    ktest_resume(&runner_context);
}

volatile uint64_t ktest_probe_resume;
static volatile int probe_vector = -1; /* -1: not armed */
static volatile bool probe_fired;
static struct ktest_fault probe_fault;

void ktest_probe_arm(unsigned int vector)
{
    probe_fired = false;
    ktest_probe_resume = 0;
    probe_vector = (int)vector;
}

bool ktest_probe_take(struct ktest_fault *fault)
{
    bool fired = probe_fired;
    probe_vector = -1;
    ktest_probe_resume = 0;
    probe_fired = false;
    if (fired)
        *fault = probe_fault;
    return fired;
}

/*
 * The exception hook (cpu/exceptions.h) while tests run. An exception the
 * running test expects ends that test: back to the runner, never to the
 * exception path. An armed probe's exception continues at the probe's
 * address. Anything else is reported as usual (false).
 */
static bool claim_exception(struct interrupt_frame *frame, uint64_t cr2)
{
    unsigned int vector = (unsigned int)frame->vector;

    if (current_test != NULL && current_test->expected_fault == (int)vector) {
        kprintf("ktest: expected exception %u (error code 0x%llx) at 0x%016llx\n", vector,
                (unsigned long long)frame->error_code, (unsigned long long)frame->rip);
        current_faulted = true;
        /* We leave the handler without IRETQ, which would have restored
         * RFLAGS.IF: the CPU cleared IF on entry (interrupt gate), so give
         * the runner back the interrupt state the test had, or the timer
         * would stop for good. */
        if (frame->rflags & RFLAGS_INTERRUPT_ENABLE)
            __asm__ volatile("sti");
        ktest_resume(&runner_context);
    }

    if (probe_vector == (int)vector && ktest_probe_resume != 0) {
        probe_fault = (struct ktest_fault){
            .vector = vector,
            .error_code = frame->error_code,
            .rip = frame->rip,
            .cr2 = cr2,
        };
        frame->rip = ktest_probe_resume;
        probe_vector = -1;
        probe_fired = true;
        return true;
    }
    return false;
}

static bool name_matches(const char *name, const char *pattern)
{
    return pattern == NULL || pattern[0] == '\0' || strstr(name, pattern) != NULL;
}

/* Run one test; true when it passed. Kept apart from the loop in
 * ktest_run so that no local variable changes between ktest_save and a
 * ktest_resume that comes back to it. */
static bool run_one(const struct ktest *t)
{
    current_test = t;
    current_failed = false;
    current_faulted = false;
    if (ktest_save(&runner_context) == 0)
        t->run();
    current_test = NULL;

    if (!current_failed && t->expected_fault != KTEST_NO_FAULT && !current_faulted) {
        kprintf("ktest: FAIL %s: %s:%d: expected exception %d did not happen\n", t->name, t->file,
                t->line, t->expected_fault);
        current_failed = true;
    }
    if (!current_failed)
        kprintf("ktest: PASS %s\n", t->name);
    return !current_failed;
}

unsigned int ktest_run(const char *pattern)
{
    unsigned int selected = 0, passed = 0, failed = 0;

    for (const struct ktest *t = __ktests_start; t < __ktests_end; t++)
        if (name_matches(t->name, pattern))
            selected++;
    kprintf("ktest: start %u tests%s%s\n", selected, pattern && pattern[0] ? " matching " : "",
            pattern ? pattern : "");

    exception_set_claim_handler(claim_exception);

    for (const struct ktest *t = __ktests_start; t < __ktests_end; t++) {
        if (!name_matches(t->name, pattern))
            continue;
        if (run_one(t))
            passed++;
        else
            failed++;
    }
    exception_set_claim_handler(NULL);

    kprintf("ktest: %u passed, %u failed\n", passed, failed);
    return failed;
}
