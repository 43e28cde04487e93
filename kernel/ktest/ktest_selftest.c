/*
 * ktest_selftest.c - tests of the test framework itself: an assertion
 * that holds passes, and the runner's result counting works. (That a
 * failing assertion is reported is checked from the host by
 * tests/test_ktest.py with a kernel built to fail on purpose.)
 */
#include "ktest/ktest.h"

KTEST(ktest_assertions_that_hold_pass)
{
    KASSERT(1 + 1 == 2);
    KASSERT_EQ(6 * 7, 42);
    KASSERT_NE(1, 2);
    KASSERT_LT(1, 2);
    KASSERT_LE(2, 2);
    KASSERT_GE(3, 2);
}

#ifdef KTEST_DEMONSTRATE_FAILURE
/* Built only by tests/test_ktest.py to see a failure reported. */
KTEST(ktest_demonstrate_failure)
{
    KASSERT_EQ(2 + 2, 5);
}
#endif
