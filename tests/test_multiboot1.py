"""Multiboot 1 kernels (GNU Multiboot 0.6.96) through mkimage and stage 2.

tests/multiboot/probe.asm assembled with -DMULTIBOOT1 carries a Multiboot
header with the address fields (flags bit 16) and asks for page-aligned
modules and the memory information (bits 0 and 1). It prints the machine
state and the information structure with everything it points to; the
checks against the specification are made here. mkimage's refusals of
requirements this loader does not meet, and stage 2's of a damaged image,
are provoked too.
"""
import re
import struct
import subprocess

import pytest

from support import multiboot as mb
from support.loader_lines import LOADER_HALTED
from support.multiboot_probe import (MODULE_BYTES, MODULE_STRING, MODULE_TEXT, PAGE,
                                     check_basic_memory, check_machine_state, module_files,
                                     printed_memory_map, probe_values, usable_ram_holding)
from support.paths import BUILD, KERNEL_ELF
from support.qemu import KERNEL_EXIT_SUCCESS, boot

MACHINES = ["pc", "q35"]
MEMORY_SIZES = ["128M", "4G"]
BOOT_TIMEOUT_SECONDS = 60
SETTLE_SECONDS = 0.5
LOADER_MAGIC = 0x2BADB002               # 3.2: EAX at the entry
CMDLINE = 'multiboot one  "x" \\ y'

# 3.3: the information structure's fields, as (offset, name).
INFO_FIELDS = ["flags", "mem_lower", "mem_upper", "boot_device", "cmdline", "mods_count",
               "mods_addr", "syms0", "syms1", "syms2", "syms3", "mmap_length", "mmap_addr",
               "drives_length", "drives_addr", "config_table", "boot_loader_name", "apm_table"]
FLAG_MEMORY, FLAG_BOOT_DEVICE, FLAG_CMDLINE, FLAG_MODS = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FLAG_MMAP, FLAG_BOOT_LOADER_NAME = 1 << 6, 1 << 9


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    return mb.assemble("probe", tmp_path_factory.mktemp("multiboot1"), defines=["MULTIBOOT1"])


def boot_until_halt_or_exit(image, **kwargs):
    return boot(image, until=re.escape(LOADER_HALTED), settle=SETTLE_SECONDS,
                timeout=BOOT_TIMEOUT_SECONDS, **kwargs)


@pytest.mark.parametrize("memory", MEMORY_SIZES)
@pytest.mark.parametrize("machine", MACHINES)
def test_probe_sees_the_multiboot1_machine_state_and_information(mkimage, probe, tmp_path,
                                                                 machine, memory):
    image = mb.mkimage_build(mkimage, probe, tmp_path / "probe.img", "--cmdline", CMDLINE,
                             *module_files(tmp_path))
    result = boot_until_halt_or_exit(image, machine=machine, memory=memory)
    assert result.exit_code == KERNEL_EXIT_SUCCESS, result.describe()
    state, segments, a20, dumps = probe_values(result.serial)
    check_machine_state(state, segments, a20, LOADER_MAGIC)

    info = dict(zip(INFO_FIELDS, struct.unpack(f"<{len(INFO_FIELDS)}I",
                                               dumps["information"][0])))
    assert state["ebx"] % 4 == 0
    assert info["flags"] == (FLAG_MEMORY | FLAG_BOOT_DEVICE | FLAG_CMDLINE | FLAG_MODS |
                             FLAG_MMAP | FLAG_BOOT_LOADER_NAME), hex(info["flags"])
    assert dumps["cmdline"] == [CMDLINE.encode() + b"\0"]
    assert dumps["loader name"] == [b"bootstack stage 2\0"]
    # boot_device: the BIOS drive in the top byte, no partition (0xFF each).
    assert info["boot_device"] == 0x80FFFFFF, hex(info["boot_device"])

    # The memory map: entries of size 20 (not counting the size field)
    # holding what stage 2 printed, and mem_lower/mem_upper from it.
    printed = printed_memory_map(result.serial)
    mmap = dumps["mmap"][0]
    assert info["mmap_length"] == len(mmap) == 24 * len(printed)
    entries = [struct.unpack_from("<IQQI", mmap, 24 * i) for i in range(len(printed))]
    assert all(size == 20 for size, *_ in entries)
    assert [tuple(entry[1:]) for entry in entries] == printed
    check_basic_memory(info["mem_lower"], info["mem_upper"], printed)

    # The modules: in order, page-aligned (flags bit 0) above the kernel,
    # their bytes and strings as given.
    kernel_end = int(re.search(r"Multiboot kernel: loads at 0x[0-9a-f]{8}-0x([0-9a-f]{8})",
                               result.serial)[1], 16)
    assert info["mods_count"] == 2
    mods = [struct.unpack_from("<IIII", dumps["mods"][0], 16 * i) for i in range(2)]
    previous_end = kernel_end
    for (start, end, _, reserved), contents, string, expected, expected_string in zip(
            mods, dumps["module"], dumps["module string"], [MODULE_BYTES, MODULE_TEXT],
            ["pattern.bin", MODULE_STRING]):
        assert start % PAGE == 0 and start >= previous_end, (hex(start), hex(previous_end))
        assert end - start == len(expected) and contents == expected and reserved == 0
        assert string == expected_string.encode() + b"\0"
        assert usable_ram_holding(printed, start)
        previous_end = end


