/*
 * test_memory_map.c - host unit tests for libk's memory map sanitiser
 * (libk/memory_map.c), fed the kinds of maps real firmware produces and
 * some no firmware should: unsorted, overlapping, duplicated, nested,
 * empty, unknown types, ranges running past 2^64, a full 128 entries.
 *
 * The code under test is libk's, linked in as libk_memory_map_sanitise
 * (see libk_host.h). Usage as for test_libk:
 *   test_memory_map            run every test
 *   test_memory_map --list     print the test names, one per line
 *   test_memory_map NAME       run only the test NAME
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h> /* needs stdarg.h, stddef.h, setjmp.h, stdint.h first */

#include "libk_host.h"
#include "unit_main.h"

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define GIB (1024ull * MIB)
#define PAGE 4096ull   /* MEMORY_MAP_PAGE_SIZE */
#define TOP UINT64_MAX /* the last byte of the address space */

#define USABLE MEMORY_TYPE_USABLE
#define RESERVED MEMORY_TYPE_RESERVED
#define RECLAIMABLE MEMORY_TYPE_ACPI_RECLAIMABLE
#define NVS MEMORY_TYPE_ACPI_NVS
#define BAD MEMORY_TYPE_BAD

/* The largest input below is 128 ranges (the boot protocol's limit); the
 * output never has more than 2n - 1 ranges. */
#define MAX_OUT 256
/* A value no sanitised range has, to see that the sanitiser left an output
 * slot alone. */
#define UNTOUCHED 0xA5A5A5A5A5A5A5A5ull

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

static struct memory_range out[MAX_OUT + 1];

/* Sanitise into `out` with room for `capacity`, the slots after it marked. */
static size_t sanitise(const struct memory_range *in, size_t n, size_t capacity)
{
    for (size_t i = 0; i < COUNT(out); i++)
        out[i] = (struct memory_range){UNTOUCHED, UNTOUCHED, 0};
    return libk_memory_map_sanitise(in, n, out, capacity);
}

/* The output must be exactly `expected`; on a difference, show both maps. */
static void check_map(size_t count, const struct memory_range *expected, size_t n)
{
    int same = count == n;
    for (size_t i = 0; same && i < n; i++)
        same = out[i].base == expected[i].base && out[i].length == expected[i].length &&
               out[i].type == expected[i].type;
    if (!same) {
        print_error("expected %zu ranges:\n", n);
        for (size_t i = 0; i < n; i++)
            print_error("  0x%016llx +0x%016llx type %u\n", (unsigned long long)expected[i].base,
                        (unsigned long long)expected[i].length, expected[i].type);
        print_error("got %zu:\n", count);
        for (size_t i = 0; i < count && i < MAX_OUT; i++)
            print_error("  0x%016llx +0x%016llx type %u\n", (unsigned long long)out[i].base,
                        (unsigned long long)out[i].length, out[i].type);
        fail();
    }
}

#define CHECK(in, ...)                                                                             \
    do {                                                                                           \
        const struct memory_range expected_[] = {__VA_ARGS__};                                     \
        check_map(sanitise(in, COUNT(in), MAX_OUT), expected_, COUNT(expected_));                  \
    } while (0)

/* The invariants every output must have, whatever the input. */
static void check_invariants(size_t count)
{
    assert_true(count <= MAX_OUT);
    for (size_t i = 0; i < count; i++) {
        assert_true(out[i].length > 0);
        assert_true(out[i].type >= USABLE && out[i].type <= BAD);
        if (out[i].type == USABLE) {
            assert_int_equal(out[i].base % PAGE, 0);
            assert_int_equal(out[i].length % PAGE, 0);
        }
        if (i > 0) {
            uint64_t previous_end = out[i - 1].base + out[i - 1].length; /* no wrap: not last */
            assert_true(out[i].base >= previous_end);                    /* sorted, no overlap */
            if (out[i].base == previous_end)
                assert_true(out[i].type != out[i - 1].type); /* else merged */
        }
    }
}

