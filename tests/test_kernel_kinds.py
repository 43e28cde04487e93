"""Kernel kinds: mkimage decides which boot protocol a kernel speaks,
records it in the stage 2 header and shows it in `mkimage info`; mkimage
and stage 2 refuse, with a message, what they cannot hand over.

The order (README.md, "Kernel kinds"): a Linux bzImage, a Multiboot2
header, a Multiboot 1 header, else our own ELF64 protocol; `--protocol
NAME` forces one. The files here are made up byte by byte
(support/multiboot.py), so each carries exactly the marks under test.
"""
import re
import shutil
import struct
import subprocess
import time

import pytest

from debug.gdb_session import read_map, start_qemu_on_free_port, stop_qemu
from support import multiboot as mb
from support.images import reseal_stage2
from support.loader_lines import LOADER_HALTED
from support.paths import BUILD, KERNEL_ELF
from support.qemu import boot
from support.sources import BOOT_INFO_INC, LOADER_FIELDS_INC, MEMORY_LAYOUT_INC, nasm_value

SECTOR = 512
KIND_FIELD = SECTOR + nasm_value(LOADER_FIELDS_INC, "stage2_header.kernel_kind")
KIND_NAMES = "bootstack, multiboot2, multiboot1, linux"
SETTLE_SECONDS = 0.5
BOOT_TIMEOUT_SECONDS = 60
BOOT_INFO = nasm_value(MEMORY_LAYOUT_INC, "BOOT_INFO_ADDRESS")
E820_TYPE_RESERVED = 2      # ACPI 6.x, 15.1: "AddressRangeReserved"


def build(mkimage, tmp_path, kernel_bytes, *extra, name="kernel.bin"):
    """Run mkimage build on a kernel made of `kernel_bytes`; return the result."""
    kernel = tmp_path / name
    kernel.write_bytes(kernel_bytes)
    return subprocess.run(
        [str(mkimage), "build", "--stage1", str(BUILD / "bootloader" / "stage1.bin"),
         "--stage2", str(BUILD / "bootloader" / "stage2.bin"), "--kernel", str(kernel),
         "-o", str(tmp_path / "out.img"), *extra], capture_output=True, text=True)


def recorded_kind(tmp_path):
    image = (tmp_path / "out.img").read_bytes()
    return struct.unpack_from("<I", image, KIND_FIELD)[0]


def info(mkimage, image):
    return subprocess.run([str(mkimage), "info", str(image)], capture_output=True, text=True)


KINDS = {
    # name: (file, the kind mkimage must record: loader_fields.inc KERNEL_KIND_*)
    "bootstack": (lambda: KERNEL_ELF.read_bytes(), "KERNEL_KIND_BOOTSTACK"),
    "multiboot2": (lambda: mb.flat_kernel(), "KERNEL_KIND_MULTIBOOT2"),
    "multiboot1": (lambda: mb.multiboot1_kernel(placed=True), "KERNEL_KIND_MULTIBOOT1"),
    # A bzImage that also holds a Multiboot2 header: Linux comes first.
    "linux": (lambda: mb.linux_bzimage(mb.flat_kernel()), "KERNEL_KIND_LINUX"),
}


@pytest.mark.sanitized_mkimage
@pytest.mark.parametrize("name", KINDS)
def test_mkimage_detects_and_records_the_kind(mkimage, tmp_path, name):
    make, constant = KINDS[name]
    result = build(mkimage, tmp_path, make())
    assert result.returncode == 0, result.stderr
    assert f"kind {name})" in result.stdout
    assert recorded_kind(tmp_path) == nasm_value(LOADER_FIELDS_INC, constant)
    shown = info(mkimage, tmp_path / "out.img")
    assert f"kernel kind: {name}\n" in shown.stdout, shown.stdout + shown.stderr


@pytest.mark.sanitized_mkimage
def test_multiboot2_comes_before_multiboot1(mkimage, tmp_path):
    both = mb.flat_kernel() + mb.multiboot1_kernel(placed=True)
    assert build(mkimage, tmp_path, both).returncode == 0
    assert recorded_kind(tmp_path) == nasm_value(LOADER_FIELDS_INC, "KERNEL_KIND_MULTIBOOT2")


