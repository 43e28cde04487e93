"""The ELF section headers of an ELF Multiboot kernel (Multiboot2 3.6.7,
tag type 9; GNU Multiboot 0.6.96 3.3, flags bit 5): the section blob
mkimage stores after the modules (bootloader/loader_fields.inc describes
it), what `mkimage info` shows of it, what mkimage refuses, and the record
stage 2 refuses. What a kernel gets is checked by the probe kernels of
test_multiboot1.py and test_multiboot2.py, which read their sections.
"""
import re
import struct
import subprocess

import pytest

from support import multiboot as mb
from support.elf_reader import SHF_ALLOC, SHT_NOBITS, section_headers, section_headers_from_table
from support.images import reseal_stage2
from support.loader_lines import LOADER_HALTED
from support.multiboot_probe import module_files
from support.qemu import boot
from support.sources import LOADER_FIELDS_INC, MEMORY_LAYOUT_INC, nasm_value

SECTOR = 512
ALIGN_SECTORS = 8                       # image/disk_layout.h KERNEL_ALIGN_SECTORS
HEADER = SECTOR                         # stage 2, and its header, start at LBA 1
RECORD_FORMAT = "<IIIQ"                 # stage2_module: lba, sectors, size, checksum
SECTIONS_FIELD = HEADER + nasm_value(LOADER_FIELDS_INC, "stage2_header.sections")
COUNT_FIELD = HEADER + nasm_value(LOADER_FIELDS_INC, "stage2_header.section_count")
TABLE_MAX = nasm_value(LOADER_FIELDS_INC, "SECTION_TABLE_MAX")
BLOB_ALIGN = nasm_value(LOADER_FIELDS_INC, "SECTION_BLOB_ALIGN")
INFORMATION_REQUEST_9 = mb.tag(mb.TAG_INFORMATION_REQUEST, struct.pack("<I", mb.INFO_ELF_SECTIONS))
ELF32_SHOFF, ELF32_SHNUM, ELF32_SHSTRNDX = 32, 48, 50
ELF32_SHDR_SIZE = 40


@pytest.fixture(scope="module")
def probes(tmp_path_factory):
    """The Multiboot2 probe as ELF32 and ELF64 files: their information
    request requires tag type 9."""
    out = tmp_path_factory.mktemp("elf_sections")
    return {f: mb.assemble_elf("probe", out, f) for f in mb.LINK_FORMATS}


def stored_record(image_bytes):
    lba, sectors, size, _ = struct.unpack_from(RECORD_FORMAT, image_bytes, SECTIONS_FIELD)
    count, entsize, shndx = struct.unpack_from("<III", image_bytes, COUNT_FIELD)
    return lba, sectors, size, count, entsize, shndx


