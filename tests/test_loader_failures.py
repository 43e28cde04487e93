"""Every failure the loader can detect, provoked on a real boot.

Each test damages a copy of a good image (or starts QEMU on a machine that
cannot run it) and checks that the loader prints the right message on the
serial port, says the system is halted, and then stays halted: no reboot
(QEMU runs with -no-reboot, so a reboot would end it), no silent hang.
"""
import re
import shutil
import struct
import subprocess

import pytest

from support.elf_factory import (E_ENTRY, E_MACHINE, E_PHNUM, E_PHOFF, E_TYPE, EI_CLASS, PF_R,
                                 PF_X, P_FILESZ, P_MEMSZ, P_OFFSET, P_PADDR, P_TYPE, PH_SIZE,
                                 Segment, elf64, write)
from support.elf_factory import page_table_hungry
from support.foreign_kernel import build_foreign_kernel
from support.images import build_image, reseal_stage2
from support.loader_lines import LOADER_HALTED
from support.paths import BUILD, ROOT
from support.qemu import boot
from support.sources import LOADER_FIELDS_INC, MEMORY_LAYOUT_INC, nasm_value

SECTOR = 512
STAGE2_HEADER = SECTOR                  # stage 2 starts at LBA 1
KERNEL_LBA_FIELD = STAGE2_HEADER + nasm_value(LOADER_FIELDS_INC, "stage2_header.kernel_lba")
KERNEL_SIZE_FIELD = STAGE2_HEADER + nasm_value(LOADER_FIELDS_INC, "stage2_header.kernel_size")
CMDLINE_FIELD = nasm_value(LOADER_FIELDS_INC, "stage2_header.cmdline")
PROGRAM_HEADERS_MAX = nasm_value(MEMORY_LAYOUT_INC, "PROGRAM_HEADERS_MAX")



def kernel_start(image):
    data = image.read_bytes()
    return struct.unpack_from("<I", data, KERNEL_LBA_FIELD)[0] * SECTOR


def damaged_copy(good, tmp_path, name, changes):
    """Copy `good` and apply changes: a list of (offset into the kernel
    file, bytes). Offsets are relative to the kernel's first byte."""
    image = tmp_path / name
    shutil.copyfile(good, image)
    base = kernel_start(image)
    with open(image, "r+b") as f:
        for offset, data in changes:
            f.seek(base + offset)
            f.write(data)
    return image


def program_header(image, index, field):
    """Offset of a program header field within the kernel file."""
    data = image.read_bytes()[kernel_start(image):]
    phoff = struct.unpack_from("<Q", data, E_PHOFF)[0]
    return phoff + index * PH_SIZE + field


def first_load_segment(image):
    data = image.read_bytes()[kernel_start(image):]
    phoff = struct.unpack_from("<Q", data, E_PHOFF)[0]
    phnum = struct.unpack_from("<H", data, E_PHNUM)[0]
    for index in range(phnum):
        if struct.unpack_from("<I", data, phoff + index * PH_SIZE)[0] == 1:
            return index
    raise AssertionError("no PT_LOAD in our own kernel?")


def assert_fails_and_halts(image, message, **boot_args):
    result = boot(image, until=LOADER_HALTED, settle=1.0, timeout=60, **boot_args)
    assert message in result.serial, f"expected {message!r}\n--- serial ---\n{result.serial}"
    assert LOADER_HALTED in result.serial, result.serial
    assert result.still_running, "QEMU exited: the machine rebooted or shut down\n" + result.serial
    assert "Kernel: running" not in result.serial
    # Nothing after the halt message: the machine really stopped there.
    assert result.serial.rstrip().endswith("Fix the problem above and reboot."), result.serial
    return result


@pytest.fixture(scope="module")
def good_image(tmp_path_factory):
    return build_image(tmp_path_factory.mktemp("good") / "good.img")


def test_corrupted_kernel_fails_the_checksum(good_image, tmp_path):
    # One byte in the middle of the kernel's code, away from every header.
    image = damaged_copy(good_image, tmp_path, "flip.img", [])
    base = kernel_start(image)
    data = bytearray(image.read_bytes())
    data[base + 0x1010] ^= 0xFF
    image.write_bytes(bytes(data))
    assert_fails_and_halts(image, "stage2: error: kernel checksum mismatch: the image records 0x")


