"""Lab frames: the physical frame allocator's frame_alloc and frame_free
(kernel/mm/frames.c). Graded by the kernel's own frame tests
(kernel/mm/frames_test.c, run with the command line `test=frames_*`), the
allocator's refusals (memory-selftest=...) and a whole boot, which
allocates the heap and page tables from it."""
from labs.grading import Check, Lab, boots_to_the_end, expect_in, kernel_tests

FRAME_TESTS = "frames_"     # ktest runs the tests whose names contain this


def kernel_test(name):
    """A check that the kernel's frame test `name` passes."""
    return kernel_tests(FRAME_TESTS, name)


def selftest_panics(name, wanted):
    """A check that memory-selftest=name makes the kernel panic with `wanted`."""
    def run(context):
        result = context.boot(cmdline=f"memory-selftest={name} qemu-exit")
        expect_in(result.serial, "PANIC: frame_free(", f"the output of memory-selftest={name}")
        expect_in(result.serial, wanted, f"the output of memory-selftest={name}")
    return run


LAB = Lab(
    name="frames",
    title="the physical frame allocator: frame_alloc and frame_free",
    handout="docs/course/labs/frames.md",
    chapter="docs/course/09-memory-management.md",
    checks=[
        Check("the kernel boots to the end on your allocator", 10, boots_to_the_end),
        Check("every frame can be taken and given back", 10,
              kernel_test("frames_exhaust_and_return_every_frame")),
        Check("the counts add up", 5, kernel_test("frames_stats_add_up")),
        Check("a freed frame is free again", 5, kernel_test("frames_free_makes_a_frame_free_again")),
        Check("a double free panics, naming the frame", 5,
              selftest_panics("double-free", "double free: the frame is already free")),
        Check("freeing a reserved frame panics, naming the reservation", 5,
              selftest_panics("free-reserved", "freeing a reserved frame (")),
    ])
