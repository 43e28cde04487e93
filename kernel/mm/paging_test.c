/*
 * paging_test.c - in-kernel tests of the paging API (paging.h), the
 * kernel's own page permissions and the stacks' guard pages.
 *
 * The tests that must page-fault (KTEST_EXPECT_FAULT with vector 14) need
 * an exception handler that hands the fault to ktest; without an IDT a
 * fault resets the machine and ends the whole run. They are compiled only
 * once cpu/exceptions.h exists (the exception handler's header).
 */
#include "mm/paging.h"

#include <libk/string.h>

#include "ktest/ktest.h"
#include "cpu/control_registers.h"
#include "mm/frames.h"
#include "mm/kernel_stack.h"
#include "mm/page_table.h"
#include "mm/virtual_layout.h"

/* Page-fault vector (Intel SDM Vol. 3A, 6.15, "Interrupt 14"). */
#define VECTOR_PAGE_FAULT 14
/* The x86 RET instruction, one byte. */
#define OPCODE_RET 0xC3
#define TEST_PATTERN 0x5A5AC3C3F00DBEEFull
#define LARGE_PAGE_SIZE 0x200000ull /* 2 MiB */

/* A different scratch page per test, so a test that faulted half-way
 * leaves nothing in the way of the next. */
#define SCRATCH(n) (PAGING_TEST_VIRTUAL_BASE + (uint64_t)(n)*PAGE_SIZE)

/* linker.ld: section boundaries. */
extern char __kernel_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __bss_end[], __ksymtab_start[], __kernel_end[];

