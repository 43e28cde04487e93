"""Memory management seen from outside: the frame allocator's count against
the firmware's memory map, the panics that guard the allocators, and the
page walk printout (kernel/mm/).

The kernel prints one line at boot,

    memory: 126 MiB usable (32458 frames), 32439 frames free, heap at 0xffffc00000000000

and, later, the BIOS's E820 map as it got it. From that map we work out,
independently of the kernel's code, how many frames it should manage:
the usable pages of the sanitised map (the stronger type wins where
entries overlap, usable ranges shrink to whole pages), above 1 MiB and
below the end of the identity map, minus the kernel image and the frame
allocator's two bitmaps (2 bits per frame up to the highest usable page).
"""
import re

import pytest

from support.images import build_image
from support.qemu import KERNEL_EXIT_FAILURE, KERNEL_EXIT_SUCCESS, boot
from support.sources import MEMORY_LAYOUT_INC, nasm_value

PAGE = 4096
MIB = 1 << 20
LOW_MEMORY_END = MIB            # kernel/mm/frames.h: nothing below 1 MiB is handed out
BITS_PER_WORD = 64              # kernel/mm/frames.c: bitmaps are arrays of 64-bit words
BITMAPS = 2                     # managed + free
TIMEOUT_SECONDS = 90
# Frames memory_init itself takes before it prints (the heap's first 16
# pages and the page tables to map them); a generous bound, not an exact count.
INIT_FRAMES_MAX = 64

USABLE, RESERVED, ACPI_RECLAIMABLE, ACPI_NVS, BAD = 1, 2, 3, 4, 5
# How restrictive each type is; unknown numbers count as reserved.
RANK = {USABLE: 1, ACPI_RECLAIMABLE: 2, ACPI_NVS: 3, RESERVED: 4, BAD: 5}

MEMORY_LINE = re.compile(
    r"^memory: (\d+) MiB usable \((\d+) frames\), (\d+) frames free, heap at 0x([0-9a-f]{16})$",
    re.M)
E820_LINE = re.compile(
    r"^  \[\d+\] base 0x([0-9a-f]{16}) length 0x([0-9a-f]{16}) type (\d+) ", re.M)
KERNEL_LINE = re.compile(r"^kernel: 0x([0-9a-f]{16})-0x([0-9a-f]{16}),", re.M)
IDENTITY_LINE = re.compile(r"identity map up to 0x([0-9a-f]{16})$", re.M)


