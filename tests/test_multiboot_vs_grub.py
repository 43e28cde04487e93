"""Our loader and GRUB 2 side by side: the same Multiboot kernel, modules
and command line, the same QEMU machine, and what the kernel was handed
compared field by field.

The kernel is tests/multiboot/probe.asm in every flavour the other
Multiboot tests build (Multiboot2 and Multiboot 1; a flat binary placed by
its address fields, ELF32 and ELF64 placed by their program headers). It
prints the machine state and the information structure, and the dumps are
read with support/multiboot_probe.py for both loaders. GRUB boots it from
a raw disk (support/grub.py). Where the two may differ, because the
specification leaves it open or GRUB gives something we do not, the
difference is named and checked here, so that a new one fails the test:

  - where things lie (the information structure, the modules, selectors):
    the specifications leave it to the loader; both are checked against
    the rules (alignment, usable RAM, no overlap);
  - GRUB reads its modules as block lists, whole sectors: a module comes
    with the zeros that pad it to a sector (support/grub.py);
  - the boot loader name;
  - the information GRUB gives and we do not (GRUB_ONLY_TAGS,
    GRUB_ONLY_FLAGS);
  - the ELF section headers: both loaders give the file's table, but each
    puts the sections no program header loads where it likes, so sh_addr
    of those differs; every other field, and the contents, must match.

The same with nothing given (no module, an empty command line), where
the two differ in one allowed way (Multiboot 1 flags bit 3). A kernel GRUB
refuses and we boot (a Multiboot 1 ELF entry point given as a physical
address) is booted by both too, and GRUB's refusal is checked.
"""
import re
import struct

import pytest

from support import multiboot as mb
from support.grub import GRUB_PROMPT, SECTOR, boot_multiboot
from support.loader_lines import LOADER_HALTED
from support.multiboot_probe import (MODULE_BYTES, MODULE_TEXT, PAGE, check_machine_state,
                                     probe_values, usable_ram_holding)
from support.qemu import KERNEL_EXIT_SUCCESS, boot

BOOT_TIMEOUT_SECONDS = 60
SETTLE_SECONDS = 0.5
MULTIBOOT1_LOADER_MAGIC = 0x2BADB002   # Multiboot 0.6.96 3.2: EAX at the entry

# Plain words and the same for both loaders: GRUB's shell would rewrite
# quotes and double spaces (support/grub.py), which test_multiboot1 and
# test_multiboot2 give our loader. GRUB 2.06 passes the words after the
# kernel's name, for Multiboot 1 as for Multiboot2: no file name in front.
# The first module's string is empty: GRUB gives "" for a module command
# without words, and `--module FILE,` asks mkimage for "" (without the
# comma it records the file's name).
CMDLINE = "probe a=1 words"
MODULE_STRINGS = ["", "second module with args"]
MODULE_CONTENTS = [MODULE_BYTES, MODULE_TEXT]

# The machines: every flavour on the small pc, two on a q35 with 4 GiB,
# where the memory map reaches above 4 GiB.
SMALL = ("pc", "128M")
LARGE = ("q35", "4G")
FLAVOURS = {                            # name -> (Multiboot version, how it is built)
    "mb2-flat": (2, "flat"), "mb2-elf32": (2, "elf32"), "mb2-elf64": (2, "elf64"),
    "mb1-flat": (1, "flat"), "mb1-elf32": (1, "elf32"), "mb1-elf64": (1, "elf64"),
}
CASES = [(name, *SMALL) for name in FLAVOURS] + [("mb2-elf64", *LARGE), ("mb1-elf32", *LARGE)]

# ---- Multiboot2 (specification 2.0, 3.6) ----------------------------------------------

