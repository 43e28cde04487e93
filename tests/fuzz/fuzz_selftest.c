/*
 * fuzz_selftest.c - a target with a planted bug, so that the fuzzing
 * machinery cannot pass silently: tests/test_fuzz.py runs it and requires
 * ./build.sh fuzz to find the bug, keep the crashing input and fail.
 *
 * The bug: an input starting "BUG" reads one byte past a 3-byte heap
 * block, which AddressSanitizer reports as a heap-buffer-overflow.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3 || memcmp(data, "BUG", 3) != 0)
        return 0;
    char *copy = malloc(3);
    memcpy(copy, data, 3);
    volatile char past_the_end = copy[3];
    (void)past_the_end;
    free(copy);
    return 0;
}
