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
import shutil
import struct
import subprocess
from dataclasses import dataclass

import pytest

from conftest import BUILD, ROOT
from qemu import KERNEL_EXIT_FAILURE, KERNEL_EXIT_SUCCESS, boot

SOURCE_DIR = ROOT / "tests" / "foreign_kernel"
ASM_SOURCE = SOURCE_DIR / "foreign.asm"
LINKER_SCRIPT = SOURCE_DIR / "foreign.ld"

LD_FLAGS = ["-nostdlib", "-static", "-z", "max-page-size=0x1000"]
LAYOUTS = {
    "paged": [],
    "packed": ["-n"],       # no page alignment of sections in the file
}
MACHINES = ["pc", "q35"]
TOOL_TIMEOUT_SECONDS = 60
BOOT_TIMEOUT_SECONDS = 60
SETTLE_SECONDS = 0.5        # after the loader says it halted: make sure it stays so

SECTOR = 512
PAGE = 4096
MIB = 1024 * 1024
BSS_BYTES = 2 * MIB                      # foreign.asm BSS_BYTES
MIN_LOAD_SEGMENTS = 4
LOADER_HALTED = "stage2: the system is halted."

# ELF-64 Object File Format 1.5: header, program header and section header fields.
ELF_MAGIC = b"\x7fELF"
EHDR_FORMAT = "<16sHHIQQQIHHHHHH"        # e_ident .. e_shstrndx
PHDR_FORMAT = "<IIQQQQQQ"                # p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align
SHDR_FORMAT = "<IIQQQQIIQQ"              # sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, ...
ET_EXEC = 2
EM_X86_64 = 62
PT_LOAD = 1
PF_X, PF_W, PF_R = 1, 2, 4

# Program header fields that the loader-bug simulations below patch.
P_FILESZ_OFFSET = 32
P_MEMSZ_OFFSET = 40

EXPECTED_LINES = [
    "foreign kernel: entry ok",
    "foreign kernel: boot info magic ok",
    "foreign kernel: boot info layout ok",   # followed by the addresses
    "foreign kernel: data ok",
    f"foreign kernel: bss ok ({BSS_BYTES} bytes zero)",
    "foreign kernel: guard ok",
    "foreign kernel: all checks passed",
]


def loader_chunk_bytes():
    """Stage 2 reads the kernel file in chunks of DISK_BUFFER_SECTORS."""
    text = (ROOT / "bootloader" / "stage2" / "memory_layout.inc").read_text()
    match = re.search(r"^DISK_BUFFER_SECTORS\s+equ\s+(\d+)", text, re.MULTILINE)
    assert match, "DISK_BUFFER_SECTORS not found in memory_layout.inc"
    return int(match.group(1)) * SECTOR


# ---- Reading the ELF file ---------------------------------------------------------

@dataclass
class Segment:
    index: int              # position in the program header table
    header_offset: int      # file offset of the program header itself
    flags: int
    offset: int
    vaddr: int
    paddr: int
    filesz: int
    memsz: int

    @property
    def end(self):
        return self.paddr + self.memsz


@dataclass
class Elf:
    type: int
    machine: int
    entry: int
    loads: list             # PT_LOAD segments in program header order
    sections: dict          # name -> (sh_addr, sh_size)


def read_elf(path):
    data = path.read_bytes()
    assert data[:4] == ELF_MAGIC, f"{path} is not an ELF file"
    (_, e_type, machine, _, entry, phoff, shoff, _, _, phentsize, phnum,
     shentsize, shnum, shstrndx) = struct.unpack_from(EHDR_FORMAT, data, 0)
    loads = []
    for index in range(phnum):
        where = phoff + index * phentsize
        p_type, flags, offset, vaddr, paddr, filesz, memsz, _ = \
            struct.unpack_from(PHDR_FORMAT, data, where)
        if p_type == PT_LOAD:
            loads.append(Segment(index, where, flags, offset, vaddr, paddr, filesz, memsz))
    headers = [struct.unpack_from(SHDR_FORMAT, data, shoff + i * shentsize)
               for i in range(shnum)]
    strtab_offset = headers[shstrndx][4]
    sections = {}
    for name_offset, _, _, addr, _, size, *_ in headers:
        end = data.index(b"\0", strtab_offset + name_offset)
        sections[data[strtab_offset + name_offset:end].decode()] = (addr, size)
    return Elf(e_type, machine, entry, loads, sections)


