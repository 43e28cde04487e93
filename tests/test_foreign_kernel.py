"""Bring your own kernel: a kernel that is not ours boots through mkimage
and the loader.

tests/foreign_kernel/foreign.asm is a small NASM kernel sharing nothing with
kernel/. It has four PT_LOAD segments with gaps between them, its entry point
in the middle of .text, a 72 KiB data pattern and 2 MiB of BSS, and checks
at run time what the loader did (see the comment at its top). Here we
assemble and link it, make sure the ELF really has the awkward shape these
tests rely on (so they cannot silently become trivial), boot it on two
machine types, and show that each of its checks can also fail.

It is linked two ways: "paged", the usual -z max-page-size=0x1000 layout
where file offsets are congruent to addresses modulo 4 KiB, and "packed"
(ld -n) where segments follow each other in the file, so the data segment
starts in the middle of a disk sector that does not match its address.
"""
import re
import struct

import pytest

from support.elf_reader import (EM_X86_64, ET_EXEC, P_FILESZ_OFFSET, P_MEMSZ_OFFSET, PF_W, PF_X,
                                read_elf)
from support.foreign_kernel import (BSS_BYTES, EXPECTED_LINES, LAYOUTS, build_foreign_kernel,
                                    kernel_lines, make_image)
from support.loader_lines import LOADER_HALTED
from support.qemu import KERNEL_EXIT_FAILURE, KERNEL_EXIT_SUCCESS, boot
from support.sources import MEMORY_LAYOUT_INC, nasm_value

MACHINES = ["pc", "q35"]
BOOT_TIMEOUT_SECONDS = 60
SETTLE_SECONDS = 0.5        # after the loader says it halted: make sure it stays so

SECTOR = 512
PAGE = 4096
MIB = 1024 * 1024
MIN_LOAD_SEGMENTS = 4


def loader_chunk_bytes():
    """Stage 2 reads the kernel file in chunks of DISK_BUFFER_SECTORS."""
    return nasm_value(MEMORY_LAYOUT_INC, "DISK_BUFFER_SECTORS") * SECTOR


@pytest.fixture(scope="module")
def foreign_elves(tmp_path_factory):
    """layout name -> the linked foreign kernel."""
    base = tmp_path_factory.mktemp("foreign")
    return {layout: build_foreign_kernel(base / layout, layout) for layout in LAYOUTS}


def boot_foreign(image, machine="pc"):
    # The kernel ends QEMU itself; should the loader reject the kernel it
    # halts instead, and we stop waiting once it says so.
    return boot(image, machine=machine, until=re.escape(LOADER_HALTED),
                settle=SETTLE_SECONDS, timeout=BOOT_TIMEOUT_SECONDS)


def data_segment(elf):
    """The writable segment with both file bytes and BSS."""
    [segment] = [s for s in elf.loads if s.flags & PF_W and 0 < s.filesz < s.memsz]
    return segment


def segment_after(elf, segment):
    [follower] = [s for s in elf.loads if s.paddr == segment.end]
    return follower


