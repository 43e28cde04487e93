"""Write small ELF files, good and deliberately broken, for tests.

Layouts follow the System V gABI, chapter 4, and "ELF-64 Object File
Format" 1.5: a 64-byte Elf64_Ehdr, 56-byte Elf64_Phdr entries (ELF32: a
52-byte Elf32_Ehdr, 32-byte Elf32_Phdr). Nothing here runs the files; they
only have to look right (or precisely wrong) to mkimage and the loader.

    from support.elf_factory import Segment, elf64, PF_R, PF_X
    data = elf64([Segment(0x100000, b"\\xf4" * 16, flags=PF_R | PF_X)],
                 entry=0x100000)
"""
import dataclasses
import struct

# e_ident
ELF_MAGIC = b"\x7fELF"
ELFCLASS32 = 1
ELFCLASS64 = 2
ELFDATA2LSB = 1
ELFDATA2MSB = 2
EV_CURRENT = 1
ELFOSABI_SYSV = 0

# e_type, e_machine
ET_REL = 1
ET_EXEC = 2
ET_DYN = 3
EM_386 = 3
EM_X86_64 = 62
EM_AARCH64 = 183

# p_type, p_flags
PT_NULL = 0
PT_LOAD = 1
PT_NOTE = 4
PT_GNU_STACK = 0x6474E551
PF_X = 0x1
PF_W = 0x2
PF_R = 0x4

EHDR64_SIZE = 64
# ELF-64 header and program header field offsets (ELF-64 Object File Format
# 1.5), for tests that damage one field of a file.
EI_CLASS, E_TYPE, E_MACHINE, E_ENTRY, E_PHOFF, E_PHNUM = 4, 16, 18, 24, 32, 56
PH_SIZE, P_TYPE, P_OFFSET, P_VADDR, P_PADDR, P_FILESZ, P_MEMSZ = 56, 0, 8, 16, 24, 32, 40
PHDR64_SIZE = 56
EHDR32_SIZE = 52
PHDR32_SIZE = 32

# Where segment contents start by default: a page into the file, like ld's
# output, which keeps file offsets congruent to addresses mod 4 KiB.
DATA_ALIGN = 0x1000


@dataclasses.dataclass
class Segment:
    """One program header. Unset fields follow from the others:
    vaddr = paddr, filesz = len(data), memsz = filesz, offset = wherever
    elf64() puts the data."""
    paddr: int
    data: bytes = b""
    flags: int = PF_R
    memsz: int | None = None
    vaddr: int | None = None
    filesz: int | None = None
    offset: int | None = None
    type: int = PT_LOAD
    align: int = 0x1000


def text(paddr, size=0x100):
    """An executable segment full of HLT instructions."""
    return Segment(paddr, b"\xf4" * size, flags=PF_R | PF_X)


