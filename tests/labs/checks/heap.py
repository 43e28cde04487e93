"""Lab heap: the kernel heap's blocks (kernel/mm/heap.c): make_used (split
a free block, tag it, write the canaries), make_free (tag it free and
coalesce it with free neighbours) and the guards checked_block applies to
every pointer given back. Graded by the kernel's heap tests
(kernel/mm/heap_test.c, `test=heap_`), by the mistakes the kernel makes on
purpose (memory-selftest=heap-overrun and friends), which must panic
naming the address the self-test announced, by a whole boot, and by the
shell's `mem`, whose numbers must add up.
"""
import re

from labs.grading import (Check, Failed, Lab, boots_to_the_end, expect, kernel_tests,
                          last_lines, shell_session)

HEAP_TESTS = "heap_"
HEAP_SOURCE = "kernel/mm/heap.c"
PAGE_SIZE = 4096                # the heap maps 4 KiB pages (kernel/mm/paging.h)
MEM_HEAP_LINE = re.compile(
    r"^heap at 0x[0-9a-f]+: (?P<mapped>\d+) bytes mapped, (?P<used>\d+) in (?P<used_blocks>\d+) "
    r"blocks in use \((?P<requested>\d+) requested\), (?P<free>\d+) in (?P<free_blocks>\d+) "
    r"free blocks, largest free (?P<largest>\d+)$", re.M)

# memory-selftest NAME -> (what it announces, with the block's address, and
# what the panic must then say about that address); kernel/mm/memory_selftest.c.
SELFTESTS = {
    "heap-overrun": (r"writing past the (?P<n>\d+)-byte block at 0x(?P<a>[0-9a-f]{16})",
                     "PANIC: heap: kfree(0x{a}): heap overrun: the {n}-byte block was written "
                     "past its end"),
    "heap-underrun": (r"writing before the block at 0x(?P<a>[0-9a-f]{16})",
                      "PANIC: heap: kfree(0x{a}): heap underrun"),
    "heap-double-free": (r"freeing the block at 0x(?P<a>[0-9a-f]{16}) twice",
                         "PANIC: heap: kfree(0x{a}): double free: the block is already free"),
    "heap-foreign-pointer": (r"freeing 0x(?P<a>[0-9a-f]{16}), inside a block",
                             "PANIC: heap: kfree(0x{a}): not the start of a heap block"),
}


def heap_test(*names):
    return kernel_tests(HEAP_TESTS, *names)


def selftest_panics(name):
    """A check that memory-selftest=NAME panics, naming the block it announced."""
    announce, panic = SELFTESTS[name]

    def run(context):
        serial = context.boot(cmdline=f"memory-selftest={name} qemu-exit").serial.replace("\r", "")
        said = re.search(announce, serial)
        if said is None:
            raise Failed(f"memory-selftest={name} did not get to its mistake; the kernel "
                         f"printed:\n{last_lines(serial)}")
        wanted = panic.format(**said.groupdict())
        expect(wanted in serial,
               f"memory-selftest={name} said {said[0]!r}, but no {wanted!r} followed; "
               f"the kernel printed:\n{last_lines(serial)}")
    return run


def initial_pages(context):
    source = (context.root / HEAP_SOURCE).read_text()
    found = re.search(r"^#define HEAP_INITIAL_PAGES (\d+)u$", source, re.M)
    expect(found is not None, f"{HEAP_SOURCE} no longer defines HEAP_INITIAL_PAGES")
    return int(found[1])


def mem_adds_up(context):
    # Nothing has been allocated when the shell starts: the heap is its
    # first pages, one free block.
    (output,) = shell_session(context, "mem")
    line = MEM_HEAP_LINE.search(output)
    expect(line is not None, f"`mem` printed no heap line:\n{last_lines(output)}")
    numbers = {key: int(value) for key, value in line.groupdict().items()}
    mapped = initial_pages(context) * PAGE_SIZE
    expect(numbers["mapped"] == mapped,
           f"`mem`: {numbers['mapped']} bytes mapped, expected the first {mapped} "
           f"(HEAP_INITIAL_PAGES pages)")
    expect(numbers["used"] + numbers["free"] == numbers["mapped"],
           f"`mem`: used {numbers['used']} + free {numbers['free']} bytes is not the "
           f"{numbers['mapped']} mapped")
    expect(numbers["used_blocks"] == 0 and numbers["requested"] == 0,
           f"`mem`: blocks in use before anything was allocated:\n{line[0]}")
    expect(numbers["free_blocks"] == 1 and 0 < numbers["largest"] < numbers["free"],
           f"`mem`: the untouched heap is not one free block:\n{line[0]}")


LAB = Lab(
    name="heap",
    title="the kernel heap: split, coalesce, and the guards",
    handout="docs/course/labs/heap.md",
    chapter="docs/course/09-memory-management.md",
    checks=[
        Check("the kernel boots to the end with your heap", 5, boots_to_the_end),
        Check("`mem`: the untouched heap is one free block, and the bytes add up", 5,
              mem_adds_up),
        Check("every pointer is 16-byte aligned", 5,
              heap_test("heap_pointers_are_16_byte_aligned")),
        Check("freed neighbours coalesce into one block", 5,
              heap_test("heap_free_blocks_coalesce")),
        Check("the heap grows when nothing fits", 5, heap_test("heap_grows_when_full")),
        Check("krealloc, kcalloc and the edge cases", 5,
              heap_test("heap_krealloc_keeps_contents", "heap_kcalloc_zeroes",
                        "heap_edge_cases")),
        Check("2500 random steps keep every block's bytes and the books balanced", 10,
              heap_test("heap_random_stress")),
        Check("writing past a block panics: heap overrun", 5, selftest_panics("heap-overrun")),
        Check("writing before a block panics: heap underrun", 5,
              selftest_panics("heap-underrun")),
        Check("a double free panics", 5, selftest_panics("heap-double-free")),
        Check("freeing a pointer into a block panics", 5,
              selftest_panics("heap-foreign-pointer")),
    ])
