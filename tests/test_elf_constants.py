"""Stage 2, mkimage and the Python tests must agree on the ELF format.

Three places name the same ELF-64 facts (field offsets of the file header
and of a program header, and the values the loader accepts):
  bootloader/stage2/elf.inc     what stage 2 reads at boot (NASM equ)
  image/elf_check.c             what mkimage checks on the host (C #define)
  tests/support/elf_factory.py  what the tests write, and the field
                                offsets of what they damage
Each side is asked for its own values: NASM evaluates elf.inc, the C
preprocessor expands elf_check.c's macros, and the Python side is imported
and, for the offsets elf_factory only implies through its struct formats,
a file it wrote is read back at stage 2's offsets.
"""
import re
import struct
import subprocess

import pytest

from support import elf_factory
from support.paths import ROOT
from support.sources import MEMORY_LAYOUT_INC, nasm_value

# Each test runs with mkimage and again with mkimage-asan (conftest.py).
pytestmark = pytest.mark.sanitized_mkimage

ELF_INC = ROOT / "bootloader" / "stage2" / "elf.inc"
ELF_CHECK_C = ROOT / "image" / "elf_check.c"

# stage 2's name -> mkimage's name for the same number.
C_NAMES = {
    "ELF_HEADER_SIZE": "EHDR64_SIZE",
    "EI_CLASS": "EI_CLASS", "ELFCLASS64": "ELFCLASS64",
    "EI_DATA": "EI_DATA", "ELFDATA2LSB": "ELFDATA2LSB",
    "E_TYPE": "EHDR_TYPE", "ET_EXEC": "ET_EXEC",
    "E_MACHINE": "EHDR_MACHINE", "EM_X86_64": "EM_X86_64",
    "E_ENTRY": "EHDR64_ENTRY", "E_PHOFF": "EHDR64_PHOFF",
    "E_PHENTSIZE": "EHDR64_PHENTSIZE", "E_PHNUM": "EHDR64_PHNUM",
    "PROGRAM_HEADER_SIZE": "PHDR64_SIZE",
    "P_TYPE": "PHDR_TYPE", "PT_LOAD": "PT_LOAD",
    "P_FLAGS": "PHDR_FLAGS", "PF_X": "PF_X", "PF_W": "PF_W",
    "P_OFFSET": "PHDR_OFFSET", "P_VADDR": "PHDR_VADDR", "P_PADDR": "PHDR_PADDR",
    "P_FILESZ": "PHDR_FILESZ", "P_MEMSZ": "PHDR_MEMSZ",
}
# stage 2's name -> the name elf_factory.py gives the same number.
FACTORY_NAMES = {
    "ELF_HEADER_SIZE": "EHDR64_SIZE", "PROGRAM_HEADER_SIZE": "PHDR64_SIZE",
    "ELFCLASS64": "ELFCLASS64", "ELFDATA2LSB": "ELFDATA2LSB", "ET_EXEC": "ET_EXEC",
    "EM_X86_64": "EM_X86_64", "PT_LOAD": "PT_LOAD", "PF_X": "PF_X", "PF_W": "PF_W",
}
# stage 2's name -> elf_factory's name for the field offsets the failure
# tests damage.
FAILURE_TEST_NAMES = {
    "EI_CLASS": "EI_CLASS", "E_TYPE": "E_TYPE", "E_MACHINE": "E_MACHINE",
    "E_ENTRY": "E_ENTRY", "E_PHOFF": "E_PHOFF", "E_PHNUM": "E_PHNUM",
    "PROGRAM_HEADER_SIZE": "PH_SIZE", "P_TYPE": "P_TYPE", "P_OFFSET": "P_OFFSET",
    "P_VADDR": "P_VADDR", "P_PADDR": "P_PADDR", "P_FILESZ": "P_FILESZ", "P_MEMSZ": "P_MEMSZ",
}


@pytest.fixture(scope="module")
def stage2(tmp_path_factory):
    """{name: value} for every constant of elf.inc, as NASM computes it."""
    names = re.findall(r"^\s*(\w+)\s+equ\b", ELF_INC.read_text(), re.M)
    assert len(names) > 20, "elf.inc lost its constants?"
    directory = tmp_path_factory.mktemp("nasm")
    source, out = directory / "probe.asm", directory / "probe.bin"
    source.write_text(f'%include "{ELF_INC.name}"\n' + "".join(f"dq {n}\n" for n in names))
    subprocess.run(["nasm", "-f", "bin", f"-I{ELF_INC.parent}/", "-o", str(out), str(source)],
                   check=True)
    return dict(zip(names, struct.unpack(f"<{len(names)}Q", out.read_bytes())))


@pytest.fixture(scope="module")
def mkimage_side(tmp_path_factory):
    """{C name: value}: elf_check.c's macros, expanded by the C preprocessor."""
    directory = tmp_path_factory.mktemp("cpp")
    probe = directory / "probe.c"
    probe.write_text(f'#include "{ELF_CHECK_C}"\n' +
                     "".join(f"probe_{name} = {name};\n" for name in C_NAMES.values()))
    expanded = subprocess.run(["cc", "-E", "-P", f"-I{ELF_CHECK_C.parent}", str(probe)],
                              check=True, capture_output=True, text=True).stdout
    values = {}
    for name, value in re.findall(r"^probe_(\w+) = (.*);$", expanded, re.M):
        values[name] = int(re.sub(r"(?<=[0-9a-fA-F])[uUlL]+\b", "", value.strip("() ")), 0)
    return values


