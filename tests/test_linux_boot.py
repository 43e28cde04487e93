"""Our loader boots a real Linux: Debian's cloud kernel and the tests'
initramfs (support/linux.py) from a disk image mkimage writes, by the 16-bit
Linux boot protocol (bootloader/stage2/linux_boot.inc).

/init must report what it reports under QEMU's own loader
(tests/test_linux_qemu.py) and GRUB 2 (tests/test_grub.py): the command
line byte for byte, and MemTotal showing that Linux saw all the RAM, on
both machine types with little and much memory. The refusals (boot
protocol older than 2.02, an initrd or kernel that does not fit in RAM) are
in tests/test_kernel_kinds.py.
"""
import re

import pytest

from support.loader_lines import LOADER_HALTED
from support.qemu import boot

from support.linux import (LINUX_MACHINES, LINUX_MEMORIES, boot_with_our_loader,
                           check_init_report, make_loader_disk)


# Quotes, doubled spaces and an option the kernel does not know: stage 2
# passes the command line as given, so /proc/cmdline gives back every byte.
CMDLINE = 'console=ttyS0 quiet bootstack.probe="two  words" loader=bootstack'



@pytest.fixture(scope="module")
def disk(linux, tmp_path_factory):
    kernel, archive = linux
    image = tmp_path_factory.mktemp("linux") / "linux.img"
    make_loader_disk(image, kernel, [archive], CMDLINE)
    return image


@pytest.mark.parametrize("memory", sorted(LINUX_MEMORIES))
@pytest.mark.parametrize("machine", LINUX_MACHINES)
def test_our_loader_boots_linux(disk, machine, memory):
    result = boot_with_our_loader(disk, machine=machine, memory=memory)
    assert "stage2: starting Linux (boot protocol 0x02" in result.serial, result.describe()
    check_init_report(result, CMDLINE, LINUX_MEMORIES[memory])
    assert result.exit_code == 0, result.describe()     # /init powered off through ACPI


def test_initrd_parts_are_concatenated(linux, tmp_path):
    """The initramfs cut in two at an odd byte: Linux finds its archive only
    if stage 2 puts the second part right after the first, byte for byte."""
    kernel, archive = linux
    data = archive.read_bytes()
    cut = len(data) // 3 | 1
    parts = [tmp_path / "part1", tmp_path / "part2"]
    parts[0].write_bytes(data[:cut])
    parts[1].write_bytes(data[cut:])
    image = tmp_path / "linux.img"
    make_loader_disk(image, kernel, parts, CMDLINE)
    result = boot_with_our_loader(image)
    assert f"stage2: initrd: {len(data)} bytes at 0x" in result.serial, result.describe()
    check_init_report(result, CMDLINE, LINUX_MEMORIES["256M"])


def test_a_damaged_initrd_is_refused(linux, tmp_path, mkimage):
    """One byte of the initrd changed on the disk: its checksum catches it."""
    kernel, archive = linux
    image = tmp_path / "linux.img"
    output = make_loader_disk(image, kernel, [archive], CMDLINE, mkimage=mkimage)
    lba = int(output.split("initrd part 0 at LBA ")[1].split()[0])
    with open(image, "r+b") as f:
        f.seek(lba * 512 + 100)
        byte = f.read(1)
        f.seek(lba * 512 + 100)
        f.write(bytes([byte[0] ^ 0xFF]))
    result = boot(image, memory="256M", until=re.escape(LOADER_HALTED), settle=0.5, timeout=120)
    assert "stage2: error: checksum mismatch in module 0" in result.serial, result.describe()
    assert "starting Linux" not in result.serial