def test_truncated_image_reports_the_bios_error(good_image, tmp_path):
    # The image ends two sectors into the kernel: reading the rest fails.
    image = tmp_path / "short.img"
    data = good_image.read_bytes()
    image.write_bytes(data[:kernel_start(good_image) + 2 * SECTOR])
    result = assert_fails_and_halts(image, "stage2: error: disk read failed at sector ")
    assert "after 3 tries (BIOS error code 0x" in result.serial


@pytest.mark.parametrize("sectors_kept", [
    1,      # only the MBR: every read of stage 2 fails
    6,      # the disk ends inside stage 2: a failed AH=42h read tells how many
            # sectors did arrive, and stage 1 must still insist on all of them
], ids=["mbr-only", "half-stage2"])
def test_unreadable_stage2_stops_in_stage1(good_image, tmp_path, sectors_kept):
    image = tmp_path / "short.img"
    image.write_bytes(good_image.read_bytes()[:sectors_kept * SECTOR])
    result = boot(image, until=r"Stage 1: disk error 0x[0-9A-F]{2}", settle=1.0, timeout=60)
    assert "Stage 1: disk error 0x" in result.serial, result.serial
    assert result.still_running, result.serial
    assert "stage 2" not in result.serial


DAP_OFFSET = nasm_value(LOADER_FIELDS_INC, "STAGE1_DAP_OFFSET")
DAP_SECTORS = DAP_OFFSET + nasm_value(LOADER_FIELDS_INC, "disk_address_packet.sectors")
DAP_BUFFER_OFFSET = DAP_OFFSET + nasm_value(LOADER_FIELDS_INC, "disk_address_packet.buffer_offset")
STAGE2_DAMAGED = "stage 2 is damaged"
NOT_STAGE2 = "Stage 1: disk error 0x00"     # the read worked, but no "S2LD" arrived


def patched_copy(good, tmp_path, offset, value):
    image = tmp_path / "damaged.img"
    data = bytearray(good.read_bytes())
    assert data[offset:offset + len(value)] != value
    data[offset:offset + len(value)] = value
    image.write_bytes(bytes(data))
    return image


def stage2_sectors(good):
    return struct.unpack_from("<H", good.read_bytes(), DAP_SECTORS)[0]


def assert_stage1_stops(image):
    result = boot(image, until=r"Stage 1: disk error 0x[0-9A-F]{2}", settle=1.0, timeout=60)
    assert NOT_STAGE2 in result.serial, result.describe()
    assert result.still_running, result.describe()
    assert result.serial.rstrip().endswith(NOT_STAGE2), result.describe()


