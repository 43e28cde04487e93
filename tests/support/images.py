"""Disk images made with mkimage from the built loader and a kernel."""
import pathlib
import struct
import subprocess

from support.paths import BUILD, KERNEL_ELF
from support.sources import LOADER_FIELDS_INC, nasm_value


def attempt_image(out, *, kernel=None, cmdline="qemu-exit", force=False):
    """Run mkimage build with the built loader and a kernel (ours, stripped,
    by default) into `out`; returns the finished process, unchecked: for
    tests of what mkimage accepts and refuses."""
    cmd = [str(BUILD / "image" / "mkimage"), "build",
           "--stage1", str(BUILD / "bootloader" / "stage1.bin"),
           "--stage2", str(BUILD / "bootloader" / "stage2.bin"),
           "--kernel", str(kernel or KERNEL_ELF),
           "--cmdline", cmdline, "-o", str(out)]
    if force:
        cmd.append("--force")
    return subprocess.run(cmd, capture_output=True, text=True)


def build_image(out, *, kernel=None, cmdline="qemu-exit", force=False):
    """Make a disk image with mkimage from the built loader and a kernel
    (ours, stripped, by default). Returns the image path."""
    result = attempt_image(out, kernel=kernel, cmdline=cmdline, force=force)
    assert result.returncode == 0, f"mkimage failed:\n{result.stdout}{result.stderr}"
    return pathlib.Path(out)


def reseal_stage2(image):
    """Record stage 2's checksum anew after a test changed its header on
    purpose, as a mkimage with that bug would have written it: stage 2's
    own check (stage2/self_check.inc) then lets it through to the check
    the test is about. The checksum is the loader's (docs/boot-protocol.md):
    little-endian 32-bit words, a += w, b += a, mod 2^32, (b << 32) | a,
    over stage 2's recorded sectors with the checksum field read as zero."""
    sector = nasm_value(LOADER_FIELDS_INC, "SECTOR_SIZE")
    header = sector                         # stage 2 starts at LBA 1
    sectors_field = header + nasm_value(LOADER_FIELDS_INC, "stage2_header.stage2_sectors")
    checksum_field = header + nasm_value(LOADER_FIELDS_INC, "stage2_header.stage2_checksum")
    path = pathlib.Path(image)
    data = bytearray(path.read_bytes())
    (sectors,) = struct.unpack_from("<I", data, sectors_field)
    data[checksum_field:checksum_field + 8] = bytes(8)
    a = b = 0
    for (word,) in struct.iter_unpack("<I", data[header:header + sectors * sector]):
        a = (a + word) % 2**32
        b = (b + a) % 2**32
    struct.pack_into("<Q", data, checksum_field, (b << 32) | a)
    path.write_bytes(bytes(data))
    return path
