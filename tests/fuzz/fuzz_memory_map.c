/*
 * fuzz_memory_map.c - libk's memory map sanitiser on arbitrary E820 maps.
 *
 * The input is a list of 17-byte entries (base and length, 8 bytes each,
 * little-endian, and a type byte), then the output capacity to try. The
 * harness checks every promise of libk/include/libk/memory_map.h on the
 * output, so a wrong answer is a finding as much as a crash is:
 *   - at most 2 * in_count - 1 ranges; sorted, non-overlapping, no empty
 *     range, adjacent ranges of the same type merged, known types only;
 *   - usable ranges page-aligned at both ends;
 *   - no usable byte that any input called something else;
 *   - a smaller capacity gives the same count and the same first ranges,
 *     and nothing is written past the capacity (AddressSanitizer sees the
 *     exact-size heap block).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "libk/memory_map.h"

/* libk's sanitiser under the name tests/fuzz/Makefile gives it. */
size_t libk_memory_map_sanitise(const struct memory_range *in, size_t in_count,
                                struct memory_range *out, size_t out_capacity);

#define ENTRY_BYTES 17  /* base (8) + length (8) + type (1) */
#define MAX_ENTRIES 128 /* stage 2's E820 buffer holds 128 entries */
#define TYPE_CHOICES 8  /* types 0-7: the five E820 types and unknown ones around them */

typedef unsigned __int128 u128; /* ends of ranges reach 2^64 */

static u128 end_of(const struct memory_range *r)
{
    return (u128)r->base + r->length;
}

/* Where output range `i` of `n` ends: memory_map.h's one exception, a
 * range over all 2^64 bytes, has length 2^64 - 1 but ends at 2^64. It is
 * then the only range; with another range after it, the length is exact. */
static u128 output_end(const struct memory_range *out, size_t i, size_t n)
{
    const struct memory_range *r = &out[i];
    if (n == 1 && r->base == 0 && r->length == UINT64_MAX)
        return (u128)1 << 64;
    return end_of(r);
}

static void dump(const char *name, const struct memory_range *map, size_t count)
{
    fprintf(stderr, "%s:\n", name);
    for (size_t i = 0; i < count; i++)
        fprintf(stderr, "  %3zu: base 0x%016llx length 0x%016llx type %u\n", i,
                (unsigned long long)map[i].base, (unsigned long long)map[i].length,
                (unsigned)map[i].type);
}

/* The maps of the failing input, for the report; set before any check. */
static const struct memory_range *failing_in, *failing_out;
static size_t failing_in_count, failing_out_count;

static void fail(const char *what, size_t index)
{
    fprintf(stderr, "fuzz_memory_map: output range %zu: %s\n", index, what);
    dump("input", failing_in, failing_in_count);
    dump("output", failing_out, failing_out_count);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    size_t count = size / ENTRY_BYTES;
    if (count > MAX_ENTRIES)
        count = MAX_ENTRIES;
    struct memory_range map[MAX_ENTRIES];
    for (size_t i = 0; i < count; i++) {
        map[i].base = take_u64(&in);
        map[i].length = take_u64(&in);
        map[i].type = take_byte(&in) % TYPE_CHOICES;
    }
    size_t room = count ? 2 * count - 1 : 0;
    struct memory_range *out = malloc((room ? room : 1) * sizeof(*out));
    size_t n = libk_memory_map_sanitise(map, count, room ? out : NULL, room);
    failing_in = map;
    failing_in_count = count;
    failing_out = out;
    failing_out_count = n > room ? room : n;
    if (n > room)
        fail("more ranges than 2 * in_count - 1", n);

    for (size_t i = 0; i < n; i++) {
        const struct memory_range *r = &out[i];
        if (r->length == 0)
            fail("empty", i);
        if (r->type < MEMORY_TYPE_USABLE || r->type > MEMORY_TYPE_BAD)
            fail("unknown type in the output", i);
        if (output_end(out, i, n) > ((u128)1 << 64))
            fail("ends past 2^64", i);
        if (i > 0) {
            const struct memory_range *prev = &out[i - 1];
            if (output_end(out, i - 1, n) > r->base)
                fail("overlaps or is out of order with the one before", i);
            if (output_end(out, i - 1, n) == r->base && prev->type == r->type)
                fail("not merged with the adjacent range of its type", i);
        }
        if (r->type == MEMORY_TYPE_USABLE) {
            if (r->base % MEMORY_MAP_PAGE_SIZE || output_end(out, i, n) % MEMORY_MAP_PAGE_SIZE)
                fail("usable but not page-aligned", i);
            for (size_t k = 0; k < count; k++) {
                if (map[k].type == MEMORY_TYPE_USABLE || map[k].length == 0)
                    continue;
                if ((u128)map[k].base < output_end(out, i, n) && end_of(&map[k]) > r->base)
                    fail("usable, but an input range of another type overlaps it", i);
            }
        }
    }

    /* Cut short: the same answer, the same first ranges, nothing more written. */
    size_t capacity = room ? take_byte(&in) % (room + 1) : 0;
    struct memory_range *part = malloc((capacity ? capacity : 1) * sizeof(*part));
    size_t m = libk_memory_map_sanitise(map, count, capacity ? part : NULL, capacity);
    if (m != n)
        fail("a smaller capacity changed the count", m);
    if (capacity && memcmp(part, out, capacity * sizeof(*part)) != 0)
        fail("a smaller capacity changed the first ranges", 0);
    free(part);
    free(out);
    return 0;
}
