/*
 * fuzz_input.h - take typed values off the front of a fuzz input.
 *
 * Every read is defined on every input: past the end, a read gives zeros,
 * so a harness never needs a length check of its own.
 */
#ifndef FUZZ_INPUT_H
#define FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

struct fuzz_input {
    const uint8_t *data;
    size_t left;
};

static inline uint8_t take_byte(struct fuzz_input *in)
{
    if (in->left == 0)
        return 0;
    in->left--;
    return *in->data++;
}

static inline uint64_t take_u64(struct fuzz_input *in)
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++)
        value |= (uint64_t)take_byte(in) << (8 * i); /* little-endian, as on x86 */
    return value;
}

#endif