# Issue 13, defect 5: damaged loaders gave garbled output or a triple fault.
def test_dap_sector_count_too_small(good_image, tmp_path):
    # Stage 1 loads only part of stage 2: stage 2's own checksum sees it.
    sectors = stage2_sectors(good_image)
    image = patched_copy(good_image, tmp_path, DAP_SECTORS, struct.pack("<H", sectors // 2))
    assert_fails_and_halts(image, STAGE2_DAMAGED)


def test_dap_sector_count_zero(good_image, tmp_path):
    # Stage 1 reads nothing and finds no stage 2 at 0x7E00.
    image = patched_copy(good_image, tmp_path, DAP_SECTORS, b"\0\0")
    assert_stage1_stops(image)


@pytest.mark.parametrize("offset", [0x8000, 0x7E01], ids=["elsewhere", "one-byte-off"])
def test_dap_buffer_offset(good_image, tmp_path, offset):
    # Stage 2 arrives somewhere else: stage 1 checks the magic before jumping.
    image = patched_copy(good_image, tmp_path, DAP_BUFFER_OFFSET, struct.pack("<H", offset))
    assert_stage1_stops(image)


def stage2_symbol(name):
    """Where stage 2's label `name` lies in the image (from its NASM map)."""
    for line in (BUILD / "bootloader" / "stage2.sym").read_text().splitlines():
        address, label = line.split()
        if label == name:
            return STAGE2_HEADER + int(address, 16) - nasm_value(LOADER_FIELDS_INC,
                                                                 "STAGE2_LOAD_ADDRESS")
    raise AssertionError(f"no {name} in stage2.sym")


@pytest.mark.parametrize("where", ["code", "data", "header", "padding"])
def test_damaged_stage2(good_image, tmp_path, where):
    sectors = stage2_sectors(good_image)
    offset = {
        "code": SECTOR + (sectors - 2) * SECTOR + 0x10,     # late in stage 2, away from the check
        "data": stage2_symbol("jumping_message") + 2,       # a message it prints
        "header": STAGE2_HEADER + CMDLINE_FIELD + 1,         # the kernel command line
        "padding": SECTOR + sectors * SECTOR - 1,           # its last sector's zero padding
    }[where]
    data = good_image.read_bytes()
    image = patched_copy(good_image, tmp_path, offset, bytes([data[offset] ^ 0x20]))
    assert_fails_and_halts(image, STAGE2_DAMAGED)


def test_inconsistent_kernel_record(good_image, tmp_path):
    image = tmp_path / "inconsistent.img"
    data = bytearray(good_image.read_bytes())
    sectors = struct.unpack_from("<I", data, KERNEL_SIZE_FIELD - 4)[0]
    struct.pack_into("<I", data, KERNEL_SIZE_FIELD - 4, sectors + 1)
    image.write_bytes(bytes(data))
    reseal_stage2(image)
    assert_fails_and_halts(image, "the stage 2 header is inconsistent: kernel_sectors does not match kernel_size.")


def test_missing_kernel_record(good_image, tmp_path):
    image = tmp_path / "nokernel.img"
    data = bytearray(good_image.read_bytes())
    struct.pack_into("<I", data, KERNEL_SIZE_FIELD, 0)
    image.write_bytes(bytes(data))
    reseal_stage2(image)
    assert_fails_and_halts(image, "no kernel is recorded in the stage 2 header")


def test_cpu_without_long_mode(good_image):
    assert_fails_and_halts(good_image, "this CPU does not support 64-bit long mode", cpu="qemu32")


@pytest.mark.parametrize("name, change, message", [
    ("bad-magic", [(0, b"\x7fBAD")], "the kernel is not an ELF file (bad magic number)."),
    ("elf32", [(EI_CLASS, b"\x01")], "the kernel is not a 64-bit ELF file"),
    ("big-endian", [(5, b"\x02")], "the kernel ELF file is not little-endian."),
    ("wrong-machine", [(E_MACHINE, struct.pack("<H", 3))], "the kernel ELF file is not for x86-64"),
    ("shared-object", [(E_TYPE, struct.pack("<H", 3))], "the kernel ELF file is not an executable (ET_EXEC)"),
    ("too-many-phdrs", [(E_PHNUM, struct.pack("<H", PROGRAM_HEADERS_MAX + 1))],
     "the kernel's program headers are out of bounds"),
    ("phdrs-past-chunk", [(E_PHOFF, struct.pack("<Q", 0x20000))], "the kernel's program headers are out of bounds"),
    ("entry-outside", [(E_ENTRY, struct.pack("<Q", 0x3000000))],
     "the kernel entry point is not inside an executable PT_LOAD segment's virtual range"),
])
def test_damaged_elf_header(good_image, tmp_path, name, change, message):
    image = damaged_copy(good_image, tmp_path, f"{name}.img", change)
    assert_fails_and_halts(image, "stage2: error: " + message)


@pytest.mark.parametrize("name, field, value, message", [
    ("below-1mib", P_PADDR, struct.pack("<Q", 0x7000),
     "at 0x00007000-0x{end}: overlaps the loader's memory (below 1 MiB)"),
    ("beyond-ram", P_PADDR, struct.pack("<Q", 0x4000000),
     "at 0x04000000-0x{end}: does not fit in usable RAM according to the BIOS memory map"),
    ("above-4gib", P_PADDR, struct.pack("<Q", 0x1_0010_0000), "lies above 4 GiB"),
    ("filesz-over-memsz", P_FILESZ, struct.pack("<Q", 0x10_0000), "p_filesz is larger than p_memsz."),
    ("past-end-of-file", P_OFFSET, struct.pack("<Q", 0x100_0000),
     "extends beyond the end of the kernel file."),
])
def test_damaged_program_header(good_image, tmp_path, name, field, value, message):
    index = first_load_segment(good_image)
    data = good_image.read_bytes()[kernel_start(good_image):]
    memsz = struct.unpack_from("<Q", data, program_header(good_image, index, P_MEMSZ))[0]
    image = damaged_copy(good_image, tmp_path, f"{name}.img",
                         [(program_header(good_image, index, field), value)])
    paddr = struct.unpack_from("<Q", value)[0] if field == P_PADDR else 0
    message = message.format(end=f"{(paddr + memsz) & 0xFFFFFFFF:08x}")
    assert_fails_and_halts(image, f"stage2: error: kernel segment {index} ", memory="32M")
    result = boot(image, until=LOADER_HALTED, timeout=60, memory="32M")
    assert message in result.serial, result.serial


def test_no_loadable_segment(good_image, tmp_path):
    data = good_image.read_bytes()[kernel_start(good_image):]
    phnum = struct.unpack_from("<H", data, E_PHNUM)[0]
    changes = [(program_header(good_image, i, P_TYPE), struct.pack("<I", 0)) for i in range(phnum)]
    image = damaged_copy(good_image, tmp_path, "noload.img", changes)
    assert_fails_and_halts(image, "the kernel has no loadable (PT_LOAD) segment.")


def test_kernel_too_small_for_an_elf_header(good_image, tmp_path):
    image = tmp_path / "tiny.img"
    data = bytearray(good_image.read_bytes())
    struct.pack_into("<I", data, KERNEL_SIZE_FIELD - 4, 1)     # one sector,
    struct.pack_into("<I", data, KERNEL_SIZE_FIELD, 40)        # 40 bytes of it
    image.write_bytes(bytes(data))
    reseal_stage2(image)
    assert_fails_and_halts(image, "the kernel file is too small to be an ELF file.")


def test_too_little_memory_for_the_kernel(tmp_path, mkimage):
    # The foreign test kernel needs RAM up to about 6.1 MiB (a 2 MiB BSS);
    # on a 6 MiB machine its data segment cannot fit.
    kernel = build_foreign_kernel(tmp_path / "foreign", "paged")
    image = build_image(tmp_path / "big.img", kernel=kernel)
    result = assert_fails_and_halts(image, "does not fit in usable RAM according to the BIOS memory map",
                                    memory="6M")
    assert "stage2: error: kernel segment " in result.serial
    # The same image boots with enough memory.
    assert boot(image, memory="16M", timeout=60).exit_code == 33


def test_a20_that_stays_off(tmp_path, mkimage):
    """A machine whose A20 line never opens: the loader tries the BIOS, port
    0x92 and the keyboard controller A20_ATTEMPTS times, every wait bounded,
    then says so and halts. QEMU's gate always opens, so this boots a test
    build of stage 2 (-DSIMULATE_A20_STUCK_OFF, see bootloader/stage2/a20.inc)
    whose wrap test sees memory wrap whatever the gate does."""
    bootloader = ROOT / "bootloader"
    attempts = re.search(r"^%assign A20_ATTEMPTS (\d+)", (bootloader / "stage2" / "a20.inc").read_text(),
                         re.M).group(1)

    def assemble(out, *defines):
        subprocess.run(["nasm", "-f", "bin", "-Wall", f"-I{bootloader}/", *defines, "-o", str(out),
                        str(bootloader / "stage2.asm")], check=True, capture_output=True, text=True)
        return out.read_bytes()

    # The normal loader is built without the define; the test build differs.
    normal = assemble(tmp_path / "normal.bin")
    stuck = assemble(tmp_path / "stage2-a20-stuck.bin", "-DSIMULATE_A20_STUCK_OFF")
    assert normal == (BUILD / "bootloader" / "stage2.bin").read_bytes()
    assert stuck != normal

    image = tmp_path / "a20-stuck.img"
    result = subprocess.run([str(mkimage), "build",
                             "--stage1", str(BUILD / "bootloader" / "stage1.bin"),
                             "--stage2", str(tmp_path / "stage2-a20-stuck.bin"),
                             "--kernel", str(BUILD / "kernel" / "kernel-stripped.elf"),
                             "--cmdline", "qemu-exit", "-o", str(image)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    result = assert_fails_and_halts(
        image, "stage2: error: could not enable the A20 line: memory above 1 MiB still wraps "
               f"to 0 after {attempts} rounds of the BIOS (INT 15h AX=2401h), port 0x92 and the "
               "keyboard controller.")
    assert "stage2: A20 enabled" not in result.serial
    assert "stage2: memory map" not in result.serial        # it stopped at step 2


# ---- Higher-half segments ------------------------------------------------------------------
# mkimage refuses these kernels (tests/test_mkimage.py); built with --force,
# the loader must refuse them too, naming the segment.

HIGHER_HALF = 0xFFFF_FFFF_8000_0000


def higher_half_kernel(vaddr, entry=None):
    """Code at 1 MiB linked at `vaddr`; the entry point its first byte."""
    code = Segment(0x100000, b"\xf4" * 0x100, flags=PF_R | PF_X, vaddr=vaddr)
    return elf64([code], entry=vaddr if entry is None else entry)


@pytest.mark.parametrize("name, vaddr, message", [
    ("in-identity-map", 0x40100000,
     "kernel segment 0 at 0x00100000-0x00100100: p_vaddr differs from p_paddr but lies in the "
     "lower half, which is identity-mapped"),
    ("not-canonical", 0x0000_9000_0010_0000,
     "kernel segment 0 at 0x00100000-0x00100100: p_vaddr to p_vaddr + p_memsz is not a "
     "canonical upper-half range"),
    ("wraps", 0xFFFF_FFFF_FFFF_FF80,
     "kernel segment 0 at 0x00100000-0x00100100: p_vaddr to p_vaddr + p_memsz is not a "
     "canonical upper-half range"),
    ("page-offset", HIGHER_HALF + 0x100800,
     "kernel segment 0 at 0x00100000-0x00100100: p_vaddr and p_paddr differ in their offset "
     "within a 4 KiB page"),
])
def test_bad_higher_half_segment(tmp_path, name, vaddr, message):
    kernel = write(tmp_path / f"{name}.elf", higher_half_kernel(vaddr))
    image = build_image(tmp_path / f"{name}.img", kernel=kernel, force=True)
    assert_fails_and_halts(image, "stage2: error: " + message)


def test_higher_half_entry_must_be_virtual(tmp_path):
    """The physical address of the code is not the entry point."""
    kernel = write(tmp_path / "entry.elf", higher_half_kernel(HIGHER_HALF + 0x100000, entry=0x100000))
    image = build_image(tmp_path / "entry.img", kernel=kernel, force=True)
    assert_fails_and_halts(image, "stage2: error: the kernel entry point is not inside an "
                                  "executable PT_LOAD segment's virtual range")


@pytest.mark.parametrize("extra_region", [False, True])
def test_page_table_budget(tmp_path, extra_region):
    """The kernel mkimage's budget just accepts is mapped; one more 2 MiB
    region (mkimage refuses it) and the loader runs out of table room."""
    kernel = write(tmp_path / "hungry.elf", page_table_hungry(extra_region))
    image = build_image(tmp_path / "hungry.img", kernel=kernel, force=extra_region)
    if extra_region:
        assert_fails_and_halts(image, "the kernel's segments touch too many 2 MiB regions",
                               memory="128M")
    else:
        result = boot(image, until=r"jumping to the kernel at 0x[0-9a-f]{16}", timeout=60, memory="128M")
        assert "stage2: page tables built" in result.serial, result.serial
        assert "jumping to the kernel at 0x0000000000100000" in result.serial, result.serial
