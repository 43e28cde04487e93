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


# Section headers of ELF32 and ELF64 files alike (System V ABI, "Sections";
# ELF-64 Object File Format 1.5): the fields after sh_name and sh_type are
# u32 in ELF32 and u64 in ELF64, sh_link and sh_info u32 in both.
SHDR32_FORMAT = "<IIIIIIIIII"
SHDR64_FORMAT = SHDR_FORMAT
SHDR_FIELDS = ("name", "type", "flags", "addr", "offset", "size", "link", "info", "addralign",
               "entsize")
SHT_NOBITS = 8
SHF_ALLOC = 0x2


def section_headers(data):
    """(e_shentsize, e_shstrndx, [{field: value, "raw": bytes, "name": str}])
    of an ELF32 or ELF64 file's bytes; names read from its e_shstrndx section."""
    is64 = data[4] == 2
    shoff, entsize, count, strndx = (struct.unpack_from("<Q", data, 40)[0],
                                     *struct.unpack_from("<HHH", data, 58)) if is64 else \
        (struct.unpack_from("<I", data, 32)[0], *struct.unpack_from("<HHH", data, 46))
    headers = []
    for i in range(count):
        at = shoff + i * entsize
        values = struct.unpack_from(SHDR64_FORMAT if is64 else SHDR32_FORMAT, data, at)
        header = dict(zip(SHDR_FIELDS, values))
        header["name_offset"] = header.pop("name")
        header["raw"] = data[at:at + entsize]
        headers.append(header)
    names = headers[strndx] if headers else None
    for header in headers:
        start = names["offset"] + header["name_offset"]
        header["name"] = data[start:data.index(b"\0", start)].decode()
    return entsize, strndx, headers


def section_headers_from_table(table, entsize):
    """The section headers of a table in memory, as section_headers() reads
    them (without names): [{field: value, "raw": bytes}]."""
    fmt = SHDR64_FORMAT if entsize == 64 else SHDR32_FORMAT
    headers = []
    for at in range(0, len(table), entsize):
        header = dict(zip(SHDR_FIELDS, struct.unpack_from(fmt, table, at)))
        header["name_offset"] = header.pop("name")
        header["raw"] = table[at:at + entsize]
        headers.append(header)
    return headers
