"""Lab paging: map and unmap in the paging API (kernel/mm/paging.c): the
walk down the four levels that adds missing tables and splits large pages
(find_entry), the leaf entry's bits (leaf_bits), and the last steps of
paging_map and paging_unmap with their TLB invalidation. Graded by the
kernel's paging tests (kernel/mm/paging_test.c, `test=paging_`), which
map, write, translate, protect and fault on purpose; by the page walk the
kernel prints of its heap and of the boot stack's guard page
(memory-selftest=page-walk); and by a whole boot, whose guard page and
heap go through paging_unmap and paging_map.
"""
import re

from labs.grading import (Check, Lab, boots_to_the_end, c_address, expect, kernel_tests,
                          last_lines)

PAGING_TESTS = "paging_"      # every paging test; the kernel stack tests below have their own
WALK = re.compile(r"^page walk for 0x(?P<address>[0-9a-f]{16}) \(CR3 0x[0-9a-f]{16}\):\n"
                  r"(?P<lines>(?:  .*\n)+)", re.M)
VIRTUAL_LAYOUT = "kernel/mm/virtual_layout.h"
# A PML4 index is bits 47-39 of the address (SDM Vol. 3A, 4.5, Figure 4-8).
PML4_SHIFT, INDEX_MASK = 39, 0x1FF


def paging_test(*names):
    return kernel_tests(PAGING_TESTS, *names)


def the_heap_and_the_guard_page_walk_as_they_should(context):
    result = context.boot(cmdline="memory-selftest=page-walk qemu-exit")
    serial = result.serial.replace("\r", "")
    walks = {int(m["address"], 16): m["lines"] for m in WALK.finditer(serial)}
    heap_base = c_address(context, VIRTUAL_LAYOUT, "HEAP_VIRTUAL_BASE")
    expect(heap_base in walks, f"no page walk of the heap (0x{heap_base:016x}); the kernel "
           f"printed:\n{last_lines(serial)}")
    heap = walks[heap_base]
    # The tables paging_map added for the heap: present, writable, kernel
    # only (the heap is no user page), and a 4 KiB leaf with the heap's
    # permissions.
    index = heap_base >> PML4_SHIFT & INDEX_MASK
    expect(re.search(rf"^  PML4E \[{index:3d}\] 0x[0-9a-f]{{16}} P W S ", heap, re.M),
           f"the heap's PML4 entry is not present, writable and supervisor-only:\n{heap}")
    expect(re.search(r"^  PTE   \[  0\] 0x[0-9a-f]{16} P W S .*-> 4 KiB page", heap, re.M)
           and "=> physical 0x" in heap and "writable, supervisor, no-execute" in heap,
           f"the heap's first page is not a 4 KiB page, writable, supervisor, no-execute:\n"
           f"{heap}")
    guards = [lines for address, lines in walks.items() if 0x100000 < address < 0x200000]
    expect(len(guards) == 1 and re.search(r"^  PTE   \[\d+\] 0x0{16} not present$", guards[0],
                                          re.M),
           f"the boot stack's guard page is still mapped: its walk is\n{''.join(guards)}")


LAB = Lab(
    name="paging",
    title="map and unmap: the walk, the entry's bits, the TLB",
    handout="docs/course/labs/paging.md",
    chapter="docs/course/09-memory-management.md",
    checks=[
        Check("the kernel boots to the end: guard page unmapped, heap mapped", 10,
              boots_to_the_end),
        Check("a mapped page reaches its frame and is gone after the unmap", 10,
              paging_test("paging_map_write_read_unmap")),
        Check("mapping twice, unmapping nothing and bad addresses are refused", 5,
              paging_test("paging_refuses_bad_requests")),
        Check("the entry's bits: read-only, no-execute and user pages", 10,
              paging_test("paging_protect_changes_permissions",
                          "paging_user_pages_are_reported_as_user",
                          "paging_write_to_read_only_page_faults",
                          "paging_executing_no_execute_page_faults")),
        Check("a 4 KiB page inside a 2 MiB page splits it", 5,
              paging_test("paging_protect_splits_a_large_page")),
        Check("an unmapped page faults at once: the TLB forgot it (invlpg)", 5,
              paging_test("paging_unmap_invalidates_the_translation",
                          "paging_unmapped_page_faults")),
        Check("guard pages: unmapped below the boot stack and every new kernel stack", 5,
              kernel_tests("guard", "paging_boot_stack_has_an_unmapped_guard_page",
                           "paging_boot_stack_guard_page_faults",
                           "kernel_stack_alloc_maps_pages_below_a_guard",
                           "kernel_stack_guard_page_faults")),
        Check("the page walk of the heap and of the guard page", 5,
              the_heap_and_the_guard_page_walk_as_they_should),
    ])