@pytest.mark.sanitized_mkimage
def test_protocol_forces_the_kind(mkimage, tmp_path):
    """A bzImage that holds a Multiboot2 header too is detected as Linux;
    --protocol multiboot2 makes it a Multiboot2 kernel."""
    result = build(mkimage, tmp_path, mb.linux_bzimage(mb.flat_kernel()),
                   "--protocol", "multiboot2")
    assert result.returncode == 0, result.stderr
    assert "kind multiboot2)" in result.stdout
    assert recorded_kind(tmp_path) == nasm_value(LOADER_FIELDS_INC, "KERNEL_KIND_MULTIBOOT2")
    shown = info(mkimage, tmp_path / "out.img")
    assert "kernel Multiboot2: file offset 0x1000 loaded at 0x100000-" in shown.stdout, \
        shown.stdout + shown.stderr


@pytest.mark.sanitized_mkimage
def test_unknown_protocol_is_a_usage_error(mkimage, tmp_path):
    result = build(mkimage, tmp_path, mb.flat_kernel(), "--protocol", "elf32")
    assert result.returncode == 2
    assert f"unknown --protocol 'elf32' (expected one of {KIND_NAMES})" in result.stderr
    assert "usage:" in result.stderr
    assert not (tmp_path / "out.img").exists()


@pytest.mark.sanitized_mkimage
@pytest.mark.parametrize("protocol, kernel, message", [
    ("multiboot2", lambda: KERNEL_ELF.read_bytes(), "has no Multiboot2 header"),
    ("multiboot1", lambda: KERNEL_ELF.read_bytes(), "has no Multiboot header"),
    ("linux", lambda: mb.flat_kernel(), "the file is no bzImage"),
    ("bootstack", lambda: mb.flat_kernel(), "ELF"),
])
def test_forced_protocol_the_file_does_not_speak(mkimage, tmp_path, protocol, kernel, message):
    result = build(mkimage, tmp_path, kernel(), "--protocol", protocol)
    assert result.returncode == 1
    assert message in result.stderr, result.stderr
    assert "not written" in result.stderr
    assert not (tmp_path / "out.img").exists()


# Every Multiboot2 header mkimage refuses, and the words that say why.
MB2_REFUSALS = {
    "required-information": (mb.flat_kernel(mb.tag(mb.TAG_INFORMATION_REQUEST,
                                                   struct.pack("<II", 6, 8))),
                             "the information request requires tag type 8"),
    "required-framebuffer": (mb.flat_kernel(mb.tag(mb.TAG_FRAMEBUFFER,
                                                   struct.pack("<III", 1024, 768, 32))),
                             "the framebuffer tag (3.1.10) is required"),
    "required-efi-tag": (mb.flat_kernel(mb.tag(7)),
                         "the required tag of type 7 is not supported"),
    "no-address-tag-no-elf": (mb.flat_kernel(placed=False),
                              "it is no little-endian ELF32 or ELF64 file"),
    "entry-tag-without-address-tag": (mb.header(mb.entry_tag(0x100000)),
                                      "an entry address tag without an address tag"),
    "below-1-mib": (mb.flat_kernel(load_addr=0x8000), "load_addr 0x8000 is below 1 MiB"),
    "not-i386": (mb.header(b"", architecture=4), "architecture 4 is not 0"),
}


@pytest.mark.sanitized_mkimage
@pytest.mark.parametrize("name", MB2_REFUSALS)
def test_mkimage_refuses_what_the_multiboot2_header_asks_and_we_cannot_give(mkimage, tmp_path,
                                                                            name):
    kernel, message = MB2_REFUSALS[name]
    result = build(mkimage, tmp_path, kernel)
    assert result.returncode == 1, result.stdout
    assert message in result.stderr, result.stderr
    assert not (tmp_path / "out.img").exists()


@pytest.mark.sanitized_mkimage
def test_mkimage_ignores_optional_multiboot2_tags_it_cannot_honour(mkimage, tmp_path):
    optional = (mb.tag(mb.TAG_INFORMATION_REQUEST, struct.pack("<II", 8, 14), optional=True)
                + mb.tag(mb.TAG_FRAMEBUFFER, struct.pack("<III", 1024, 768, 32), optional=True)
                + mb.tag(7, optional=True))
    result = build(mkimage, tmp_path, mb.flat_kernel(optional))
    assert result.returncode == 0, result.stderr


