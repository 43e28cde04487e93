"""GRUB 2 as the oracle: what it boots from a raw disk, and how.

support/grub.py puts GRUB's boot.img and a core.img from grub-mkimage on a
disk with the payloads behind them, named by block lists. Here GRUB boots
Debian's Linux with the tests' initramfs, whose /init must report what it
reports under QEMU's own loader (tests/test_linux_qemu.py), and a minimal
Multiboot 1 and a minimal Multiboot 2 kernel (tests/grub_probe/) with
modules, through the boot_multiboot() the Multiboot probes use. grub-pc-bin is a test
requirement: ./build.sh test installs it.
"""
import re
import struct

import pytest

from support.grub import (BLOCKLIST, BLOCKLIST_OFFSET, BOOT_IMG, BOOT_KERNEL_SECTOR_OFFSET,
                          CORE_LBA, GRUB_PROMPT, MINIMAL_PROBES, PAYLOAD_LBA, SECTOR, boot_linux,
                          boot_multiboot, build_multiboot_probe, make_multiboot_disk,
                          plain_words, sectors)
from support.linux import LINUX_MACHINES, LINUX_MEMORIES, check_init_report
from support.qemu import KERNEL_EXIT_FAILURE, KERNEL_EXIT_SUCCESS

# Plain words: GRUB's shell would rewrite quotes (support/grub.py).
LINUX_CMDLINE = "console=ttyS0 quiet bootstack.probe=grub loader=grub2"


@pytest.fixture(scope="module")
def minimal_probes(tmp_path_factory):
    """Multiboot version -> the minimal probe kernel, built."""
    out = tmp_path_factory.mktemp("probes")
    return {version: build_multiboot_probe(source, out)
            for version, source in MINIMAL_PROBES.items()}


@pytest.mark.parametrize("memory", sorted(LINUX_MEMORIES))
@pytest.mark.parametrize("machine", LINUX_MACHINES)
def test_grub_boots_linux_from_a_raw_disk(grub, linux, tmp_path, machine, memory):
    kernel, archive = linux
    result, expected_cmdline = boot_linux(kernel, archive, LINUX_CMDLINE, work_dir=tmp_path,
                                          machine=machine, memory=memory)
    assert expected_cmdline == f"BOOT_IMAGE=(hd0){PAYLOAD_LBA}+{sectors(kernel.stat().st_size)} " \
        + LINUX_CMDLINE
    check_init_report(result, expected_cmdline, LINUX_MEMORIES[memory])
    assert result.exit_code == 0, result.describe()


@pytest.mark.parametrize("version", sorted(MINIMAL_PROBES))
def test_grub_boots_a_multiboot_kernel_with_modules(grub, minimal_probes, tmp_path, version):
    first = tmp_path / "first.bin"
    first.write_bytes(bytes(range(256)) * 5)            # 1280 bytes: 3 sectors
    second = tmp_path / "second.bin"
    second.write_bytes(b"\xaa" * SECTOR)
    result = boot_multiboot(minimal_probes[version], [(first, "first module"), (second, "")],
                            "probe cmdline words", work_dir=tmp_path, version=version,
                            timeout=60)
    assert result.exit_code == KERNEL_EXIT_SUCCESS, result.describe()
    # Both versions pass the words after the kernel's name, and after each
    # module's. GRUB hands over block list files whole: sizes are whole sectors.
    name = f"mb{version}_min"
    assert re.findall(rf"{name}: .*", result.serial.replace("\r", "")) == [
        f"{name}: magic ok",
        f"{name}: cmdline=probe cmdline words",
        f"{name}: module=first module bytes={3 * SECTOR:08x}",
        f"{name}: module= bytes={SECTOR:08x}",
        f"{name}: done",
    ], result.describe()


def test_a_probe_sees_the_wrong_magic(grub, minimal_probes, tmp_path):
    """mb1_min carries a Multiboot 2 header too: started by multiboot2, it
    gets the Multiboot 2 magic and must say so."""
    result = boot_multiboot(minimal_probes[1], work_dir=tmp_path, version=2, timeout=60)
    assert result.exit_code == KERNEL_EXIT_FAILURE, result.describe()
    assert "mb1_min: bad magic" in result.serial and "magic ok" not in result.serial, \
        result.describe()


def test_the_disk_holds_grub_where_boot_img_looks(grub, minimal_probes, tmp_path):
    disk = make_multiboot_disk(tmp_path / "disk.img", minimal_probes[2]).read_bytes()
    boot_img = BOOT_IMG.read_bytes()
    (core_lba,) = struct.unpack_from("<Q", disk, BOOT_KERNEL_SECTOR_OFFSET)
    assert core_lba == CORE_LBA
    # boot.img as Debian ships it but for that field (the same value).
    assert disk[:SECTOR] == boot_img
    start, count, segment = BLOCKLIST.unpack_from(disk, CORE_LBA * SECTOR + BLOCKLIST_OFFSET)
    assert start == CORE_LBA + 1 and CORE_LBA + 1 + count <= PAYLOAD_LBA
    assert segment == 0x820                 # right behind diskboot.img at 0x8000
    elf = minimal_probes[2].read_bytes()
    assert disk[PAYLOAD_LBA * SECTOR:][:len(elf)] == elf
    assert len(disk) == (PAYLOAD_LBA + sectors(len(elf))) * SECTOR


def test_a_failed_grub_boot_ends_at_its_prompt(grub, tmp_path):
    """A file without a Multiboot 2 header: GRUB says so on COM1 and waits
    at its prompt, where the helper stops waiting."""
    not_a_kernel = tmp_path / "zeros.bin"
    not_a_kernel.write_bytes(bytes(4 * SECTOR))
    result = boot_multiboot(not_a_kernel, work_dir=tmp_path, timeout=60)
    assert result.still_running, result.describe()
    assert re.search(GRUB_PROMPT, result.serial), result.describe()
    assert "error:" in result.serial and "mb2_min" not in result.serial, result.describe()


@pytest.mark.parametrize("cmdline", ['a="b c"', "a  b", "$x", "a;b", " a"])
def test_command_lines_grub_would_change_are_refused(cmdline):
    with pytest.raises(ValueError):
        plain_words(cmdline)