/* ==== the ordinary cases ============================================== */

static void test_empty_map_gives_nothing(void **state)
{
    (void)state;
    assert_int_equal(libk_memory_map_sanitise(NULL, 0, NULL, 0), 0);
    const struct memory_range only_empty[] = {{0x1000, 0, USABLE}, {0, 0, RESERVED}};
    assert_int_equal(sanitise(only_empty, COUNT(only_empty), MAX_OUT), 0);
}

/* What QEMU's SeaBIOS reports for -m 128M, in its own order. */
static void test_qemu_map_passes_unchanged(void **state)
{
    (void)state;
    const struct memory_range in[] = {
        {0x0, 0x9FC00, USABLE},          /* conventional memory */
        {0x9FC00, 0x400, RESERVED},      /* the extended BIOS data area */
        {0xF0000, 0x10000, RESERVED},    /* the BIOS */
        {0x100000, 0x7EE0000, USABLE},   /* RAM from 1 MiB */
        {0x7FE0000, 0x20000, RESERVED},  /* kept by the firmware at the top of RAM */
        {0xFFFC0000, 0x40000, RESERVED}, /* the BIOS flash, just below 4 GiB */
    };
    /* The first usable range loses its partial last page: 0x9F000-0x9FBFF. */
    CHECK(in, {0x0, 0x9F000, USABLE}, {0x9FC00, 0x400, RESERVED}, {0xF0000, 0x10000, RESERVED},
          {0x100000, 0x7EE0000, USABLE}, {0x7FE0000, 0x20000, RESERVED},
          {0xFFFC0000, 0x40000, RESERVED});
}

static void test_unsorted_entries_come_out_sorted(void **state)
{
    (void)state;
    const struct memory_range in[] = {
        {4 * GIB, 2 * GIB, USABLE},
        {0x100000, 15 * MIB, USABLE},
        {0xE0000, 0x20000, RESERVED},
        {0, 0x9F000, USABLE},
    };
    CHECK(in, {0, 0x9F000, USABLE}, {0xE0000, 0x20000, RESERVED}, {0x100000, 15 * MIB, USABLE},
          {4 * GIB, 2 * GIB, USABLE});
}

static void test_duplicates_become_one(void **state)
{
    (void)state;
    const struct memory_range in[] = {
        {MIB, 8 * MIB, USABLE},       {MIB, 8 * MIB, USABLE},       {MIB, 8 * MIB, USABLE},
        {0xF0000, 0x10000, RESERVED}, {0xF0000, 0x10000, RESERVED},
    };
    CHECK(in, {0xF0000, 0x10000, RESERVED}, {MIB, 8 * MIB, USABLE});
}

static void test_zero_length_entries_are_dropped(void **state)
{
    (void)state;
    const struct memory_range in[] = {
        {0, 0, BAD},          {MIB, 0, RESERVED}, {MIB, MIB, USABLE},
        {MIB + PAGE, 0, BAD}, {TOP, 0, RESERVED},
    };
    /* A zero-length bad entry inside usable memory marks nothing. */
    CHECK(in, {MIB, MIB, USABLE});
}

static void test_adjacent_entries_of_one_type_merge(void **state)
{
    (void)state;
    const struct memory_range in[] = {
        {MIB, MIB, USABLE},           {3 * MIB, MIB, USABLE},       {2 * MIB, MIB, USABLE},
        {0xE0000, 0x10000, RESERVED}, {0xF0000, 0x10000, RESERVED},
    };
    /* The reserved range ends where the usable one starts: different
     * types touch but stay apart. */
    CHECK(in, {0xE0000, 0x20000, RESERVED}, {MIB, 3 * MIB, USABLE});
}

static void test_adjacent_unaligned_usable_pieces_merge_before_aligning(void **state)
{
    (void)state;
    /* Neither piece holds a whole page of its own, together they hold one. */
    const struct memory_range in[] = {
        {0x10800, 0x800, USABLE}, {0x11000, 0x800, USABLE}, {0x11800, 0x1000, USABLE}};
    CHECK(in, {0x11000, PAGE, USABLE});
}