# ---- What mkimage refuses -----------------------------------------------------

def build(mkimage, tmp_path, kernel_bytes, *extra):
    kernel = tmp_path / "kernel.bin"
    kernel.write_bytes(kernel_bytes)
    return subprocess.run(
        [str(mkimage), "build", "--stage1", str(BUILD / "bootloader" / "stage1.bin"),
         "--stage2", str(BUILD / "bootloader" / "stage2.bin"), "--kernel", str(kernel),
         "-o", str(tmp_path / "out.img"), *extra], capture_output=True, text=True)


@pytest.mark.parametrize("flags, message", [
    (1 << 2, "flags bit 2 requires a video mode (the graphics fields, 3.1.4)"),
    (1 << 7, "flags bit 7 is a requirement this loader does not know"),
    (1 << 15, "flags bit 15 is a requirement this loader does not know"),
], ids=["video-mode", "bit-7", "bit-15"])
def test_mkimage_refuses_requirements_it_does_not_meet(mkimage, tmp_path, flags, message):
    result = build(mkimage, tmp_path, mb.multiboot1_kernel(flags, placed=True))
    assert result.returncode == 1
    assert message in result.stderr, result.stderr
    assert not (tmp_path / "out.img").exists()


def test_mkimage_accepts_the_requirements_it_meets(mkimage, tmp_path):
    """Bits 0 (page-aligned modules) and 1 (memory information)."""
    result = build(mkimage, tmp_path, mb.multiboot1_kernel(0b11, placed=True))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("kernel, message", [
    (mb.multiboot1_kernel(), "no address fields (flags bit 16)"),
    (mb.multiboot1_kernel(placed=True, load_addr=0x9000), "load_addr 0x9000 is below 1 MiB"),
], ids=["no-address-fields", "below-1-mib"])
def test_mkimage_refuses_kernels_it_cannot_place(mkimage, tmp_path, kernel, message):
    result = build(mkimage, tmp_path, kernel)
    assert result.returncode == 1
    assert message in result.stderr, result.stderr


# ---- What stage 2 refuses (mkimage --force wrote it) ----------------------------

@pytest.mark.parametrize("kernel, extra, message", [
    (lambda: KERNEL_ELF.read_bytes(), ["--protocol", "multiboot1"],
     "the image records a Multiboot 1 kernel, but the kernel has no Multiboot header"),
    (lambda: mb.multiboot1_kernel(), [],
     "the Multiboot header has no address fields (flags bit 16)"),
    (lambda: mb.multiboot1_kernel(placed=True, load_addr=0x9000), [],
     "the Multiboot address fields place the kernel outside its file, below 1 MiB"),
], ids=["no-header", "no-address-fields", "below-1-mib"])
def test_loader_refuses(mkimage, tmp_path, kernel, extra, message):
    assert build(mkimage, tmp_path, kernel(), "--force", *extra).returncode == 0
    result = boot_until_halt_or_exit(tmp_path / "out.img")
    assert result.still_running and LOADER_HALTED in result.serial, result.describe()
    assert f"stage2: error: {message}" in result.serial, result.describe()
