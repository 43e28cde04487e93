"""Kernel kinds: mkimage decides which boot protocol a kernel speaks,
records it in the stage 2 header and shows it in `mkimage info`; stage 2
refuses, with a message, the kinds it cannot hand over yet.

The order (README.md, "Kernel kinds"): a Linux bzImage, a Multiboot2
header, a Multiboot 1 header, else our own ELF64 protocol; `--protocol
NAME` forces one. The files here are made up byte by byte
(support/multiboot.py), so each carries exactly the marks under test.
"""
import re
import shutil
import struct
import subprocess

import pytest

from support import multiboot as mb
from support.loader_lines import LOADER_HALTED
from support.paths import BUILD, KERNEL_ELF
from support.qemu import boot
from support.sources import LOADER_FIELDS_INC, nasm_value

SECTOR = 512
KIND_FIELD = SECTOR + nasm_value(LOADER_FIELDS_INC, "stage2_header.kernel_kind")
KIND_NAMES = "bootstack, multiboot2, multiboot1, linux"
SETTLE_SECONDS = 0.5
BOOT_TIMEOUT_SECONDS = 60


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


@pytest.mark.parametrize("name", KINDS)
def test_mkimage_detects_and_records_the_kind(mkimage, tmp_path, name):
    make, constant = KINDS[name]
    result = build(mkimage, tmp_path, make())
    assert result.returncode == 0, result.stderr
    assert f"kind {name})" in result.stdout
    assert recorded_kind(tmp_path) == nasm_value(LOADER_FIELDS_INC, constant)
    shown = info(mkimage, tmp_path / "out.img")
    assert f"kernel kind: {name}\n" in shown.stdout, shown.stdout + shown.stderr


def test_multiboot2_comes_before_multiboot1(mkimage, tmp_path):
    both = mb.flat_kernel() + mb.multiboot1_kernel(placed=True)
    assert build(mkimage, tmp_path, both).returncode == 0
    assert recorded_kind(tmp_path) == nasm_value(LOADER_FIELDS_INC, "KERNEL_KIND_MULTIBOOT2")


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


def test_unknown_protocol_is_a_usage_error(mkimage, tmp_path):
    result = build(mkimage, tmp_path, mb.flat_kernel(), "--protocol", "elf32")
    assert result.returncode == 2
    assert f"unknown --protocol 'elf32' (expected one of {KIND_NAMES})" in result.stderr
    assert "usage:" in result.stderr
    assert not (tmp_path / "out.img").exists()


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


@pytest.mark.parametrize("name", MB2_REFUSALS)
def test_mkimage_refuses_what_the_multiboot2_header_asks_and_we_cannot_give(mkimage, tmp_path,
                                                                            name):
    kernel, message = MB2_REFUSALS[name]
    result = build(mkimage, tmp_path, kernel)
    assert result.returncode == 1, result.stdout
    assert message in result.stderr, result.stderr
    assert not (tmp_path / "out.img").exists()


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


def test_loader_refuses_linux_for_now(mkimage, tmp_path):
    assert build(mkimage, tmp_path, mb.linux_bzimage()).returncode == 0
    serial = boot_refused(tmp_path / "out.img")
    assert "stage2: error: Linux boot protocol: not supported by this loader yet" in serial, serial
    assert "loading the kernel" not in serial     # refused before a sector is read


def test_loader_refuses_an_unknown_kind(mkimage, tmp_path):
    assert build(mkimage, tmp_path, KERNEL_ELF.read_bytes()).returncode == 0
    image = tmp_path / "unknown-kind.img"
    shutil.copyfile(tmp_path / "out.img", image)
    with open(image, "r+b") as f:
        f.seek(KIND_FIELD)
        f.write(struct.pack("<I", nasm_value(LOADER_FIELDS_INC, "KERNEL_KIND_COUNT")))
    shown = info(mkimage, image)
    assert shown.returncode == 1
    assert "records kernel kind 4, which stage 2 does not know" in shown.stderr
    serial = boot_refused(image)
    assert "stage2: error: the stage 2 header records a kernel kind this loader does not " \
           "know" in serial, serial
