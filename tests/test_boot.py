"""Boot the real disk image in QEMU (TCG) and read what the machine printed.

Each test starts qemu-system-x86_64 with the image on a disk, the serial
port captured to a file, and the kernel command line `qemu-exit`, so the
kernel ends the VM through isa-debug-exit when it has printed everything.
"""
import re

import pytest

from support.images import build_image
from support.loader_lines import loader_progress
from support.qemu import KERNEL_EXIT_FAILURE, KERNEL_EXIT_SUCCESS, boot
from support.serial import assert_in_order, memory_map
from support.sources import BOOT_INFO_INC, MEMORY_LAYOUT_INC, nasm_value


@pytest.mark.parametrize("machine", ["pc", "q35"])
@pytest.mark.parametrize("memory_mib", [32, 4096])
def test_boots_to_kernel(exit_image, machine, memory_mib):
    result = boot(exit_image, machine=machine, memory=f"{memory_mib}M", timeout=60)
    assert result.exit_code == KERNEL_EXIT_SUCCESS, result.serial
    assert_in_order(result.serial, loader_progress() + [r"Kernel: boot complete, halting"])

    entries = memory_map(result.serial)
    header = re.search(r"memory map \(E820, (\d+) entries\):", result.serial)
    assert header and int(header[1]) == len(entries) > 0, result.serial
    # The map must contain the low 640 KiB and RAM from 1 MiB, as usable.
    assert any(base == 0 and kind == 1 for base, _, kind in entries), entries
    assert any(base == 0x100000 and kind == 1 for base, _, kind in entries), entries
    # The usable total the kernel reports matches the machine's RAM size:
    # QEMU keeps a few hundred KiB for the BIOS and, with 4 GiB, moves RAM
    # above the PCI hole beyond 4 GiB.
    usable = sum(length for _, length, kind in entries if kind == 1)
    reported = int(re.search(r"usable memory: (\d+) MiB", result.serial)[1])
    assert reported == usable >> 20
    assert memory_mib - 2 <= reported <= memory_mib, result.serial
    if memory_mib == 4096:
        assert any(kind == 1 and base >= 1 << 32 for base, _, kind in entries), \
            "no usable RAM above 4 GiB reported:\n" + result.serial


def test_boot_info_reaches_the_kernel(exit_image):
    result = boot(exit_image, timeout=60)
    assert result.exit_code == KERNEL_EXIT_SUCCESS, result.serial
    serial = result.serial
    # The block's address, version and size, and the loader's memory, are
    # what the loader's sources say.
    address = nasm_value(MEMORY_LAYOUT_INC, "BOOT_INFO_ADDRESS")
    version = nasm_value(BOOT_INFO_INC, "BOOT_INFO_VERSION")
    size = nasm_value(BOOT_INFO_INC, "boot_info_size")
    assert f"boot info: at 0x{address:016x}, version {version}, {size} bytes" in serial
    assert "boot drive: 0x80" in serial
    assert 'command line: "qemu-exit"' in serial
    loader_start = nasm_value(MEMORY_LAYOUT_INC, "LOADER_MEMORY_START")
    loader_end = nasm_value(MEMORY_LAYOUT_INC, "LOADER_MEMORY_END")
    assert f"loader memory: 0x{loader_start:016x}-0x{loader_end:016x}" in serial
    assert "identity map up to 0x0000000100000000" in serial
    # The loader counts its own reads: at least one call, and exactly the
    # sectors the kernel occupies.
    stats = re.search(r"loader disk reads: (\d+) calls, (\d+) sectors, (\d+) retries", serial)
    loading = re.search(r"loading the kernel: (\d+) bytes", serial)
    assert stats and loading, serial
    assert int(stats[1]) >= 1
    assert int(stats[2]) == (int(loading[1]) + 511) // 512
    # The loader's and the kernel's view of where the kernel lies agree.
    loader_range = re.search(r"segments at 0x([0-9a-f]{16})-0x([0-9a-f]{16})", serial)
    kernel_range = re.search(r"kernel: 0x([0-9a-f]{16})-0x([0-9a-f]{16}), entry", serial)
    assert loader_range.groups() == kernel_range.groups()
    # Timestamps grow step by step.
    stamps = re.search(r"loader timestamps \(TSC cycles since stage 2 start\): (.*)", serial)[1]
    values = [int(item.rsplit(" ", 1)[1]) for item in stamps.split(", ")]
    assert len(values) == 6 and values == sorted(values) and values[0] > 0, stamps