static uint64_t address_of(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

/* Map a fresh frame at `virt` (removing what a previous run left there). */
static uint64_t map_fresh(uint64_t virt, unsigned int flags)
{
    uint64_t old;
    if (paging_translate(virt, &old, NULL)) {
        paging_unmap(virt);
        frame_free(old);
    }
    uint64_t frame = frame_alloc();
    KASSERT(frame != 0);
    KASSERT_EQ(paging_map(virt, frame, flags), PAGING_OK);
    return frame;
}

static void unmap_and_free(uint64_t virt)
{
    uint64_t frame;
    KASSERT(paging_translate(virt, &frame, NULL));
    KASSERT_EQ(paging_unmap(virt), PAGING_OK);
    frame_free(frame);
}

KTEST(paging_write_protect_and_no_execute_are_on)
{
    KASSERT(read_cr0() & CR0_WRITE_PROTECT);
    bool nx = cpu_has_no_execute();
    KASSERT_EQ(paging_nx_enabled(), nx);
    KASSERT_EQ((read_msr(MSR_EFER) & EFER_NO_EXECUTE_ENABLE) != 0, nx);
}

KTEST(paging_map_write_read_unmap)
{
    uint64_t virt = SCRATCH(0);
    uint64_t frame = map_fresh(virt, PAGE_WRITABLE | PAGE_NO_EXECUTE);

    uint64_t phys;
    unsigned int flags;
    KASSERT(paging_translate(virt + 0x123, &phys, &flags));
    KASSERT_EQ(phys, frame + 0x123);
    KASSERT(flags & PAGE_WRITABLE);
    KASSERT(!(flags & PAGE_LARGE));
    KASSERT(!(flags & PAGE_USER));
    KASSERT_EQ((flags & PAGE_NO_EXECUTE) != 0, paging_nx_enabled());

    /* Written through the new mapping, read through the identity map. */
    volatile uint64_t *through_mapping = (volatile uint64_t *)(uintptr_t)virt;
    volatile uint64_t *through_identity = (volatile uint64_t *)(uintptr_t)frame;
    for (unsigned int i = 0; i < PAGE_SIZE / sizeof(uint64_t); i++)
        through_mapping[i] = TEST_PATTERN ^ i;
    for (unsigned int i = 0; i < PAGE_SIZE / sizeof(uint64_t); i++)
        KASSERT_EQ(through_identity[i], TEST_PATTERN ^ i);

    unmap_and_free(virt);
    KASSERT(!paging_translate(virt, NULL, NULL));
}

KTEST(paging_refuses_bad_requests)
{
    uint64_t virt = SCRATCH(1);
    uint64_t frame = map_fresh(virt, PAGE_WRITABLE);
    KASSERT_EQ(paging_map(virt, frame, PAGE_WRITABLE), PAGING_ALREADY_MAPPED);
    KASSERT_EQ(paging_map(virt + 1, frame, 0), PAGING_BAD_ADDRESS);              /* unaligned */
    KASSERT_EQ(paging_map(0x0000800000000000ull, frame, 0), PAGING_BAD_ADDRESS); /* non-canonical */
    KASSERT_EQ(paging_map(SCRATCH(2), frame + 8, 0), PAGING_BAD_ADDRESS); /* frame unaligned */
    /* The identity map is there already, in a large page or not. */
    KASSERT_EQ(paging_map(LARGE_PAGE_SIZE, LARGE_PAGE_SIZE, 0), PAGING_ALREADY_MAPPED);
    unmap_and_free(virt);
    KASSERT_EQ(paging_unmap(virt), PAGING_NOT_MAPPED);
    KASSERT_EQ(paging_protect(virt, 0), PAGING_NOT_MAPPED);
    KASSERT_EQ(paging_unmap(SCRATCH(3) + 4), PAGING_BAD_ADDRESS);
}

KTEST(paging_protect_changes_permissions)
{
    uint64_t virt = SCRATCH(4);
    uint64_t frame = map_fresh(virt, PAGE_WRITABLE | PAGE_NO_EXECUTE);
    unsigned int flags;

    KASSERT_EQ(paging_protect(virt, 0), PAGING_OK); /* read-only, executable */
    uint64_t phys;
    KASSERT(paging_translate(virt, &phys, &flags));
    KASSERT_EQ(phys, frame);
    KASSERT(!(flags & PAGE_WRITABLE));
    KASSERT(!(flags & PAGE_NO_EXECUTE));

    KASSERT_EQ(paging_protect(virt, PAGE_WRITABLE | PAGE_NO_EXECUTE), PAGING_OK);
    KASSERT(paging_translate(virt, NULL, &flags));
    KASSERT(flags & PAGE_WRITABLE);
    KASSERT_EQ((flags & PAGE_NO_EXECUTE) != 0, paging_nx_enabled());
    *(volatile uint64_t *)(uintptr_t)virt = TEST_PATTERN; /* writable again: no fault */

    unmap_and_free(virt);
}

KTEST(paging_user_pages_are_reported_as_user)
{
    uint64_t virt = SCRATCH(5);
    map_fresh(virt, PAGE_USER | PAGE_WRITABLE);
    unsigned int flags;
    KASSERT(paging_translate(virt, NULL, &flags));
    KASSERT(flags & PAGE_USER);
    KASSERT_EQ(paging_protect(virt, PAGE_WRITABLE), PAGING_OK); /* supervisor again */
    KASSERT(paging_translate(virt, NULL, &flags));
    KASSERT(!(flags & PAGE_USER));
    unmap_and_free(virt);
}

/* A free frame above 4 MiB that is mapped by a large page, or 0. */
static uint64_t free_frame_in_large_page(void)
{
    for (uint64_t a = frames_limit() - PAGE_SIZE; a >= 2 * LARGE_PAGE_SIZE; a -= LARGE_PAGE_SIZE) {
        unsigned int flags;
        if (frame_is_free(a) && paging_translate(a, NULL, &flags) && (flags & PAGE_LARGE))
            return a;
    }
    return 0;
}

/* Changing one 4 KiB page of the identity map splits its large page; the
 * other 511 pages (and 511 * 512 with a 1 GiB page) map as before. */
KTEST(paging_protect_splits_a_large_page)
{
    uint64_t page = free_frame_in_large_page();
    KASSERT(page != 0);
    uint64_t neighbour = page ^ PAGE_SIZE; /* same 2 MiB page */

    KASSERT_EQ(paging_protect(page, PAGE_NO_EXECUTE), PAGING_OK);
    uint64_t phys;
    unsigned int flags;
    KASSERT(paging_translate(page + 8, &phys, &flags));
    KASSERT_EQ(phys, page + 8);
    KASSERT(!(flags & PAGE_LARGE));
    KASSERT(!(flags & PAGE_WRITABLE));
    KASSERT_EQ((flags & PAGE_NO_EXECUTE) != 0, paging_nx_enabled());

    KASSERT(paging_translate(neighbour, &phys, &flags));
    KASSERT_EQ(phys, neighbour);
    KASSERT(!(flags & PAGE_LARGE));
    KASSERT(flags & PAGE_WRITABLE);
    KASSERT(!(flags & PAGE_NO_EXECUTE));

    /* Back to what the identity map gives every page (it stays split). */
    KASSERT_EQ(paging_protect(page, PAGE_WRITABLE), PAGING_OK);
    KASSERT(paging_translate(page, &phys, &flags));
    KASSERT(flags & PAGE_WRITABLE);
    *(volatile uint64_t *)(uintptr_t)page = TEST_PATTERN;
    KASSERT_EQ(*(volatile uint64_t *)(uintptr_t)page, TEST_PATTERN);
}

/* Every page of the kernel has its section's permissions: the loader set
 * them from the ELF segments, and linker.ld gives each section its own. */
KTEST(paging_kernel_sections_have_elf_permissions)
{
    bool nx = paging_nx_enabled();
    uint64_t guard = address_of(kernel_boot_stack_guard);
    for (uint64_t page = address_of(__kernel_start); page < address_of(__kernel_end);
         page += PAGE_SIZE) {
        unsigned int flags;
        if (page == guard) {
            KASSERT(!paging_translate(page, NULL, &flags));
            continue;
        }
        KASSERT(paging_translate(page, NULL, &flags));
        KASSERT(!(flags & PAGE_LARGE));
        if (page < address_of(__text_end)) { /* text: R X */
            KASSERT(!(flags & PAGE_WRITABLE));
            KASSERT(!(flags & PAGE_NO_EXECUTE));
        } else if (page >= address_of(__rodata_start) && page < address_of(__rodata_end)) {
            KASSERT(!(flags & PAGE_WRITABLE)); /* rodata: R NX */
            KASSERT_EQ((flags & PAGE_NO_EXECUTE) != 0, nx);
        } else if (page >= address_of(__data_start) && page < address_of(__bss_end)) {
            KASSERT(flags & PAGE_WRITABLE); /* data, bss: RW NX */
            KASSERT_EQ((flags & PAGE_NO_EXECUTE) != 0, nx);
        } else if (page >= address_of(__ksymtab_start)) { /* symbol table: R NX */
            KASSERT(!(flags & PAGE_WRITABLE));
            KASSERT_EQ((flags & PAGE_NO_EXECUTE) != 0, nx);
        }
    }
}

KTEST(paging_boot_stack_has_an_unmapped_guard_page)
{
    uint64_t guard = address_of(kernel_boot_stack_guard);
    KASSERT_EQ(guard % PAGE_SIZE, 0);
    KASSERT_EQ(address_of(kernel_boot_stack_bottom), guard + PAGE_SIZE);
    KASSERT(!paging_translate(guard, NULL, NULL));
    KASSERT(!paging_translate(guard + PAGE_SIZE - 1, NULL, NULL));
    unsigned int flags;
    KASSERT(paging_translate(address_of(kernel_boot_stack_bottom), NULL, &flags));
    KASSERT(flags & PAGE_WRITABLE);
    /* We are running on it. */
    uint64_t rsp = address_of(&flags);
    KASSERT(rsp >= address_of(kernel_boot_stack_bottom) && rsp < address_of(kernel_boot_stack_top));
}

KTEST(kernel_stack_alloc_maps_pages_below_a_guard)
{
    const size_t pages = 3;
    uint64_t top = kernel_stack_alloc(pages);
    KASSERT(top != 0);
    KASSERT_EQ(top % 16, 0);
    uint64_t bottom = kernel_stack_bottom(top, pages);
    KASSERT(bottom >= KERNEL_STACKS_VIRTUAL_BASE);
    for (uint64_t a = bottom; a < top; a += PAGE_SIZE) {
        unsigned int flags;
        KASSERT(paging_translate(a, NULL, &flags));
        KASSERT(flags & PAGE_WRITABLE);
        KASSERT_EQ((flags & PAGE_NO_EXECUTE) != 0, paging_nx_enabled());
    }
    KASSERT(!paging_translate(bottom - PAGE_SIZE, NULL, NULL)); /* the guard */
    memset((void *)(uintptr_t)bottom, 0xA5, pages * PAGE_SIZE);

    /* The next stack does not start right above: its own guard is between. */
    uint64_t next_top = kernel_stack_alloc(1);
    KASSERT(next_top != 0);
    KASSERT(!paging_translate(kernel_stack_bottom(next_top, 1) - PAGE_SIZE, NULL, NULL));
    KASSERT_GE(kernel_stack_bottom(next_top, 1) - PAGE_SIZE, top);
}

#if __has_include("cpu/exceptions.h")

/* ---- Tests that must page-fault: they need the exception handler. ---- */

KTEST_EXPECT_FAULT(paging_write_to_read_only_page_faults, VECTOR_PAGE_FAULT)
{
    uint64_t virt = SCRATCH(16);
    map_fresh(virt, 0);                                   /* read-only */
    (void)*(volatile uint64_t *)(uintptr_t)virt;          /* reading is fine */
    *(volatile uint64_t *)(uintptr_t)virt = TEST_PATTERN; /* writing faults (CR0.WP) */
}

KTEST_EXPECT_FAULT(paging_executing_no_execute_page_faults, VECTOR_PAGE_FAULT)
{
    KASSERT(paging_nx_enabled()); /* without NX nothing can fault here */
    uint64_t virt = SCRATCH(17);
    map_fresh(virt, PAGE_WRITABLE | PAGE_NO_EXECUTE);
    *(volatile uint8_t *)(uintptr_t)virt = OPCODE_RET;
    ((void (*)(void))(uintptr_t)virt)(); /* fetching faults */
}

KTEST_EXPECT_FAULT(paging_write_to_kernel_text_faults, VECTOR_PAGE_FAULT)
{
    *(volatile uint8_t *)(uintptr_t)__kernel_start = OPCODE_RET;
}

KTEST_EXPECT_FAULT(paging_write_to_kernel_rodata_faults, VECTOR_PAGE_FAULT)
{
    *(volatile uint8_t *)(uintptr_t)__rodata_start = 0;
}

KTEST_EXPECT_FAULT(paging_unmapped_page_faults, VECTOR_PAGE_FAULT)
{
    uint64_t virt = SCRATCH(18);
    map_fresh(virt, PAGE_WRITABLE);
    unmap_and_free(virt);
    (void)*(volatile uint64_t *)(uintptr_t)virt;
}

/* The TLB keeps a translation it has used until INVLPG (or a CR3 load)
 * drops it (SDM Vol. 3A, 4.10.4.1): the write caches this page's
 * translation, and only paging_unmap's invalidation makes the read after
 * the unmap fault instead of reaching the old frame. */
KTEST_EXPECT_FAULT(paging_unmap_invalidates_the_translation, VECTOR_PAGE_FAULT)
{
    uint64_t virt = SCRATCH(19);
    map_fresh(virt, PAGE_WRITABLE);
    *(volatile uint64_t *)(uintptr_t)virt = TEST_PATTERN;
    unmap_and_free(virt);
    (void)*(volatile uint64_t *)(uintptr_t)virt;
}

KTEST_EXPECT_FAULT(paging_boot_stack_guard_page_faults, VECTOR_PAGE_FAULT)
{
    (void)*(volatile uint64_t *)(uintptr_t)kernel_boot_stack_guard;
}

KTEST_EXPECT_FAULT(kernel_stack_guard_page_faults, VECTOR_PAGE_FAULT)
{
    uint64_t top = kernel_stack_alloc(1);
    KASSERT(top != 0);
    *(volatile uint64_t *)(uintptr_t)(kernel_stack_bottom(top, 1) - sizeof(uint64_t)) = 0;
}

#endif