INFO_FRAMEBUFFER = 8                    # 3.6.12
INFO_ELF_SECTIONS = 9                   # 3.6.7
INFO_APM = 10                           # 3.6.10
INFO_LOAD_BASE_ADDRESS = 21             # 3.6.23
# The tags GRUB 2.06 gives on a BIOS PC and we do not: the framebuffer (the
# EGA text screen, when no video mode was asked for), the APM interface
# (SeaBIOS has one) and the image's load base address (which the
# specification ties to a relocatable header tag; GRUB gives it always).
# All are optional for a loader to give.
GRUB_ONLY_TAGS = {INFO_FRAMEBUFFER, INFO_APM, INFO_LOAD_BASE_ADDRESS}
# The tags both give and must agree on byte for byte.
SAME_TAGS = [mb.INFO_CMDLINE, mb.INFO_BASIC_MEMORY, mb.INFO_BOOT_DEVICE, mb.INFO_MEMORY_MAP,
             mb.INFO_ACPI_OLD, mb.INFO_ACPI_NEW]

FRAMEBUFFER_TYPE_EGA_TEXT = 2           # 3.6.12 framebuffer_type
EGA_TEXT_BUFFER = 0xB8000               # the colour text screen of a PC
EGA_TEXT_COLUMNS, EGA_TEXT_ROWS = 80, 25

# ---- Multiboot 1 (0.6.96, 3.3) --------------------------------------------------------

INFO_FIELDS = ["flags", "mem_lower", "mem_upper", "boot_device", "cmdline", "mods_count",
               "mods_addr", "syms0", "syms1", "syms2", "syms3", "mmap_length", "mmap_addr",
               "drives_length", "drives_addr", "config_table", "boot_loader_name", "apm_table"]
FLAG_MODS = 1 << 3
FLAG_ELF_SECTIONS = 1 << 5
FLAG_VBE = 1 << 11
FLAG_FRAMEBUFFER = 1 << 12
# What GRUB gives and we do not: the VBE controller and mode information
# and the framebuffer (the EGA text screen). GRUB 2.06 gives no APM table
# to a Multiboot 1 kernel (flags bit 10), though it does to a Multiboot2 one.
GRUB_ONLY_FLAGS = FLAG_VBE | FLAG_FRAMEBUFFER
# The fields both give and must agree on.
SAME_FIELDS = ["mem_lower", "mem_upper", "boot_device", "mmap_length"]
MODULE_ENTRY = struct.Struct("<IIII")   # mod_start, mod_end, string, reserved

# The ELF section headers, as the file has them (ELF32: System V ABI 4.1
# "Sections"; ELF64: "ELF-64 Object File Format" 1.5): where e_shoff,
# e_shentsize, e_shnum and e_shstrndx lie in the ELF header, and the
# header's fields: sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size,
# sh_link, sh_info, sh_addralign, sh_entsize.
ELF_SECTION_TABLE = {"elf32": ("<I", 0x20, "<HHH", 0x2E, struct.Struct("<10I")),
                     "elf64": ("<Q", 0x28, "<HHH", 0x3A, struct.Struct("<IIQQQQIIQQ"))}
SH_FLAGS, SH_ADDR = 2, 3
SHF_ALLOC = 0x2                         # the section is in memory while the kernel runs

OUR_LOADER_NAME = b"bootstack stage 2\0"
GRUB_LOADER_NAME = re.compile(rb"GRUB 2\.06[-+.~\w]*\0")     # Debian adds its version
KERNEL_RANGE = re.compile(r"Multiboot kernel: loads at 0x([0-9a-f]{8})-0x([0-9a-f]{8})")


def section_table(kernel, kind):
    """(e_shnum, e_shentsize, e_shstrndx, [section header fields]) of an ELF file."""
    data = kernel.read_bytes()
    offset_format, offset_at, sizes_format, sizes_at, header = ELF_SECTION_TABLE[kind]
    (table,) = struct.unpack_from(offset_format, data, offset_at)
    entry_size, count, names = struct.unpack_from(sizes_format, data, sizes_at)
    return count, entry_size, names, [header.unpack_from(data, table + i * entry_size)
                                      for i in range(count)]