def test_mkimage_agrees_with_stage2(stage2, mkimage_side):
    differ = {name: (stage2[name], mkimage_side.get(c_name))
              for name, c_name in C_NAMES.items() if stage2[name] != mkimage_side.get(c_name)}
    assert differ == {}, "name: (stage 2, mkimage)"


def test_mkimage_checks_the_same_magic(stage2):
    """elf_check.c spells the magic as a byte array."""
    array = re.search(r"elf_magic\[4\] = \{(.*?)\}", ELF_CHECK_C.read_text()).group(1)
    magic = bytes(int(b, 0) if b.strip().startswith("0") else ord(b.strip().strip("'"))
                  for b in array.split(","))
    assert magic == struct.pack("<I", stage2["ELF_MAGIC"]) == elf_factory.ELF_MAGIC


def test_the_tests_agree_with_stage2(stage2):
    differ = {name: (stage2[name], getattr(elf_factory, py))
              for name, py in FACTORY_NAMES.items() if stage2[name] != getattr(elf_factory, py)}
    differ.update({name: (stage2[name], getattr(elf_factory, py))
                   for name, py in FAILURE_TEST_NAMES.items()
                   if stage2[name] != getattr(elf_factory, py)})
    assert differ == {}, "name: (stage 2, tests)"


def test_elf_factory_writes_fields_where_stage2_reads_them(stage2):
    """A file from elf_factory, read back at stage 2's offsets."""
    c = stage2
    segment = elf_factory.Segment(0x234000, b"\x90" * 0x30, flags=elf_factory.PF_W,
                                  memsz=0x50, offset=0x1100)
    data = elf_factory.elf64([segment], entry=0x234010, phoff=0x80)

    def field(offset, size):
        return int.from_bytes(data[offset:offset + size], "little")

    assert field(0, 4) == c["ELF_MAGIC"]
    assert (data[c["EI_CLASS"]], data[c["EI_DATA"]]) == (c["ELFCLASS64"], c["ELFDATA2LSB"])
    assert (field(c["E_TYPE"], 2), field(c["E_MACHINE"], 2)) == (c["ET_EXEC"], c["EM_X86_64"])
    assert field(c["E_ENTRY"], 8) == 0x234010
    assert field(c["E_PHOFF"], 8) == 0x80
    assert field(c["E_PHENTSIZE"], 2) == c["PROGRAM_HEADER_SIZE"]
    assert field(c["E_PHNUM"], 2) == 1
    header = 0x80
    assert field(header + c["P_TYPE"], 4) == c["PT_LOAD"]
    assert field(header + c["P_FLAGS"], 4) == c["PF_W"]
    assert field(header + c["P_OFFSET"], 8) == 0x1100
    assert field(header + c["P_VADDR"], 8) == 0x234000
    assert field(header + c["P_PADDR"], 8) == 0x234000
    assert field(header + c["P_FILESZ"], 8) == 0x30
    assert field(header + c["P_MEMSZ"], 8) == 0x50
    assert field(header + c["P_PADDR"] + c["HIGH_DWORD"], 4) == 0  # the upper half of p_paddr


def test_mkimage_page_table_budget_is_stage2s():
    """mkimage refuses a kernel that needs more page tables than stage 2 sets
    aside for it: the same area (memory_layout.inc) less the identity map's
    own tables (page_tables.inc: 2 + ALWAYS_MAPPED_GIB, and one for the first
    2 MiB). tests/test_loader_failures.py boots the kernel at the edge."""
    header = ELF_CHECK_C.parent / "elf_check.h"
    names = ["LOADER_PAGE_TABLES_START", "LOADER_PAGE_TABLES_END", "LOADER_PAGE_TABLE_BYTES",
             "LOADER_IDENTITY_MAP_TABLES"]
    expanded = subprocess.run(["cc", "-E", "-P", f"-I{header.parent}", "-"],
                              input=f'#include "{header}"\n' +
                              "".join(f"probe_{n} = {n};\n" for n in names),
                              check=True, capture_output=True, text=True).stdout
    c = {name: int(re.sub(r"(?<=[0-9a-fA-F])[uUlL]+\b", "", value.strip("() ")), 0)
         for name, value in re.findall(r"^probe_(\w+) = (.*);$", expanded, re.M)}
    # page_tables.inc is code that needs the rest of stage 2: read its two
    # plain numbers from the text.
    tables_inc = (ROOT / "bootloader" / "stage2" / "page_tables.inc").read_text()

    def equ(name):
        return int(re.search(rf"^{name}\s+equ\s+(\w+)", tables_inc, re.M).group(1), 0)

    assert c["LOADER_PAGE_TABLES_START"] == nasm_value(MEMORY_LAYOUT_INC, "PAGE_TABLES_ADDRESS")
    assert c["LOADER_PAGE_TABLES_END"] == nasm_value(MEMORY_LAYOUT_INC, "PAGE_TABLES_END")
    assert c["LOADER_PAGE_TABLE_BYTES"] == equ("PAGE_TABLE_BYTES")
    assert c["LOADER_IDENTITY_MAP_TABLES"] == 2 + equ("ALWAYS_MAPPED_GIB") + 1
