"""mkimage build --module FILE[,STRING]: modules for Multiboot kernels,
stored on the disk after the kernel, recorded in the stage 2 header with
their checksums, listed and verified by `mkimage info`. What stage 2 does
with them is tested in test_multiboot2.py (the probe kernel reads them).
"""
import struct
import subprocess

import pytest

from support import multiboot as mb
from support.paths import KERNEL_ELF
from support.sources import LOADER_FIELDS_INC, nasm_value

# Each test runs with mkimage and again with mkimage-asan (conftest.py).
pytestmark = pytest.mark.sanitized_mkimage

SECTOR = 512
ALIGN_SECTORS = 8                       # image/disk_layout.h KERNEL_ALIGN_SECTORS
MODULES_FIELD = SECTOR + nasm_value(LOADER_FIELDS_INC, "stage2_header.modules")
MODULE_COUNT_FIELD = SECTOR + nasm_value(LOADER_FIELDS_INC, "stage2_header.module_count")
MODULE_ENTRY_SIZE = nasm_value(LOADER_FIELDS_INC, "stage2_module_size")
MODULES_MAX = nasm_value(LOADER_FIELDS_INC, "STAGE2_MODULES_MAX")
STRING_MAX = nasm_value(LOADER_FIELDS_INC, "STAGE2_MODULE_STRING_MAX")
ENTRY_FORMAT = f"<IIIQ{STRING_MAX}s"    # lba, sectors, size, checksum, string


def checksum(data):
    """docs/boot-protocol.md, "Kernel checksum": a += w, b += a over LE words."""
    data += bytes(-len(data) % 4)
    a = b = 0
    for (word,) in struct.iter_unpack("<I", data):
        a = (a + word) & 0xFFFFFFFF
        b = (b + a) & 0xFFFFFFFF
    return a | b << 32


def write(path, data):
    path.write_bytes(data)
    return str(path)


def test_modules_are_stored_after_the_kernel_and_recorded(mkimage, tmp_path):
    contents = [bytes(range(256)) * 7, b"", b"text"]
    paths = [write(tmp_path / f"m{i}.bin", data) for i, data in enumerate(contents)]
    result = mb.mkimage_attempt(mkimage, tmp_path, mb.flat_kernel(), "--module", paths[0],
                   f"--module={paths[1]},an empty one", "--module", f"{paths[2]},x,y")
    assert result.returncode == 0, result.stderr
    image = (tmp_path / "out.img").read_bytes()
    assert struct.unpack_from("<I", image, MODULE_COUNT_FIELD)[0] == 3
    kernel_lba, kernel_sectors = struct.unpack_from(
        "<II", image, SECTOR + nasm_value(LOADER_FIELDS_INC, "stage2_header.kernel_lba"))
    next_free = kernel_lba + kernel_sectors
    for i, (data, string) in enumerate(zip(contents, ["m0.bin", "an empty one", "x,y"])):
        lba, sectors, size, recorded, field = struct.unpack_from(
            ENTRY_FORMAT, image, MODULES_FIELD + i * MODULE_ENTRY_SIZE)
        assert lba % ALIGN_SECTORS == 0 and lba >= next_free, (i, lba, next_free)
        assert (size, sectors) == (len(data), -(-len(data) // SECTOR))
        assert image[lba * SECTOR:lba * SECTOR + size] == data
        assert recorded == checksum(data)
        assert field == string.encode().ljust(STRING_MAX, b"\0")
        next_free = lba + sectors
    unused = image[MODULES_FIELD + 3 * MODULE_ENTRY_SIZE:MODULES_FIELD + MODULES_MAX *
                   MODULE_ENTRY_SIZE]
    assert unused == bytes(len(unused))

    shown = subprocess.run([str(mkimage), "info", str(tmp_path / "out.img")],
                           capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert 'module 1: LBA' in shown.stdout and 'string "an empty one"' in shown.stdout
    for i, data in enumerate(contents):
        assert f"module {i} checksum: recorded 0x{checksum(data):016X}, computed " \
               f"0x{checksum(data):016X}: ok\n" in shown.stdout


def test_info_finds_a_damaged_module(mkimage, tmp_path):
    path = write(tmp_path / "m.bin", b"module bytes" * 100)
    assert mb.mkimage_attempt(mkimage, tmp_path, mb.flat_kernel(), "--module", path).returncode == 0
    image = tmp_path / "out.img"
    lba = struct.unpack_from("<I", image.read_bytes(), MODULES_FIELD)[0]
    with open(image, "r+b") as f:
        f.seek(lba * SECTOR + 5)
        f.write(b"!")
    shown = subprocess.run([str(mkimage), "info", str(image)], capture_output=True, text=True)
    assert shown.returncode == 1
    assert "module 0 checksum MISMATCH" in shown.stderr


@pytest.mark.parametrize("kernel, kind", [
    (lambda: KERNEL_ELF.read_bytes(), "bootstack"),
])
def test_modules_need_a_multiboot_kernel(mkimage, tmp_path, kernel, kind):
    path = write(tmp_path / "m.bin", b"x")
    result = mb.mkimage_attempt(mkimage, tmp_path, kernel(), "--module", path)
    assert result.returncode == 1
    assert f"--module: the kernel is of kind {kind}, whose handoff passes no modules" \
        in result.stderr
    assert not (tmp_path / "out.img").exists()


def test_module_problems_are_reported(mkimage, tmp_path):
    long_string = "s" * STRING_MAX
    path = write(tmp_path / "m.bin", b"x")
    result = mb.mkimage_attempt(mkimage, tmp_path, mb.flat_kernel(), "--module", f"{path},{long_string}",
                   "--module", str(tmp_path / "missing.bin"))
    assert result.returncode == 1
    assert f"is {STRING_MAX} bytes; stage 2 holds at most {STRING_MAX - 1}" in result.stderr
    assert "missing.bin: cannot open" in result.stderr
    assert not (tmp_path / "out.img").exists()


@pytest.mark.parametrize("arguments, message", [
    (["--module"], "--module needs a value"),
    (["--module", ",string"], "names no file"),
    (["--module", "m.bin"] * (MODULES_MAX + 1), f"more than {MODULES_MAX} --module options"),
])
def test_module_usage_errors(mkimage, tmp_path, arguments, message):
    result = mb.mkimage_attempt(mkimage, tmp_path, mb.flat_kernel(), *arguments)
    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / "out.img").exists()
