"""Multiboot kernels for the tests: the NASM kernels in tests/multiboot/
assembled, small Multiboot2 files made up byte by byte, and a reader of
the Multiboot2 information structure a kernel was given.

The numbers are those of the Multiboot2 specification 2.0: header and
header tags in section 3.1, the information structure in 3.6.
"""
import struct
import subprocess

from support.paths import BUILD, ROOT
from support.tools import run_tool

SOURCE_DIR = ROOT / "tests" / "multiboot"
LOAD_ADDRESS = 0x100000

HEADER_MAGIC = 0xE85250D6           # 3.1.2
LOADER_MAGIC = 0x36D76289           # 3.3: EAX at the entry
ALIGN = 8                           # every header and information tag
TAG_END = 0
TAG_INFORMATION_REQUEST = 1
TAG_ADDRESS = 2
TAG_ENTRY_ADDRESS = 3
TAG_FRAMEBUFFER = 5
TAG_OPTIONAL = 1                    # header tag flags bit 0

# Information tag types (3.6).
INFO_END = 0
INFO_CMDLINE = 1
INFO_LOADER_NAME = 2
INFO_MODULE = 3
INFO_BASIC_MEMORY = 4
INFO_BOOT_DEVICE = 5
INFO_MEMORY_MAP = 6
INFO_ELF_SECTIONS = 9              # 3.6.7, laid out as GRUB 2.06 writes it
INFO_ACPI_OLD = 14
INFO_ACPI_NEW = 15

# tests/multiboot/tutorial.asm: its greeting, on COM1 and in the VGA text
# buffer (green on black), and how its success path ends: "mov al, 0x10;
# out 0xF4, al" (the exit request to QEMU's isa-debug-exit), then the
# halt loop "hlt; jmp $-1" where it stays on a machine without that device.
TUTORIAL_GREETING = "tutorial kernel: hello from 64-bit long mode"
VGA_TEXT = 0xB8000
TUTORIAL_VGA_ATTRIBUTE = 0x0A           # tutorial.asm GREEN_ON_BLACK
TUTORIAL_EXIT_REQUEST = b"\xb0\x10\xe6\xf4"
TUTORIAL_HALT_LOOP = b"\xf4\xeb\xfd"

# A 32-bit "cli; hlt; jmp $-1": where a made-up kernel stops, should it run.
HALT_CODE = b"\xfa\xf4\xeb\xfd"


# How the probe kernel is built: a flat binary, or an ELF file linked at
# 1 MiB in one segment (ld -N: no page-aligned split that would put the
# file's headers below 1 MiB).
LINK_FORMATS = {"elf32": ("elf32", "elf_i386"), "elf64": ("elf64", "elf_x86_64")}


def assemble_elf(name, out_dir, elf_format, defines=()):
    """tests/multiboot/NAME.asm assembled with -DELF for `elf_format`
    ("elf32" or "elf64") and linked at LOAD_ADDRESS; returns the ELF path."""
    nasm_format, emulation = LINK_FORMATS[elf_format]
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{name}{''.join('-' + d.lower() for d in defines)}-{elf_format}"
    obj, elf = out_dir / f"{stem}.o", out_dir / f"{stem}.elf"
    run_tool(["nasm", "-f", nasm_format, "-DELF", *[f"-D{d}" for d in defines], "-o", obj,
              SOURCE_DIR / f"{name}.asm"])
    run_tool(["ld", "-m", emulation, "-nostdlib", "-static", "-N", "--no-warn-rwx-segments",
              f"-Ttext={LOAD_ADDRESS:#x}", "-e", "start", "-o", elf, obj])
    return elf