static void test_holes_stay_holes(void **state)
{
    (void)state;
    const struct memory_range in[] = {{0, 640 * KIB, USABLE}, {MIB, MIB, USABLE}};
    CHECK(in, {0, 640 * KIB, USABLE}, {MIB, MIB, USABLE});
}

/* ==== overlaps: the more restrictive type wins ========================= */

static void test_reserved_overlapping_usable_wins(void **state)
{
    (void)state;
    const struct memory_range in[] = {{0, 2 * MIB, USABLE}, {MIB + 0x800, 2 * MIB, RESERVED}};
    /* The usable part ends where the reserved one starts, rounded down. */
    CHECK(in, {0, MIB, USABLE}, {MIB + 0x800, 2 * MIB, RESERVED});
}

static void test_usable_listed_over_reserved_does_not_free_it(void **state)
{
    (void)state;
    /* Order does not matter: a later usable entry cannot undo a reservation. */
    const struct memory_range in[] = {{MIB, MIB, RESERVED}, {0, 4 * MIB, USABLE}};
    CHECK(in, {0, MIB, USABLE}, {MIB, MIB, RESERVED}, {2 * MIB, 2 * MIB, USABLE});
}

static void test_nested_entries_split_the_outer_one(void **state)
{
    (void)state;
    const struct memory_range in[] = {
        {0, 64 * MIB, USABLE},
        {8 * MIB, 8 * MIB, RECLAIMABLE},
        {10 * MIB, MIB, NVS},         /* nested twice */
        {10 * MIB + PAGE, PAGE, BAD}, /* three times */
    };
    CHECK(in, {0, 8 * MIB, USABLE}, {8 * MIB, 2 * MIB, RECLAIMABLE}, {10 * MIB, PAGE, NVS},
          {10 * MIB + PAGE, PAGE, BAD}, {10 * MIB + 2 * PAGE, MIB - 2 * PAGE, NVS},
          {11 * MIB, 5 * MIB, RECLAIMABLE}, {16 * MIB, 48 * MIB, USABLE});
}

static void test_restriction_order_on_one_range(void **state)
{
    (void)state;
    /* Each pair over the same bytes: the result is always the stronger. */
    static const uint32_t weaker_to_stronger[] = {USABLE, RECLAIMABLE, NVS, RESERVED, BAD};
    for (size_t a = 0; a < COUNT(weaker_to_stronger); a++) {
        for (size_t b = 0; b < COUNT(weaker_to_stronger); b++) {
            const struct memory_range in[] = {{MIB, MIB, weaker_to_stronger[a]},
                                              {MIB, MIB, weaker_to_stronger[b]}};
            size_t stronger = a > b ? a : b;
            CHECK(in, {MIB, MIB, weaker_to_stronger[stronger]});
        }
    }
}

static void test_unknown_types_count_as_reserved(void **state)
{
    (void)state;
    const struct memory_range alone[] = {
        {MIB, MIB, 7}, {2 * MIB, MIB, RESERVED}, {3 * MIB, MIB, 0}, {4 * MIB, MIB, 0xFFFFFFFF}};
    /* All four read as reserved, so they merge into one range. */
    CHECK(alone, {MIB, 4 * MIB, RESERVED});

    /* Stronger than NVS, weaker than bad. */
    const struct memory_range over_nvs[] = {{MIB, MIB, NVS}, {MIB, MIB, 12}};
    CHECK(over_nvs, {MIB, MIB, RESERVED});
    const struct memory_range under_bad[] = {{MIB, MIB, 12}, {MIB, MIB, BAD}};
    CHECK(under_bad, {MIB, MIB, BAD});
}

