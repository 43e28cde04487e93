"""The other handoffs of stage 2 in Bochs: Multiboot2, Multiboot 1 and Linux.

tests/test_multiboot2.py, test_multiboot1.py and test_linux_boot.py boot
these kernels in QEMU; here the same kernels boot in Bochs, whose CPU checks
segment limits and descriptor types like a real one, whose UART takes time
to send each byte and whose BIOS (rombios) builds a memory map and ACPI
tables of its own. One boot per kernel, with the checks the QEMU tests make
on what it printed. (The higher-half ELF64 kernel boots in Bochs in
tests/test_bochs.py.)

Bochs has no isa-debug-exit device: the kernels' exit request goes nowhere
and they halt, so each boot ends when its last line is on COM1.
"""
import re
import struct

import pytest

from support import multiboot as mb
from support.bochs import boot_bochs, examined_values
from support.foreign_kernel import make_image
from support.linux import INIT_MARKER, MIB, check_init_report, make_loader_disk
from support.loader_lines import LOADER_HALTED
from support.multiboot_probe import (MODULE_BYTES, MODULE_STRING, MODULE_TEXT, PAGE,
                                     check_basic_memory, check_elf_sections,
                                     check_multiboot1_memory,
                                     check_machine_state, module_files, printed_memory_map,
                                     probe_values, usable_ram_holding)
from support.sources import MEMORY_LAYOUT_INC, nasm_value

MEMORY_MIB = 128
BOOT_TIMEOUT_SECONDS = 30
CMDLINE = 'bochs  probe "quoted" \\ end'    # two spaces, quotes, a backslash: byte for byte
PROBE_ENDS = "|".join([r"probe: done\r?\n", re.escape(LOADER_HALTED)])
E820_HEADER = re.compile(r"^stage2: memory map: (\d+) entries from INT 15h E820h$", re.M)
MULTIBOOT_PLACEMENT = re.compile(
    r"^stage2: Multiboot kernel: loads at 0x([0-9a-f]{8})-0x([0-9a-f]{8}), entry 0x[0-9a-f]{8}$",
    re.M)


def boot(image, **kwargs):
    result = boot_bochs(image, memory_mib=MEMORY_MIB, timeout=BOOT_TIMEOUT_SECONDS, **kwargs)
    assert result.seconds < BOOT_TIMEOUT_SECONDS, result.describe()
    return result


def boot_probe(mkimage, kernel, tmp_path):
    image = mb.mkimage_build(mkimage, kernel, tmp_path / "probe.img", "--cmdline", CMDLINE,
                             *module_files(tmp_path))
    result = boot(image, until=PROBE_ENDS, settle=0.2)
    assert "probe: done" in result.serial, result.describe()
    # No CPU errors on the way (a descriptor Bochs finds wrong, a write
    # past a segment limit): Bochs logs them and carries on.
    assert "(none)" == result.log_problems(), result.describe()
    return result


def bochs_memory_map(serial):
    """The memory map stage 2 printed for a Multiboot kernel, checked
    against its E820 count and against the RAM we gave Bochs: the BIOS
    keeps a little at the top for its ACPI tables, nothing more."""
    serial = serial.replace("\r", "")
    printed = printed_memory_map(serial)
    header = E820_HEADER.search(serial)
    assert header and int(header[1]) == len(printed) > 0, serial
    usable = sum(length for _, length, kind in printed if kind == 1)
    assert (MEMORY_MIB - 2) * MIB <= usable <= MEMORY_MIB * MIB, printed
    return printed


def check_modules(serial, modules, contents, strings):
    """modules: [(start, end)] as the kernel got them, in order; each on a
    page of its own above the kernel in usable RAM, holding its file."""
    printed = printed_memory_map(serial)
    previous_end = int(MULTIBOOT_PLACEMENT.search(serial.replace("\r", ""))[2], 16)
    assert len(modules) == len(contents) == len(strings) == 2, (modules, strings)
    for (start, end), data, string, expected, expected_string in zip(
            modules, contents, strings, [MODULE_BYTES, MODULE_TEXT],
            ["pattern.bin", MODULE_STRING]):
        assert start % PAGE == 0 and start >= previous_end, (hex(start), hex(previous_end))
        assert end - start == len(expected) and data == expected
        assert string == expected_string.encode() + b"\0"
        assert usable_ram_holding(printed, start), hex(start)
        previous_end = end