def check_elf_sections_tag(payload, kernel, kind):
    """A Multiboot2 ELF sections tag (3.6.7) against the kernel file: the
    file's section headers, but for where the loader put the sections that
    are not loaded with the program (their sh_addr is the loader's choice).
    Its num, entsize and shndx are 32-bit, as GRUB 2.06 writes them (the
    specification's text shows 16-bit fields and a reserved one; kernels
    follow GRUB's multiboot2.h)."""
    count, entry_size, names, headers = section_table(kernel, kind)
    assert struct.unpack_from("<III", payload) == (count, entry_size, names)
    assert len(payload) == 12 + count * entry_size, len(payload)
    header = ELF_SECTION_TABLE[kind][4]
    for i, expected in enumerate(headers):
        given = header.unpack_from(payload, 12 + i * entry_size)
        if not expected[SH_FLAGS] & SHF_ALLOC:
            given, expected = given[:SH_ADDR] + given[SH_ADDR + 1:], \
                expected[:SH_ADDR] + expected[SH_ADDR + 1:]
        assert given == expected, (i, given, expected)


@pytest.fixture(scope="module")
def probes(tmp_path_factory):
    out = tmp_path_factory.mktemp("probes")
    built = {}
    for name, (version, kind) in FLAVOURS.items():
        defines = ["MULTIBOOT1"] if version == 1 else []
        built[name] = (mb.assemble("probe", out, defines) if kind == "flat"
                       else mb.assemble_elf("probe", out, kind, defines))
    return built


@pytest.fixture
def modules(tmp_path):
    """The module files, with their strings: [(path, string)]."""
    paths = [tmp_path / "pattern.bin", tmp_path / "text.txt"]
    for path, contents in zip(paths, MODULE_CONTENTS):
        path.write_bytes(contents)
    return list(zip(paths, MODULE_STRINGS))


def boot_ours(mkimage, kernel, modules, tmp_path, cmdline=CMDLINE, **kwargs):
    options = ["--cmdline", cmdline]
    for path, string in modules:
        options += ["--module", f"{path},{string}"]
    image = mb.mkimage_build(mkimage, kernel, tmp_path / "ours.img", *options)
    return boot(image, until=re.escape(LOADER_HALTED), settle=SETTLE_SECONDS,
                timeout=BOOT_TIMEOUT_SECONDS, **kwargs)


def boot_grub(kernel, modules, tmp_path, version, cmdline=CMDLINE, **kwargs):
    work_dir = tmp_path / "grub"
    work_dir.mkdir()
    return boot_multiboot(kernel, modules, cmdline, work_dir=work_dir, version=version,
                          timeout=BOOT_TIMEOUT_SECONDS, **kwargs)


def kernel_range(our_serial):
    """Where the kernel lies, from its load address to its end (bss
    included), as our loader printed it: the kernel's property, the same
    under GRUB."""
    found = KERNEL_RANGE.search(our_serial)
    assert found, our_serial
    return int(found[1], 16), int(found[2], 16)


def check_modules(placed, contents, kernel_end, mbi, memory_map, pad):
    """The modules `placed` ([(start, end, string)]) with `contents` (their
    bytes as the probe read them): page-aligned (Multiboot 1 flags bit 0;
    both loaders align Multiboot2 modules so too), in order above the
    kernel, clear of the information structure `mbi` (start, end) and of
    each other, in usable RAM of `memory_map` ([(base, length, type)]),
    holding the files' bytes, padded by `pad` (a sector for GRUB's block
    lists, 1 for ours), and their strings."""
    previous_end = kernel_end
    for (start, end, string), got, expected, expected_string in zip(
            placed, contents, MODULE_CONTENTS, MODULE_STRINGS, strict=True):
        assert start % PAGE == 0 and start >= previous_end, (hex(start), hex(previous_end))
        assert end <= mbi[0] or start >= mbi[1], (hex(start), hex(end), mbi)
        assert got == expected + bytes(-len(expected) % pad) and end - start == len(got)
        assert string == expected_string.encode() + b"\0", string
        ram = usable_ram_holding(memory_map, start)
        assert ram and end <= ram[1], (hex(start), hex(end), memory_map)
        previous_end = end


# ---- Multiboot2 ---------------------------------------------------------------