static void test_partial_overlaps_of_several_types(void **state)
{
    (void)state;
    const struct memory_range in[] = {
        {0x3000, 0x5000, RECLAIMABLE}, /* 0x3000-0x7FFF */
        {0x0, 0x6000, USABLE},         /* 0x0000-0x5FFF */
        {0x5000, 0x4000, NVS},         /* 0x5000-0x8FFF */
        {0x8800, 0x1000, USABLE},      /* 0x8800-0x97FF */
    };
    /* 0x9000-0x97FF is usable but less than a page: gone. */
    CHECK(in, {0x0, 0x3000, USABLE}, {0x3000, 0x2000, RECLAIMABLE}, {0x5000, 0x4000, NVS});
}

/* ==== page alignment of usable ranges ================================== */

static void test_unaligned_usable_edges_shrink_inward(void **state)
{
    (void)state;
    const struct memory_range in[] = {{0x1234, 0x10000, USABLE}, {MIB + 1, MIB - 2, USABLE}};
    /* 0x1234-0x11233 -> 0x2000-0x10FFF; 0x100001-0x1FFFFE -> 0x101000-0x1FEFFF */
    CHECK(in, {0x2000, 0xF000, USABLE}, {MIB + PAGE, MIB - 2 * PAGE, USABLE});
}

static void test_usable_smaller_than_a_page_is_dropped(void **state)
{
    (void)state;
    const struct memory_range in[] = {
        {0x5000, 0xFFF, USABLE},  /* inside one page, one byte short */
        {0x7800, 0x1000, USABLE}, /* a page long, but across two */
        {0x20000, 1, USABLE},
    };
    assert_int_equal(sanitise(in, COUNT(in), MAX_OUT), 0);
}

static void test_other_types_keep_their_exact_edges(void **state)
{
    (void)state;
    const struct memory_range in[] = {{0x9FC00, 0x400, RESERVED}, {0x123, 0x10, NVS}};
    CHECK(in, {0x123, 0x10, NVS}, {0x9FC00, 0x400, RESERVED});
}

/* ==== the top of the address space ===================================== */

static void test_memory_above_4_gib(void **state)
{
    (void)state;
    const struct memory_range in[] = {
        {4 * GIB, 2 * GIB, USABLE},
        {0xFD00000000ull, 0x300000000ull, RESERVED}, /* QEMU's above-1-TiB hole */
        {5 * GIB, 0x1000, BAD},
        {0, 640 * KIB, USABLE},
    };
    CHECK(in, {0, 640 * KIB, USABLE}, {4 * GIB, GIB, USABLE}, {5 * GIB, PAGE, BAD},
          {5 * GIB + PAGE, GIB - PAGE, USABLE}, {0xFD00000000ull, 0x300000000ull, RESERVED});
}

static void test_length_past_2_to_the_64_is_clamped(void **state)
{
    (void)state;
    const struct memory_range in[] = {
        {0xFFFFFFFF00000000ull, 0x200000000ull, RESERVED}, /* would end at 2^64 + 4 GiB */
        {16 * GIB, TOP, USABLE},                           /* would wrap to 16 GiB - 1 */
    };
    CHECK(in, {16 * GIB, 0xFFFFFFFF00000000ull - 16 * GIB, USABLE},
          {0xFFFFFFFF00000000ull, 0x100000000ull, RESERVED});
}

static void test_usable_up_to_2_to_the_64(void **state)
{
    (void)state;
    /* Ends exactly at 2^64; the unaligned start moves up a page. */
    const struct memory_range in[] = {{TOP - 3 * PAGE + 2, 3 * PAGE - 1, USABLE}};
    CHECK(in, {TOP - 2 * PAGE + 1, 2 * PAGE, USABLE});

    /* The last page but one byte: less than a page. */
    const struct memory_range tiny[] = {{TOP - PAGE + 2, PAGE - 1, USABLE}};
    assert_int_equal(sanitise(tiny, 1, MAX_OUT), 0);
    /* Starts in the last page: no page starts at or after it. */
    const struct memory_range last_byte[] = {{TOP, 1, USABLE}};
    assert_int_equal(sanitise(last_byte, 1, MAX_OUT), 0);
}

