"""Multiboot2 kernels (Multiboot2 specification 2.0) through mkimage and
stage 2.

Two NASM kernels from tests/multiboot/, neither sharing code with ours:
  tutorial.asm  written as OS tutorials write one: it checks the magic and
                CPUID, builds its own page tables, enters long mode and
                greets on the VGA text screen and on COM1;
  probe.asm     prints the machine state it was started in and the
                information structure it got, byte for byte; the checks
                against the specification are made here.
The tutorial kernel is a flat binary placed by its address and entry
address tags; the probe is built that way and as ELF32 and ELF64 files
without them, which stage 2 places by their program headers.
Every way stage 2 refuses a Multiboot2 kernel is provoked too (with
mkimage --force, which writes what mkimage itself would refuse).
"""
import re
import shutil
import struct

import pytest

from support import multiboot as mb
from support.foreign_kernel import make_image
from support.images import reseal_stage2
from support.loader_lines import LOADER_HALTED
from support.multiboot_probe import (MODULE_BYTES, MODULE_STRING, MODULE_TEXT, PAGE,
                                     check_basic_memory, check_elf_sections, check_machine_state,
                                     module_files, printed_memory_map, probe_values,
                                     usable_ram_holding)
from support.paths import KERNEL_ELF
from support.qemu import KERNEL_EXIT_SUCCESS, boot
from support.sources import LOADER_FIELDS_INC, nasm_value

MACHINES = ["pc", "q35"]
MEMORY_SIZES = ["128M", "4G"]
BOOT_TIMEOUT_SECONDS = 60
SETTLE_SECONDS = 0.5
SECTOR = 512
MIB = 1024 * 1024

GREETING = mb.TUTORIAL_GREETING
CMDLINE = 'probe  a=1 "quoted" \\ end'   # two spaces, quotes, a backslash: byte for byte

@pytest.fixture(scope="module")
def kernels(tmp_path_factory):
    out = tmp_path_factory.mktemp("multiboot2")
    built = {name: mb.assemble(name, out) for name in ("tutorial", "probe")}
    for elf_format in mb.LINK_FORMATS:      # no address tags: placed by program headers
        built[f"probe-{elf_format}"] = mb.assemble_elf("probe", out, elf_format)
    return built


def boot_until_halt_or_exit(image, **kwargs):
    return boot(image, until=re.escape(LOADER_HALTED), settle=SETTLE_SECONDS,
                timeout=BOOT_TIMEOUT_SECONDS, **kwargs)


@pytest.mark.parametrize("machine", MACHINES)
def test_tutorial_kernel_reaches_long_mode(mkimage, kernels, tmp_path, machine):
    image = make_image(mkimage, kernels["tutorial"], tmp_path / "tutorial.img")
    result = boot_until_halt_or_exit(image, machine=machine)
    assert result.exit_code == KERNEL_EXIT_SUCCESS, result.describe()
    assert re.search(r"^stage2: Multiboot kernel: loads at 0x00100000-0x[0-9a-f]{8}, "
                     r"entry 0x[0-9a-f]{8}$", result.serial.replace("\r", ""), re.M), \
        result.describe()
    assert GREETING in result.serial, result.describe()


def vga_text(xp_output):
    """The characters and attributes of `xp /Nhx` output, as (char, attribute)."""
    cells = []
    for line in xp_output.splitlines():
        _, _, words = line.partition(":")
        cells += [int(word, 16) for word in words.split()]
    return [(chr(cell & 0xFF), cell >> 8) for cell in cells]


def test_tutorial_kernel_writes_the_vga_text_buffer(mkimage, kernels, tmp_path):
    """The screen, not only COM1: QEMU's monitor reads the text buffer
    after the kernel has halted (no isa-debug-exit device, so its exit
    request does nothing and it stays in its halt loop)."""
    image = make_image(mkimage, kernels["tutorial"], tmp_path / "tutorial.img")
    command = f"xp /{len(GREETING)}hx {mb.VGA_TEXT:#x}"
    result = boot(image, until=re.escape(GREETING), settle=SETTLE_SECONDS,
                  timeout=BOOT_TIMEOUT_SECONDS, debug_exit=False, monitor_commands=[command])
    assert result.monitor, result.describe()
    cells = vga_text(result.monitor[command])
    assert "".join(char for char, _ in cells) == GREETING, result.monitor[command]
    assert {attribute for _, attribute in cells} == {mb.TUTORIAL_VGA_ATTRIBUTE}, \
        result.monitor[command]