# ---- Building ------------------------------------------------------------------------

def run_tool(cmd):
    if shutil.which(cmd[0]) is None:
        pytest.fail(f"{cmd[0]} is not installed: run ./build.sh deps")
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                            timeout=TOOL_TIMEOUT_SECONDS, check=False)
    assert result.returncode == 0, \
        f"{' '.join(map(str, cmd))} failed:\n{result.stdout}{result.stderr}"
    return result


def build_foreign_kernel(out_dir, layout, defines=()):
    out_dir.mkdir(parents=True, exist_ok=True)
    obj = out_dir / "foreign.o"
    elf = out_dir / "foreign.elf"
    run_tool(["nasm", "-f", "elf64", *[f"-D{d}" for d in defines], "-o", obj, ASM_SOURCE])
    run_tool(["ld", *LD_FLAGS, *LAYOUTS[layout], "-T", LINKER_SCRIPT, "-o", elf, obj])
    return elf


def make_image(mkimage, kernel, out, force=False):
    cmd = [mkimage, "build",
           "--stage1", BUILD / "bootloader" / "stage1.bin",
           "--stage2", BUILD / "bootloader" / "stage2.bin",
           "--kernel", kernel, "-o", out]
    if force:
        cmd.append("--force")
    run_tool(cmd)
    return out


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


def kernel_lines(result):
    return [line for line in result.lines() if line.startswith("foreign kernel:")]


def describe(result):
    return (f"QEMU exit code {result.exit_code}, still running {result.still_running}, "
            f"{result.seconds:.2f} s; serial output:\n{result.serial}")


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
        assert s.vaddr == s.paddr, s          # what the loader requires
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

    assert result.exit_code == KERNEL_EXIT_SUCCESS, describe(result)
    loader = re.search(r"kernel ELF ok: (\d+) loadable segments", result.serial)
    assert loader and int(loader.group(1)) == len(elf.loads), describe(result)
    lines = kernel_lines(result)
    for expected in EXPECTED_LINES:
        assert any(line.startswith(expected) for line in lines), \
            f"missing {expected!r}; {describe(result)}"
    assert not any("FAILED" in line for line in lines), describe(result)
    layout_line = next(line for line in lines if "boot info layout ok" in line)
    assert f"entry 0x{elf.entry:016X}" in layout_line, layout_line


# ---- Each check can fail ------------------------------------------------------------------------

def assert_only_failure(result, check):
    """The kernel reported `check` FAILED, every other check ok, and exited
    with its failure status."""
    assert result.exit_code == KERNEL_EXIT_FAILURE, describe(result)
    lines = kernel_lines(result)
    failed = [line for line in lines if "FAILED" in line]
    assert failed and failed[0].startswith(f"foreign kernel: {check} FAILED"), describe(result)
    assert failed[1:] == ["foreign kernel: some checks FAILED"], describe(result)
    others = [e for e in EXPECTED_LINES[:-1] if not e.startswith(f"foreign kernel: {check} ok")]
    for expected in others:
        assert any(line.startswith(expected) for line in lines), \
            f"missing {expected!r}; {describe(result)}"


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
    assert f"non-zero byte at 0x{data.paddr + data.filesz:016X}" in result.serial, describe(result)


def test_guard_check_sees_zeroing_past_memsz(foreign_elves, mkimage, tmp_path):
    """Simulate a loader that zeroes past p_memsz: make the data segment's
    BSS run on over the guard segment (mkimage refuses overlapping segments,
    hence --force; the loader itself does not check for overlaps)."""
    source = foreign_elves["packed"]
    elf = read_elf(source)
    data = data_segment(elf)
    guard = segment_after(elf, data)
    kernel = patched_copy(source, tmp_path / "overzero.elf", [
        (data.header_offset + P_MEMSZ_OFFSET, data.memsz + guard.memsz)])
    image = make_image(mkimage, kernel, tmp_path / "overzero.img", force=True)
    assert_only_failure(boot_foreign(image), "guard")