def usable_pages(entries):
    """Sanitise the map the simple way (every stretch between two
    boundaries takes the strongest type covering it) and return the set of
    whole 4 KiB pages that end up usable, as page numbers."""
    top = 1 << 64
    points = sorted({p for base, length, _ in entries if length
                     for p in (base, min(base + length, top))})
    stretches = []
    for start, end in zip(points, points[1:]):
        ranks = [RANK.get(t, RANK[RESERVED]) for base, length, t in entries
                 if length and base <= start < base + length]
        if not ranks:
            continue
        usable = max(ranks) == RANK[USABLE]
        if stretches and stretches[-1][1] == start and stretches[-1][2] == usable:
            stretches[-1] = (stretches[-1][0], end, usable)
        else:
            stretches.append((start, end, usable))
    pages = []
    for start, end, usable in stretches:
        if usable:
            first, last = -(-start // PAGE), end // PAGE
            pages.append((first, last))     # [first, last) page numbers
    return pages


def expected_frames(serial):
    entries = [(int(b, 16), int(l, 16), int(t)) for b, l, t in E820_LINE.findall(serial)]
    assert entries, serial
    kernel_start, kernel_end = (int(x, 16) for x in KERNEL_LINE.search(serial).groups())
    identity_end = int(IDENTITY_LINE.search(serial)[1], 16)

    ranges = usable_pages(entries)
    limit = min(max(last for _, last in ranges), identity_end // PAGE)  # in pages
    words = -(-limit // BITS_PER_WORD)
    bitmap_pages = -(-(BITMAPS * words * 8) // PAGE)
    kernel_pages = set(range(kernel_start // PAGE, -(-kernel_end // PAGE)))

    count = 0
    for first, last in ranges:
        for page in range(max(first, LOW_MEMORY_END // PAGE), min(last, limit)):
            if page not in kernel_pages:
                count += 1
    return count - bitmap_pages


@pytest.fixture(scope="module")
def exit_image_here(tmp_path_factory):
    return build_image(tmp_path_factory.mktemp("memory") / "exit.img", cmdline="qemu-exit")


@pytest.mark.parametrize("memory", ["32M", "512M", "6G"])
def test_frame_count_matches_the_memory_map(exit_image_here, memory):
    result = boot(exit_image_here, memory=memory, timeout=TIMEOUT_SECONDS)
    serial = result.serial.replace("\r", "")
    assert result.exit_code == KERNEL_EXIT_SUCCESS, serial
    line = MEMORY_LINE.search(serial)
    assert line, f"no memory: line\n{serial}"
    mib, total, free = int(line[1]), int(line[2]), int(line[3])
    assert int(line[4], 16) == 0xFFFFC00000000000, "the heap is not where virtual_layout.h puts it"
    assert total == expected_frames(serial), serial
    assert mib == total * PAGE // MIB
    assert 0 < total - free <= INIT_FRAMES_MAX, serial
    # The sanity of the whole calculation: close to the RAM QEMU was given.
    ram = int(memory[:-1]) * (1024 if memory.endswith("G") else 1) * MIB
    assert ram - 8 * MIB < total * PAGE <= ram


# command-line word -> what the panic must say. The addresses come from the
# line the self-test prints before its mistake.
SELFTESTS = {
    "double-free": (r"freeing frame 0x(?P<a>[0-9a-f]{16}) twice",
                    r"PANIC: frame_free\(0x{a}\): double free: the frame is already free"),
    "free-reserved": (r"freeing frame 0x(?P<a>[0-9a-f]{16}) of the kernel image",
                      r"PANIC: frame_free\(0x{a}\): freeing a reserved frame \(kernel image\)"),
    "heap-overrun": (r"writing past the 24-byte block at 0x(?P<a>[0-9a-f]{16})",
                     r"PANIC: heap: kfree\(0x{a}\): heap overrun: the 24-byte block was "
                     r"written past its end"),
    "heap-underrun": (r"writing before the block at 0x(?P<a>[0-9a-f]{16})",
                      r"PANIC: heap: kfree\(0x{a}\): heap underrun"),
    "heap-double-free": (r"freeing the block at 0x(?P<a>[0-9a-f]{16}) twice",
                         r"PANIC: heap: kfree\(0x{a}\): double free"),
    "heap-foreign-pointer": (r"freeing 0x(?P<a>[0-9a-f]{16}), inside a block",
                             r"PANIC: heap: kfree\(0x{a}\): not the start of a heap block"),
}


@pytest.mark.parametrize("name", sorted(SELFTESTS))
def test_selftest_mistake_panics(tmp_path, name):
    announce, panic = SELFTESTS[name]
    image = build_image(tmp_path / "selftest.img", cmdline=f"qemu-exit memory-selftest={name}")
    result = boot(image, memory="32M", timeout=TIMEOUT_SECONDS)
    serial = result.serial.replace("\r", "")
    said = re.search(announce, serial)
    assert said, serial
    assert re.search(panic.format(a=said["a"]), serial), serial
    assert "finished without a panic" not in serial
    assert result.exit_code == KERNEL_EXIT_FAILURE, serial


def test_page_walk_printout(tmp_path):
    image = build_image(tmp_path / "walk.img", cmdline="qemu-exit memory-selftest=page-walk")
    result = boot(image, memory="32M", timeout=TIMEOUT_SECONDS)
    serial = result.serial.replace("\r", "")
    assert result.exit_code == KERNEL_EXIT_SUCCESS, serial
    cr3 = nasm_value(MEMORY_LAYOUT_INC, "PAGE_TABLES_ADDRESS")     # the loader's PML4
    walks = re.findall(rf"^page walk for 0x([0-9a-f]{{16}}) \(CR3 0x{cr3:016x}\):\n"
                       r"((?:  .*\n)+)", serial, re.M)
    assert len(walks) == 5, serial
    text = {int(address, 16): lines for address, lines in walks}
    entry = text[0x100000]      # the kernel's first code page: 4 KiB, read-only, executable
    assert re.search(r"^  PML4E \[  0\] 0x[0-9a-f]{16} P W S X", entry, re.M), entry
    assert re.search(r"^  PTE   \[256\] 0x0000000000100\w{3} P R S X .*-> 4 KiB page "
                     r"0x0000000000100000$", entry, re.M), entry
    assert "=> physical 0x0000000000100000, read-only, supervisor, executable" in entry
    large = text[0x200000]      # the loader's 2 MiB pages
    assert re.search(r"^  PDE   \[  1\] 0x0000000000200083 P W S X PS -> 2 MiB page "
                     r"0x0000000000200000$", large, re.M), large
    heap = text[0xFFFFC00000000000]
    assert re.search(r"^  PML4E \[384\]", heap, re.M), heap
    assert "writable, supervisor, no-execute" in heap
    unmapped = text[0xFFFFE00000000000]
    assert re.search(r"^  PML4E \[448\] 0x0000000000000000 not present\n"
                     r"  => not mapped: the walk stops here$", unmapped, re.M), unmapped
    guard = [lines for address, lines in text.items() if 0x100000 < address < 0x200000
             and address != 0x100000]
    assert len(guard) == 1 and "PTE" in guard[0] and "not present" in guard[0], guard


# Without NX, executing a no-execute page cannot fault: this test (built
# once the exception handler exists) then fails its first assertion, which
# says so.
NX_FAULT_TEST = "paging_executing_no_execute_page_faults"
NX_FAULT_TEST_WITHOUT_NX = "KASSERT(paging_nx_enabled())"


@pytest.mark.parametrize("cpu,memory,has_nx", [("max", "6G", True), ("qemu64,-nx", "128M", False)],
                         ids=["1GiB-pages-6G", "no-nx"])
def test_paging_tests_on_other_cpus(tmp_path, cpu, memory, has_nx):
    """The paging tests again where the large page to split is 1 GiB (a
    CPU with 1 GiB pages and RAM above 4 GiB) and where there is no NX."""
    image = build_image(tmp_path / "paging.img", cmdline="test=paging")
    result = boot(image, cpu=cpu, memory=memory, timeout=TIMEOUT_SECONDS)
    serial = result.serial.replace("\r", "")
    results = dict((name, (outcome, detail)) for outcome, name, detail in
                   re.findall(r"^ktest: (PASS|FAIL) (\w+)(?:: (.*))?$", serial, re.M))
    assert re.search(r"^ktest: \d+ passed, \d+ failed$", serial, re.M), serial
    assert results.get("paging_protect_splits_a_large_page") == ("PASS", ""), serial
    for name, (outcome, detail) in results.items():
        if name == NX_FAULT_TEST and not has_nx:
            assert outcome == "PASS" or NX_FAULT_TEST_WITHOUT_NX in detail, serial
        else:
            assert outcome == "PASS", f"{name}: {detail}\n{serial}"
