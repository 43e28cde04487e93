/*
 * frames_test.c - in-kernel tests of the frame allocator (frames.h).
 *
 * Double free and freeing a reserved frame panic, which a test here cannot
 * survive: tests/test_memory.py checks those from the host with the
 * memory-selftest= command-line words (memory_selftest.h).
 */
#include "mm/frames.h"

#include <libk/string.h>

#include "ktest/ktest.h"
#include "mm/heap.h"

#define BITS_PER_BYTE 8u

extern char kernel_entry[]; /* entry.asm */

static bool in_reservation(uint64_t address)
{
    const struct frame_reservation *list;
    size_t count = frames_reservations(&list);
    for (size_t i = 0; i < count; i++)
        if (address < list[i].end && list[i].start < address + FRAME_SIZE)
            return true;
    return false;
}

/*
 * Take every free frame, checking each, then give them all back. The
 * frames seen are marked in a bitmap on the heap, one bit per frame, so a
 * frame handed out twice shows up.
 */
KTEST(frames_exhaust_and_return_every_frame)
{
    struct frame_stats before = frames_stats();
    uint64_t frames = frames_limit() / FRAME_SIZE;
    uint8_t *seen = kcalloc(frames / BITS_PER_BYTE + 1, 1);
    KASSERT(seen != NULL);

    uint64_t taken = 0;
    for (uint64_t address = frame_alloc(); address != 0; address = frame_alloc()) {
        KASSERT_EQ(address % FRAME_SIZE, 0);
        KASSERT_GE(address, FRAMES_LOW_MEMORY_END); /* nothing below 1 MiB, so no frame 0 */
        KASSERT_LT(address, frames_limit());        /* inside the identity map */
        KASSERT(!in_reservation(address));          /* kernel, boot info, loader, bitmaps */
        KASSERT(frame_is_managed(address));
        KASSERT(!frame_is_free(address));
        uint64_t frame = address / FRAME_SIZE;
        uint8_t bit = (uint8_t)(1u << (frame % BITS_PER_BYTE));
        KASSERT_EQ(seen[frame / BITS_PER_BYTE] & bit, 0); /* never handed out twice */
        seen[frame / BITS_PER_BYTE] |= bit;
        taken++;
    }
    KASSERT_EQ(taken, before.free);
    struct frame_stats empty = frames_stats();
    KASSERT_EQ(empty.free, 0);
    KASSERT_EQ(empty.used, empty.total);

    for (uint64_t frame = 0; frame < frames; frame++)
        if (seen[frame / BITS_PER_BYTE] & (1u << (frame % BITS_PER_BYTE)))
            frame_free(frame * FRAME_SIZE);
    kfree(seen);

    struct frame_stats after = frames_stats();
    KASSERT_EQ(after.free, before.free);
    KASSERT_EQ(after.total, before.total);
}

KTEST(frames_stats_add_up)
{
    struct frame_stats before = frames_stats();
    KASSERT_EQ(before.used + before.free, before.total);
    KASSERT(before.total > 0);

    uint64_t a = frame_alloc(), b = frame_alloc(), c = frame_alloc();
    KASSERT(a != 0 && b != 0 && c != 0);
    KASSERT(a != b && b != c && a != c);
    struct frame_stats during = frames_stats();
    KASSERT_EQ(during.free, before.free - 3);
    KASSERT_EQ(during.used, before.used + 3);

    frame_free(b);
    frame_free(a);
    frame_free(c);
    struct frame_stats after = frames_stats();
    KASSERT_EQ(after.free, before.free);
}

KTEST(frames_free_makes_a_frame_free_again)
{
    uint64_t a = frame_alloc();
    KASSERT(a != 0);
    KASSERT(!frame_is_free(a));
    frame_free(a);
    KASSERT(frame_is_free(a));
    KASSERT(frame_is_managed(a));
}

KTEST(frames_reserved_ranges_are_not_managed)
{
    KASSERT(!frame_is_managed(0));                                  /* frame 0 */
    KASSERT(!frame_is_managed(0x1000));                             /* boot information */
    KASSERT(!frame_is_managed(0x20000));                            /* loader page tables */
    KASSERT(!frame_is_managed(0x7F000));                            /* loader stack */
    KASSERT(!frame_is_managed((uint64_t)(uintptr_t)kernel_entry));  /* kernel image */
    KASSERT(!frame_is_managed(FRAMES_LOW_MEMORY_END - FRAME_SIZE)); /* below 1 MiB */

    const struct frame_reservation *list;
    size_t count = frames_reservations(&list);
    bool found_kernel = false, found_bitmaps = false;
    for (size_t i = 0; i < count; i++) {
        for (uint64_t a = list[i].start & ~(FRAME_SIZE - 1); a < list[i].end; a += FRAME_SIZE)
            KASSERT(!frame_is_managed(a));
        found_kernel |= strcmp(list[i].what, "kernel image") == 0;
        found_bitmaps |= strcmp(list[i].what, "frame bitmaps") == 0;
    }
    KASSERT(found_kernel);
    KASSERT(found_bitmaps);
}