static void test_whole_address_space(void **state)
{
    (void)state;
    /* [0, 2^64) cannot be one range: its length is cut to 2^64 - 1. */
    const struct memory_range in[] = {{0, TOP, RESERVED}, {1, TOP, RESERVED}};
    CHECK(in, {0, TOP, RESERVED});
    /* The same range split by a usable piece in the middle is exact. */
    const struct memory_range split[] = {{0, TOP, BAD}, {TOP, 1, BAD}, {MIB, MIB, USABLE}};
    CHECK(split, {0, TOP, BAD});
}

/* ==== bounded output ==================================================== */

static void test_output_is_bounded_and_reports_the_full_count(void **state)
{
    (void)state;
    const struct memory_range in[] = {
        {0, MIB, USABLE}, {2 * MIB, MIB, USABLE}, {4 * MIB, MIB, USABLE}, {6 * MIB, MIB, USABLE}};
    for (size_t capacity = 0; capacity <= 4; capacity++) {
        assert_int_equal(sanitise(in, COUNT(in), capacity), 4);
        for (size_t i = 0; i < capacity; i++)
            assert_int_equal(out[i].base, 2 * i * MIB);
        /* Nothing written past the capacity. */
        assert_int_equal(out[capacity].base, UNTOUCHED);
        assert_int_equal(out[capacity].length, UNTOUCHED);
    }
    assert_int_equal(libk_memory_map_sanitise(in, COUNT(in), NULL, 0), 4);
}

/* ==== big and hostile maps ============================================= */

/* 128 entries, the boot protocol's limit, in descending order: alternating
 * usable and reserved pages, with every eighth one a duplicate of its
 * neighbour shifted by half a page. */
static void test_128_entries(void **state)
{
    (void)state;
    struct memory_range in[128];
    for (size_t i = 0; i < COUNT(in); i++) {
        size_t slot = COUNT(in) - 1 - i;
        in[i] =
            (struct memory_range){MIB + slot * 2 * PAGE, 2 * PAGE, slot % 2 ? RESERVED : USABLE};
        if (i % 8 == 7)
            in[i].base += PAGE / 2;
    }
    size_t count = sanitise(in, COUNT(in), MAX_OUT);
    check_invariants(count);
    assert_true(count > 64 && count <= 128);
    /* Every reserved byte stays reserved: no usable range touches one. */
    for (size_t i = 0; i < count; i++) {
        if (out[i].type != USABLE)
            continue;
        for (size_t j = 0; j < COUNT(in); j++) {
            if (in[j].type == RESERVED)
                assert_true(out[i].base + out[i].length <= in[j].base ||
                            out[i].base >= in[j].base + in[j].length);
        }
    }
}

/* Pseudo-random maps (a fixed seed, so every run is the same) against a
 * byte-by-byte model: the type of each page-sized cell, the strongest of
 * the inputs covering it, and a usable page only when fully usable. */
#define MODEL_PAGES 64
#define MODEL_SLICES 4 /* quarter pages */
#define MODEL_CELLS (MODEL_PAGES * MODEL_SLICES)
#define MODEL_CELL (PAGE / MODEL_SLICES)
#define RANDOM_MAPS 2000

static uint64_t prng_state = 0x9E3779B97F4A7C15ull;

static uint64_t prng(void)
{
    /* xorshift64 (Marsaglia, "Xorshift RNGs", 2003), shifts 13, 7, 17. */
    prng_state ^= prng_state << 13;
    prng_state ^= prng_state >> 7;
    prng_state ^= prng_state << 17;
    return prng_state;
}

static int rank(uint32_t type)
{
    switch (type) {
    case USABLE:
        return 1;
    case RECLAIMABLE:
        return 2;
    case NVS:
        return 3;
    case BAD:
        return 5;
    default:
        return 4;
    }
}