def assemble(name, out_dir, defines=()):
    """nasm -f bin tests/multiboot/NAME.asm (with -D for each of `defines`);
    returns the flat binary's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{name}{''.join('-' + d.lower() for d in defines)}.bin"
    run_tool(["nasm", "-f", "bin", *[f"-D{d}" for d in defines], "-o", out,
              SOURCE_DIR / f"{name}.asm"])
    return out


def mkimage_build(mkimage, kernel, out, *extra):
    """An image of the built loader and `kernel`, with mkimage options `extra`."""
    run_tool([mkimage, "build", "--stage1", BUILD / "bootloader" / "stage1.bin",
              "--stage2", BUILD / "bootloader" / "stage2.bin", "--kernel", kernel,
              "-o", out, *extra])
    return out


def mkimage_attempt(mkimage, tmp_path, kernel_bytes, *extra):
    """mkimage build with the built loader and a kernel made of
    `kernel_bytes`, its result unchecked: for tests of what it refuses."""
    kernel = tmp_path / "kernel.bin"
    kernel.write_bytes(kernel_bytes)
    return subprocess.run(
        [str(mkimage), "build", "--stage1", str(BUILD / "bootloader" / "stage1.bin"),
         "--stage2", str(BUILD / "bootloader" / "stage2.bin"), "--kernel", str(kernel),
         "-o", str(tmp_path / "out.img"), *extra], capture_output=True, text=True)


def _pad(data):
    return data + bytes(-len(data) % ALIGN)


def tutorial_halt_address(binary):
    """Where the flat tutorial kernel `binary` (bytes, loaded whole at
    LOAD_ADDRESS by its address tag) halts after greeting."""
    end = TUTORIAL_EXIT_REQUEST + TUTORIAL_HALT_LOOP
    assert binary.count(end) == 1, "tutorial.asm no longer ends its success path as expected"
    return LOAD_ADDRESS + binary.index(end) + len(TUTORIAL_EXIT_REQUEST)


def tag(tag_type, payload=b"", optional=False):
    """One header tag, padded to the next 8-byte boundary."""
    return _pad(struct.pack("<HHI", tag_type, TAG_OPTIONAL if optional else 0,
                            8 + len(payload)) + payload)


def address_tag(header_addr, load_addr, load_end_addr=0, bss_end_addr=0):
    return tag(TAG_ADDRESS, struct.pack("<IIII", header_addr, load_addr, load_end_addr,
                                        bss_end_addr))


def entry_tag(entry):
    return tag(TAG_ENTRY_ADDRESS, struct.pack("<I", entry))


def header(tags, architecture=0):
    """A Multiboot2 header with `tags` (bytes) and an end tag."""
    body = tags + tag(TAG_END)
    length = 16 + len(body)
    checksum = -(HEADER_MAGIC + architecture + length) & 0xFFFFFFFF
    return struct.pack("<IIII", HEADER_MAGIC, architecture, length, checksum) + body


def flat_kernel(extra_tags=b"", load_addr=LOAD_ADDRESS, placed=True, code=HALT_CODE):
    """A flat Multiboot2 file: its header at offset 0, then `code` (32-bit,
    HALT_CODE by default). With `placed`, address and entry address tags
    load it at `load_addr` and enter at `code`."""
    def build(entry_offset):
        tags = extra_tags
        if placed:
            tags = address_tag(load_addr, load_addr) + entry_tag(load_addr + entry_offset) + tags
        return header(tags)
    entry_offset = len(build(0))
    return build(entry_offset) + code


MULTIBOOT1_MAGIC = 0x1BADB002          # GNU Multiboot 0.6.96, 3.1.2
MULTIBOOT1_LOADER_MAGIC = 0x2BADB002   # 3.2: EAX at the entry
# 3.3: the information structure's fields, in order, 4 bytes each.
MULTIBOOT1_INFO_FIELDS = [
    "flags", "mem_lower", "mem_upper", "boot_device", "cmdline", "mods_count", "mods_addr",
    "shdr_num", "shdr_size", "shdr_addr", "shdr_shndx", "mmap_length", "mmap_addr",
    "drives_length", "drives_addr", "config_table", "boot_loader_name", "apm_table"]
# 3.3: the flags stage 2 sets for every kernel: mem_* (bit 0), boot_device
# (1), cmdline (2), mods_* (3), mmap_* (6) and boot_loader_name (9); and
# for an ELF kernel the section headers, shdr_* (bit 5), too.
MULTIBOOT1_INFO_FLAGS = 1 << 0 | 1 << 1 | 1 << 2 | 1 << 3 | 1 << 6 | 1 << 9
MULTIBOOT1_FLAG_ELF_SECTIONS = 1 << 5
MULTIBOOT1_ADDRESS_FIELDS = 1 << 16     # flags bit 16: the address fields are valid


def multiboot1_kernel(flags=0, placed=False, load_addr=LOAD_ADDRESS, code=HALT_CODE):
    """A Multiboot 1 header (magic, flags, checksum) at offset 0, then
    `code` (32-bit, HALT_CODE by default). With `placed`, flags bit 16 and
    the address fields (3.1.3) load the whole file at `load_addr` and enter
    at `code`."""
    if placed:
        flags |= MULTIBOOT1_ADDRESS_FIELDS
    header_size = 32 if flags & MULTIBOOT1_ADDRESS_FIELDS else 12
    data = struct.pack("<III", MULTIBOOT1_MAGIC, flags, -(MULTIBOOT1_MAGIC + flags) & 0xFFFFFFFF)
    if flags & MULTIBOOT1_ADDRESS_FIELDS:
        data += struct.pack("<IIIII", load_addr, load_addr, 0, 0, load_addr + header_size)
    return data + code


# 32-bit code that needs no particular address: ask QEMU to exit with
# success through isa-debug-exit (port 0xF4, value 0x10), then halt.
EXIT_SUCCESS_CODE = b"\xb0\x10\xe6\xf4\xfa\xf4\xeb\xfd"


def elf32_multiboot1_kernel(vaddr, paddr, entry_offset=None, physical_entry=False):
    """An ELF32 file with one PT_LOAD segment holding the whole file, linked
    at `vaddr` and loaded at `paddr`, with a Multiboot header without
    address fields and EXIT_SUCCESS_CODE. The entry point is the code's
    virtual address, or with `physical_entry` its physical one; with
    `entry_offset` it is that far into the segment instead."""
    ehdr_size, phdr_size = 52, 32
    header = multiboot1_kernel()[:12]
    code_offset = ehdr_size + phdr_size + len(header)
    size = code_offset + len(EXIT_SUCCESS_CODE)
    offset = code_offset if entry_offset is None else entry_offset
    entry = (paddr if physical_entry else vaddr) + offset
    ident = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)          # ELF32, LSB, version 1
    ehdr = ident + struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, entry, ehdr_size, 0, 0, ehdr_size,
                               phdr_size, 1, 0, 0, 0)
    phdr = struct.pack("<IIIIIIII", 1, 0, vaddr, paddr, size, size, 7, 0x1000)
    return ehdr + phdr + header + EXIT_SUCCESS_CODE


LINUX_LOADED_HIGH = 0x01                # loadflags (0x211) bit 0


def linux_bzimage(extra=b"", version=0x020F, loadflags=LINUX_LOADED_HIGH, setup_sects=7,
                  init_size=0):
    """The first bytes of a bzImage as the Linux x86 boot protocol
    (boot.rst) has them: setup_sects at 0x1F1, 0xAA55 at 0x1FE, "HdrS" at
    0x202, the protocol version at 0x206, loadflags at 0x211,
    initrd_addr_max at 0x22C, init_size at
    0x260 (the memory it needs at 1 MiB, 2.10 and later); the real-mode
    part is (setup_sects + 1) sectors, 0x1000 bytes by default, and `extra`
    (at least one byte: the protected-mode code) follows it."""
    data = bytearray(0x1000)
    data[0x1F1] = setup_sects
    struct.pack_into("<H", data, 0x1FE, 0xAA55)
    data[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", data, 0x206, version)
    data[0x211] = loadflags
    struct.pack_into("<I", data, 0x22C, 0x7FFFFFFF)      # initrd_addr_max, as Linux has it
    struct.pack_into("<I", data, 0x260, init_size)
    return bytes(data) + (extra or b"\xF4")


def information_tags(data):
    """[(type, payload)] of a Multiboot2 information structure (3.6.1),
    checking its frame: total_size, 8-byte alignment, the end tag last."""
    total_size, reserved = struct.unpack_from("<II", data)
    assert total_size == len(data) and reserved == 0, (total_size, len(data), reserved)
    tags, at = [], 8
    while True:
        assert at % ALIGN == 0, f"tag at offset {at} is not 8-byte aligned"
        tag_type, size = struct.unpack_from("<II", data, at)
        assert size >= 8 and at + size <= total_size, (tag_type, size, at)
        tags.append((tag_type, data[at + 8:at + size]))
        at += -(-size // ALIGN) * ALIGN
        if tag_type == INFO_END:
            assert size == 8 and at == total_size, (size, at, total_size)
            return tags