# ---- Stage 2 --------------------------------------------------------------------

def boot_refused(image):
    result = boot(image, until=re.escape(LOADER_HALTED), settle=SETTLE_SECONDS,
                  timeout=BOOT_TIMEOUT_SECONDS)
    assert result.still_running and LOADER_HALTED in result.serial, result.describe()
    return result.serial


# ---- Linux: what mkimage and stage 2 refuse (booting it: test_linux_boot.py) -------

@pytest.mark.sanitized_mkimage
@pytest.mark.parametrize("kernel, message", [
    (lambda: mb.linux_bzimage(version=0x0201),
     "Linux boot protocol 2.01 (the version at 0x206); this loader needs 2.02 or later"),
    (lambda: mb.linux_bzimage(version=0x0100), "Linux boot protocol 1.00"),
    (lambda: mb.linux_bzimage(loadflags=0), "lacks LOADED_HIGH"),
    (lambda: mb.linux_bzimage(setup_sects=64), "more than the 32768 boot.rst allows"),
    (lambda: mb.linux_bzimage()[:0x1000], "no protected-mode code after the 4096 bytes"),
])
def test_mkimage_refuses_a_linux_header_we_cannot_boot(mkimage, tmp_path, kernel, message):
    result = build(mkimage, tmp_path, kernel())
    assert result.returncode == 1, result.stdout
    assert message in result.stderr, result.stderr
    assert not (tmp_path / "out.img").exists()


@pytest.mark.sanitized_mkimage
def test_mkimage_info_shows_the_linux_header_and_initrd(mkimage, tmp_path):
    parts = [tmp_path / "a.cpio", tmp_path / "b.cpio"]
    parts[0].write_bytes(b"A" * 1000)
    parts[1].write_bytes(b"B" * 5000)
    result = build(mkimage, tmp_path, mb.linux_bzimage(b"\xF4" * 3000), "--initrd",
                   str(parts[0]), f"--initrd={parts[1]}")
    assert result.returncode == 0, result.stderr
    assert "initrd part 1 at LBA" in result.stdout, result.stdout
    shown = info(mkimage, tmp_path / "out.img")
    assert shown.returncode == 0, shown.stderr
    assert "kernel Linux: boot protocol 2.15, setup 7 sectors (4096 bytes with the boot " \
        "sector), protected-mode code 3000 bytes at 0x100000\n" in shown.stdout, shown.stdout
    assert "initrd: 6000 bytes in 2 parts" in shown.stdout, shown.stdout


@pytest.mark.sanitized_mkimage
def test_initrd_needs_a_linux_kernel_and_linux_takes_no_modules(mkimage, tmp_path):
    initrd = tmp_path / "initrd"
    initrd.write_bytes(b"x")
    result = build(mkimage, tmp_path, KERNEL_ELF.read_bytes(), "--initrd", str(initrd))
    assert result.returncode == 1
    assert "--initrd: the kernel is of kind bootstack; an initial RAM disk goes to a Linux " \
        "kernel" in result.stderr, result.stderr
    result = build(mkimage, tmp_path, mb.linux_bzimage(), "--module", str(initrd))
    assert result.returncode == 1
    assert "--module: a Linux kernel takes no modules: pass its initial RAM disk with " \
        "--initrd" in result.stderr, result.stderr
    assert not (tmp_path / "out.img").exists()


def test_loader_refuses_an_initrd_that_does_not_fit_in_ram(mkimage, tmp_path):
    """40 MiB of initrd on a 32 MiB machine: no usable range holds it."""
    initrd = tmp_path / "big.initrd"
    initrd.write_bytes(bytes(40 * 1024 * 1024))
    assert build(mkimage, tmp_path, mb.linux_bzimage(), "--initrd",
                 str(initrd)).returncode == 0
    serial = boot_refused(tmp_path / "out.img")
    assert "stage2: error: no room for the initrd: 41943040 bytes, page-aligned, in usable " \
        "RAM between the kernel's end 0x00100001 and initrd_addr_max 0x7fffffff: give the " \
        "machine more memory, or pass a smaller initrd." in serial, serial
    assert "starting Linux" not in serial


