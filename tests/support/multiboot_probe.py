"""What the Multiboot tests share about tests/multiboot/probe.asm: the
modules they hand it, reading what it printed, and the checks of the
machine state and the memory figures both specifications prescribe."""
import re
import struct

from support.elf_reader import SHF_ALLOC, SHT_NOBITS, section_headers, section_headers_from_table
from support.x86 import CR0_PE, CR0_PG, EFLAGS_IF, EFLAGS_VM

PAGE = 4096
ONE_MIB = 0x100000
LOWER_MEMORY_LIMIT = 0xA0000            # lower memory is at most 640 KiB

# Descriptor bits (Intel SDM Vol. 3A, 3.4.5): granularity, default size,
# present, descriptor type (code/data), and the type field's bits.
DESC_G = 1 << 55
DESC_DB = 1 << 54
DESC_L = 1 << 53
DESC_P = 1 << 47
DESC_S = 1 << 44
DESC_CODE = 1 << 43
DESC_READ_WRITE = 1 << 41               # code: readable; data: writable

# Two modules: one of several sectors with every byte value, one of text
# with a string of our own (the other's string defaults to its file name).
MODULE_BYTES = bytes((i * 13 + i // 256) % 256 for i in range(5000))
MODULE_TEXT = b"the second module\n"
MODULE_STRING = "second  module, with args"

SECTIONS_LINE = re.compile(
    r"^stage2: ELF section headers at 0x([0-9a-f]{8})-0x([0-9a-f]{8})$", re.M)
MEMORY_ENTRY_LINE = re.compile(
    r"^stage2: memory map entry: base 0x([0-9a-f]{16}), length 0x([0-9a-f]{16}), type (\d+)$",
    re.M)


def module_files(tmp_path):
    first, second = tmp_path / "pattern.bin", tmp_path / "text.txt"
    first.write_bytes(MODULE_BYTES)
    second.write_bytes(MODULE_TEXT)
    return ["--module", str(first), "--module", f"{second},{MODULE_STRING}"]


def probe_values(serial):
    """What tests/multiboot/probe.asm printed: the registers, the segments
    (selector and descriptor), the A20 state, and {label: [bytes, ...]} of
    every byte dump ("information", "module", "cmdline", ...), in order."""
    serial = serial.replace("\r", "")
    state = dict(re.findall(r"(eax|ebx|eflags|cr0)=([0-9a-f]{8})", serial))
    state = {name: int(value, 16) for name, value in state.items()}
    segments = {name: (int(selector, 16), int(descriptor, 16)) for name, selector, descriptor in
                re.findall(r"^probe: segment (\w\w)=([0-9a-f]{4})=([0-9a-f]{16})$", serial, re.M)}
    a20 = re.search(r"^probe: a20 (\w+)$", serial, re.M)
    dumps = {}
    for label, found in re.findall(r"^probe: ([a-z ]+?)((?: [0-9a-f]{2})*)$", serial, re.M):
        dumps.setdefault(label, []).append(bytes(int(b, 16) for b in found.split()))
    assert state and segments and a20 and "information" in dumps and "probe: done" in serial, \
        serial
    return state, segments, a20[1], dumps


def descriptor_base_and_limit(descriptor):
    base = ((descriptor >> 16) & 0xFFFFFF) | (((descriptor >> 56) & 0xFF) << 24)
    limit = (descriptor & 0xFFFF) | (((descriptor >> 48) & 0xF) << 16)
    if descriptor & DESC_G:
        limit = (limit << 12) | 0xFFF
    return base, limit


def printed_memory_map(serial):
    """The memory map entries stage 2 printed for a Multiboot kernel."""
    return [(int(base, 16), int(length, 16), int(kind))
            for base, length, kind in MEMORY_ENTRY_LINE.findall(serial.replace("\r", ""))]


def usable_ram_holding(entries, address):
    for base, length, kind in entries:
        if kind == 1 and base <= address < base + length:
            return base, base + length
    return None



def check_machine_state(state, segments, a20, magic):
    """The machine state both Multiboot specifications prescribe (Multiboot2
    3.3, Multiboot 0.6.96 3.2): EAX the magic, flat 4 GiB 32-bit segments,
    A20 on, CR0.PE set and PG clear, EFLAGS.IF and VM clear."""
    assert state["eax"] == magic, hex(state["eax"])
    assert not state["eflags"] & (EFLAGS_IF | EFLAGS_VM), hex(state["eflags"])
    assert state["cr0"] & CR0_PE and not state["cr0"] & CR0_PG, hex(state["cr0"])
    assert a20 == "on"
    assert sorted(segments) == ["cs", "ds", "es", "fs", "gs", "ss"]
    for name, (_, descriptor) in segments.items():
        assert descriptor_base_and_limit(descriptor) == (0, 0xFFFFFFFF), (name, hex(descriptor))
        assert descriptor & DESC_P and descriptor & DESC_S and descriptor & DESC_DB, name
        assert not descriptor & DESC_L, name
        assert bool(descriptor & DESC_CODE) == (name == "cs"), name
        assert descriptor & DESC_READ_WRITE, name       # code readable, data writable


def check_basic_memory(mem_lower, mem_upper, printed):
    """mem_lower and mem_upper (KiB) against the memory map stage 2 printed:
    the usable RAM from 0 (at most 640 KiB) and from 1 MiB to its first hole."""
    lower = usable_ram_holding(printed, 0)
    upper = usable_ram_holding(printed, ONE_MIB)
    assert mem_lower == min(lower[1], LOWER_MEMORY_LIMIT) // 1024
    assert mem_upper == (min(upper[1], 1 << 32) - ONE_MIB) // 1024


def check_multiboot1_memory(info, mmap, printed):
    """A Multiboot 1 information structure's memory fields (0.6.96, 3.3)
    against the memory map stage 2 printed: mmap_length and the entries,
    each with its size field of 20 (not counting itself), holding exactly
    the printed entries in order; mem_lower and mem_upper from them."""
    assert info["mmap_length"] == len(mmap) == 24 * len(printed)
    entries = [struct.unpack_from("<IQQI", mmap, 24 * i) for i in range(len(printed))]
    assert all(size == 20 for size, *_ in entries)
    assert [tuple(entry[1:]) for entry in entries] == printed
    check_basic_memory(info["mem_lower"], info["mem_upper"], printed)


def loaded_ranges(serial):
    """[(start, end)] of the kernel and the modules, as stage 2 printed them."""
    serial = serial.replace("\r", "")
    kernel = re.search(r"Multiboot kernel: loads at 0x([0-9a-f]{8})-0x([0-9a-f]{8})", serial)
    modules = re.findall(r"^stage2: module \d+ \(.*\) at 0x([0-9a-f]{8})-0x([0-9a-f]{8})$",
                         serial, re.M)
    return [(int(start, 16), int(end, 16)) for start, end in [kernel.groups(), *modules]]


def check_elf_sections(elf_path, fields, table, contents, serial, information):
    """The ELF section headers an ELF Multiboot kernel was given (Multiboot2
    3.6.7 tag type 9, Multiboot 0.6.96 3.3 flags bit 5) against its file.
    `fields` = (num, entsize, shndx), `table` the section header table the
    kernel got, `contents` the bytes the probe read at each section's sh_addr,
    `information` the (start, end) of the information structure.
    Every field but sh_addr is the file's; a section with SHF_ALLOC keeps
    its address; every other section with bytes in the file lies in the blob
    stage 2 printed (on a page, in usable RAM, clear of the kernel, the
    modules and the information structure), at its alignment, holding the
    file's bytes; the rest have sh_addr 0. The names come from the section
    names section in memory."""
    data = elf_path.read_bytes()
    entsize, strndx, expected = section_headers(data)
    assert fields == (len(expected), entsize, strndx), (fields, len(expected), entsize, strndx)
    given = section_headers_from_table(table, entsize)
    assert len(given) == len(expected) and len(contents) == len(expected), (len(given), contents)

    blob = SECTIONS_LINE.search(serial.replace("\r", ""))
    assert blob, serial
    blob_start, blob_end = int(blob[1], 16), int(blob[2], 16)
    assert blob_start % PAGE == 0, hex(blob_start)
    holding = usable_ram_holding(printed_memory_map(serial), blob_start)
    assert holding and blob_end <= holding[1], (hex(blob_start), hex(blob_end), holding)
    for start, end in [*loaded_ranges(serial), information]:
        assert blob_end <= start or blob_start >= end, (hex(blob_start), hex(start), hex(end))

    names = contents[strndx]
    for index, (file_header, header, content) in enumerate(zip(expected, given, contents)):
        name = names[header["name_offset"]:names.index(b"\0", header["name_offset"])].decode()
        assert name == file_header["name"], (index, name)
        unchanged = [field for field in header if field not in ("addr", "raw")]
        assert {f: header[f] for f in unchanged} == {f: file_header[f] for f in unchanged}, name
        in_file = file_header["type"] != SHT_NOBITS
        if file_header["flags"] & SHF_ALLOC:
            assert header["addr"] == file_header["addr"], (name, hex(header["addr"]))
        elif in_file and file_header["size"] > 0:
            address = header["addr"]
            assert blob_start + len(table) <= address and \
                address + file_header["size"] <= blob_end, (name, hex(address))
            assert address % max(file_header["addralign"], 8) == 0, (name, hex(address))
        else:
            assert header["addr"] == 0, (name, hex(header["addr"]))
        expected_bytes = data[file_header["offset"]:file_header["offset"] + file_header["size"]]
        assert content == (expected_bytes if in_file else b""), name
    assert {".symtab", ".strtab", ".shstrtab"} <= {h["name"] for h in expected}