@pytest.mark.parametrize("memory", MEMORY_SIZES)
@pytest.mark.parametrize("machine", MACHINES)
@pytest.mark.parametrize("probe", ["probe", "probe-elf32", "probe-elf64"])
def test_probe_sees_the_multiboot2_machine_state_and_information(mkimage, kernels, tmp_path,
                                                                 probe, machine, memory):
    image = mb.mkimage_build(mkimage, kernels[probe], tmp_path / "probe.img", "--cmdline", CMDLINE,
                             *module_files(tmp_path))
    result = boot_until_halt_or_exit(image, machine=machine, memory=memory)
    assert result.exit_code == KERNEL_EXIT_SUCCESS, result.describe()
    state, segments, a20, dumps = probe_values(result.serial)
    information, module_contents = dumps["information"][0], dumps["module"]

    # 3.3 "I386 machine state".
    check_machine_state(state, segments, a20, mb.LOADER_MAGIC)
    assert state["ebx"] % mb.ALIGN == 0 and state["ebx"] + len(information) <= 1 << 32

    # 3.6: every tag, against what the loader printed and was given.
    tags = mb.information_tags(information)
    types = [tag_type for tag_type, _ in tags]
    # QEMU's firmware has ACPI: an RSDP for the old-ACPI tag, and for the
    # new one when its revision is 2 or more.
    acpi = [mb.INFO_ACPI_OLD] + ([mb.INFO_ACPI_NEW] if mb.INFO_ACPI_NEW in types else [])
    # 3.6.7: the ELF sections for the ELF files, which have section headers.
    elf = probe != "probe"
    assert types == [mb.INFO_CMDLINE, mb.INFO_LOADER_NAME, mb.INFO_MODULE, mb.INFO_MODULE,
                     mb.INFO_BASIC_MEMORY, mb.INFO_BOOT_DEVICE, mb.INFO_MEMORY_MAP,
                     *([mb.INFO_ELF_SECTIONS] if elf else []), *acpi, mb.INFO_END], types
    payload = dict(tags)
    if elf:
        sections = payload[mb.INFO_ELF_SECTIONS]
        check_elf_sections(kernels[probe], struct.unpack_from("<III", sections), sections[12:],
                           dumps["section"], result.serial,
                           (state["ebx"], state["ebx"] + len(information)))
    else:
        assert "section" not in dumps

    # 3.6.16, 3.6.17: copies of the RSDP (ACPI 6.x, 5.2.5.3), checksums intact.
    old = payload[mb.INFO_ACPI_OLD]
    assert len(old) == 20 and old[:8] == b"RSD PTR " and sum(old) % 256 == 0, old
    if mb.INFO_ACPI_NEW in payload:
        new = payload[mb.INFO_ACPI_NEW]
        assert new[15] >= 2 and len(new) == struct.unpack_from("<I", new, 20)[0], new
        assert new[:20] == old and sum(new) % 256 == 0, new

    # 3.6.6: the modules in order, each on its own page above the kernel,
    # holding the file's bytes; their strings as given or the file's name.
    kernel_end = int(re.search(r"Multiboot kernel: loads at 0x[0-9a-f]{8}-0x([0-9a-f]{8})",
                               result.serial)[1], 16)
    modules = [(struct.unpack_from("<II", body), body[8:]) for kind, body in tags
               if kind == mb.INFO_MODULE]
    previous_end = kernel_end
    for ((start, end), string), contents, expected, expected_string in zip(
            modules, module_contents, [MODULE_BYTES, MODULE_TEXT],
            ["pattern.bin", MODULE_STRING]):
        assert start % PAGE == 0 and start >= previous_end, (hex(start), hex(previous_end))
        assert end - start == len(expected) and contents == expected
        assert string == expected_string.encode() + b"\0"
        assert usable_ram_holding(printed_memory_map(result.serial), start)
        previous_end = end
    assert payload[mb.INFO_CMDLINE] == CMDLINE.encode() + b"\0"
    assert payload[mb.INFO_LOADER_NAME] == b"bootstack stage 2\0"

    printed = printed_memory_map(result.serial)
    assert printed, result.describe()
    entry_size, entry_version = struct.unpack_from("<II", payload[mb.INFO_MEMORY_MAP])
    assert (entry_size, entry_version) == (24, 0)
    entries = payload[mb.INFO_MEMORY_MAP][8:]
    assert len(entries) == 24 * len(printed)
    given = [struct.unpack_from("<QQII", entries, 24 * i) for i in range(len(printed))]
    assert [(base, length, kind) for base, length, kind, _ in given] == printed
    assert all(reserved == 0 for *_, reserved in given)

    check_basic_memory(*struct.unpack("<II", payload[mb.INFO_BASIC_MEMORY]), printed)

    biosdev, partition, sub_partition = struct.unpack("<III", payload[mb.INFO_BOOT_DEVICE])
    assert (biosdev, partition, sub_partition) == (0x80, 0xFFFFFFFF, 0xFFFFFFFF)


# ---- Refusals at boot ---------------------------------------------------------

def refused(mkimage, kernel_bytes, tmp_path, *extra):
    kernel = tmp_path / "kernel.bin"
    kernel.write_bytes(kernel_bytes)
    image = mb.mkimage_build(mkimage, kernel, tmp_path / "refused.img", "--force", *extra)
    result = boot_until_halt_or_exit(image)
    assert result.still_running and LOADER_HALTED in result.serial, result.describe()
    return result.serial