# ---- The ELF has the shape the tests rely on ---------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
def test_elf_is_not_trivial(foreign_elves, layout):
    elf = read_elf(foreign_elves[layout])
    assert elf.type == ET_EXEC and elf.machine == EM_X86_64
    assert len(elf.loads) >= MIN_LOAD_SEGMENTS, elf.loads

    for s in elf.loads:
        assert s.vaddr == s.paddr, s          # linked where it is loaded (not higher-half)
        assert s.paddr >= MIB and s.end <= 4 * 1024 * MIB, s

    # Gaps: some segment ends well before the next one starts.
    ordered = sorted(elf.loads, key=lambda s: s.paddr)
    gaps = [b.paddr - a.end for a, b in zip(ordered, ordered[1:])]
    assert all(gap >= 0 for gap in gaps), f"segments overlap: {ordered}"
    assert max(gaps) >= PAGE, f"no gap between segments: {ordered}"

    # A BSS the loader must zero, with a segment right behind it whose
    # bytes follow the data's in the file.
    data = data_segment(elf)
    assert data.memsz - data.filesz >= BSS_BYTES, data
    guard = segment_after(elf, data)
    assert guard.offset == data.offset + data.filesz, (data, guard)

    # The data crosses a boundary between two of the loader's read chunks.
    chunk = loader_chunk_bytes()
    first_boundary = (data.offset // chunk + 1) * chunk
    assert first_boundary < data.offset + data.filesz, (data, chunk)

    # The entry point is inside .text but not its first byte, in an
    # executable segment.
    text_start, text_size = elf.sections[".text"]
    assert text_start < elf.entry < text_start + text_size, hex(elf.entry)
    [holder] = [s for s in elf.loads if s.paddr <= elf.entry < s.end]
    assert holder.flags & PF_X and holder.paddr != elf.entry


def test_packed_layout_puts_data_off_sector_alignment(foreign_elves):
    """With ld -n the data's file offset does not match its address even
    modulo a sector, so the loader cannot copy whole sectors into place."""
    data = data_segment(read_elf(foreign_elves["packed"]))
    assert data.offset % SECTOR != data.paddr % SECTOR, data


# ---- It boots ---------------------------------------------------------------------------------

@pytest.mark.parametrize("machine", MACHINES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_foreign_kernel_boots(foreign_elves, mkimage, tmp_path, layout, machine):
    elf = read_elf(foreign_elves[layout])
    image = make_image(mkimage, foreign_elves[layout], tmp_path / "foreign.img")
    result = boot_foreign(image, machine)

    assert result.exit_code == KERNEL_EXIT_SUCCESS, result.describe()
    loader = re.search(r"kernel ELF ok: (\d+) loadable segments", result.serial)
    assert loader and int(loader.group(1)) == len(elf.loads), result.describe()
    lines = kernel_lines(result)
    for expected in EXPECTED_LINES:
        assert any(line.startswith(expected) for line in lines), \
            f"missing {expected!r}; {result.describe()}"
    assert not any("FAILED" in line for line in lines), result.describe()
    layout_line = next(line for line in lines if "boot info layout ok" in line)
    assert f"entry 0x{elf.entry:016X}" in layout_line, layout_line


# ---- Each check can fail ------------------------------------------------------------------------

def assert_only_failure(result, check):
    """The kernel reported `check` FAILED, every other check ok, and exited
    with its failure status."""
    assert result.exit_code == KERNEL_EXIT_FAILURE, result.describe()
    lines = kernel_lines(result)
    failed = [line for line in lines if "FAILED" in line]
    assert failed and failed[0].startswith(f"foreign kernel: {check} FAILED"), result.describe()
    assert failed[1:] == ["foreign kernel: some checks FAILED"], result.describe()
    others = [e for e in EXPECTED_LINES[:-1] if not e.startswith(f"foreign kernel: {check} ok")]
    for expected in others:
        assert any(line.startswith(expected) for line in lines), \
            f"missing {expected!r}; {result.describe()}"


def test_wrong_expected_checksum_fails_the_data_check(mkimage, tmp_path):
    elf = build_foreign_kernel(tmp_path / "corrupt", "packed", defines=["CORRUPT_EXPECTED"])
    result = boot_foreign(make_image(mkimage, elf, tmp_path / "corrupt.img"))
    assert_only_failure(result, "data")


def patched_copy(source, out, changes):
    """A copy of `source` with (file offset, little-endian qword) changes."""
    data = bytearray(source.read_bytes())
    for offset, value in changes:
        struct.pack_into("<Q", data, offset, value)
    out.write_bytes(bytes(data))
    return out


def test_bss_check_sees_bytes_copied_past_filesz(foreign_elves, mkimage, tmp_path):
    """Simulate a loader that copies more than p_filesz: claim the data
    segment's file bytes run on into the guard's. The guard's (non-zero)
    bytes then land at the start of the BSS."""
    source = foreign_elves["packed"]
    elf = read_elf(source)
    data = data_segment(elf)
    guard = segment_after(elf, data)
    kernel = patched_copy(source, tmp_path / "overcopy.elf", [
        (data.header_offset + P_FILESZ_OFFSET, data.filesz + guard.filesz)])
    result = boot_foreign(make_image(mkimage, kernel, tmp_path / "overcopy.img"))
    assert_only_failure(result, "bss")
    assert f"non-zero byte at 0x{data.paddr + data.filesz:016X}" in result.serial, result.describe()


def test_guard_check_sees_zeroing_past_memsz(foreign_elves, mkimage, tmp_path):
    """Simulate a loader that zeroes past p_memsz. Stretching the BSS over
    the guard segment no longer gets that far (mkimage and the loader both
    refuse overlapping segments, checked first), so leave the guard's
    first bytes as such a loader would: zero, in the file."""
    source = foreign_elves["packed"]
    elf = read_elf(source)
    data = data_segment(elf)
    guard = segment_after(elf, data)
    stretched = patched_copy(source, tmp_path / "overlap.elf", [
        (data.header_offset + P_MEMSZ_OFFSET, data.memsz + guard.memsz)])
    refused = boot_foreign(make_image(mkimage, stretched, tmp_path / "overlap.img", force=True))
    assert "overlap in physical memory" in refused.serial, refused.describe()

    kernel = patched_copy(source, tmp_path / "overzero.elf", [(guard.offset, 0)])
    image = make_image(mkimage, kernel, tmp_path / "overzero.img")
    assert_only_failure(boot_foreign(image), "guard")