def test_loader_refuses_a_linux_kernel_that_does_not_fit_at_1_mib(mkimage, tmp_path):
    """init_size (0x260) asks for 64 MiB at 1 MiB on a 32 MiB machine."""
    assert build(mkimage, tmp_path, mb.linux_bzimage(init_size=64 * 1024 * 1024)).returncode == 0
    serial = boot_refused(tmp_path / "out.img")
    assert "stage2: error: no room for Linux at 1 MiB: it needs 67108864 bytes of usable RAM " \
        "there (its file or init_size)" in serial, serial
    assert "kernel checksum ok" not in serial    # refused on the first chunk


def test_loader_refuses_an_unknown_kind(mkimage, tmp_path):
    assert build(mkimage, tmp_path, KERNEL_ELF.read_bytes()).returncode == 0
    image = tmp_path / "unknown-kind.img"
    shutil.copyfile(tmp_path / "out.img", image)
    with open(image, "r+b") as f:
        f.seek(KIND_FIELD)
        f.write(struct.pack("<I", nasm_value(LOADER_FIELDS_INC, "KERNEL_KIND_COUNT")))
    reseal_stage2(image)
    shown = info(mkimage, image)
    assert shown.returncode == 1
    assert "records kernel kind 4, which stage 2 does not know" in shown.stderr
    serial = boot_refused(image)
    assert "stage2: error: the stage 2 header records a kernel kind this loader does not " \
           "know" in serial, serial


def test_loader_refuses_linux_when_0x90000_is_not_usable_ram(mkimage, tmp_path):
    """The real-mode part of Linux goes to 0x90000-0x9E0FF. No emulator's
    BIOS reports less low memory than that (a PC with a big EBDA does), so
    GDB makes this one: stopped at the loader's check of that range
    (range_is_usable_ram with EAX = 0x90000), it marks every memory map
    entry reserved, as such a BIOS would have, and lets the loader go on."""
    if shutil.which("gdb") is None:
        pytest.skip("gdb is not installed (./build.sh deps)")
    assert build(mkimage, tmp_path, mb.linux_bzimage()).returncode == 0
    check = dict(read_map(BUILD / "bootloader" / "stage2.map"))["range_is_usable_ram"]
    setup_address = 0x90000     # linux_boot.inc's LINUX_SETUP_ADDRESS, which the message names
    e820 = BOOT_INFO + nasm_value(BOOT_INFO_INC, "boot_info.e820")
    count = BOOT_INFO + nasm_value(BOOT_INFO_INC, "boot_info.e820_count")
    entry_size = nasm_value(BOOT_INFO_INC, "e820_entry_size")
    type_offset = nasm_value(BOOT_INFO_INC, "e820_entry.type")
    commands = f"""\
target remote 127.0.0.1:$port
break *{check:#x} if $eax == {setup_address:#x}
continue
set $entry = 0
while $entry < *(unsigned short *){count:#x}
  set *(unsigned int *)({e820:#x} + $entry * {entry_size} + {type_offset}) = {E820_TYPE_RESERVED}
  set $entry = $entry + 1
end
printf "ENTRIES MARKED RESERVED: %d\\n", $entry
detach
"""
    serial_log = tmp_path / "serial.log"
    qemu, port = start_qemu_on_free_port(tmp_path / "out.img", serial_log, batch=True)
    try:
        script = tmp_path / "session.gdb"
        script.write_text(commands.replace("$port", str(port)))
        session = subprocess.run(["gdb", "-nx", "-batch", "-x", str(script)],
                                 capture_output=True, text=True, timeout=120)
        assert "ENTRIES MARKED RESERVED: " in session.stdout, session.stdout + session.stderr
        deadline = time.monotonic() + BOOT_TIMEOUT_SECONDS
        while LOADER_HALTED not in serial_log.read_text(errors="replace") \
                and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop_qemu(qemu)
    serial = serial_log.read_text(errors="replace")
    assert "stage2: error: the BIOS memory map does not mark 0x90000-0x9E0FF as usable RAM, " \
           "but the real-mode part of Linux, its heap, stack and command line go there." \
           in serial, serial
    assert "starting Linux" not in serial
