/*
 * memory_selftest.c - the command-line self-tests (see memory_selftest.h).
 */
#include "mm/memory_selftest.h"

#include <stdint.h>

#include <libk/string.h>

#include "console.h"
#include "mm/frames.h"
#include "mm/heap.h"
#include "mm/kernel_stack.h"
#include "mm/paging.h"
#include "mm/virtual_layout.h"

/* A block size that leaves the tail canary unaligned, as most are. */
#define OVERRUN_BLOCK_BYTES 24u

extern char kernel_entry[]; /* entry.asm: the first byte of the kernel's code */

static void frame_double_free(void)
{
    uint64_t frame = frame_alloc();
    kprintf("memory-selftest: freeing frame 0x%016llx twice\n", (unsigned long long)frame);
    frame_free(frame);
    frame_free(frame);
}

static void frame_free_reserved(void)
{
    uint64_t frame = (uint64_t)(uintptr_t)kernel_entry;
    kprintf("memory-selftest: freeing frame 0x%016llx of the kernel image\n",
            (unsigned long long)frame);
    frame_free(frame);
}

static void heap_overrun(void)
{
    char *block = kmalloc(OVERRUN_BLOCK_BYTES);
    kprintf("memory-selftest: writing past the %u-byte block at 0x%016llx\n", OVERRUN_BLOCK_BYTES,
            (unsigned long long)(uintptr_t)block);
    block[OVERRUN_BLOCK_BYTES] = 'X';
    kfree(block);
}

static void heap_underrun(void)
{
    char *block = kmalloc(OVERRUN_BLOCK_BYTES);
    kprintf("memory-selftest: writing before the block at 0x%016llx\n",
            (unsigned long long)(uintptr_t)block);
    block[-1] = 'X';
    kfree(block);
}

static void heap_double_free(void)
{
    void *block = kmalloc(OVERRUN_BLOCK_BYTES);
    void *keep = kmalloc(OVERRUN_BLOCK_BYTES); /* so the block cannot merge away */
    kprintf("memory-selftest: freeing the block at 0x%016llx twice\n",
            (unsigned long long)(uintptr_t)block);
    kfree(block);
    kfree(block);
    kfree(keep);
}

static void heap_foreign_pointer(void)
{
    /* 16-byte aligned and inside the heap, but in the middle of a block. */
    char *block = kmalloc(4 * OVERRUN_BLOCK_BYTES);
    char *inside = block + 2 * HEAP_ALIGNMENT;
    kprintf("memory-selftest: freeing 0x%016llx, inside a block\n",
            (unsigned long long)(uintptr_t)inside);
    kfree(inside);
}

static void page_walks(void)
{
    const uint64_t addresses[] = {
        (uint64_t)(uintptr_t)kernel_entry,            /* 4 KiB page, read + execute */
        (uint64_t)(uintptr_t)kernel_boot_stack_guard, /* unmapped on purpose */
        0x200000,                                     /* a 2 MiB page */
        heap_base(),                                  /* mapped by the heap */
        PAGING_TEST_VIRTUAL_BASE,                     /* nothing there */
    };
    for (unsigned int i = 0; i < sizeof addresses / sizeof addresses[0]; i++)
        paging_walk_print(addresses[i]);
}

static const struct {
    const char *name;
    void (*run)(void);
} selftests[] = {
    {"double-free", frame_double_free},
    {"free-reserved", frame_free_reserved},
    {"heap-overrun", heap_overrun},
    {"heap-underrun", heap_underrun},
    {"heap-double-free", heap_double_free},
    {"heap-foreign-pointer", heap_foreign_pointer},
    {"page-walk", page_walks},
};

void memory_selftest(const char *name)
{
    for (unsigned int i = 0; i < sizeof selftests / sizeof selftests[0]; i++) {
        if (strcmp(name, selftests[i].name) == 0) {
            kprintf("memory-selftest: %s\n", selftests[i].name);
            selftests[i].run();
            kprintf("memory-selftest: %s finished without a panic\n", selftests[i].name);
            return;
        }
    }
    kprintf("memory-selftest: no test named \"%s\"\n", name);
}
