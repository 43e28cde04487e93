"""Tests of the host-side image builder, build/image/mkimage.

These use small fake stage-1 and stage-2 files made here, so they test the
image layout and the checks without depending on the real loader. Every
number the tests expect is computed independently in Python from the rules
in image/disk_layout.h and bootloader/loader_fields.inc.
"""
import os
import shutil
import struct
import subprocess

import pytest

from support import elf_factory as ef
from support.elf_factory import page_table_hungry

# Each test runs with mkimage and again with mkimage-asan (conftest.py).
pytestmark = pytest.mark.sanitized_mkimage

SECTOR = 512
MIB = 1024 * 1024

# Stage 1 (bootloader/loader_fields.inc): the INT 13h disk address packet.
DAP_OFFSET = 0x1A8
DAP_FORMAT = "<BBHHHQ"            # size, reserved, sectors, offset, segment, lba
DISK_SIGNATURE = slice(0x1B8, 0x1BE)  # signature + 2 reserved bytes, kept as-is
PARTITION_TABLE = 0x1BE
PARTITION_ENTRY = 16
STAGE2_MAX_SECTORS = 64

# Stage 2 header (loader_fields.inc, struc stage2_header).
STAGE2_MAGIC = 0x444C3253
HEADER_FORMAT = "<4sIHHIIIQI"     # jump .. kernel_checksum, kernel_kind, then the command line
HEADER_FIELDS_SIZE = struct.calcsize(HEADER_FORMAT)
CMDLINE_MAX = 256
KERNEL_KIND_BOOTSTACK = 0         # loader_fields.inc KERNEL_KIND_*
CMDLINE_END = HEADER_FIELDS_SIZE + CMDLINE_MAX
MODULES_MAX = 8                   # loader_fields.inc STAGE2_MODULES_MAX
MODULE_ENTRY_SIZE = 20 + 128      # lba, sectors, size, checksum, string
SECTION_FIELDS_SIZE = 12           # section_count, section_entry_size, section_string_index
# The command line, the modules, then the ELF section blob's record, then
# the loader's own checksums.
SELF_CHECK_OFFSET = HEADER_FIELDS_SIZE + CMDLINE_MAX + 4 + (MODULES_MAX + 1) * MODULE_ENTRY_SIZE + \
    SECTION_FIELDS_SIZE
SELF_CHECK_FORMAT = "<IQQ"         # stage2_sectors, stage2_checksum, stage1_checksum
HEADER_SIZE = SELF_CHECK_OFFSET + struct.calcsize(SELF_CHECK_FORMAT)
HEADER_VERSION = 4                # loader_fields.inc STAGE2_HEADER_VERSION
# Stage 1's checksum leaves out what other tools may write into a boot
# sector: a BIOS Parameter Block and the Windows disk timestamp.
STAGE1_CHECKSUM_END = 0x1B8
STAGE1_BPB = slice(0x03, 0x5A)
STAGE1_TIMESTAMP = slice(0xDA, 0xE0)

KERNEL_MAX_FILE_BYTES = 256 * MIB
# Stage 2 reads the ELF and program headers from its first chunk of the
# kernel: 127 sectors (DISK_BUFFER_SECTORS, bootloader/stage2/memory_layout.inc).
LOADER_FIRST_CHUNK = 127 * SECTOR


# ---- Independent reimplementations of what mkimage computes -----------------

def kernel_checksum(data):
    """The loader's checksum: Fletcher-style sums of little-endian 32-bit
    words, the last one zero-padded, both sums mod 2^32; (b << 32) | a."""
    data = bytes(data) + bytes(-len(data) % 4)
    a = b = 0
    for (word,) in struct.iter_unpack("<I", data):
        a = (a + word) % 2**32
        b = (b + a) % 2**32
    return (b << 32) | a


def chs_bytes(lba):
    """CHS for geometry 255 heads x 63 sectors, saturated at 1023/254/63."""
    cylinder, rest = divmod(lba, 255 * 63)
    head, sector = divmod(rest, 63)
    sector += 1
    if cylinder > 1023:
        cylinder, head, sector = 1023, 254, 63
    return bytes([head, sector | (cylinder >> 8) << 6, cylinder & 0xFF])