def multiboot2_handoff(result):
    """(state, segments, a20, {tag type: [payload, ...]}, module contents,
    the information structure's (start, end)) of a probe's boot."""
    state, segments, a20, dumps = probe_values(result.serial)
    information = dumps["information"][0]
    tags = {}
    for tag_type, payload in mb.information_tags(information):
        tags.setdefault(tag_type, []).append(payload)
    return state, segments, a20, tags, dumps.get("module", []), \
        (state["ebx"], state["ebx"] + len(information))


def memory_map_entries(payload):
    entry_size, entry_version = struct.unpack_from("<II", payload)
    assert (entry_size, entry_version) == (24, 0)           # 3.6.8
    return [struct.unpack_from("<QQI", payload, offset)
            for offset in range(8, len(payload), entry_size)]


def modules_placed(tags):
    return [(*struct.unpack_from("<II", payload), payload[8:]) for payload in tags[mb.INFO_MODULE]]


def check_grub_only_tags(tags, kernel_start):
    """What GRUB gives and we do not, checked to be what we think it is."""
    (load_base,) = tags[INFO_LOAD_BASE_ADDRESS]
    assert struct.unpack("<I", load_base) == (kernel_start,)
    (framebuffer,) = tags[INFO_FRAMEBUFFER]
    address, _pitch, width, height, _bpp, kind = struct.unpack_from("<QIIIBB", framebuffer)
    assert (address, width, height, kind) == (EGA_TEXT_BUFFER, EGA_TEXT_COLUMNS, EGA_TEXT_ROWS,
                                              FRAMEBUFFER_TYPE_EGA_TEXT), framebuffer.hex()
    (apm,) = tags[INFO_APM]
    # 3.6.10: version, cseg, offset (32-bit), cseg_16, dseg, flags and three
    # segment lengths: 20 bytes.
    assert len(apm) == 20, apm.hex()


def boot_both(mkimage, kernel, modules, tmp_path, version, machine, memory):
    """(our BootResult, GRUB's) of one probe with the same modules, command
    line, machine and memory; each must have run to the probe's end."""
    ours = boot_ours(mkimage, kernel, modules, tmp_path, machine=machine, memory=memory)
    grubs = boot_grub(kernel, modules, tmp_path, version, machine=machine, memory=memory)
    assert ours.exit_code == KERNEL_EXIT_SUCCESS, ours.describe()
    assert grubs.exit_code == KERNEL_EXIT_SUCCESS, grubs.describe()
    return ours, grubs


@pytest.mark.parametrize("name, machine, memory", [case for case in CASES
                                                   if FLAVOURS[case[0]][0] == 2])
def test_multiboot2_kernel_gets_what_grub_gives(mkimage, grub, probes, modules, tmp_path,
                                                name, machine, memory):
    kind = FLAVOURS[name][1]
    ours_result, grub_result = boot_both(mkimage, probes[name], modules, tmp_path, 2,
                                         machine, memory)
    ours, grubs = multiboot2_handoff(ours_result), multiboot2_handoff(grub_result)
    kernel_start, kernel_end = kernel_range(ours_result.serial)

    for state, segments, a20, _, _, (mbi_start, _) in (ours, grubs):
        check_machine_state(state, segments, a20, mb.LOADER_MAGIC)
        assert mbi_start % mb.ALIGN == 0                    # 3.3: EBX 8-byte aligned

    our_tags, grub_tags = ours[3], grubs[3]
    assert set(our_tags) - set(grub_tags) == set(), (sorted(our_tags), sorted(grub_tags))
    grub_only = set(grub_tags) - set(our_tags)
    if kind == "flat":
        # A flat kernel has no section headers; GRUB still gives the tag,
        # empty. Should ours give it, it must be empty too.
        for tags in (our_tags, grub_tags):
            for payload in tags.get(INFO_ELF_SECTIONS, []):
                assert struct.unpack("<III", payload) == (0, 0, 0), payload.hex()
        assert INFO_ELF_SECTIONS in grub_tags
        grub_only.discard(INFO_ELF_SECTIONS)
        assert grub_only == GRUB_ONLY_TAGS, sorted(grub_only)
    else:
        assert grub_only == GRUB_ONLY_TAGS, f"tags GRUB gives and we do not: {sorted(grub_only)}"
        assert INFO_ELF_SECTIONS in our_tags and INFO_ELF_SECTIONS in grub_tags
        for tags in (our_tags, grub_tags):
            for payload in tags.get(INFO_ELF_SECTIONS, []):
                check_elf_sections_tag(payload, probes[name], kind)
    check_grub_only_tags(grub_tags, kernel_start)

    for tag_type in SAME_TAGS:
        assert our_tags.get(tag_type) == grub_tags.get(tag_type), \
            (tag_type, our_tags.get(tag_type), grub_tags.get(tag_type))
    assert our_tags[mb.INFO_CMDLINE] == [CMDLINE.encode() + b"\0"]
    assert our_tags[mb.INFO_LOADER_NAME] == [OUR_LOADER_NAME]
    (grub_name,) = grub_tags[mb.INFO_LOADER_NAME]
    assert GRUB_LOADER_NAME.fullmatch(grub_name), grub_name

    memory_map = memory_map_entries(our_tags[mb.INFO_MEMORY_MAP][0])
    for (_, _, _, tags, contents, mbi), pad in ((ours, 1), (grubs, SECTOR)):
        check_modules(modules_placed(tags), contents, kernel_end, mbi, memory_map, pad)