@pytest.fixture(scope="module")
def kernels(tmp_path_factory):
    out = tmp_path_factory.mktemp("bochs-multiboot")
    return {"tutorial": mb.assemble("tutorial", out),
            "multiboot2": mb.assemble_elf("probe", out, "elf64"),
            "multiboot1": mb.assemble_elf("probe", out, "elf32", defines=["MULTIBOOT1"])}


# ---- Multiboot2 --------------------------------------------------------------------

def test_multiboot2_probe_in_bochs(bochs_installed, mkimage, kernels, tmp_path):
    """The probe as an ELF64 file, placed by its program headers."""
    result = boot_probe(mkimage, kernels["multiboot2"], tmp_path)
    state, segments, a20, dumps = probe_values(result.serial)
    check_machine_state(state, segments, a20, mb.LOADER_MAGIC)       # 3.3
    assert state["ebx"] % mb.ALIGN == 0

    tags = mb.information_tags(dumps["information"][0])
    payload = dict(tags)
    types = [tag_type for tag_type, _ in tags]
    assert types[:8] == [mb.INFO_CMDLINE, mb.INFO_LOADER_NAME, mb.INFO_MODULE, mb.INFO_MODULE,
                         mb.INFO_BASIC_MEMORY, mb.INFO_BOOT_DEVICE, mb.INFO_MEMORY_MAP,
                         mb.INFO_ELF_SECTIONS], types
    assert payload[mb.INFO_CMDLINE] == CMDLINE.encode() + b"\0"
    sections = payload[mb.INFO_ELF_SECTIONS]                        # 3.6.7
    check_elf_sections(kernels["multiboot2"], struct.unpack_from("<III", sections),
                       sections[12:], dumps["section"], result.serial,
                       (state["ebx"], state["ebx"] + len(dumps["information"][0])))
    assert payload[mb.INFO_LOADER_NAME] == b"bootstack stage 2\0"

    # rombios has ACPI tables too: the RSDP's copy (3.6.16), checksum intact.
    assert mb.INFO_ACPI_OLD in types, types
    old = payload[mb.INFO_ACPI_OLD]
    assert len(old) == 20 and old[:8] == b"RSD PTR " and sum(old) % 256 == 0, old

    modules = [(struct.unpack_from("<II", body), body[8:]) for kind, body in tags
               if kind == mb.INFO_MODULE]
    check_modules(result.serial, [span for span, _ in modules], dumps["module"],
                  [string for _, string in modules])

    printed = bochs_memory_map(result.serial)
    entries = payload[mb.INFO_MEMORY_MAP]
    assert struct.unpack_from("<II", entries) == (24, 0)             # entry size, version
    given = [struct.unpack_from("<QQII", entries, 8 + 24 * i) for i in range(len(printed))]
    assert len(entries) == 8 + 24 * len(printed)
    assert [(base, length, kind) for base, length, kind, _ in given] == printed
    check_basic_memory(*struct.unpack("<II", payload[mb.INFO_BASIC_MEMORY]), printed)
    assert struct.unpack("<III", payload[mb.INFO_BOOT_DEVICE]) == (0x80, 0xFFFFFFFF, 0xFFFFFFFF)


def test_tutorial_kernel_in_bochs(bochs_installed, mkimage, kernels, tmp_path):
    """Its own page tables, long mode, and the greeting on the VGA text
    screen: a breakpoint at its final halt loop, then the debugger reads
    the text buffer (one 16-bit cell per character) and quits."""
    halt = mb.tutorial_halt_address(kernels["tutorial"].read_bytes())
    image = make_image(mkimage, kernels["tutorial"], tmp_path / "tutorial.img")
    examine = f"xp /{len(mb.TUTORIAL_GREETING)}hx {mb.VGA_TEXT:#x}"
    result = boot(image, until=None, debugger_commands=[f"lb {halt:#x}", "c", examine, "q"])
    assert result.exited, result.describe()
    assert mb.TUTORIAL_GREETING in result.serial, result.describe()
    assert MULTIBOOT_PLACEMENT.search(result.serial.replace("\r", "")), result.describe()
    assert f"Breakpoint 1, {halt:#018x}" in result.console, result.console[-2000:]

    cells = examined_values(result.console)
    assert "".join(chr(cell & 0xFF) for cell in cells) == mb.TUTORIAL_GREETING, \
        result.console[-2000:]
    assert {cell >> 8 for cell in cells} == {mb.TUTORIAL_VGA_ATTRIBUTE}, result.console[-2000:]
    assert "(none)" == result.log_problems(), result.describe()