def expected_layout(stage2_size, kernel_size):
    stage2_sectors = -(-stage2_size // SECTOR)
    kernel_lba = -(-(1 + stage2_sectors) // 8) * 8
    kernel_sectors = -(-kernel_size // SECTOR)
    used = (kernel_lba + kernel_sectors) * SECTOR
    image_size = max(MIB, -(-used // MIB) * MIB)
    return stage2_sectors, kernel_lba, kernel_sectors, image_size


def expected_partition(image_sectors):
    last = image_sectors - 1
    return (bytes([0x80]) + chs_bytes(1) + bytes([0x7F]) + chs_bytes(last)
            + struct.pack("<II", 1, last))


# ---- Fake loader files -------------------------------------------------------

def make_stage1():
    """A boot sector shaped like the real one: code, the DAP at 0x1A8 with
    only the size and buffer filled in, a disk signature, junk where the
    partition table goes (mkimage must replace all of it) and 0x55 0xAA."""
    s = bytearray(SECTOR)
    s[0:4] = b"\xfa\xeb\xfe\x90"               # cli; jmp $; nop
    s[0x10:0x1A8] = bytes(i % 251 for i in range(0x10, 0x1A8))
    struct.pack_into(DAP_FORMAT, s, DAP_OFFSET, 0x10, 0, 0, 0x7E00, 0, 0)
    s[DISK_SIGNATURE] = b"\xde\xad\xbe\xef\x5a\xa5"
    s[PARTITION_TABLE:0x1FE] = b"\xcc" * 64
    s[0x1FE:0x200] = b"\x55\xaa"
    return bytes(s)


def make_stage2(size=2000, *, magic=STAGE2_MAGIC, version=HEADER_VERSION,
                header_size=HEADER_SIZE):
    """Stage 2: its header (with stale values mkimage must overwrite), then
    recognisable filler."""
    header = struct.pack(HEADER_FORMAT, b"\xe9\x1d\x01\x90", magic, version, header_size,
                         0xAAAAAAAA, 0xBBBBBBBB, 0xCCCCCCCC, 0xDDDDDDDDDDDDDDDD, 0xEEEEEEEE)
    header += b"stale command line".ljust(CMDLINE_MAX, b"\xee")
    body = bytes((i * 7 + 3) % 256 for i in range(max(0, size - len(header))))
    return (header + body)[:size]


def run(mkimage, *args):
    return subprocess.run([str(mkimage), *map(str, args)], capture_output=True, text=True)


def leftovers(directory):
    """Temporary files mkimage might have left (it names them .mkimage-XXXXXX
    in the output's directory; older versions OUT.tmp-XXXXXX)."""
    return sorted(p.name for p in directory.iterdir()
                  if p.name.startswith(".mkimage-") or ".tmp-" in p.name)


class Inputs:
    """A directory with a good stage 1, stage 2 and kernel, and a way to run
    `mkimage build` on them with any of the three replaced."""

    def __init__(self, mkimage, directory):
        self.mkimage = mkimage
        self.dir = directory
        self.stage1 = ef.write(directory / "stage1.bin", make_stage1())
        self.stage2 = ef.write(directory / "stage2.bin", make_stage2())
        self.kernel = ef.write(directory / "kernel.elf", ef.good_kernel())
        self.out = directory / "disk.img"

    def file(self, name, content):
        return ef.write(self.dir / name, content)

    def build(self, *extra, stage1=None, stage2=None, kernel=None, out=None, cmdline=None):
        args = ["build", "--stage1", stage1 or self.stage1, "--stage2", stage2 or self.stage2,
                "--kernel", kernel or self.kernel, "-o", out or self.out]
        if cmdline is not None:
            args += ["--cmdline", cmdline]
        return run(self.mkimage, *args, *extra)

    def info(self, image=None):
        return run(self.mkimage, "info", image or self.out)


@pytest.fixture
def inputs(mkimage, tmp_path):
    return Inputs(mkimage, tmp_path)


def assert_rejected(result, inputs, *fragments, subject=None):
    """The build failed with exit 1, named the file and said each fragment,
    and wrote nothing."""
    assert result.returncode == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, f"{fragment!r} not in:\n{result.stderr}"
    if subject is not None:
        assert f"mkimage: error: {subject}: " in result.stderr
    assert "not written" in result.stderr
    assert not inputs.out.exists()
    assert leftovers(inputs.dir) == []


# ---- A good build ---------------------------------------------------------------

def test_good_build_layout(inputs):
    cmdline = "console=ttyS0 loglevel=7"
    result = inputs.build(cmdline=cmdline)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""

    image = inputs.out.read_bytes()
    stage1, stage2 = make_stage1(), make_stage2()
    kernel = ef.good_kernel()
    s2_sectors, k_lba, k_sectors, image_size = expected_layout(len(stage2), len(kernel))
    assert (s2_sectors, k_lba) == (4, 8)
    assert len(image) == image_size == MIB

    # MBR: stage 1's bytes, except the DAP's sector count and LBA and the table.
    mbr = image[:SECTOR]
    assert mbr[:DAP_OFFSET] == stage1[:DAP_OFFSET]
    size, reserved, sectors, buf_off, buf_seg, lba = struct.unpack_from(DAP_FORMAT, mbr, DAP_OFFSET)
    assert (size, reserved, buf_off, buf_seg) == (0x10, 0, 0x7E00, 0)
    assert (sectors, lba) == (s2_sectors, 1)
    assert mbr[DISK_SIGNATURE] == stage1[DISK_SIGNATURE]
    table = mbr[PARTITION_TABLE:0x1FE]
    assert table[:PARTITION_ENTRY] == expected_partition(image_size // SECTOR)
    assert table[:PARTITION_ENTRY].hex() == "800002007f20200001000000ff070000"
    assert table[PARTITION_ENTRY:] == bytes(3 * PARTITION_ENTRY)
    assert mbr[0x1FE:] == b"\x55\xaa"

    # Stage 2: header patched, the rest copied, the last sector zero-padded.
    s2 = image[SECTOR:SECTOR + s2_sectors * SECTOR]
    jump, magic, version, hsize, h_lba, h_sectors, h_size, h_sum, h_kind = \
        struct.unpack_from(HEADER_FORMAT, s2)
    assert (jump, magic, version, hsize) == (stage2[:4], STAGE2_MAGIC, HEADER_VERSION, HEADER_SIZE)
    assert (h_lba, h_sectors, h_size) == (k_lba, k_sectors, len(kernel))
    assert h_kind == KERNEL_KIND_BOOTSTACK
    assert h_sum == kernel_checksum(kernel)
    field = s2[HEADER_FIELDS_SIZE:CMDLINE_END]
    assert field == cmdline.encode().ljust(CMDLINE_MAX, b"\0")
    assert s2[HEADER_SIZE:len(stage2)] == stage2[HEADER_SIZE:]
    assert s2[len(stage2):] == bytes(s2_sectors * SECTOR - len(stage2))

    # Zeros up to the 4 KiB-aligned kernel, the kernel verbatim, zeros to 1 MiB.
    assert image[(1 + s2_sectors) * SECTOR:k_lba * SECTOR] == bytes((k_lba - 1 - s2_sectors) * SECTOR)
    assert image[k_lba * SECTOR:k_lba * SECTOR + len(kernel)] == kernel
    assert image[k_lba * SECTOR + len(kernel):] == bytes(image_size - k_lba * SECTOR - len(kernel))
    assert leftovers(inputs.dir) == []


def test_info_on_good_image(inputs):
    assert inputs.build(cmdline='root=/dev/x "quoted"').returncode == 0
    kernel = ef.good_kernel()
    result = inputs.info()
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    out = result.stdout
    checksum = kernel_checksum(kernel)
    assert f"image: {inputs.out}, {MIB} bytes (2048 sectors)" in out
    assert ("partition 1: status 0x80 (active), type 0x7F, first LBA 1, 2047 sectors, "
            "CHS 0/0/2 to 0/32/32") in out
    assert "stage 2: LBA 1, 4 sectors" in out
    assert f'stage 2 header: magic 0x444C3253 ("S2LD"), version {HEADER_VERSION}, ' \
        f'size {HEADER_SIZE}' in out
    assert f"kernel: LBA 8, {-(-len(kernel) // SECTOR)} sectors, {len(kernel)} bytes" in out
    assert 'command line: "root=/dev/x \\"quoted\\""' in out
    assert f"checksum: recorded 0x{checksum:016X}, computed 0x{checksum:016X}: ok" in out
    assert "kernel ELF: entry 0x100000" in out
    assert ("segment 0: offset 0x1000, paddr 0x100000, vaddr 0x100000, filesz 0x300, "
            "memsz 0x300, flags R-X") in out
    assert "segment 1: offset 0x1300, paddr 0x101000, vaddr 0x101000, filesz 0x123, memsz 0x2123, flags RW-" in out
    assert "segment 2" not in out          # PT_GNU_STACK is not listed
    assert out.rstrip().endswith("result: ok")


def test_image_grows_in_whole_mib(inputs):
    # Kernel ending just past the first MiB: the image becomes 2 MiB, and the
    # partition still runs to its end.
    kernel = inputs.file("big.elf", ef.elf64([ef.text(0x100000, MIB - 0x1000)]))
    assert inputs.build(kernel=kernel).returncode == 0
    image = inputs.out.read_bytes()
    _, k_lba, _, image_size = expected_layout(len(make_stage2()), len(kernel.read_bytes()))
    assert len(image) == image_size == 2 * MIB
    entry = image[PARTITION_TABLE:PARTITION_TABLE + PARTITION_ENTRY]
    assert entry == expected_partition(2 * MIB // SECTOR)
    assert inputs.info().returncode == 0


def test_largest_stage2_and_odd_sizes(inputs):
    # 64 sectors exactly is allowed; the kernel then starts at LBA 72, and a
    # kernel size that is not a multiple of 4 or of 512 is recorded exactly.
    stage2 = inputs.file("s2max.bin", make_stage2(STAGE2_MAX_SECTORS * SECTOR))
    kernel_bytes = ef.good_kernel() + b"\x01\x02\x03"
    kernel = inputs.file("odd.elf", kernel_bytes)
    assert inputs.build(stage2=stage2, kernel=kernel).returncode == 0
    image = inputs.out.read_bytes()
    assert struct.unpack_from("<H", image, DAP_OFFSET + 2)[0] == STAGE2_MAX_SECTORS
    _, _, _, _, h_lba, h_sectors, h_size, h_sum, _ = struct.unpack_from(HEADER_FORMAT, image, SECTOR)
    assert (h_lba, h_size) == (72, len(kernel_bytes))
    assert h_sectors == -(-len(kernel_bytes) // SECTOR)
    assert h_sum == kernel_checksum(kernel_bytes)
    assert inputs.info().returncode == 0


def test_successful_build_replaces_existing_output(inputs):
    inputs.out.write_bytes(b"an old image")
    assert inputs.build().returncode == 0
    assert len(inputs.out.read_bytes()) == MIB
    assert leftovers(inputs.dir) == []


def test_longest_command_line_fits(inputs):
    cmdline = "x" * (CMDLINE_MAX - 1)
    assert inputs.build(cmdline=cmdline).returncode == 0
    field = inputs.out.read_bytes()[SECTOR + HEADER_FIELDS_SIZE:SECTOR + CMDLINE_END]
    assert field == cmdline.encode() + b"\0"


# ---- Checksum known answers ------------------------------------------------------

CHECKSUM_VECTORS = [
    # nothing at all: both sums stay 0 (an empty kernel, written with --force)
    (b"", 0),
    # words 1, 2: a = 3, b = 1 + 3
    (b"\x01\x00\x00\x00\x02\x00\x00\x00", 0x0000000400000003),
    # words 0x04030201 and 0x00000005 (zero-padded): a = 0x04030206,
    # b = 0x04030201 + 0x04030206
    (b"\x01\x02\x03\x04\x05", 0x0806040704030206),
    # three words of 0xFFFFFFFF: a runs FFFFFFFF, FFFFFFFE, FFFFFFFD (mod 2^32),
    # b = their sum mod 2^32 = 0xFFFFFFFA
    (b"\xff" * 12, 0xFFFFFFFAFFFFFFFD),
    # the order of words matters to b: words 2, 1 give b = 2 + 3
    (b"\x02\x00\x00\x00\x01\x00\x00\x00", 0x0000000500000003),
]


@pytest.mark.parametrize("content,expected", CHECKSUM_VECTORS)
def test_checksum_known_answers(inputs, content, expected):
    assert kernel_checksum(content) == expected
    # Not an ELF file, so the build needs --force; the checksum is recorded anyway.
    kernel = inputs.file("raw.bin", content)
    result = inputs.build("--force", kernel=kernel)
    assert result.returncode == 0, result.stderr
    recorded = struct.unpack_from(HEADER_FORMAT, inputs.out.read_bytes(), SECTOR)[7]
    assert recorded == expected


def test_checksum_of_a_larger_file_matches_python(inputs):
    # Longer than mkimage's 1 MiB copy chunk and not a multiple of 4 bytes.
    blob = bytes((i * 2654435761 >> 13) & 0xFF for i in range(MIB + 4099))
    kernel = inputs.file("long.elf", ef.elf64([ef.text(0x100000, 0x100)]) + blob)
    assert inputs.build(kernel=kernel).returncode == 0
    recorded = struct.unpack_from(HEADER_FORMAT, inputs.out.read_bytes(), SECTOR)[7]
    assert recorded == kernel_checksum(kernel.read_bytes())


# ---- Kernel rejections -------------------------------------------------------------

def below_1mib():
    return ef.elf64([ef.text(0x100000), ef.data(0x101000), ef.data(0x7000)])


HIGHER_HALF = 0xFFFF_FFFF_8000_0000


def higher_half_text(vaddr=None, size=0x100):
    """Code loaded at 1 MiB, linked in the top 2 GiB (or at `vaddr`)."""
    vaddr = HIGHER_HALF + 0x100000 if vaddr is None else vaddr
    return ef.Segment(0x100000, b"\xf4" * size, flags=ef.PF_R | ef.PF_X, vaddr=vaddr)


def ttext_header_segment():
    """What `ld -Ttext=0x100000` makes: the ELF header and program headers
    in a read-only segment of their own, in the page below the code."""
    headers = ef.Segment(0xFF000, filesz=0x120, offset=0)
    return ef.elf64([headers, ef.text(0x100000)], entry=0x100000)


REJECTED_KERNELS = {
    "not-elf": (lambda: b"\xeb\xfe" + bytes(1000),
                ["is not an ELF file", "0x7F 'E' 'L' 'F'"]),
    "elf32": (ef.elf32,
              ["ELF32", "build the kernel for x86-64 (-m64)", "i386"]),
    "big-endian": (lambda: ef.elf64([ef.text(0x100000)], byte_order=">"),
                   ["big-endian"]),
    "wrong-machine": (lambda: ef.elf64([ef.text(0x100000)], machine=ef.EM_AARCH64),
                      ["machine 183", "x86-64"]),
    "et-dyn": (lambda: ef.elf64([ef.text(0x100000)], e_type=ef.ET_DYN),
               ["ET_DYN", "link with -static -no-pie"]),
    "et-rel": (lambda: ef.elf64([ef.text(0x100000)], e_type=ef.ET_REL),
               ["ET_REL"]),
    "below-1mib": (below_1mib,
                   ["segment 2 at 0x7000 overlaps the loader's memory (0x500-0xFFFFF): "
                    "link the kernel at or above 1 MiB (0x100000)"]),
    "in-bios-data-area": (lambda: ef.elf64([ef.text(0x100000), ef.data(0x0, 0x100)]),
                          ["segment 1 at 0x0", "1 MiB (0x100000)"]),
    "overlap": (lambda: ef.elf64([ef.text(0x100000, 0x2000), ef.data(0x101000)]),
                ["segments 0 (0x100000-0x101FFF) and 1 (0x101000-0x1010FF) overlap in memory"]),
    "bss-overlap": (lambda: ef.elf64([ef.text(0x100000), ef.data(0x101000, 0x100, bss=0x1000),
                                      ef.data(0x102000)]),
                    ["segments 1 (0x101000-0x1020FF) and 2 (0x102000-0x1020FF) overlap"]),
    "filesz-gt-memsz": (lambda: ef.elf64([ef.text(0x100000),
                                          ef.Segment(0x101000, b"x" * 0x40, memsz=0x20)]),
                        ["segment 1 has p_filesz 0x40 larger than p_memsz 0x20"]),
    "beyond-file": (lambda: ef.elf64([ef.text(0x100000),
                                      ef.Segment(0x101000, filesz=0x10000, offset=0x1000)]),
                    ["segment 1", "extends past the end of the file"]),
    "entry-outside": (lambda: ef.elf64([ef.text(0x100000)], entry=0x200000),
                      ["entry point 0x200000 lies outside every PT_LOAD segment"]),
    "entry-not-executable": (lambda: ef.elf64([ef.text(0x100000), ef.data(0x101000)],
                                              entry=0x101000),
                             ["entry point 0x101000 lies in segment 1, which is not executable"]),
    "ttext-header-segment": (ttext_header_segment,
                             ["segment 0 at 0xFF000 holds the ELF header and program headers",
                              "-Ttext=ADDRESS", "link with -Ttext-segment=0x100000 instead",
                              "Bring your own kernel"]),
    "higher-half-in-identity-map": (
        lambda: ef.elf64([higher_half_text(vaddr=0x40100000)]),
        ["segment 0 has virtual address 0x40100000 but physical address 0x100000",
         "identity-mapped", "0xFFFF800000000000 or above", "AT()"]),
    "higher-half-not-canonical": (
        lambda: ef.elf64([higher_half_text(vaddr=0x0000900000100000)]),
        ["segment 0 at virtual address 0x900000100000", "not in the canonical upper half"]),
    "higher-half-wraps": (
        lambda: ef.elf64([ef.text(0x100000),
                          ef.Segment(0x101000, b"x", memsz=0x2000, vaddr=0xFFFFFFFFFFFFF000)]),
        ["segment 1 at virtual address 0xFFFFFFFFFFFFF000 (0x2000 bytes)",
         "not in the canonical upper half"]),
    "higher-half-page-offset": (
        lambda: ef.elf64([higher_half_text(vaddr=HIGHER_HALF + 0x100800)]),
        ["segment 0 has virtual address 0xFFFFFFFF80100800 and physical address 0x100000",
         "different offsets in a 4 KiB page"]),
    "higher-half-virtual-overlap": (
        lambda: ef.elf64([higher_half_text(),
                          ef.Segment(0x200000, b"x" * 16, vaddr=HIGHER_HALF + 0x100080)]),
        ["segments 0 (virtual 0xFFFFFFFF80100000) and 1 (virtual 0xFFFFFFFF80100080) overlap "
         "in virtual memory"]),
    "higher-half-shared-page": (
        lambda: ef.elf64([higher_half_text(size=0x80),
                          ef.Segment(0x200080, b"x" * 16, vaddr=HIGHER_HALF + 0x100080)]),
        ["segments 0 (virtual 0xFFFFFFFF80100000) and 1 (virtual 0xFFFFFFFF80100080)",
         "share a virtual page backed by different physical pages"]),
    "higher-half-entry-physical": (
        lambda: ef.elf64([higher_half_text()], entry=0x100000),
        ["entry point 0x100000 lies outside every PT_LOAD segment's virtual range"]),
    "too-many-page-tables": (
        lambda: page_table_hungry(extra_region=True),
        ["needs up to 74 page tables", "the loader has room for 73"]),
    "above-4gib": (lambda: ef.elf64([ef.text(0x100000),
                                     ef.Segment(0xFFFFF000, b"x", memsz=0x2000)]),
                   ["segment 1 at 0xFFFFF000", "4 GiB"]),
    "no-pt-load": (lambda: ef.elf64([ef.Segment(0x100000, b"x", type=ef.PT_NOTE)]),
                   ["no PT_LOAD segment"]),
    "no-program-headers": (lambda: ef.elf64([]),
                           ["no program headers"]),
    "too-many-program-headers": (lambda: ef.elf64([ef.text(0x100000)] +
                                                  [ef.Segment(0, type=ef.PT_NOTE)] * 64),
                                 ["65 program headers", "at most 64"]),
    "headers-beyond-first-chunk": (lambda: ef.elf64([ef.text(0x100000)], phoff=0x10000,
                                                    data_start=0x1000),
                                   ["beyond the first 65024 bytes (127 sectors)"]),
    "bad-phentsize": (lambda: ef.elf64([ef.text(0x100000)], phentsize=32),
                      ["e_phentsize", "56"]),
    "bad-version": (lambda: ef.elf64([ef.text(0x100000)], ei_version=2, e_version=2),
                    ["ELF version 2", "e_version 2"]),
    "truncated-header": (lambda: ef.good_kernel()[:40],
                         ["truncated", "64-byte ELF64 header"]),
    "truncated-program-headers": (lambda: ef.good_kernel()[:100],
                                  ["program header table", "past the end of the file"]),
    "truncated-segment": (lambda: ef.good_kernel()[:0x1100],
                          ["segment 0", "extends past the end of the file", "truncated"]),
    "empty": (lambda: b"", ["is empty"]),
}


@pytest.mark.parametrize("name", sorted(REJECTED_KERNELS))
def test_kernel_rejected(inputs, name):
    make, fragments = REJECTED_KERNELS[name]
    kernel = inputs.file(f"{name}.elf", make())
    result = inputs.build(kernel=kernel)
    assert_rejected(result, inputs, *fragments, subject=kernel)
    # Every kernel problem line names the file and says what to do after a colon.
    for line in result.stderr.splitlines():
        assert line.startswith("mkimage: error: ")
        assert line.count(": ") >= 3, line


@pytest.mark.parametrize("table_end,accepted", [(LOADER_FIRST_CHUNK, True),
                                                (LOADER_FIRST_CHUNK + 1, False)])
def test_program_headers_at_end_of_first_chunk(inputs, table_end, accepted):
    kernel = inputs.file("edge.elf", ef.elf64([ef.text(0x100000)],
                                              phoff=table_end - ef.PHDR64_SIZE, data_start=0x1000))
    result = inputs.build(kernel=kernel)
    if accepted:
        assert result.returncode == 0, result.stderr
    else:
        assert_rejected(result, inputs, "beyond the first 65024 bytes")


def test_kernel_over_size_limit(inputs):
    # A sparse file: a valid ELF header, then nothing up to 256 MiB + 1 byte.
    kernel = inputs.file("huge.elf", ef.good_kernel())
    os.truncate(kernel, KERNEL_MAX_FILE_BYTES + 1)
    result = inputs.build(kernel=kernel)
    assert_rejected(result, inputs, f"is {KERNEL_MAX_FILE_BYTES + 1} bytes",
                    "256 MiB", "limit", subject=kernel)
    # --force does not lift it.
    result = inputs.build("--force", kernel=kernel)
    assert_rejected(result, inputs, "--force does not lift the 256 MiB size limit")


def test_kernel_at_size_limit_is_not_rejected_for_size(inputs):
    # Exactly at the limit the size itself is fine (the segment checks still
    # run). Only check the messages: no need to write a 256 MiB image.
    kernel = inputs.file("limit.elf", ef.elf64([ef.text(0x100000)], entry=0x300000))
    os.truncate(kernel, KERNEL_MAX_FILE_BYTES)
    result = inputs.build(kernel=kernel)
    assert result.returncode == 1
    assert "MiB) limit" not in result.stderr
    assert "entry point 0x300000" in result.stderr
    assert "because of the 1 problem above" in result.stderr


def test_higher_half_kernel_accepted(inputs):
    """Segments linked in the top 2 GiB and loaded at 1 MiB, the entry
    point virtual; `info` lists both addresses."""
    kernel = inputs.file("higher-half.elf", ef.elf64(
        [higher_half_text(size=0x300),
         ef.Segment(0x101000, b"d" * 0x40, flags=ef.PF_R | ef.PF_W, memsz=0x2000,
                    vaddr=HIGHER_HALF + 0x101000)],
        entry=HIGHER_HALF + 0x100010))
    result = inputs.build(kernel=kernel)
    assert result.returncode == 0, result.stderr
    out = inputs.info().stdout
    assert "segment 0: offset 0x1000, paddr 0x100000, vaddr 0xFFFFFFFF80100000" in out, out


def test_page_table_budget_edge_is_accepted(inputs):
    result = inputs.build(kernel=inputs.file("hungry.elf", page_table_hungry(extra_region=False)))
    assert result.returncode == 0, result.stderr


def test_all_kernel_problems_reported_at_once(inputs):
    kernel = inputs.file("many.elf", ef.elf64(
        [ef.text(0x100000, 0x2000), ef.data(0x101000), ef.data(0x8000),
         ef.Segment(0x200000, b"x" * 8, memsz=4)],
        entry=0x900000, e_type=ef.ET_DYN))
    result = inputs.build(kernel=kernel)
    assert_rejected(result, inputs,
                    "ET_DYN",
                    "segment 2 at 0x8000 overlaps the loader's memory",
                    "segments 0 (0x100000-0x101FFF) and 1 (0x101000-0x1010FF) overlap",
                    "segment 3 has p_filesz 0x8 larger than p_memsz 0x4",
                    "entry point 0x900000 lies outside every PT_LOAD segment",
                    "not written because of the 5 problems above")


def test_problems_in_every_input_reported_at_once(inputs):
    stage1 = bytearray(make_stage1())
    stage1[0x1FE] = 0
    result = inputs.build(stage1=inputs.file("s1.bin", stage1),
                          stage2=inputs.file("s2.bin", make_stage2(version=9)),
                          kernel=inputs.file("k.elf", ef.elf32()),
                          cmdline="y" * CMDLINE_MAX)
    err = result.stderr
    assert_rejected(result, inputs, "boot signature", "header version 9", "ELF32",
                    f"--cmdline: the command line is {CMDLINE_MAX} bytes")
    assert f"{inputs.dir / 's1.bin'}: does not end in the boot signature" in err
    assert f"{inputs.dir / 's2.bin'}: has stage-2 header version 9" in err
    assert f"{inputs.dir / 'k.elf'}: is ELF32" in err


# ---- Stage 1, stage 2 and command line rejections -----------------------------------

def test_missing_input_files(inputs):
    missing = {role: inputs.dir / f"no-{role}" for role in ("stage1", "stage2", "kernel")}
    for role, path in missing.items():
        result = inputs.build(**{role: path})
        assert_rejected(result, inputs, f"{path}: cannot open: No such file or directory",
                        f"check the --{role} path")
    result = inputs.build(**missing)
    assert_rejected(result, inputs, *(f"{p}: cannot open" for p in missing.values()))


def test_input_that_is_a_directory(inputs):
    result = inputs.build(kernel=inputs.dir)
    assert_rejected(result, inputs, "is not a regular file")


@pytest.mark.parametrize("name,change,fragments", [
    ("short", lambda s: s[:511], ["is 511 bytes", "exactly one 512-byte sector"]),
    ("long", lambda s: s + b"\0", ["is 513 bytes"]),
    ("no-signature", lambda s: s[:0x1FE] + b"\0\0", ["boot signature 0x55 0xAA"]),
    ("no-dap", lambda s: s[:DAP_OFFSET] + b"\x18" + s[DAP_OFFSET + 1:],
     ["0x18 at offset 0x1A8", "size byte (0x10)"]),
])
def test_bad_stage1(inputs, name, change, fragments):
    stage1 = inputs.file(f"{name}.bin", change(make_stage1()))
    assert_rejected(inputs.build(stage1=stage1), inputs, *fragments, subject=stage1)


@pytest.mark.parametrize("name,content,fragments", [
    ("too-big", make_stage2(STAGE2_MAX_SECTORS * SECTOR + 1),
     ["is 32769 bytes (65 sectors)", "at most 64 sectors"]),
    ("too-short", make_stage2(100), ["too short", f"{HEADER_SIZE}-byte stage-2 header"]),
    ("no-magic", make_stage2(magic=0x12345678), ["expected magic 0x444C3253", "0x12345678"]),
    ("wrong-version", make_stage2(version=1), ["header version 1"]),
    ("wrong-size", make_stage2(header_size=300), ["300-byte stage-2 header",
                                                 f"{HEADER_SIZE} bytes"]),
])
def test_bad_stage2(inputs, name, content, fragments):
    stage2 = inputs.file(f"{name}.bin", content)
    assert_rejected(inputs.build(stage2=stage2), inputs, *fragments, subject=stage2)


def test_command_line_too_long(inputs):
    result = inputs.build(cmdline="z" * CMDLINE_MAX)
    assert_rejected(result, inputs, "--cmdline: the command line is 256 bytes",
                    "at most 255")


# ---- Output handling -------------------------------------------------------------------

def test_failed_build_keeps_existing_output(inputs):
    old = b"the previous, working image"
    inputs.out.write_bytes(old)
    before = inputs.out.stat()
    failures = [
        inputs.build(kernel=inputs.file("bad.elf", below_1mib())),
        inputs.build(stage1=inputs.dir / "missing"),
        inputs.build(cmdline="c" * 300),
        inputs.build(stage2=inputs.file("big.bin", make_stage2(40000))),
    ]
    for result in failures:
        assert result.returncode == 1
        assert f"an existing {inputs.out} is left as it was" in result.stderr
    assert inputs.out.read_bytes() == old
    assert inputs.out.stat().st_mtime_ns == before.st_mtime_ns
    assert leftovers(inputs.dir) == []


def test_output_directory_missing(inputs):
    out = inputs.dir / "no-such-dir" / "disk.img"
    result = inputs.build(out=out)
    assert result.returncode == 1
    assert "cannot create a temporary file" in result.stderr
    assert "check that the directory exists" in result.stderr


def test_output_is_a_directory(inputs):
    out = inputs.dir / "a-directory"
    out.mkdir()
    result = inputs.build(out=out)
    assert result.returncode == 1
    assert "cannot replace it" in result.stderr
    assert out.is_dir() and not any(out.iterdir())
    assert leftovers(inputs.dir) == []


def test_longest_output_name_the_file_system_accepts(inputs):
    """Issue 13, defect 6: the temporary name once added 11 characters to the
    output's name, so `-o` with a 250-byte name failed "File name too long".
    A name of NAME_MAX bytes must work, and a failed build with it must leave
    nothing behind."""
    name_max = os.pathconf(inputs.dir, "PC_NAME_MAX")
    out = inputs.dir / ("n" * name_max)
    result = inputs.build(out=out)
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size > 0
    assert inputs.info(out).returncode == 0
    assert leftovers(inputs.dir) == []

    failed = inputs.build(out=out, cmdline="c" * 300)
    assert failed.returncode == 1
    assert leftovers(inputs.dir) == []


def test_image_permissions_follow_umask(inputs):
    assert inputs.build().returncode == 0
    umask = os.umask(0)
    os.umask(umask)
    assert inputs.out.stat().st_mode & 0o777 == 0o666 & ~umask


# ---- --force ---------------------------------------------------------------------------

def test_force_writes_a_kernel_that_fails_the_checks(inputs):
    bad = below_1mib()
    kernel = inputs.file("bad.elf", bad)
    result = inputs.build("--force", kernel=kernel)
    assert result.returncode == 0, result.stderr
    assert f"mkimage: warning: {kernel}: segment 2 at 0x7000 overlaps" in result.stderr
    assert "mkimage: error" not in result.stderr
    image = inputs.out.read_bytes()
    _, k_lba, _, _ = expected_layout(len(make_stage2()), len(bad))
    assert image[k_lba * SECTOR:k_lba * SECTOR + len(bad)] == bad

    # info shows the layout is intact but the kernel is not loadable.
    info = inputs.info()
    assert info.returncode == 1
    assert ": ok" in info.stdout                      # the checksum line
    assert f"{inputs.out}: kernel: segment 2 at 0x7000" in info.stderr
    assert "result: problems found" in info.stdout


def test_force_does_not_skip_loader_or_cmdline_checks(inputs):
    stage1 = inputs.file("s1.bin", make_stage1()[:300])
    assert_rejected(inputs.build("--force", stage1=stage1), inputs, "is 300 bytes")
    stage2 = inputs.file("s2.bin", make_stage2(magic=0))
    assert_rejected(inputs.build("--force", stage2=stage2), inputs, "expected magic")
    assert_rejected(inputs.build("--force", cmdline="q" * 999), inputs, "--cmdline")
    missing = inputs.dir / "missing.elf"
    assert_rejected(inputs.build("--force", kernel=missing), inputs, "cannot open")


# ---- info on damaged images ---------------------------------------------------------

def test_info_detects_flipped_kernel_byte(inputs):
    assert inputs.build().returncode == 0
    image = bytearray(inputs.out.read_bytes())
    offset = 8 * SECTOR + 0x1010             # inside the kernel's text
    image[offset] ^= 0x01
    inputs.out.write_bytes(image)
    result = inputs.info()
    assert result.returncode == 1
    assert ": MISMATCH" in result.stdout
    assert "kernel checksum MISMATCH" in result.stderr
    assert "result: problems found" in result.stdout


def test_info_on_truncated_image(inputs):
    assert inputs.build().returncode == 0
    image = inputs.out.read_bytes()

    inputs.out.write_bytes(image[:10 * SECTOR])           # cut inside the kernel
    result = inputs.info()
    assert result.returncode == 1
    assert "is truncated: the kernel ends at sector" in result.stderr

    inputs.out.write_bytes(image[:100])                   # not even a boot sector
    result = inputs.info()
    assert result.returncode == 1
    assert "is truncated: 100 bytes, shorter than the 512-byte boot sector" in result.stderr


def test_info_on_bad_signature_and_partition(inputs):
    assert inputs.build().returncode == 0
    image = bytearray(inputs.out.read_bytes())
    image[0x1FE:0x200] = b"\0\0"
    image[PARTITION_TABLE + 4] = 0x83
    inputs.out.write_bytes(image)
    result = inputs.info()
    assert result.returncode == 1
    assert "no boot signature 0x55 0xAA" in result.stderr
    assert "partition table entry 1 is not the active type-0x7F partition" in result.stderr


def test_info_on_damaged_loader_fields(inputs):
    assert inputs.build().returncode == 0
    image = bytearray(inputs.out.read_bytes())

    broken = bytearray(image)
    struct.pack_into("<I", broken, SECTOR + 4, 0)           # stage 2 magic
    inputs.out.write_bytes(broken)
    result = inputs.info()
    assert result.returncode == 1
    assert f"{inputs.out}: stage 2: has no stage-2 header" in result.stderr

    broken = bytearray(image)
    struct.pack_into("<H", broken, DAP_OFFSET + 2, 0)       # DAP sector count
    inputs.out.write_bytes(broken)
    result = inputs.info()
    assert result.returncode == 1
    assert "the disk address packet reads 0 sectors from LBA 1" in result.stderr

    broken = bytearray(image)
    struct.pack_into("<I", broken, SECTOR + 16, 1)          # kernel_sectors
    inputs.out.write_bytes(broken)
    result = inputs.info()
    assert result.returncode == 1
    assert f"bytes need {-(-len(ef.good_kernel()) // SECTOR)} sectors" in result.stderr


def stage1_checksum(mbr):
    """Independently: the boot sector up to the disk signature, with the
    BPB area and the disk timestamp read as zeros."""
    code = bytearray(mbr[:STAGE1_CHECKSUM_END])
    code[STAGE1_BPB] = bytes(len(code[STAGE1_BPB]))
    code[STAGE1_TIMESTAMP] = bytes(len(code[STAGE1_TIMESTAMP]))
    return kernel_checksum(code)


def test_loader_checksums_recorded(inputs):
    assert inputs.build().returncode == 0
    image = inputs.out.read_bytes()
    sectors, stage2_sum, stage1_sum = struct.unpack_from(SELF_CHECK_FORMAT, image,
                                                         SECTOR + SELF_CHECK_OFFSET)
    assert sectors == struct.unpack_from(DAP_FORMAT, image, DAP_OFFSET)[2]
    stage2 = bytearray(image[SECTOR:SECTOR + sectors * SECTOR])
    stage2[SELF_CHECK_OFFSET + 4:SELF_CHECK_OFFSET + 12] = bytes(8)   # the field reads as zero
    assert stage2_sum == kernel_checksum(stage2)
    assert stage1_sum == stage1_checksum(image[:SECTOR])
    result = inputs.info()
    assert result.returncode == 0, result.stderr
    assert "stage 1 checksum: " in result.stdout and "stage 2 checksum: " in result.stdout


@pytest.mark.parametrize("name, offset, value, fragments", [
    # Issue 13, defect 5: `info` called these images ok; they cannot boot.
    ("dap-sector-count", DAP_OFFSET + 2, b"\x05\x00", ["stage 1 checksum MISMATCH",
                                                       "loads 5 sectors of stage 2, which has 4"]),
    ("dap-buffer-offset", DAP_OFFSET + 4, b"\x00\x80", ["stage 1 checksum MISMATCH"]),
    ("stage1-code", 0x60, b"\x90", ["stage 1 checksum MISMATCH"]),
    ("stage2-code", SECTOR + HEADER_SIZE + 0x20, b"\x90", ["stage 2 checksum MISMATCH"]),
    ("stage2-data", SECTOR + 1900, b"\x5a", ["stage 2 checksum MISMATCH"]),
    ("stage2-padding", SECTOR + 2040, b"\x01", ["stage 2 checksum MISMATCH"]),
    ("stage2-header", SECTOR + CMDLINE_END - 10, b"x", ["stage 2 checksum MISMATCH"]),
    ("stage2-sector-field", SECTOR + SELF_CHECK_OFFSET, bytes(4),
     ["the stage-2 header says stage 2 has 0 sectors from LBA 1", "stage 2 is damaged"]),
])
def test_info_detects_damaged_loader(inputs, name, offset, value, fragments):
    assert inputs.build().returncode == 0
    image = bytearray(inputs.out.read_bytes())
    assert image[offset:offset + len(value)] != value
    image[offset:offset + len(value)] = value
    inputs.out.write_bytes(image)
    result = inputs.info()
    assert result.returncode == 1, result.stdout
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert "rebuild the image" in result.stderr


def test_info_ignores_what_other_tools_write_into_stage1(inputs):
    """A BPB, the Windows disk timestamp, the disk signature and the
    partition table may change without damaging stage 1."""
    assert inputs.build().returncode == 0
    image = bytearray(inputs.out.read_bytes())
    image[0x0B:0x0D] = b"\x00\x02"          # a BPB's bytes per sector
    image[0xDA:0xE0] = b"\x01\x02\x03\x04\x05\x06"
    image[0x1B8:0x1BC] = b"\x78\x56\x34\x12"
    inputs.out.write_bytes(image)
    result = inputs.info()
    assert result.returncode == 0, result.stderr


def test_info_on_missing_image(inputs):
    result = inputs.info(inputs.dir / "nothing.img")
    assert result.returncode == 1
    assert "cannot open: No such file or directory" in result.stderr


# ---- Command line usage ---------------------------------------------------------------

@pytest.mark.parametrize("args", [
    [],
    ["frobnicate"],
    ["build", "--stage1", "a", "--stage2", "b", "--kernel", "c", "-o", "d", "--bogus"],
    ["build", "--stage1", "a", "--stage2", "b", "--kernel", "c", "-o"],
    ["build", "--stage1", "a", "--stage2", "b", "--kernel", "c"],
    ["build", "--stage1", "a", "--stage2", "b", "-o", "d"],
    ["build", "--stage1", "a", "--stage1", "a2", "--stage2", "b", "--kernel", "c", "-o", "d"],
    ["build", "--stage1", "a", "--stage2", "b", "--kernel", "c", "-o", "d", "stray"],
    ["info"],
    ["info", "a", "b"],
])
def test_usage_errors(mkimage, tmp_path, args):
    result = subprocess.run([str(mkimage), *args], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "usage: mkimage build" in result.stderr
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [["help"], ["--help"], ["-h"], ["build", "--help"],
                                  ["info", "--help"]])
def test_help(mkimage, args):
    result = run(mkimage, *args)
    assert result.returncode == 0
    assert "usage: mkimage build --stage1 FILE --stage2 FILE --kernel FILE" in result.stdout
    assert "mkimage info IMAGE" in result.stdout
    assert result.stderr == ""


def test_option_equals_form_and_cmdline_that_looks_like_an_option(inputs):
    result = run(inputs.mkimage, "build", f"--stage1={inputs.stage1}",
                 f"--stage2={inputs.stage2}", f"--kernel={inputs.kernel}",
                 "--cmdline", "--help", f"--output={inputs.out}")
    assert result.returncode == 0, result.stderr
    assert 'command line: "--help"' in inputs.info().stdout


# ---- The Makefile's disk target ---------------------------------------------------------

def test_make_disk_target(root, tmp_path):
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    build = tmp_path / "build"
    (build / "bootloader").mkdir(parents=True)
    (build / "kernel").mkdir()
    ef.write(build / "bootloader" / "stage1.bin", make_stage1())
    ef.write(build / "bootloader" / "stage2.bin", make_stage2())
    ef.write(build / "kernel" / "kernel-stripped.elf", ef.good_kernel())
    (build / "cmdline.txt").write_text("console=ttyS0 it's \"quoted\" $HOME\n")

    def make():
        return subprocess.run(["make", "-C", str(root / "image"), f"BUILD={build}", "disk"],
                              capture_output=True, text=True)

    first = make()
    assert first.returncode == 0, first.stdout + first.stderr
    image = build / "disk.img"
    field = image.read_bytes()[SECTOR + HEADER_FIELDS_SIZE:SECTOR + CMDLINE_END]
    assert field.rstrip(b"\0") == b"console=ttyS0 it's \"quoted\" $HOME"

    # Up to date: mkimage does not run again.
    again = make()
    assert again.returncode == 0
    assert "mkimage\" build" not in again.stdout

    # A new command line rebuilds the image. Its file is dated after the
    # image so the test does not depend on the file system's time resolution.
    (build / "cmdline.txt").write_text("quiet\n")
    later = image.stat().st_mtime_ns + 5 * 10**9
    os.utime(build / "cmdline.txt", ns=(later, later))
    third = make()
    assert third.returncode == 0, third.stdout + third.stderr
    field = image.read_bytes()[SECTOR + HEADER_FIELDS_SIZE:SECTOR + CMDLINE_END]
    assert field.rstrip(b"\0") == b"quiet"
