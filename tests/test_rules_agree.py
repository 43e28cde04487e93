"""mkimage and the loader apply one rule set to a kernel's segments.

Whatever `mkimage build` accepts, stage 2 loads (given enough usable RAM);
whatever mkimage refuses, stage 2 refuses too when the image is written
with --force, with a message and a halt. The limits that depend only on the
file (the 4 GiB bound, the page-table budget, overlaps) are checked on
both sides; each case below is decided by both tools, booted in QEMU, and
the two answers must agree.
"""

import pytest

from support.elf_factory import PF_R, PF_W, PF_X, Segment, data, elf64, text, write
from support.images import attempt_image, build_image
from support.loader_lines import LOADER_HALTED
from support.qemu import boot
from support.sources import MEMORY_LAYOUT_INC, nasm_value

FOUR_GIB = 1 << 32
PAGE = 0x1000
TWO_MIB = 2 << 20
HIGHER_HALF = 0xFFFF_FFFF_8000_0000
JUMPING = "stage2: entering long mode, jumping to the kernel"
NOT_IN_RAM = "does not fit in usable RAM according to the BIOS memory map"
# Stage 2's table area, less the identity map of the first 4 GiB (a PML4,
# a PDPT, four page directories) and the first 2 MiB's page table.
IDENTITY_MAP_TABLES = 1 + 1 + 4 + 1
KERNEL_PAGE_TABLES_MAX = (nasm_value(MEMORY_LAYOUT_INC, "PAGE_TABLES_END")
                          - nasm_value(MEMORY_LAYOUT_INC, "PAGE_TABLES_ADDRESS")) // PAGE \
    - IDENTITY_MAP_TABLES
PROGRAM_HEADERS_MAX = nasm_value(MEMORY_LAYOUT_INC, "PROGRAM_HEADERS_MAX")  # stage 2's


def mkimage_accepts(kernel, out):
    """Run `mkimage build` without --force: True when it writes the image."""
    result = attempt_image(out, kernel=kernel, cmdline="")
    assert (result.returncode == 0) == out.exists(), result.stderr
    return result.returncode == 0, result.stderr


def loader_outcome(kernel, tmp_path, memory):
    """Boot the kernel (written with --force) and say how stage 2 ended:
    "boots", or the error line it printed before halting."""
    image = build_image(tmp_path / "forced.img", kernel=kernel, cmdline="", force=True)
    result = boot(image, until=f"{JUMPING}|{LOADER_HALTED}", settle=1.0, timeout=90,
                  memory=memory)
    if JUMPING in result.serial:
        return "boots", result
    assert LOADER_HALTED in result.serial, "neither a boot nor a halt:\n" + result.describe()
    assert result.still_running, result.describe()
    error = [line for line in result.lines() if line.startswith("stage2: error: ")]
    assert error, result.describe()
    return error[-1], result


def straddlers(tables):
    """Code at 1 MiB (one 2 MiB region) and small data segments that each
    straddle a 2 MiB boundary (two regions each): `tables` page tables in all."""
    segments = [text(0x100000)]
    boundary = 2 * TWO_MIB
    while tables > 1:
        size = 0x100 if tables > 2 else 0x80
        if tables == 2:                         # one more region, not straddling
            segments.append(data(boundary, size))
            tables -= 1
        else:
            segments.append(data(boundary - 0x80, size))
            tables -= 2
        boundary += TWO_MIB
    return elf64(segments, entry=0x100000)


def many_segments(count):
    """Code at 1 MiB and count - 1 small data segments after it, all in the
    first 2 MiB region: only the number of program headers is at stake."""
    return elf64([text(0x100000)] + [data(0x101000 + i * 0x100, 0x10) for i in range(count - 1)],
                 entry=0x100000)


def hlt_with(*extra):
    return elf64([text(0x100000), *extra], entry=0x100000)