# ---- Multiboot 1 -------------------------------------------------------------------

def test_multiboot1_probe_in_bochs(bochs_installed, mkimage, kernels, tmp_path):
    """The Multiboot 1 probe as an ELF32 file, placed by its program headers."""
    result = boot_probe(mkimage, kernels["multiboot1"], tmp_path)
    state, segments, a20, dumps = probe_values(result.serial)
    check_machine_state(state, segments, a20, mb.MULTIBOOT1_LOADER_MAGIC)   # 3.2
    assert state["ebx"] % 4 == 0

    info = dict(zip(mb.MULTIBOOT1_INFO_FIELDS,
                    struct.unpack(f"<{len(mb.MULTIBOOT1_INFO_FIELDS)}I", dumps["information"][0])))
    assert info["flags"] == mb.MULTIBOOT1_INFO_FLAGS | mb.MULTIBOOT1_FLAG_ELF_SECTIONS, \
        hex(info["flags"])
    table = dumps["section headers"][0]
    assert info["shdr_num"] * info["shdr_size"] == len(table)
    check_elf_sections(kernels["multiboot1"],
                       (info["shdr_num"], info["shdr_size"], info["shdr_shndx"]), table,
                       dumps["section"], result.serial,
                       (state["ebx"], state["ebx"] + nasm_value(MEMORY_LAYOUT_INC,
                                                                "MULTIBOOT_INFO_SIZE")))
    assert dumps["cmdline"] == [CMDLINE.encode() + b"\0"]
    assert dumps["loader name"] == [b"bootstack stage 2\0"]
    assert info["boot_device"] == 0x80FFFFFF, hex(info["boot_device"])

    printed = bochs_memory_map(result.serial)
    mmap = dumps["mmap"][0]
    check_multiboot1_memory(info, mmap, printed)

    assert info["mods_count"] == 2
    mods = [struct.unpack_from("<IIII", dumps["mods"][0], 16 * i) for i in range(2)]
    assert all(reserved == 0 for *_, reserved in mods)
    check_modules(result.serial, [(start, end) for start, end, *_ in mods], dumps["module"],
                  dumps["module string"])


# ---- Linux -------------------------------------------------------------------------

# As in tests/test_linux_boot.py, plus an early console on COM1 (Linux's
# first lines come before its serial driver is up) and loglevel=6, which
# keeps its banner (a notice) but drops the many info lines that would
# cost Bochs time to send. /proc/cmdline must give back every byte.
LINUX_CMDLINE = ('console=ttyS0,115200 earlyprintk=serial,ttyS0,115200 loglevel=6 '
                 'bootstack.probe="two  words" loader=bootstack-in-bochs')
LINUX_MEMORY_MIB = 256
# Measured on a 2-core host with other tests running: the handoff line
# after about 2 s, Linux's banner after 5 to 10 s, /init's line after 50
# to 60 s. Bochs runs the kernel's boot some 10 times slower than QEMU.
LINUX_TIMEOUT_SECONDS = 240
# The milestones, in order: stage 2's last line, Linux's first (its
# banner, through earlyprintk), and /init's.
HANDOFF = r"stage2: starting Linux \(boot protocol 0x02[0-9a-f]{2}\) at 0x9020:0000 in real mode"
LINUX_BANNER = r"\] Linux version \d"
INIT_DONE = INIT_MARKER + r" [^\n]*\n"


def test_linux_boots_in_bochs(bochs_installed, linux, tmp_path):
    """Debian's kernel and the tests' initramfs through our loader in
    Bochs: its CPU model and rombios instead of QEMU's, up to /init."""
    kernel, archive = linux
    image = tmp_path / "linux.img"
    make_loader_disk(image, kernel, [archive], LINUX_CMDLINE)
    marks = [HANDOFF, LINUX_BANNER, INIT_DONE]
    result = boot_bochs(image, memory_mib=LINUX_MEMORY_MIB, until=INIT_DONE,
                        timeout=LINUX_TIMEOUT_SECONDS, marks=marks)
    times = ", ".join(f"{mark!r} after {seconds:.1f} s" for mark, seconds in
                      result.marks.items())
    print(f"Linux in Bochs: {times}")
    assert result.found, f"{times}\n{result.describe()}"
    assert list(result.marks) == marks, f"out of order: {times}"
    assert result.marks[HANDOFF] < result.marks[LINUX_BANNER] < result.marks[INIT_DONE], times
    check_init_report(result, LINUX_CMDLINE, LINUX_MEMORY_MIB * MIB)