def test_kernel_command_line_is_passed(tmp_path):
    image = build_image(tmp_path / "cmdline.img", cmdline="qemu-exit verbose=1 root=/dev/hd0")
    result = boot(image, timeout=60)
    assert result.exit_code == KERNEL_EXIT_SUCCESS, result.serial
    assert 'command line: "qemu-exit verbose=1 root=/dev/hd0"' in result.serial


def test_kernel_panic_is_reported(tmp_path):
    image = build_image(tmp_path / "panic.img", cmdline="panic-test qemu-exit")
    result = boot(image, timeout=60)
    assert result.exit_code == KERNEL_EXIT_FAILURE, result.serial
    assert "PANIC: panic-test requested on the command line" in result.serial


def test_without_qemu_exit_the_kernel_starts_its_shell(tmp_path):
    image = build_image(tmp_path / "shell.img", cmdline="")
    result = boot(image, until=r"bootstack> ", settle=1.0, timeout=60)
    assert result.still_running, "QEMU exited (reboot or exit) instead of waiting:\n" + result.serial
    assert "Kernel: boot complete, starting the shell" in result.serial
    assert result.serial.endswith("bootstack> "), result.serial


def test_virtio_disk(exit_image):
    result = boot(exit_image, drive="virtio", timeout=60)
    assert result.exit_code == KERNEL_EXIT_SUCCESS, result.serial
    assert "Kernel: boot complete" in result.serial


def test_boots_from_the_second_disk(exit_image, tmp_path):
    # The image on the second IDE disk, a blank disk first. SeaBIOS numbers
    # the disk it boots from 0x80 whatever its position; the loader must use
    # the number the BIOS passed in DL, and the kernel must see the same one.
    blank = tmp_path / "blank.img"
    blank.write_bytes(bytes(1 << 20))
    result = boot(exit_image, drive="none", timeout=60, extra=[
        "-drive", f"file={blank},format=raw,if=none,id=first",
        "-device", "ide-hd,drive=first,bus=ide.0,unit=0",
        "-drive", f"file={exit_image},format=raw,if=none,id=second",
        "-device", "ide-hd,drive=second,bus=ide.0,unit=1,bootindex=0"])
    assert result.exit_code == KERNEL_EXIT_SUCCESS, result.serial
    loader_drive = re.search(r"loader started \(boot drive (0x[0-9a-f]{2})\)", result.serial)[1]
    assert f"boot drive: {loader_drive}" in result.serial


def test_floppy_boot_reads_by_chs(exit_image, tmp_path):
    # A 1.44 MB floppy: the BIOS has no LBA extensions for it, so both
    # stages must fall back to cylinder/head/sector reads (AH=02h).
    floppy_bytes = 80 * 2 * 18 * 512
    image = tmp_path / "floppy.img"
    data = exit_image.read_bytes()
    image.write_bytes(data[:floppy_bytes].ljust(floppy_bytes, b"\0"))
    result = boot(image, drive="floppy", timeout=60, extra=["-boot", "a"])
    assert result.exit_code == KERNEL_EXIT_SUCCESS, result.serial
    assert "loader started (boot drive 0x00)" in result.serial
    assert "stage2: disk reads by CHS: 2 heads, 18 sectors per track" in result.serial
    assert "Kernel: boot complete" in result.serial