def data(paddr, size=0x100, bss=0):
    """A writable segment with `bss` zero-filled bytes after its contents."""
    return Segment(paddr, bytes(range(256)) * (size // 256) + bytes(size % 256),
                   flags=PF_R | PF_W, memsz=size + bss)


def _align(value, alignment):
    return (value + alignment - 1) // alignment * alignment


def elf64(segments, entry=None, *, e_type=ET_EXEC, machine=EM_X86_64,
          byte_order="<", ei_class=ELFCLASS64, ei_data=None, ei_version=EV_CURRENT,
          e_version=EV_CURRENT, phoff=EHDR64_SIZE, phentsize=PHDR64_SIZE,
          phnum=None, data_start=None):
    """Return the bytes of an ELF64 file with `segments` as its program headers.

    entry defaults to the first segment's address. byte_order is "<" or ">";
    ei_data defaults to match it. phnum overrides the count in the header
    without changing the table (for truncation tests). data_start is where
    segment contents begin (default: the first page boundary after the
    program header table)."""
    if ei_data is None:
        ei_data = ELFDATA2LSB if byte_order == "<" else ELFDATA2MSB
    if entry is None:
        entry = segments[0].paddr if segments else 0
    table_end = phoff + len(segments) * PHDR64_SIZE
    cursor = data_start if data_start is not None else _align(max(table_end, EHDR64_SIZE), DATA_ALIGN)

    placed = []
    blobs = []
    for seg in segments:
        offset = seg.offset
        if offset is None:
            offset = cursor
            if seg.data:
                blobs.append((offset, seg.data))
                cursor = _align(offset + len(seg.data), 16)
        elif seg.data:
            blobs.append((offset, seg.data))
        filesz = len(seg.data) if seg.filesz is None else seg.filesz
        memsz = filesz if seg.memsz is None else seg.memsz
        vaddr = seg.paddr if seg.vaddr is None else seg.vaddr
        placed.append(struct.pack(byte_order + "IIQQQQQQ", seg.type, seg.flags, offset,
                                  vaddr, seg.paddr, filesz, memsz, seg.align))

    ident = ELF_MAGIC + bytes([ei_class, ei_data, ei_version, ELFOSABI_SYSV]) + bytes(8)
    header = ident + struct.pack(
        byte_order + "HHIQQQIHHHHHH",
        e_type, machine, e_version, entry,
        phoff if segments or phnum else 0,
        0,                               # e_shoff: no section headers
        0,                               # e_flags
        EHDR64_SIZE, phentsize,
        len(segments) if phnum is None else phnum,
        0, 0, 0)                         # e_shentsize, e_shnum, e_shstrndx
    assert len(header) == EHDR64_SIZE

    size = max([EHDR64_SIZE, table_end] + [o + len(d) for o, d in blobs])
    out = bytearray(size)
    out[:EHDR64_SIZE] = header
    out[phoff:phoff + len(placed) * PHDR64_SIZE] = b"".join(placed)
    for offset, blob in blobs:
        out[offset:offset + len(blob)] = blob
    return bytes(out)


def elf32(*, machine=EM_386, e_type=ET_EXEC, entry=0x100000, paddr=0x100000,
          payload=b"\xf4" * 16):
    """Return an ELF32 little-endian executable with one PT_LOAD segment,
    what `gcc -m32` would give for a trivial kernel."""
    offset = 0x1000
    ident = ELF_MAGIC + bytes([ELFCLASS32, ELFDATA2LSB, EV_CURRENT, ELFOSABI_SYSV]) + bytes(8)
    header = ident + struct.pack("<HHIIIIIHHHHHH", e_type, machine, EV_CURRENT, entry,
                                 EHDR32_SIZE, 0, 0, EHDR32_SIZE, PHDR32_SIZE, 1, 0, 0, 0)
    phdr = struct.pack("<IIIIIIII", PT_LOAD, offset, paddr, paddr, len(payload),
                       len(payload), PF_R | PF_X, 0x1000)
    out = bytearray(offset + len(payload))
    out[:EHDR32_SIZE] = header
    out[EHDR32_SIZE:EHDR32_SIZE + PHDR32_SIZE] = phdr
    out[offset:] = payload
    return bytes(out)


def good_kernel():
    """A kernel mkimage and the loader accept: text at 1 MiB (the entry
    point), then data with some BSS, plus a non-PT_LOAD header."""
    return elf64([text(0x100000, 0x300),
                  data(0x101000, 0x123, bss=0x2000),
                  Segment(0, type=PT_GNU_STACK, flags=PF_R | PF_W, align=16)],
                 entry=0x100000)


def write(path, content):
    path.write_bytes(content)
    return path


def page_table_hungry(extra_region):
    """1 MiB of code (one 2 MiB region) and a higher-half BSS of 35 * 2 MiB
    at 4 MiB: 35 page tables for its physical range, 35 for its virtual
    one, a page directory and a PDPT; 73 in all, the most the loader has
    room for. `extra_region` adds a segment in one more 2 MiB region."""
    bss = Segment(0x400000, flags=PF_R | PF_W, memsz=35 * 2 * 1024 * 1024,
                  vaddr=0xFFFF_FFFF_8000_0000 + 0x400000)   # -2 GiB, the kernel code model
    segments = [text(0x100000), bss]
    if extra_region:
        segments.append(data(0x200000))
    return elf64(segments, entry=0x100000)