# ---- Multiboot 1 --------------------------------------------------------------

def multiboot1_handoff(result):
    """(state, segments, a20, {field: value}, dumps) of a probe's boot."""
    state, segments, a20, dumps = probe_values(result.serial)
    info = dict(zip(INFO_FIELDS, struct.unpack(f"<{len(INFO_FIELDS)}I", dumps["information"][0])))
    return state, segments, a20, info, dumps


@pytest.mark.parametrize("name, machine, memory", [case for case in CASES
                                                   if FLAVOURS[case[0]][0] == 1])
def test_multiboot1_kernel_gets_what_grub_gives(mkimage, grub, probes, modules, tmp_path,
                                                name, machine, memory):
    kind = FLAVOURS[name][1]
    ours_result, grub_result = boot_both(mkimage, probes[name], modules, tmp_path, 1,
                                         machine, memory)
    ours, grubs = multiboot1_handoff(ours_result), multiboot1_handoff(grub_result)
    _, kernel_end = kernel_range(ours_result.serial)

    for state, segments, a20, _, _ in (ours, grubs):
        check_machine_state(state, segments, a20, MULTIBOOT1_LOADER_MAGIC)

    our_info, grub_info, our_dumps, grub_dumps = ours[3], grubs[3], ours[4], grubs[4]
    assert our_info["flags"] & ~grub_info["flags"] == 0, (hex(our_info["flags"]),
                                                          hex(grub_info["flags"]))
    grub_only = grub_info["flags"] & ~our_info["flags"]
    assert grub_only == GRUB_ONLY_FLAGS, f"flags GRUB sets and we do not: {grub_only:#x}"
    if kind != "flat":
        assert our_info["flags"] & FLAG_ELF_SECTIONS and grub_info["flags"] & FLAG_ELF_SECTIONS
    # 3.3 flags bit 5: syms holds num, size, addr and shndx of the kernel's
    # section header table (addr: wherever the loader put it).
    for info in (our_info, grub_info):
        if info["flags"] & FLAG_ELF_SECTIONS:
            count, entry_size, names, _ = section_table(probes[name], kind)
            assert (info["syms0"], info["syms1"], info["syms3"]) == (count, entry_size, names)

    for field in SAME_FIELDS:
        assert our_info[field] == grub_info[field], (field, our_info[field], grub_info[field])
    for dump in ["cmdline", "mmap"]:
        assert our_dumps[dump] == grub_dumps[dump], (dump, our_dumps[dump], grub_dumps[dump])
    assert our_dumps["cmdline"] == [CMDLINE.encode() + b"\0"]
    assert our_dumps["loader name"] == [OUR_LOADER_NAME]
    assert GRUB_LOADER_NAME.fullmatch(grub_dumps["loader name"][0]), grub_dumps["loader name"]

    mmap = our_dumps["mmap"][0]
    memory_map = [struct.unpack_from("<IQQI", mmap, at)[1:] for at in range(0, len(mmap), 24)]
    for (state, _, _, info, dumps), pad in ((ours, 1), (grubs, SECTOR)):
        assert info["mods_count"] == len(MODULE_CONTENTS)
        entries = [MODULE_ENTRY.unpack_from(dumps["mods"][0], offset)
                   for offset in range(0, len(dumps["mods"][0]), MODULE_ENTRY.size)]
        assert all(reserved == 0 for *_, reserved in entries), entries
        placed = [(start, end, string) for (start, end, _, _), string
                  in zip(entries, dumps["module string"], strict=True)]
        mbi = (state["ebx"], state["ebx"] + len(dumps["information"][0]))
        check_modules(placed, dumps["module"], kernel_end, mbi, memory_map, pad)


