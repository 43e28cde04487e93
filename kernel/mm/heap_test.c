/*
 * heap_test.c - in-kernel tests of the heap (heap.h).
 *
 * Overruns, double frees and foreign pointers panic, which a test here
 * cannot survive: tests/test_memory.py checks those from the host
 * (memory-selftest=heap-overrun and friends, memory_selftest.h).
 */
#include "mm/heap.h"

#include <libk/string.h>

#include "ktest/ktest.h"

/* The stress test: this many live blocks at most, this many steps. */
#define STRESS_SLOTS 48
#define STRESS_STEPS 2500
#define STRESS_SMALL_MAX 512u
#define STRESS_LARGE_MAX 20000u /* now and then: several pages, makes the heap grow */
#define STRESS_SEED 0x2545F4914F6CDD1Dull

static uint64_t prng_state;

/* xorshift64 (Marsaglia, "Xorshift RNGs", 2003): shifts 13, 7, 17. */
static uint64_t prng(void)
{
    prng_state ^= prng_state << 13;
    prng_state ^= prng_state >> 7;
    prng_state ^= prng_state << 17;
    return prng_state;
}

static uint64_t address_of(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

/* The byte at `offset` of a block filled with `seed`. */
static uint8_t pattern(uint64_t seed, size_t offset)
{
    return (uint8_t)(seed * 31u + offset * 7u + (offset >> 8));
}

static void fill(uint8_t *p, size_t size, uint64_t seed)
{
    for (size_t i = 0; i < size; i++)
        p[i] = pattern(seed, i);
}

static bool holds(const uint8_t *p, size_t size, uint64_t seed)
{
    for (size_t i = 0; i < size; i++)
        if (p[i] != pattern(seed, i))
            return false;
    return true;
}

KTEST(heap_pointers_are_16_byte_aligned)
{
    void *blocks[64];
    for (size_t size = 1; size <= 64; size++) {
        blocks[size - 1] = kmalloc(size * 3);
        KASSERT(blocks[size - 1] != NULL);
        KASSERT_EQ(address_of(blocks[size - 1]) % HEAP_ALIGNMENT, 0);
        memset(blocks[size - 1], 0xEE, size * 3);
    }
    for (size_t i = 0; i < 64; i++)
        kfree(blocks[i]);
}

KTEST(heap_edge_cases)
{
    KASSERT(kmalloc(0) == NULL);
    kfree(NULL);                                                /* does nothing */
    KASSERT(kcalloc((size_t)1 << 40, (size_t)1 << 40) == NULL); /* count * size overflows */
    KASSERT(kmalloc((size_t)1 << 62) == NULL);                  /* more than the heap could be */
    void *p = krealloc(NULL, 40);                               /* = kmalloc */
    KASSERT(p != NULL);
    KASSERT(krealloc(p, 0) == NULL); /* = kfree */
}

KTEST(heap_kcalloc_zeroes)
{
    const size_t size = 1000;
    uint8_t *dirty = kmalloc(size);
    KASSERT(dirty != NULL);
    memset(dirty, 0xAB, size);
    kfree(dirty);
    uint8_t *clean = kcalloc(size / 8, 8); /* likely the same block */
    KASSERT(clean != NULL);
    for (size_t i = 0; i < size; i++)
        KASSERT_EQ(clean[i], 0);
    kfree(clean);
}

KTEST(heap_krealloc_keeps_contents)
{
    uint8_t *p = kmalloc(10);
    KASSERT(p != NULL);
    fill(p, 10, 1);
    uint8_t *blocker = kmalloc(16); /* so the first growth has to move */
    p = krealloc(p, 5000);
    KASSERT(p != NULL);
    KASSERT(holds(p, 10, 1));
    fill(p, 5000, 2);
    p = krealloc(p, 100); /* shrinks in place */
    KASSERT(p != NULL);
    KASSERT(holds(p, 100, 2));
    p = krealloc(p, 200); /* grows into the space it gave back */
    KASSERT(p != NULL);
    KASSERT(holds(p, 100, 2));
    kfree(p);
    kfree(blocker);
}

KTEST(heap_free_blocks_coalesce)
{
    struct heap_stats before = heap_stats();
    void *a = kmalloc(100), *b = kmalloc(200), *c = kmalloc(300);
    KASSERT(a && b && c);
    kfree(a);
    kfree(c);
    kfree(b); /* joins a, b and c (and the free space after) into one block */
    struct heap_stats after = heap_stats();
    KASSERT_EQ(after.free_blocks, before.free_blocks);
    KASSERT_EQ(after.used_blocks, before.used_blocks);
    KASSERT_EQ(after.largest_free, before.largest_free);
}

KTEST(heap_grows_when_full)
{
    struct heap_stats before = heap_stats();
    const size_t big = 1024 * 1024;
    uint8_t *p = kmalloc(big);
    KASSERT(p != NULL);
    struct heap_stats after = heap_stats();
    KASSERT_GE(after.heap_bytes, before.heap_bytes + big);
    p[0] = 1;
    p[big - 1] = 2;
    kfree(p);
    KASSERT_GE(heap_stats().largest_free, big);
}

/* Random allocations, frees and reallocations against a record of what
 * each block should hold, with the heap's invariants checked at each step. */
KTEST(heap_random_stress)
{
    struct slot {
        uint8_t *p;
        size_t size;
        uint64_t seed;
    } slots[STRESS_SLOTS] = {0};
    prng_state = STRESS_SEED;
    struct heap_stats base = heap_stats();

    for (unsigned int step = 0; step < STRESS_STEPS; step++) {
        struct slot *s = &slots[prng() % STRESS_SLOTS];
        size_t size = 1 + prng() % (prng() % 16 == 0 ? STRESS_LARGE_MAX : STRESS_SMALL_MAX);
        uint64_t action = prng() % 3;

        if (s->p && s->size) {
            KASSERT(holds(s->p, s->size, s->seed)); /* untouched by any other step */
        }
        if (s->p == NULL) { /* allocate */
            s->p = prng() % 4 == 0 ? kcalloc(1, size) : kmalloc(size);
            KASSERT(s->p != NULL);
            s->size = size;
        } else if (action == 0) { /* free */
            kfree(s->p);
            s->p = NULL;
            s->size = 0;
            continue;
        } else { /* reallocate, keeping contents */
            uint8_t *moved = krealloc(s->p, size);
            KASSERT(moved != NULL);
            size_t kept = size < s->size ? size : s->size;
            KASSERT(holds(moved, kept, s->seed));
            s->p = moved;
            s->size = size;
        }
        KASSERT_EQ(address_of(s->p) % HEAP_ALIGNMENT, 0);
        /* No overlap with any other live block. */
        for (unsigned int i = 0; i < STRESS_SLOTS; i++) {
            struct slot *o = &slots[i];
            if (o == s || o->p == NULL)
                continue;
            KASSERT(address_of(s->p) + s->size <= address_of(o->p) ||
                    address_of(o->p) + o->size <= address_of(s->p));
        }
        s->seed = step + 1;
        fill(s->p, s->size, s->seed);

        /* The books balance (heap_stats also checks every block's guards). */
        struct heap_stats now = heap_stats();
        uint64_t live = 0, bytes = 0;
        for (unsigned int i = 0; i < STRESS_SLOTS; i++)
            if (slots[i].p) {
                live++;
                bytes += slots[i].size;
            }
        KASSERT_EQ(now.used_block_bytes + now.free_block_bytes, now.heap_bytes);
        KASSERT_EQ(now.used_blocks, base.used_blocks + live);
        KASSERT_EQ(now.requested_bytes, base.requested_bytes + bytes);
        KASSERT_LE(now.largest_free, now.free_block_bytes);
    }

    for (unsigned int i = 0; i < STRESS_SLOTS; i++) {
        if (slots[i].p) {
            KASSERT(holds(slots[i].p, slots[i].size, slots[i].seed));
            kfree(slots[i].p);
        }
    }
    struct heap_stats end = heap_stats();
    KASSERT_EQ(end.used_blocks, base.used_blocks);
    KASSERT_EQ(end.requested_bytes, base.requested_bytes);
}
