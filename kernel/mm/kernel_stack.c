/*
 * kernel_stack.c - stacks with guard pages (see kernel_stack.h).
 *
 * The area from KERNEL_STACKS_VIRTUAL_BASE is handed out upward, one slot
 * per stack: a guard page that is never mapped, then the stack's pages,
 * each backed by a frame from the frame allocator.
 *
 *   slot:  [guard page, unmapped][page 0]...[page n-1]   <- top (RSP)
 */
#include "mm/kernel_stack.h"

#include "mm/frames.h"
#include "mm/paging.h"
#include "mm/virtual_layout.h"
#include "panic.h"

#define GUARD_PAGES 1

static uint64_t next_slot = KERNEL_STACKS_VIRTUAL_BASE;

uint64_t kernel_stack_alloc(size_t pages)
{
    if (pages == 0)
        return 0;
    uint64_t slot_bytes = (GUARD_PAGES + pages) * PAGE_SIZE;
    if (next_slot + slot_bytes > KERNEL_STACKS_VIRTUAL_BASE + KERNEL_STACKS_VIRTUAL_SIZE)
        return 0;
    uint64_t bottom = next_slot + GUARD_PAGES * PAGE_SIZE;
    for (size_t i = 0; i < pages; i++) {
        uint64_t frame = frame_alloc();
        if (frame == 0 || paging_map(bottom + i * PAGE_SIZE, frame,
                                     PAGE_WRITABLE | PAGE_NO_EXECUTE) != PAGING_OK) {
            /* Give back what this stack got; its slot stays used. */
            if (frame != 0)
                frame_free(frame);
            for (size_t j = 0; j < i; j++) {
                uint64_t phys;
                if (paging_translate(bottom + j * PAGE_SIZE, &phys, NULL)) {
                    paging_unmap(bottom + j * PAGE_SIZE);
                    frame_free(phys);
                }
            }
            next_slot += slot_bytes;
            return 0;
        }
    }
    next_slot += slot_bytes;
    return bottom + pages * PAGE_SIZE;
}

uint64_t kernel_stack_bottom(uint64_t top, size_t pages)
{
    return top - pages * PAGE_SIZE;
}

void kernel_stack_guard_boot_stack(void)
{
    uint64_t guard = (uint64_t)(uintptr_t)kernel_boot_stack_guard;
    enum paging_status status = paging_unmap(guard);
    if (status != PAGING_OK)
        panic("cannot unmap the boot stack's guard page at 0x%016llx: %s",
              (unsigned long long)guard, paging_status_name(status));
}
