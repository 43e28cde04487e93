"""Multiboot 1 kernels (GNU Multiboot 0.6.96) through mkimage and stage 2.

tests/multiboot/probe.asm assembled with -DMULTIBOOT1 carries a Multiboot
header that asks for page-aligned modules and the memory information
(bits 0 and 1). It is built three ways: a flat binary with the address
fields (flags bit 16), and ELF32 and ELF64 files without them, which stage
2 places by their program headers. It prints the machine
state and the information structure with everything it points to; the
checks against the specification are made here. mkimage's refusals of
requirements this loader does not meet, and stage 2's of a damaged image,
are provoked too.
"""
import re
import struct

import pytest

from support import multiboot as mb
from support.loader_lines import LOADER_HALTED
from support.multiboot_probe import (MODULE_BYTES, MODULE_STRING, MODULE_TEXT, PAGE,
                                     check_elf_sections, check_machine_state,
                                     check_multiboot1_memory,
                                     module_files, printed_memory_map, probe_values,
                                     usable_ram_holding)
from support.paths import KERNEL_ELF
from support.qemu import KERNEL_EXIT_SUCCESS, boot
from support.sources import MEMORY_LAYOUT_INC, nasm_value

MACHINES = ["pc", "q35"]
MEMORY_SIZES = ["128M", "4G"]
BOOT_TIMEOUT_SECONDS = 60
SETTLE_SECONDS = 0.5
CMDLINE = 'multiboot one  "x" \\ y'


FORMATS = ["flat", "elf32", "elf64"]


@pytest.fixture(scope="module")
def probes(tmp_path_factory):
    out = tmp_path_factory.mktemp("multiboot1")
    kernels = {"flat": mb.assemble("probe", out, defines=["MULTIBOOT1"])}
    for elf_format in mb.LINK_FORMATS:
        kernels[elf_format] = mb.assemble_elf("probe", out, elf_format, defines=["MULTIBOOT1"])
    return kernels


def boot_until_halt_or_exit(image, **kwargs):
    return boot(image, until=re.escape(LOADER_HALTED), settle=SETTLE_SECONDS,
                timeout=BOOT_TIMEOUT_SECONDS, **kwargs)


@pytest.mark.parametrize("memory", MEMORY_SIZES)
@pytest.mark.parametrize("machine", MACHINES)
@pytest.mark.parametrize("kernel_format", FORMATS)
def test_probe_sees_the_multiboot1_machine_state_and_information(mkimage, probes, tmp_path,
                                                                 kernel_format, machine, memory):
    image = mb.mkimage_build(mkimage, probes[kernel_format], tmp_path / "probe.img",
                             "--cmdline", CMDLINE, *module_files(tmp_path))
    result = boot_until_halt_or_exit(image, machine=machine, memory=memory)
    assert result.exit_code == KERNEL_EXIT_SUCCESS, result.describe()
    state, segments, a20, dumps = probe_values(result.serial)
    check_machine_state(state, segments, a20, mb.MULTIBOOT1_LOADER_MAGIC)

    info = dict(zip(mb.MULTIBOOT1_INFO_FIELDS,
                    struct.unpack(f"<{len(mb.MULTIBOOT1_INFO_FIELDS)}I",
                                  dumps["information"][0])))
    assert state["ebx"] % 4 == 0
    # Flags bit 5, the ELF section headers, for the ELF files only.
    elf = kernel_format != "flat"
    assert info["flags"] == mb.MULTIBOOT1_INFO_FLAGS | (mb.MULTIBOOT1_FLAG_ELF_SECTIONS
                                                        if elf else 0), hex(info["flags"])
    if elf:
        table = dumps["section headers"][0]
        assert info["shdr_num"] * info["shdr_size"] == len(table)
        check_elf_sections(probes[kernel_format],
                           (info["shdr_num"], info["shdr_size"], info["shdr_shndx"]), table,
                           dumps["section"], result.serial,
                           (state["ebx"], state["ebx"] + nasm_value(MEMORY_LAYOUT_INC,
                                                                    "MULTIBOOT_INFO_SIZE")))
        # The table is the first thing in the blob stage 2 printed.
        assert f"ELF section headers at 0x{info['shdr_addr']:08x}-" in result.serial
    else:
        assert [info[f"shdr_{field}"] for field in ("num", "size", "addr", "shndx")] == [0] * 4
        assert "section" not in dumps and "section headers" not in dumps
    assert dumps["cmdline"] == [CMDLINE.encode() + b"\0"]
    assert dumps["loader name"] == [b"bootstack stage 2\0"]
    # boot_device: the BIOS drive in the top byte, no partition (0xFF each).
    assert info["boot_device"] == 0x80FFFFFF, hex(info["boot_device"])

    # The memory map: entries of size 20 (not counting the size field)
    # holding what stage 2 printed, and mem_lower/mem_upper from it.
    printed = printed_memory_map(result.serial)
    mmap = dumps["mmap"][0]
    check_multiboot1_memory(info, mmap, printed)

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