@pytest.mark.parametrize("version", [2, 1])
def test_no_modules_and_an_empty_command_line(mkimage, grub, probes, tmp_path, version):
    """Given nothing, both loaders pass an empty command line (a lone NUL)
    and no module. For Multiboot 1, GRUB then clears flags bit 3 while ours
    sets it with mods_count 0; 3.3 allows both ("the number of modules
    loaded"), and a kernel that checks the bit and then the count reads the
    same from either."""
    name = f"mb{version}-elf32"
    ours_result = boot_ours(mkimage, probes[name], [], tmp_path, cmdline="")
    grub_result = boot_grub(probes[name], [], tmp_path, version, cmdline="")
    assert ours_result.exit_code == KERNEL_EXIT_SUCCESS, ours_result.describe()
    assert grub_result.exit_code == KERNEL_EXIT_SUCCESS, grub_result.describe()
    if version == 2:
        for result in (ours_result, grub_result):
            tags = multiboot2_handoff(result)[3]
            assert tags[mb.INFO_CMDLINE] == [b"\0"] and mb.INFO_MODULE not in tags, sorted(tags)
        return
    (_, _, _, our_info, our_dumps), (_, _, _, grub_info, grub_dumps) = (
        multiboot1_handoff(ours_result), multiboot1_handoff(grub_result))
    assert our_dumps["cmdline"] == grub_dumps["cmdline"] == [b"\0"]
    assert our_info["flags"] & ~grub_info["flags"] == FLAG_MODS, hex(our_info["flags"])
    assert our_info["mods_count"] == 0


# ---- A kernel GRUB refuses ------------------------------------------------------

@pytest.mark.parametrize("physical_entry", [False, True], ids=["virtual", "physical"])
def test_elf_entry_point_as_a_physical_address(mkimage, grub, tmp_path, physical_entry):
    """An ELF32 Multiboot 1 kernel linked at 0xC0100000 and loaded at
    1 MiB. With its entry point a virtual address, both loaders start it.
    As a physical one, GRUB 2.06 looks for it among the segments' virtual
    addresses only and refuses; our loader also takes an entry point in a
    segment's physical range as it is (test_multiboot1.py), and starts it."""
    kernel = tmp_path / "kernel.elf"
    kernel.write_bytes(mb.elf32_multiboot1_kernel(0xC0100000, 0x100000,
                                                  physical_entry=physical_entry))
    ours = boot_ours(mkimage, kernel, [], tmp_path)
    assert ours.exit_code == KERNEL_EXIT_SUCCESS, ours.describe()
    grub_result = boot_grub(kernel, [], tmp_path, 1)
    if physical_entry:
        assert grub_result.still_running, grub_result.describe()
        assert "error: entry point isn't in a segment." in grub_result.serial, \
            grub_result.describe()
        assert re.search(GRUB_PROMPT, grub_result.serial), grub_result.describe()
    else:
        assert grub_result.exit_code == KERNEL_EXIT_SUCCESS, grub_result.describe()