def test_loader_refuses_a_multiboot2_image_without_the_header(mkimage, tmp_path):
    serial = refused(mkimage, KERNEL_ELF.read_bytes(), tmp_path, "--protocol", "multiboot2")
    assert "stage2: error: the image records a Multiboot2 kernel, but the kernel has no " \
           "Multiboot2 header in its first 32 KiB" in serial, serial


def test_loader_refuses_a_multiboot2_kernel_without_address_tag_nor_elf(mkimage, tmp_path):
    serial = refused(mkimage, mb.flat_kernel(placed=False), tmp_path)
    assert "stage2: error: the Multiboot kernel has no address fields and is no little-endian " \
           "ELF32 (i386) or ELF64 (x86-64) file" in serial, serial


def test_loader_refuses_an_address_tag_without_entry_tag(mkimage, tmp_path):
    kernel = mb.header(mb.address_tag(mb.LOAD_ADDRESS, mb.LOAD_ADDRESS)) + mb.HALT_CODE
    serial = refused(mkimage, kernel, tmp_path)
    assert "stage2: error: the Multiboot2 header has an address tag but no entry address tag" \
        in serial, serial


def test_loader_refuses_a_multiboot2_kernel_below_1_mib(mkimage, tmp_path):
    serial = refused(mkimage, mb.flat_kernel(load_addr=0x8000), tmp_path)
    assert "stage2: error: the Multiboot address fields place the kernel outside its file, " \
           "below 1 MiB" in serial, serial


def test_loader_refuses_multiboot2_tags_beyond_the_header(mkimage, tmp_path):
    kernel = bytearray(mb.flat_kernel())
    length = struct.unpack_from("<I", kernel, 8)[0]
    short = length - 8                      # the end tag now lies outside header_length
    struct.pack_into("<II", kernel, 8, short, -(mb.HEADER_MAGIC + short) & 0xFFFFFFFF)
    serial = refused(mkimage, bytes(kernel), tmp_path)
    assert "stage2: error: the Multiboot2 header's tags run past its header_length" in serial, \
        serial


# ---- Modules that stage 2 refuses -----------------------------------------------------

MODULE_COUNT_FIELD = SECTOR + nasm_value(LOADER_FIELDS_INC, "stage2_header.module_count")
FIRST_MODULE_LBA_FIELD = SECTOR + nasm_value(LOADER_FIELDS_INC, "stage2_header.modules") + \
    nasm_value(LOADER_FIELDS_INC, "stage2_module.lba")


def test_loader_refuses_a_module_that_does_not_fit_in_ram(mkimage, kernels, tmp_path):
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        f.truncate(40 * MIB)                # more than the machine's 32 MiB
    image = mb.mkimage_build(mkimage, kernels["probe"], tmp_path / "big.img", "--module", str(big))
    result = boot(image, memory="32M", until=re.escape(LOADER_HALTED), settle=SETTLE_SECONDS,
                  timeout=BOOT_TIMEOUT_SECONDS)
    assert result.still_running, result.describe()
    assert re.search(r'stage2: error: no room for module 0 \("big.bin"\) at 0x00102000-'
                     r'0x02902000\nIt must lie in one usable memory map entry below 4 GiB',
                     result.serial.replace("\r", "")), result.describe()
    assert "probe:" not in result.serial


def patched_copy(image, tmp_path, offset, data):
    copy = tmp_path / "patched.img"
    shutil.copyfile(image, copy)
    with open(copy, "r+b") as f:
        f.seek(offset)
        f.write(data)
    return reseal_stage2(copy)      # a header record changed on purpose


def test_loader_refuses_a_damaged_module(mkimage, kernels, tmp_path):
    image = mb.mkimage_build(mkimage, kernels["probe"], tmp_path / "probe.img",
                             *module_files(tmp_path))
    lba = struct.unpack_from("<I", image.read_bytes(), FIRST_MODULE_LBA_FIELD)[0]
    damaged = patched_copy(image, tmp_path, lba * SECTOR + 100, b"\xff\x00")
    result = boot_until_halt_or_exit(damaged)
    assert result.still_running, result.describe()
    assert "stage2: error: checksum mismatch in module 0: the image records 0x" in result.serial
    assert "The module on the disk is damaged" in result.serial
    assert "probe:" not in result.serial


def test_loader_refuses_more_modules_than_the_header_holds(mkimage, kernels, tmp_path):
    image = mb.mkimage_build(mkimage, kernels["probe"], tmp_path / "probe.img",
                             *module_files(tmp_path))
    too_many = nasm_value(LOADER_FIELDS_INC, "STAGE2_MODULES_MAX") + 1
    patched = patched_copy(image, tmp_path, MODULE_COUNT_FIELD, struct.pack("<I", too_many))
    result = boot_until_halt_or_exit(patched)
    assert result.still_running, result.describe()
    assert "stage2: error: the stage 2 header is inconsistent: more than 8 modules, or a " \
           "module's sectors do not match its size" in result.serial, result.describe()