# name, kernel, QEMU memory, and whether the loader can find RAM for it
# there: a range up to 4 GiB holds the PC's BIOS flash (the reset vector is
# at 0xFFFFFFF0), so no memory map lists it as usable RAM, whatever -m says.
CASES = [
    ("end-exactly-4g", hlt_with(Segment(FOUR_GIB - PAGE, flags=PF_R | PF_W, memsz=PAGE)),
     "4G", False),
    ("end-one-past-4g", hlt_with(Segment(FOUR_GIB - PAGE, flags=PF_R | PF_W, memsz=PAGE + 1)),
     "4G", True),
    ("empty-at-4g", hlt_with(Segment(FOUR_GIB, flags=PF_R | PF_W, memsz=0)), "4G", True),
    ("empty-below-4g", hlt_with(Segment(FOUR_GIB - PAGE, flags=PF_R | PF_W, memsz=0)),
     "4G", True),
    ("empty-at-1m-end", hlt_with(Segment(0x100100, flags=PF_R | PF_W, memsz=0)), "32M", True),
    ("tables-at-budget", straddlers(KERNEL_PAGE_TABLES_MAX), "128M", True),
    ("tables-one-past", straddlers(KERNEL_PAGE_TABLES_MAX + 1), "128M", True),
    ("64-program-headers", many_segments(PROGRAM_HEADERS_MAX), "32M", True),
    ("65-program-headers", many_segments(PROGRAM_HEADERS_MAX + 1), "32M", True),
    ("40-straddlers", elf64([text(0x100000)] + [data(k * TWO_MIB - 0x80) for k in range(2, 42)],
                            entry=0x100000), "128M", True),
]


# What mkimage and stage 2 say when they refuse a kernel for the same rule.
SAME_RULE = [
    ("above 4 GiB", "lies above 4 GiB"),
    ("page tables", "touch too many 2 MiB regions"),
    ("program headers; the loader handles at most", "program headers are out of bounds"),
]


@pytest.mark.parametrize("name, kernel_bytes, memory, ram_possible", CASES,
                         ids=[c[0] for c in CASES])
def test_mkimage_accepts_iff_the_loader_boots(tmp_path, name, kernel_bytes, memory,
                                              ram_possible):
    kernel = write(tmp_path / f"{name}.elf", kernel_bytes)
    accepted, complaint = mkimage_accepts(kernel, tmp_path / "checked.img")
    outcome, result = loader_outcome(kernel, tmp_path, memory)
    if accepted and not ram_possible:
        # Every rule that depends on the file passed; only the RAM is missing.
        assert NOT_IN_RAM in outcome, outcome + "\n" + result.serial
    else:
        assert accepted == (outcome == "boots"), \
            f"mkimage {'accepts' if accepted else 'refuses'} {name} ({complaint.strip()}), " \
            f"the loader: {outcome}\n{result.serial}"
    if not accepted:
        # Both refuse it for the same rule.
        same_rule = [(mk, loader) for mk, loader in SAME_RULE
                     if mk in complaint and loader in outcome]
        assert same_rule, f"mkimage: {complaint}\nloader: {outcome}"


def test_straddler_kernels_count_as_claimed(tmp_path):
    """The budget cases sit where they say: mkimage counts one table more
    than the budget for the kernel one past it."""
    kernel = write(tmp_path / "k.elf", straddlers(KERNEL_PAGE_TABLES_MAX + 1))
    accepted, complaint = mkimage_accepts(kernel, tmp_path / "o.img")
    assert not accepted
    assert f"needs up to {KERNEL_PAGE_TABLES_MAX + 1} page tables" in complaint, complaint


def test_above_4g_message_names_the_segment_itself(tmp_path):
    """The range in the message is the failing segment's, not the one before it."""
    kernel = write(tmp_path / "high.elf",
                   hlt_with(Segment(FOUR_GIB - PAGE, flags=PF_R | PF_W, memsz=PAGE + 0x10)))
    outcome, result = loader_outcome(kernel, tmp_path, "32M")
    assert outcome == ("stage2: error: kernel segment 1 at 0xfffff000-0x0000000100000010: "
                       "lies above 4 GiB; this loader copies below 4 GiB only."), result.serial


def assert_both_refuse(kernel, tmp_path, mkimage_says, loader_says):
    """mkimage refuses `kernel` with `mkimage_says` in its complaint, and
    stage 2 (on an image forced past mkimage) with exactly `loader_says`."""
    accepted, complaint = mkimage_accepts(kernel, tmp_path / "checked.img")
    assert not accepted and mkimage_says in complaint, complaint
    outcome, result = loader_outcome(kernel, tmp_path, "32M")
    assert outcome == loader_says, result.serial
    return result