@pytest.mark.sanitized_mkimage
@pytest.mark.parametrize("elf_format", list(mb.LINK_FORMATS))
def test_the_blob_holds_the_table_and_the_sections_no_segment_loads(mkimage, probes, tmp_path,
                                                                    elf_format):
    kernel = probes[elf_format]
    image = mb.mkimage_build(mkimage, kernel, tmp_path / "probe.img", *module_files(tmp_path))
    data = image.read_bytes()
    lba, sectors, size, count, entsize, shndx = stored_record(data)
    file_bytes = kernel.read_bytes()
    file_entsize, file_shndx, expected = section_headers(file_bytes)
    assert (count, entsize, shndx) == (len(expected), file_entsize, file_shndx)
    assert entsize == (40 if elf_format == "elf32" else 64)
    # After the second module, from a 4 KiB boundary, filling its sectors.
    module_lba, module_sectors = struct.unpack_from(
        "<II", data, HEADER + nasm_value(LOADER_FIELDS_INC, "stage2_header.modules") +
        nasm_value(LOADER_FIELDS_INC, "stage2_module_size"))
    assert lba % ALIGN_SECTORS == 0 and lba >= module_lba + module_sectors
    assert sectors == -(-size // SECTOR)

    blob = data[lba * SECTOR:lba * SECTOR + size]
    table = blob[:count * entsize]
    copied = 0
    for header, original in zip(section_headers_from_table(table, entsize), expected):
        unchanged = [f for f in header if f not in ("addr", "raw")]
        assert {f: header[f] for f in unchanged} == {f: original[f] for f in unchanged}
        if original["flags"] & SHF_ALLOC:
            assert header["addr"] == original["addr"], original["name"]
        elif original["type"] != SHT_NOBITS and original["size"] > 0:
            at, size = header["addr"], original["size"]
            assert at >= len(table) and at % max(original["addralign"], BLOB_ALIGN) == 0
            assert blob[at:at + size] == file_bytes[original["offset"]:original["offset"] + size]
            copied += 1
        else:
            assert header["addr"] == 0, original["name"]
    assert copied >= 3                  # .symtab, .strtab, .shstrtab at least

    # mkimage info shows it and verifies its checksum.
    info = subprocess.run([str(mkimage), "info", str(image)], capture_output=True, text=True)
    assert info.returncode == 0, info.stderr
    assert f"ELF section headers: LBA {lba}, {sectors} sectors, {len(blob)} bytes: {count} " \
           f"headers of {entsize} bytes ({count * entsize} bytes of the table), names in " \
           f"section {shndx}" in info.stdout, info.stdout
    assert re.search(r"^ELF section headers checksum: recorded (0x[0-9A-F]{16}), computed \1: ok$",
                     info.stdout, re.M), info.stdout


@pytest.mark.sanitized_mkimage
def test_a_flat_kernel_gets_no_blob(mkimage, tmp_path):
    assert mb.mkimage_attempt(mkimage, tmp_path, mb.flat_kernel()).returncode == 0
    image = tmp_path / "out.img"
    assert stored_record(image.read_bytes()) == (0, 0, 0, 0, 0, 0)
    info = subprocess.run([str(mkimage), "info", str(image)], capture_output=True, text=True)
    assert "ELF section headers" not in info.stdout, info.stdout


def patched_elf(kernel, **fields):
    data = bytearray(kernel.read_bytes())
    for offset, fmt, value in fields.values():
        struct.pack_into(fmt, data, offset, value)
    return data


@pytest.mark.sanitized_mkimage
def test_mkimage_refuses_a_section_table_too_big_for_the_information_area(mkimage, probes,
                                                                         tmp_path):
    count = TABLE_MAX // ELF32_SHDR_SIZE + 1
    shoff = len(probes["elf32"].read_bytes())       # a table of SHT_NULL headers appended
    data = patched_elf(probes["elf32"], shoff=(ELF32_SHOFF, "<I", shoff),
                       shnum=(ELF32_SHNUM, "<H", count), shstrndx=(ELF32_SHSTRNDX, "<H", 0))
    data += bytes(count * ELF32_SHDR_SIZE)
    result = mb.mkimage_attempt(mkimage, tmp_path, bytes(data))
    assert result.returncode == 1
    assert f"the ELF section header table is {count * ELF32_SHDR_SIZE} bytes ({count} headers " \
           f"of {ELF32_SHDR_SIZE} bytes); the Multiboot information area keeps at most " \
           f"{TABLE_MAX} bytes for it: strip sections" in result.stderr, result.stderr
    assert not (tmp_path / "out.img").exists()


@pytest.mark.sanitized_mkimage
def test_mkimage_refuses_a_required_tag_9_for_a_flat_kernel(mkimage, tmp_path):
    result = mb.mkimage_attempt(mkimage, tmp_path, mb.flat_kernel(INFORMATION_REQUEST_9))
    assert result.returncode == 1
    assert "the information request requires tag type 9 (ELF sections), but the address tag " \
           "places the kernel as a flat file, which has no ELF section headers to pass" \
        in result.stderr, result.stderr
    optional = mb.tag(mb.TAG_INFORMATION_REQUEST, struct.pack("<I", mb.INFO_ELF_SECTIONS),
                      optional=True)
    assert mb.mkimage_attempt(mkimage, tmp_path, mb.flat_kernel(optional)).returncode == 0


@pytest.mark.sanitized_mkimage
def test_mkimage_refuses_a_required_tag_9_without_section_headers(mkimage, probes, tmp_path):
    data = patched_elf(probes["elf32"], shoff=(ELF32_SHOFF, "<I", 0),
                       shnum=(ELF32_SHNUM, "<H", 0), shstrndx=(ELF32_SHSTRNDX, "<H", 0))
    result = mb.mkimage_attempt(mkimage, tmp_path, bytes(data))
    assert result.returncode == 1
    assert "the information request requires tag type 9 (ELF sections), but the ELF file has " \
           "no section headers" in result.stderr, result.stderr


def symtab_header_offset(kernel):
    """File offset of the ELF32 probe's .symtab section header."""
    data = kernel.read_bytes()
    _, _, headers = section_headers(data)
    index = [h["name"] for h in headers].index(".symtab")
    return struct.unpack_from("<I", data, ELF32_SHOFF)[0] + index * ELF32_SHDR_SIZE


ELF32_SH_OFFSET, ELF32_SH_ADDRALIGN = 16, 32


@pytest.mark.sanitized_mkimage
@pytest.mark.parametrize("patch, message", [
    (lambda k: {"shnum": (ELF32_SHNUM, "<H", 0)},
     "the ELF file uses extended section numbering"),
    (lambda k: {"shentsize": (ELF32_SHNUM - 2, "<H", 32)},
     "the ELF file's section headers are 32 bytes each, not the 40 of ELF32"),
    (lambda k: {"shoff": (ELF32_SHOFF, "<I", len(k.read_bytes()) - 8)},
     "the ELF section header table (offset 0x"),
    (lambda k: {"offset": (symtab_header_offset(k) + ELF32_SH_OFFSET, "<I", 0x7FFFFFF0)},
     "ELF section {}: its bytes (offset 0x7FFFFFF0, "),
    (lambda k: {"align": (symtab_header_offset(k) + ELF32_SH_ADDRALIGN, "<I", 3)},
     "ELF section {}: sh_addralign 3 is not a power of two up to 4096"),
], ids=["extended-numbering", "entry-size", "table-beyond-file", "section-beyond-file",
        "alignment"])
def test_mkimage_refuses_section_headers_it_cannot_pass(mkimage, probes, tmp_path, patch,
                                                        message):
    kernel = probes["elf32"]
    fields = patch(kernel)
    symtab_index = [h["name"] for h in section_headers(kernel.read_bytes())[2]].index(".symtab")
    result = mb.mkimage_attempt(mkimage, tmp_path, bytes(patched_elf(kernel, **fields)))
    assert result.returncode == 1
    assert message.format(symtab_index) in result.stderr, result.stderr
    assert not (tmp_path / "out.img").exists()


def boot_until_halt(image, **kwargs):
    result = boot(image, until=re.escape(LOADER_HALTED), settle=0.5, timeout=60, **kwargs)
    assert result.still_running, result.describe()
    assert "probe:" not in result.serial
    return result.serial.replace("\r", "")


def patched_image(mkimage, probes, tmp_path, offset, data):
    image = mb.mkimage_build(mkimage, probes["elf32"], tmp_path / "probe.img")
    with open(image, "r+b") as f:
        f.seek(offset(image.read_bytes()) if callable(offset) else offset)
        f.write(data)
    return reseal_stage2(image)     # a header record changed on purpose


def test_loader_refuses_a_damaged_section_blob(mkimage, probes, tmp_path):
    def in_the_blob(data):
        return stored_record(data)[0] * SECTOR + 100
    serial = boot_until_halt(patched_image(mkimage, probes, tmp_path, in_the_blob, b"\xff\x00"))
    assert "stage2: error: checksum mismatch in ELF section headers: the image records 0x" \
        in serial, serial
    assert "The module on the disk is damaged" in serial


def test_loader_says_when_the_sections_do_not_fit(mkimage, probes, tmp_path):
    """A record of 40 MiB on a machine of 32 MiB: refused by where it would
    go, before a sector is read."""
    size = 40 * 1024 * 1024
    serial = boot_until_halt(patched_image(mkimage, probes, tmp_path, SECTIONS_FIELD + 4,
                                           struct.pack("<II", size // SECTOR, size)),
                             memory="32M")
    found = re.search(r"stage2: error: no room for the ELF section headers at "
                      r"0x([0-9a-f]{8})-0x([0-9a-f]{8})\nThey must lie in one usable memory map "
                      r"entry below 4 GiB", serial)
    assert found, serial
    assert int(found[2], 16) - int(found[1], 16) == size


def test_loader_refuses_an_inconsistent_section_record(mkimage, probes, tmp_path):
    image = mb.mkimage_build(mkimage, probes["elf32"], tmp_path / "probe.img")
    with open(image, "r+b") as f:
        f.seek(COUNT_FIELD)
        f.write(struct.pack("<I", TABLE_MAX // ELF32_SHDR_SIZE + 1))
    reseal_stage2(image)
    result = boot(image, until=re.escape(LOADER_HALTED), settle=0.5, timeout=60)
    assert result.still_running, result.describe()
    assert "stage2: error: the stage 2 header's record of the ELF section headers is " \
           "inconsistent" in result.serial, result.describe()
    assert "probe:" not in result.serial


def test_the_information_area_holds_the_section_table():
    """memory_layout.inc: the table's copy and the other tags fit in the
    Multiboot information area, which one real-mode segment reaches and
    which ends below the kernel's stack."""
    size = nasm_value(MEMORY_LAYOUT_INC, "MULTIBOOT_INFO_SIZE")
    other = nasm_value(MEMORY_LAYOUT_INC, "MULTIBOOT_INFO_OTHER_TAGS_MAX")
    assert TABLE_MAX + other <= size <= 0x10000
    # The figures README.md and docs/memory-layout.md quote.
    assert (TABLE_MAX, other, size) == (32 * 1024, 8 * 1024, 64 * 1024)
    assert nasm_value(MEMORY_LAYOUT_INC, "MULTIBOOT_INFO_ADDRESS") + size <= \
        nasm_value(MEMORY_LAYOUT_INC, "KERNEL_STACK_BOTTOM")


@pytest.mark.sanitized_mkimage
@pytest.mark.parametrize("damage, message", [
    ("blob", "ELF section headers checksum MISMATCH: the image was damaged or edited after "
             "mkimage wrote it"),
    ("count", "ELF section headers: the size does not fill the sectors, the blob lies beyond "
              "the image, or the table does not fit in it or in the Multiboot information area"),
])
def test_mkimage_info_finds_a_damaged_section_blob(mkimage, probes, tmp_path, damage, message):
    def where(data):
        return stored_record(data)[0] * SECTOR + 100 if damage == "blob" else COUNT_FIELD
    data = b"\xff\x00" if damage == "blob" else struct.pack("<I", TABLE_MAX // ELF32_SHDR_SIZE + 1)
    image = patched_image(mkimage, probes, tmp_path, where, data)
    info = subprocess.run([str(mkimage), "info", str(image)], capture_output=True, text=True)
    assert info.returncode == 1
    assert message in info.stderr, info.stderr
