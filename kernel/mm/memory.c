/*
 * memory.c - memory_init: the order memory management starts in.
 *
 *   1. the memory map: the loader's E820 entries, sanitised (libk);
 *   2. the frame allocator, fed from it;
 *   3. paging, which takes page tables from the frame allocator;
 *   4. the boot stack's guard page, unmapped through paging;
 *   5. the heap, which maps frames through paging.
 */
#include "mm/memory.h"

#include "console.h"
#include "mm/frames.h"
#include "mm/heap.h"
#include "mm/kernel_stack.h"
#include "mm/paging.h"

#define MIB (1024ull * 1024ull)

/* Every input entry adds at most one start and one end: 2n - 1 ranges. */
#define SANITISED_MAX (2 * BOOT_INFO_E820_MAX - 1)

static struct memory_range raw_map[BOOT_INFO_E820_MAX];
static struct memory_range sanitised_map[SANITISED_MAX];
static size_t sanitised_count;

size_t memory_map(const struct memory_range **ranges)
{
    *ranges = sanitised_map;
    return sanitised_count;
}

static void sanitise_boot_memory_map(const struct boot_info *boot_info)
{
    size_t count = boot_info->e820_count;
    if (count > BOOT_INFO_E820_MAX)
        count = BOOT_INFO_E820_MAX; /* never read past the array */
    for (size_t i = 0; i < count; i++)
        raw_map[i] = (struct memory_range){boot_info->e820[i].base, boot_info->e820[i].length,
                                           boot_info->e820[i].type};
    sanitised_count = memory_map_sanitise(raw_map, count, sanitised_map, SANITISED_MAX);
    if (sanitised_count > SANITISED_MAX)
        sanitised_count = SANITISED_MAX; /* cannot happen (see above); stay in bounds */
}

void memory_init(const struct boot_info *boot_info)
{
    sanitise_boot_memory_map(boot_info);
    frames_init(boot_info, sanitised_map, sanitised_count);
    paging_init();
    kernel_stack_guard_boot_stack();
    heap_init();

    struct frame_stats frames = frames_stats();
    kprintf("memory: %llu MiB usable (%llu frames), %llu frames free, heap at 0x%016llx\n",
            (unsigned long long)(frames.total * FRAME_SIZE / MIB), (unsigned long long)frames.total,
            (unsigned long long)frames.free, (unsigned long long)heap_base());
}
