"""Read the headers of an ELF64 file: its type, entry point, PT_LOAD
segments and sections ("ELF-64 Object File Format" 1.5). The writing
side, for files made on purpose, is elf_factory.py."""
import struct
from dataclasses import dataclass

ELF_MAGIC = b"\x7fELF"
EHDR_FORMAT = "<16sHHIQQQIHHHHHH"        # e_ident .. e_shstrndx
PHDR_FORMAT = "<IIQQQQQQ"                # p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align
SHDR_FORMAT = "<IIQQQQIIQQ"              # sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, ...
ET_EXEC = 2
EM_X86_64 = 62
PT_LOAD = 1
PF_X, PF_W, PF_R = 1, 2, 4

# Offsets of fields within a program header, for tests that patch them.
P_FILESZ_OFFSET = 32
P_MEMSZ_OFFSET = 40


@dataclass
class Segment:
    index: int              # position in the program header table
    header_offset: int      # file offset of the program header itself
    flags: int
    offset: int
    vaddr: int
    paddr: int
    filesz: int
    memsz: int

    @property
    def end(self):
        return self.paddr + self.memsz


@dataclass
class Elf:
    type: int
    machine: int
    entry: int
    loads: list             # PT_LOAD segments in program header order
    sections: dict          # name -> (sh_addr, sh_size)


def read_elf(path):
    data = path.read_bytes()
    assert data[:4] == ELF_MAGIC, f"{path} is not an ELF file"
    (_, e_type, machine, _, entry, phoff, shoff, _, _, phentsize, phnum,
     shentsize, shnum, shstrndx) = struct.unpack_from(EHDR_FORMAT, data, 0)
    loads = []
    for index in range(phnum):
        where = phoff + index * phentsize
        p_type, flags, offset, vaddr, paddr, filesz, memsz, _ = \
            struct.unpack_from(PHDR_FORMAT, data, where)
        if p_type == PT_LOAD:
            loads.append(Segment(index, where, flags, offset, vaddr, paddr, filesz, memsz))
    headers = [struct.unpack_from(SHDR_FORMAT, data, shoff + i * shentsize)
               for i in range(shnum)]
    sections = {}
    if headers:
        strtab_offset = headers[shstrndx][4]
        for name_offset, _, _, addr, _, size, *_ in headers:
            end = data.index(b"\0", strtab_offset + name_offset)
            sections[data[strtab_offset + name_offset:end].decode()] = (addr, size)
    return Elf(e_type, machine, entry, loads, sections)
