/*
 * memory_test.c - in-kernel tests of what memory_init leaves behind: the
 * sanitised map and the frame allocator agree with each other.
 */
#include "mm/memory.h"

#include "ktest/ktest.h"
#include "mm/frames.h"

/* Frames checked against the map: every one would take long on big
 * machines, so every this-many-th, plus each range's first and last. */
#define FRAME_SAMPLE_STRIDE 61

static bool inside_usable(const struct memory_range *map, size_t count, uint64_t address)
{
    for (size_t i = 0; i < count; i++)
        if (map[i].type == MEMORY_TYPE_USABLE && address >= map[i].base &&
            address - map[i].base < map[i].length)
            return true;
    return false;
}

KTEST(memory_map_is_sanitised)
{
    const struct memory_range *map;
    size_t count = memory_map(&map);
    KASSERT(count > 0);
    for (size_t i = 0; i < count; i++) {
        KASSERT(map[i].length > 0);
        KASSERT(map[i].type >= MEMORY_TYPE_USABLE && map[i].type <= MEMORY_TYPE_BAD);
        if (map[i].type == MEMORY_TYPE_USABLE) {
            KASSERT_EQ(map[i].base % FRAME_SIZE, 0);
            KASSERT_EQ(map[i].length % FRAME_SIZE, 0);
        }
        if (i > 0)
            KASSERT_GE(map[i].base, map[i - 1].base + map[i - 1].length);
    }
}

/* Every managed frame lies in usable RAM of the sanitised map. */
KTEST(memory_managed_frames_are_usable_ram)
{
    const struct memory_range *map;
    size_t count = memory_map(&map);
    uint64_t frames = frames_limit() / FRAME_SIZE;
    for (uint64_t frame = 0; frame < frames; frame += FRAME_SAMPLE_STRIDE) {
        uint64_t address = frame * FRAME_SIZE;
        if (frame_is_managed(address))
            KASSERT(inside_usable(map, count, address));
    }
    /* And the edges of each usable range: inside managed memory unless reserved. */
    for (size_t i = 0; i < count; i++) {
        if (map[i].type != MEMORY_TYPE_USABLE)
            continue;
        uint64_t before = map[i].base - FRAME_SIZE, after = map[i].base + map[i].length;
        if (map[i].base >= FRAME_SIZE && !inside_usable(map, count, before))
            KASSERT(!frame_is_managed(before));
        if (!inside_usable(map, count, after))
            KASSERT(!frame_is_managed(after));
    }
}