def assert_both_boot(kernel, tmp_path):
    assert mkimage_accepts(kernel, tmp_path / "checked.img")[0]
    assert loader_outcome(kernel, tmp_path, "32M")[0] == "boots"


def overlap_kernel(grow):
    """Code at 1 MiB whose p_memsz is grown by `grow` over the data segment
    after it (a BSS of code, as a hand-edited header would give)."""
    code = Segment(0x100000, b"\xf4" * 0x300, flags=PF_R | PF_X, memsz=0x300 + grow)
    return elf64([code, data(0x101000, 0x123, bss=0x2000), data(0x104000, 0x40)],
                 entry=0x100000)


def test_overlapping_segments_are_refused_before_anything_is_copied(tmp_path):
    kernel = write(tmp_path / "overlap.elf", overlap_kernel(0x4000))
    result = assert_both_refuse(
        kernel, tmp_path, "overlap in memory",
        "stage2: error: kernel segments 0 (0x00100000-0x00104300) and "
        "1 (0x00101000-0x00103123) overlap in physical memory: give each "
        "PT_LOAD segment its own address range in the linker script.")
    assert "stage2: kernel checksum ok" not in result.serial   # refused before copying


def test_touching_segments_do_not_overlap(tmp_path):
    """Grown up to the next segment's first byte, and not beyond: it boots."""
    kernel = write(tmp_path / "touch.elf", overlap_kernel(0x1000 - 0x300))
    assert_both_boot(kernel, tmp_path)


def test_overlapping_virtual_ranges_are_refused(tmp_path):
    """Two higher-half segments at distinct physical addresses whose
    virtual ranges overlap: the second would be mapped over the first."""
    one = Segment(0x100000, b"\xf4" * 0x100, flags=PF_R | PF_X, vaddr=HIGHER_HALF + 0x100000,
                  memsz=0x2000)
    two = Segment(0x200000, bytes(0x40), flags=PF_R | PF_W, vaddr=HIGHER_HALF + 0x101000)
    kernel = write(tmp_path / "virtual.elf", elf64([one, two], entry=HIGHER_HALF + 0x100000))
    assert_both_refuse(
        kernel, tmp_path, "virtual memory",
        "stage2: error: kernel segments 0 (0xffffffff80100000-0xffffffff80102000)"
        " and 1 (0xffffffff80101000-0xffffffff80101040) overlap in virtual "
        "memory: give each PT_LOAD segment its own address range in the linker script.")


def test_virtual_page_shared_with_different_physical_pages_is_refused(tmp_path):
    """No byte in common, but one virtual page that would have to map two
    physical pages: the second mapping would hide the first segment's bytes."""
    one = Segment(0x100000, b"\xf4" * 0x100, flags=PF_R | PF_X, vaddr=HIGHER_HALF + 0x100000)
    two = Segment(0x200800, bytes(0x40), flags=PF_R | PF_W, vaddr=HIGHER_HALF + 0x100800)
    kernel = write(tmp_path / "page.elf", elf64([one, two], entry=HIGHER_HALF + 0x100000))
    assert_both_refuse(
        kernel, tmp_path, "share a virtual page",
        "stage2: error: kernel segments 0 (0xffffffff80100000-0xffffffff80100100)"
        " and 1 (0xffffffff80100800-0xffffffff80100840) share a virtual page "
        "backed by different physical pages: give each its own pages, with the "
        "same virtual-to-physical offset where they meet.")


def test_virtual_page_shared_with_the_same_physical_page_boots(tmp_path):
    """Two segments in one page at the same virtual-to-physical offset: fine."""
    one = Segment(0x100000, b"\xf4" * 0x100, flags=PF_R | PF_X, vaddr=HIGHER_HALF + 0x100000)
    two = Segment(0x100800, bytes(0x40), flags=PF_R | PF_W, vaddr=HIGHER_HALF + 0x100800)
    kernel = write(tmp_path / "same.elf", elf64([one, two], entry=HIGHER_HALF + 0x100000))
    assert_both_boot(kernel, tmp_path)