@pytest.mark.parametrize("flags, message", [
    (1 << 2, "flags bit 2 requires a video mode (the graphics fields, 3.1.4)"),
    (1 << 7, "flags bit 7 is a requirement this loader does not know"),
    (1 << 15, "flags bit 15 is a requirement this loader does not know"),
], ids=["video-mode", "bit-7", "bit-15"])
def test_mkimage_refuses_requirements_it_does_not_meet(mkimage, tmp_path, flags, message):
    result = mb.mkimage_attempt(mkimage, tmp_path, mb.multiboot1_kernel(flags, placed=True))
    assert result.returncode == 1
    assert message in result.stderr, result.stderr
    assert not (tmp_path / "out.img").exists()


def test_mkimage_accepts_the_requirements_it_meets(mkimage, tmp_path):
    """Bits 0 (page-aligned modules) and 1 (memory information)."""
    result = mb.mkimage_attempt(mkimage, tmp_path, mb.multiboot1_kernel(0b11, placed=True))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("kernel, message", [
    (mb.multiboot1_kernel(), "has no address fields, so this loader places it by its ELF "
                             "program headers, but it is no little-endian ELF32 or ELF64 file"),
    (mb.multiboot1_kernel(placed=True, load_addr=0x9000), "load_addr 0x9000 is below 1 MiB"),
    (mb.elf32_multiboot1_kernel(0x9000, 0x9000), "p_paddr 0x9000 is below 1 MiB"),
    (mb.elf32_multiboot1_kernel(0xC0100000, 0x100000, entry_offset=0x5000),
     "the entry point 0xC0105000 lies in no segment"),
], ids=["no-address-fields-no-elf", "below-1-mib", "elf-below-1-mib", "elf-entry-outside"])
def test_mkimage_refuses_kernels_it_cannot_place(mkimage, tmp_path, kernel, message):
    result = mb.mkimage_attempt(mkimage, tmp_path, kernel)
    assert result.returncode == 1
    assert message in result.stderr, result.stderr


# ---- What stage 2 refuses (mkimage --force wrote it) ----------------------------

@pytest.mark.parametrize("kernel, extra, message", [
    (lambda: KERNEL_ELF.read_bytes(), ["--protocol", "multiboot1"],
     "the image records a Multiboot 1 kernel, but the kernel has no Multiboot header"),
    (lambda: mb.multiboot1_kernel(), [],
     "the Multiboot kernel has no address fields and is no little-endian ELF32 (i386) or "
     "ELF64 (x86-64) file"),
    (lambda: mb.multiboot1_kernel(placed=True, load_addr=0x9000), [],
     "the Multiboot address fields place the kernel outside its file, below 1 MiB"),
    (lambda: mb.elf32_multiboot1_kernel(0x9000, 0x9000), [],
     "a segment of the Multiboot kernel lies outside its file, below 1 MiB"),
    (lambda: mb.elf32_multiboot1_kernel(0xC0100000, 0x100000, entry_offset=0x5000), [],
     "the Multiboot kernel's entry point lies in no segment, as a virtual address or as a "
     "physical one"),
], ids=["no-header", "no-address-fields-no-elf", "below-1-mib", "elf-below-1-mib",
        "elf-entry-outside"])
def test_loader_refuses(mkimage, tmp_path, kernel, extra, message):
    assert mb.mkimage_attempt(mkimage, tmp_path, kernel(), "--force", *extra).returncode == 0
    result = boot_until_halt_or_exit(tmp_path / "out.img")
    assert result.still_running and LOADER_HALTED in result.serial, result.describe()
    assert f"stage2: error: {message}" in result.serial, result.describe()


# ---- The entry point of an ELF kernel linked elsewhere than it loads ------------

@pytest.mark.parametrize("physical_entry", [False, True], ids=["virtual", "physical"])
def test_elf_entry_point_virtual_or_physical(mkimage, tmp_path, physical_entry):
    """A segment linked at 0xC0100000 and loaded at 1 MiB: an entry point
    in its virtual range is translated; one in its physical range is taken
    as it is (GRUB 2 refuses that one: "entry point isn't in a segment").
    The code at the entry needs no particular address: it exits QEMU."""
    kernel = mb.elf32_multiboot1_kernel(0xC0100000, 0x100000, physical_entry=physical_entry)
    assert mb.mkimage_attempt(mkimage, tmp_path, kernel).returncode == 0
    result = boot(tmp_path / "out.img", until=re.escape(LOADER_HALTED), settle=SETTLE_SECONDS,
                  timeout=BOOT_TIMEOUT_SECONDS)
    assert result.exit_code == KERNEL_EXIT_SUCCESS, result.describe()
    assert re.search(r"Multiboot kernel: loads at 0x00100000-0x[0-9a-f]{8}, entry 0x00100060",
                     result.serial), result.describe()