static void test_random_maps_match_a_model(void **state)
{
    (void)state;
    static const uint32_t types[] = {USABLE, USABLE, USABLE, RESERVED, RECLAIMABLE, NVS, BAD, 9};
    for (int round = 0; round < RANDOM_MAPS; round++) {
        struct memory_range in[12];
        int model[MODEL_CELLS] = {0};
        size_t n = 1 + prng() % COUNT(in);
        for (size_t i = 0; i < n; i++) {
            uint64_t first = prng() % MODEL_CELLS;
            uint64_t cells = prng() % (MODEL_CELLS - first + 1);
            in[i] = (struct memory_range){first * MODEL_CELL, cells * MODEL_CELL,
                                          types[prng() % COUNT(types)]};
            for (uint64_t c = first; c < first + cells; c++)
                if (rank(in[i].type) > model[c])
                    model[c] = rank(in[i].type);
        }
        size_t count = sanitise(in, n, MAX_OUT);
        check_invariants(count);
        assert_true(count <= 2 * n - 1);
        /* Each cell of the output against the model. */
        int got[MODEL_CELLS] = {0};
        for (size_t i = 0; i < count; i++)
            for (uint64_t c = out[i].base / MODEL_CELL;
                 c < (out[i].base + out[i].length) / MODEL_CELL; c++)
                got[c] = rank(out[i].type);
        for (size_t c = 0; c < MODEL_CELLS; c++) {
            int want = model[c];
            if (want == 1) {
                /* usable survives only where its whole page is usable */
                size_t page = c / MODEL_SLICES * MODEL_SLICES;
                for (size_t s = page; s < page + MODEL_SLICES; s++)
                    if (model[s] != 1)
                        want = 0;
            }
            assert_int_equal(got[c], want);
        }
    }
}

static void test_type_names(void **state)
{
    (void)state;
    assert_string_equal(libk_memory_type_name(USABLE), "usable");
    assert_string_equal(libk_memory_type_name(RESERVED), "reserved");
    assert_string_equal(libk_memory_type_name(RECLAIMABLE), "ACPI reclaimable");
    assert_string_equal(libk_memory_type_name(NVS), "ACPI NVS");
    assert_string_equal(libk_memory_type_name(BAD), "bad");
    assert_string_equal(libk_memory_type_name(42), "unknown");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_empty_map_gives_nothing),
    cmocka_unit_test(test_qemu_map_passes_unchanged),
    cmocka_unit_test(test_unsorted_entries_come_out_sorted),
    cmocka_unit_test(test_duplicates_become_one),
    cmocka_unit_test(test_zero_length_entries_are_dropped),
    cmocka_unit_test(test_adjacent_entries_of_one_type_merge),
    cmocka_unit_test(test_adjacent_unaligned_usable_pieces_merge_before_aligning),
    cmocka_unit_test(test_holes_stay_holes),
    cmocka_unit_test(test_reserved_overlapping_usable_wins),
    cmocka_unit_test(test_usable_listed_over_reserved_does_not_free_it),
    cmocka_unit_test(test_nested_entries_split_the_outer_one),
    cmocka_unit_test(test_restriction_order_on_one_range),
    cmocka_unit_test(test_unknown_types_count_as_reserved),
    cmocka_unit_test(test_partial_overlaps_of_several_types),
    cmocka_unit_test(test_unaligned_usable_edges_shrink_inward),
    cmocka_unit_test(test_usable_smaller_than_a_page_is_dropped),
    cmocka_unit_test(test_other_types_keep_their_exact_edges),
    cmocka_unit_test(test_memory_above_4_gib),
    cmocka_unit_test(test_length_past_2_to_the_64_is_clamped),
    cmocka_unit_test(test_usable_up_to_2_to_the_64),
    cmocka_unit_test(test_whole_address_space),
    cmocka_unit_test(test_output_is_bounded_and_reports_the_full_count),
    cmocka_unit_test(test_128_entries),
    cmocka_unit_test(test_random_maps_match_a_model),
    cmocka_unit_test(test_type_names),
};

int main(int argc, char **argv)
{
    return unit_main(tests, sizeof tests / sizeof tests[0], argc, argv);
}
