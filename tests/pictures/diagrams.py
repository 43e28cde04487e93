#!/usr/bin/env python3
"""The docs' diagrams, drawn as SVG from this build (issue 14).

Each picture is made from the numbers the loader and the kernel are built
from, never from numbers written down here: the NASM constants
(memory_layout.inc, loader_fields.inc, hardware.inc, evaluated by NASM),
the assembled loader (the listings, symbol files and stage2.bin: where
stage 1's regions really end, the selectors the far jumps really load),
`mkimage info build/disk.img`, the kernel ELF's program headers, and a
real boot of build/disk.img in QEMU for what only a boot knows (the page
tables' addresses, the firmware's memory map). A change that moves
anything changes the picture, and tests/test_diagrams.py, which makes them
again and compares them with the committed docs/pictures/*.svg, fails
until they are made again (`./build.sh pictures`).

PICTURES maps each picture's name to its make(out_dir) function, which
writes out_dir/NAME.svg and returns [that path] (tests/pictures/make.py
runs them). Run as a program, this file makes its pictures into
docs/pictures (or --out DIR): `python3 tests/pictures/diagrams.py [NAME ...]`.
"""
import functools
import os
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # tests/, for support.* and docs.*

from docs import refresh  # noqa: E402
from pictures import svg  # noqa: E402
from support.elf_reader import (PF_R, PF_W, PF_X, SHF_ALLOC, SHT_NOBITS, read_elf,  # noqa: E402
                                section_headers)
from support.paths import BUILD, KERNEL_ELF, ROOT  # noqa: E402
from support.sources import LOADER_FIELDS_INC, MEMORY_LAYOUT_INC, nasm_values  # noqa: E402

STAGE2_DIR = ROOT / "bootloader" / "stage2"
HARDWARE_INC = STAGE2_DIR / "hardware.inc"
PAGE_TABLES_INC = STAGE2_DIR / "page_tables.inc"
DOCS_PICTURES = ROOT / "docs" / "pictures"
WIDTH = 860             # GitHub shows Markdown about 880 pixels wide


def h(value):
    """Addresses and sizes as the docs write them: 0x7C00."""
    return f"0x{value:X}"


def selector(value):
    """Segment selectors as the SDM and the docs write them: 0x08."""
    return f"0x{value:02X}"


def kib(size):
    return f"{size // 1024} KiB" if size % 1024 == 0 else f"{size} bytes"


# ---- What the pictures are drawn from ---------------------------------------------------

@functools.cache
def constants(include, *names):
    """{name: value} of NASM constants, evaluated by NASM."""
    return dict(zip(names, nasm_values([include], list(names))))


def memory_layout():
    return constants(MEMORY_LAYOUT_INC, "LOADER_MEMORY_START", "BOOT_INFO_ADDRESS",
                     "BOOT_INFO_AREA_SIZE", "PROGRAM_HEADERS_ADDRESS", "STAGE2_VARIABLES_ADDRESS",
                     "STAGE2_VARIABLES_SIZE", "REAL_MODE_STACK_TOP", "FAULT_REPORT_STACK_TOP",
                     "DISK_BUFFER_ADDRESS", "DISK_BUFFER_SECTORS", "PAGE_TABLES_ADDRESS",
                     "PAGE_TABLES_END", "KERNEL_STACK_BOTTOM", "KERNEL_STACK_TOP",
                     "LOADER_MEMORY_END", "KERNEL_LOWEST_ADDRESS")


def loader_fields():
    return constants(LOADER_FIELDS_INC, "SECTOR_SIZE", "STAGE1_LOAD_ADDRESS",
                     "STAGE2_LOAD_ADDRESS", "STAGE2_MAX_SECTORS", "STAGE1_DAP_OFFSET")


def hardware():
    return constants(HARDWARE_INC, "CR0_PROTECTED_MODE", "CR0_WRITE_PROTECT", "CR0_PAGING",
                     "CR4_PAE", "MSR_EFER", "EFER_LONG_MODE_ENABLE", "EFER_NO_EXECUTE_ENABLE",
                     "PIC_MASTER_DATA", "PIC_SLAVE_DATA", "PIC_MASK_ALL", "BIOS_SYSTEM")


def source_constant(path, name):
    """A constant a source file defines as a plain number (`NAME equ 0x..`),
    for files NASM cannot include on their own (they hold code)."""
    match = re.search(rf"^\s*{name}\s+equ\s+(0x[0-9A-Fa-f]+|\d+)\b", path.read_text(), re.M)
    assert match, f"no `{name} equ NUMBER` in {path.relative_to(ROOT)}"
    return int(match[1], 0)


# A listing line: its number, the offset, the bytes (`00<rep 57h>` for a
# `times` run), an include's nesting depth (`<1>`), the source text.
LISTING_LINE = re.compile(r"^\s*\d+ ([0-9A-F]{8}) ([0-9A-F\[\]()]+(?:<rep [0-9A-F]+h>)?)-?\s+"
                          r"(?:<\d+>)?\s*(.*)$")


def listing_offset(stage, source):
    """The offset in the stage of the listing line whose source text starts
    with `source` (and that assembled to something)."""
    for line in refresh.listing(stage):
        fields = LISTING_LINE.match(line)
        if fields and fields[3].startswith(source):
            return int(fields[1], 16)
    raise AssertionError(f"no {source!r} in build/bootloader/{stage}.lst")


def stage_offset(stage, label):
    """A label's offset from the start of its stage (symbol files hold addresses)."""
    load = loader_fields()["STAGE1_LOAD_ADDRESS" if stage == "stage1" else "STAGE2_LOAD_ADDRESS"]
    return refresh.labels(stage)[label] - load


def stage2_bytes():
    return (BUILD / "bootloader" / "stage2.bin").read_bytes()


def mkimage_info():
    """The layout `mkimage info build/disk.img` reports."""
    text = refresh.mkimage_info()

    def field(pattern):
        match = re.search(pattern, text, re.M)
        assert match, f"mkimage info no longer prints {pattern!r}:\n{text}"
        return [int(group, 0) for group in match.groups()]
    image_bytes, image_sectors = field(r"^image: .*, (\d+) bytes \((\d+) sectors\)")
    stage2_lba, stage2_sectors = field(r"^stage 2: LBA (\d+), (\d+) sectors")
    kernel_lba, kernel_sectors, kernel_size = field(r"^kernel: LBA (\d+), (\d+) sectors, (\d+) bytes")
    status, kind, first_lba, count = field(
        r"^partition 1: status (0x[0-9A-F]+) \(\w+\), type (0x[0-9A-F]+), first LBA (\d+), (\d+) sectors")
    others = [(f"module {number}", *map(int, rest)) for number, *rest in re.findall(
        r"^module (\d+): LBA (\d+), (\d+) sectors, (\d+) bytes", text, re.M)]
    others += [("ELF section headers", *map(int, rest)) for rest in re.findall(
        r"^ELF section headers: LBA (\d+), (\d+) sectors, (\d+) bytes", text, re.M)]
    return dict(image_bytes=image_bytes, image_sectors=image_sectors, stage2_lba=stage2_lba,
                stage2_sectors=stage2_sectors, kernel_lba=kernel_lba,
                kernel_sectors=kernel_sectors, kernel_size=kernel_size,
                partition=(status, kind, first_lba, count), others=others)


@functools.cache
def kernel():
    return read_elf(KERNEL_ELF)


def segment_sections(segment, in_file=None):
    """The names of the sections a PT_LOAD segment holds, in address order;
    in_file=True: only those with bytes in the file, False: only those
    without (SHT_NOBITS, .bss)."""
    _, _, headers = section_headers(KERNEL_ELF.read_bytes())
    inside = [(header["addr"], header["name"]) for header in headers
              if header["flags"] & SHF_ALLOC and header["size"]
              and segment.vaddr <= header["addr"] < segment.vaddr + segment.memsz
              and in_file in (None, header["type"] != SHT_NOBITS)]
    return [name for _, name in sorted(inside)]


def section_address(name):
    return kernel().sections[name][0]


def flags_text(flags):
    return "".join(letter if flags & bit else "-"
                   for letter, bit in (("R", PF_R), ("W", PF_W), ("X", PF_X)))


@functools.cache
def boot_memory_map():
    """[(base, length, type)] of the E820 map a boot of build/disk.img with
    128 MiB (./build.sh run's default) reports."""
    entries = []
    for line in refresh.serial():
        entry = re.match(r"^\s+\[\d+\] base (0x\w+) length (0x\w+) type (\d+)", line)
        if entry:
            entries.append((int(entry[1], 16), int(entry[2], 16), int(entry[3])))
    assert entries, "the boot printed no memory map"
    return entries


def boot_page_tables():
    """(start, end) of the page tables stage 2 built in that boot."""
    line = refresh.serial_line("page tables: ")
    start, end = re.search(r"(0x\w+)-(0x\w+)", line).groups()
    return int(start, 16), int(end, 16)


@functools.cache
def page_walk(address):
    """The kernel shell's `pt ADDRESS` in a boot of build/disk.img: CR3, then
    (level, index, entry, flag letters, what it points to, its address) for
    each level."""
    command = f"pt {address:#x}"
    lines = refresh.shell_outputs((command,))[command]
    cr3 = int(re.search(r"CR3 (0x\w+)", lines[0])[1], 16)
    levels = []
    for line in lines[1:]:
        step = re.match(r"^\s+(PML4E|PDPTE|PDE|PTE)\s+\[\s*(\d+)\] (0x\w+) ([A-Z ]+?) -> "
                        r"(table|4 KiB page|2 MiB page|1 GiB page) (0x\w+)", line)
        if step:
            levels.append((step[1], int(step[2]), int(step[3], 16), step[4].split(), step[5],
                           int(step[6], 16)))
    assert cr3 and len(levels) == 4, "\n".join(lines)
    return cr3, levels


def write(out_dir, name, drawing):
    """out_dir/NAME.svg, written whole or not at all."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.svg"
    with tempfile.NamedTemporaryFile("w", dir=out_dir, prefix=f".{name}.", delete=False) as file:
        file.write(str(drawing))
    os.chmod(file.name, 0o644)          # as any file in the tree, not mkstemp's 0600
    os.replace(file.name, path)
    return [path]


def title(d, text, note=None):
    d.text(16, 26, text, size=d.LARGE, bold=True)
    if note:
        d.text(16, 44, note, size=d.SMALL, colour=svg.NOTE, italic=True)


# ---- 1. The disk image ------------------------------------------------------------------

def stage1_regions(info):
    """(first offset, end offset, what, detail, fill) of the boot sector,
    where the assembled stage 1 really puts each part."""
    fields = loader_fields()
    sector = fields["SECTOR_SIZE"]
    bpb = listing_offset("stage1", "times BPB_END")
    code1 = stage_offset("stage1", "skip_parameter_block")
    code1_end = listing_offset("stage1", "times TIMESTAMP_AREA - ")
    stamp = listing_offset("stage1", "times TIMESTAMP_AREA_END - TIMESTAMP_AREA")
    code2 = stage_offset("stage1", "read_stage2")
    code2_end = listing_offset("stage1", "times STAGE1_DAP_OFFSET")
    dap = stage_offset("stage1", "dap")
    assert dap == fields["STAGE1_DAP_OFFSET"]
    signature = listing_offset("stage1", "times PARTITION_TABLE")
    table = listing_offset("stage1", "times 4 * 16")
    boot_signature = listing_offset("stage1", "dw BOOT_SIGNATURE")
    status, kind, first_lba, count = info["partition"]
    return [
        (0, bpb, "jmp short + nop", "as a FAT boot sector starts", "stage1"),
        (bpb, code1, "zeros: room for a BPB", "BIOS Parameter Block: some BIOSes write one",
         "free"),
        (code1, stamp, "stage 1 code, part 1",
         f"{code1_end - code1} bytes, {stamp - code1_end} spare", "stage1"),
        (stamp, code2, "zeros: Windows' disk timestamp", None, "free"),
        (code2, dap, "stage 1 code, part 2, message, variables",
         f"{code2_end - code2} bytes, {dap - code2_end} spare", "stage1"),
        (dap, signature, "disk address packet (mkimage fills it in)",
         f"read {info['stage2_sectors']} sectors from LBA {info['stage2_lba']} "
         f"to {h(fields['STAGE2_LOAD_ADDRESS'])}", "data"),
        (signature, table, "disk signature + 2 reserved bytes", None, "free"),
        (table, boot_signature, "partition table: entry 1 + 3 empty",
         f"status {h(status)}, type {h(kind)}, LBA {first_lba}, {count} sectors", "data"),
        (boot_signature, sector, "boot signature 0x55 0xAA",
         "the BIOS boots only a sector that ends so", "stage1"),
    ]


def disk_layout(out_dir):
    info = mkimage_info()
    sector = loader_fields()["SECTOR_SIZE"]
    stage2_size = len(stage2_bytes())
    pieces = [(0, 1, "stage 1: the MBR", "512 bytes, the BIOS loads it to "
               f"{h(loader_fields()['STAGE1_LOAD_ADDRESS'])}", "stage1"),
              (info["stage2_lba"], info["stage2_sectors"], "stage 2",
               f"{stage2_size} bytes, {info['stage2_sectors']} sectors, "
               f"loaded to {h(loader_fields()['STAGE2_LOAD_ADDRESS'])}", "stage2"),
              (info["kernel_lba"], info["kernel_sectors"], "the kernel ELF file",
               f"{info['kernel_size']} bytes in {info['kernel_sectors']} sectors", "kernel")]
    pieces += [(lba, sectors, name, f"{size} bytes in {sectors} sectors", "data")
               for name, lba, sectors, size in info["others"]]
    rows, next_lba = [], 0
    for lba, sectors, name, detail, fill in sorted(pieces):
        if lba > next_lba:
            rows.append((next_lba, lba - next_lba, "zeros",
                         "up to a 4 KiB boundary (8 sectors)", "free"))
        rows.append((lba, sectors, name, detail, fill))
        next_lba = lba + sectors
    rows.append((next_lba, info["image_sectors"] - next_lba, "zeros",
                 f"up to a whole MiB: {info['image_bytes']} bytes in all", "free"))

    mbr = stage1_regions(info)
    row_h, mbr_row_h, top = 56, 38, 96
    height = top + max(len(rows) * row_h, len(mbr) * mbr_row_h) + 64
    d = svg.Drawing(WIDTH, height, "The disk image, sector by sector",
                    f"build/disk.img: stage 1 in LBA 0, stage 2 from LBA {info['stage2_lba']} "
                    f"({info['stage2_sectors']} sectors), the kernel from LBA "
                    f"{info['kernel_lba']} ({info['kernel_sectors']} sectors, "
                    f"{info['kernel_size']} bytes), zeros up to {info['image_sectors']} "
                    "sectors; and the 512 bytes of LBA 0 in detail.")
    title(d, "build/disk.img, as mkimage lays it out",
          "Not to scale: each box is one part, whatever its size. Numbers from "
          "`mkimage info build/disk.img` and build/bootloader/stage1.lst.")
    x, width = 100, 320
    d.text(x - 8, top - 12, "LBA, byte", size=d.SMALL, colour=svg.NOTE, anchor="end")
    d.text(x, top - 12, f"the image in sectors of {sector} bytes", size=d.SMALL, colour=svg.NOTE)
    d.group_start("image")
    for number, (lba, sectors, name, detail, fill) in enumerate(rows):
        y = top + number * row_h
        lbas = str(lba) if sectors == 1 else f"{lba}-{lba + sectors - 1}"
        d.text(x - 8, y + row_h / 2 - 2, lbas, anchor="end", mono=True)
        d.text(x - 8, y + row_h / 2 + 13, h(lba * sector), anchor="end", size=d.SMALL, mono=True,
               colour=svg.NOTE)
        d.label_box(x, y, width, row_h, fill, name, detail, dashed=fill == "free")
    d.text(x - 8, top + len(rows) * row_h + 13, h(info["image_sectors"] * sector), anchor="end",
           size=d.SMALL, mono=True, colour=svg.NOTE)
    d.group_end()

    zoom_x, zoom_w = 506, 344
    d.text(zoom_x, top - 12, "LBA 0 in detail: byte offsets in the sector", size=d.SMALL,
           colour=svg.NOTE)
    d.path([(x + width, top), (zoom_x - 44, top)], dashed=True)
    d.path([(x + width, top + row_h), (zoom_x - 44, top + len(mbr) * mbr_row_h)], dashed=True)
    d.group_start("mbr")
    for number, (first, end, name, detail, fill) in enumerate(mbr):
        y = top + number * mbr_row_h
        d.text(zoom_x - 6, y + 12, f"0x{first:03X}", anchor="end", size=d.SMALL, mono=True)
        d.label_box(zoom_x, y, zoom_w, mbr_row_h, fill, name, detail, dashed=fill == "free")
    d.text(zoom_x - 6, top + len(mbr) * mbr_row_h + 4, f"0x{sector:03X}", anchor="end",
           size=d.SMALL, mono=True)
    d.group_end()
    d.legend(16, height - 16, [("stage1", "stage 1"), ("stage2", "stage 2"), ("kernel", "kernel"),
                               ("data", "written by mkimage"), ("free", "zeros")])
    return write(out_dir, "disk-layout", d)


# ---- 2. Physical memory during the boot -------------------------------------------------

def memory_rows():
    """(start, end, what, detail, fill) from 0 to the end of the kernel."""
    m, f = memory_layout(), loader_fields()
    stage2_end = f["STAGE2_LOAD_ADDRESS"] + len(stage2_bytes())
    stage2_room_end = f["STAGE2_LOAD_ADDRESS"] + f["STAGE2_MAX_SECTORS"] * f["SECTOR_SIZE"]
    buffer_end = m["DISK_BUFFER_ADDRESS"] + m["DISK_BUFFER_SECTORS"] * f["SECTOR_SIZE"]
    tables_start, tables_end = boot_page_tables()
    stack_bottom = m["STAGE2_VARIABLES_ADDRESS"] + m["STAGE2_VARIABLES_SIZE"]
    # Below 1 MiB, what the firmware keeps: the reserved entries of its map.
    reserved = [(base, base + length) for base, length, kind in boot_memory_map()
                if kind != 1 and base < m["KERNEL_LOWEST_ADDRESS"]]
    (ebda, ebda_end), (bios, _) = reserved
    vga = source_constant(STAGE2_DIR / "screen.inc", "TEXT_BUFFER_COLOUR_SEGMENT") << 4
    rows = [
        (0, m["LOADER_MEMORY_START"], "interrupt vector table, BIOS data area",
         "set up by the BIOS", "firmware"),
        (m["LOADER_MEMORY_START"], m["BOOT_INFO_ADDRESS"], "free", None, "free"),
        (m["BOOT_INFO_ADDRESS"], m["PROGRAM_HEADERS_ADDRESS"], "boot information block",
         "stage 2 fills it in; the kernel gets it in RDI", "data"),
        (m["PROGRAM_HEADERS_ADDRESS"], m["STAGE2_VARIABLES_ADDRESS"],
         "copy of the kernel's program headers", None, "data"),
        (m["STAGE2_VARIABLES_ADDRESS"], stack_bottom, "stage 2's variables", None, "data"),
        (stack_bottom, m["REAL_MODE_STACK_TOP"], "stage 2's stack, grows down",
         "then the reporting IDT's stack (IST1)", "stack"),
        (m["REAL_MODE_STACK_TOP"], f["STAGE1_LOAD_ADDRESS"], "stage 1's stack, grows down",
         None, "stack"),
        (f["STAGE1_LOAD_ADDRESS"], f["STAGE2_LOAD_ADDRESS"], "stage 1 (the MBR)",
         "the BIOS loads it here", "stage1"),
        (f["STAGE2_LOAD_ADDRESS"], stage2_end, f"stage 2 ({len(stage2_bytes())} bytes)",
         "with the GDT, the reporting IDT and TSS", "stage2"),
        (stage2_end, m["DISK_BUFFER_ADDRESS"], "unused",
         f"stage 2 may grow to {h(stage2_room_end - 1)}", "free"),
        (m["DISK_BUFFER_ADDRESS"], tables_start, "disk buffer",
         f"{m['DISK_BUFFER_SECTORS']} sectors, to {h(buffer_end - 1)}", "data"),
        (tables_start, tables_end, "page tables: PML4, PDPT, PDs, PT",
         f"this boot: {(tables_end - tables_start) // 4096} tables; CR3 = {h(tables_start)}",
         "tables"),
        (tables_end, m["PAGE_TABLES_END"], "room for more page tables", None, "free"),
        (m["KERNEL_STACK_BOTTOM"], m["KERNEL_STACK_TOP"], "the stack the kernel starts on",
         f"RSP = {h(m['KERNEL_STACK_TOP'])} at the jump", "stack"),
        (m["LOADER_MEMORY_END"], ebda, "not touched by the loader", None, "free"),
        (ebda, ebda_end, "extended BIOS data area", "reserved in the memory map", "firmware"),
        (ebda_end, bios, "video memory, video BIOS, option ROMs",
         f"the text screen at {h(vga)}", "firmware"),
        (bios, m["KERNEL_LOWEST_ADDRESS"], "system BIOS ROM", "reserved in the memory map",
         "firmware"),
    ]
    for segment in kernel().loads:
        sections = ", ".join(segment_sections(segment))
        rows.append((segment.paddr, segment.end,
                     f"kernel segment {segment.index}: {sections}",
                     f"{flags_text(segment.flags)}; {segment.filesz} bytes from the file"
                     + (f", {segment.memsz - segment.filesz} zeroed"
                        if segment.memsz > segment.filesz else ""), "kernel"))
    return rows


def memory_during_boot(out_dir):
    rows = memory_rows()
    kernel_end = rows[-1][1]
    row_h, top, x, width = 30, 84, 110, 390
    gaps = sum(1 for before, after in zip(rows, rows[1:]) if after[0] > before[1])
    height = top + len(rows) * row_h + gaps * row_h / 2 + 56
    d = svg.Drawing(WIDTH, height, "Physical memory during the boot",
                    "From address 0 to the end of the kernel at "
                    f"{h(kernel_end)}: the BIOS's tables, the boot information block at "
                    f"{h(memory_layout()['BOOT_INFO_ADDRESS'])}, stage 2's variables and stack, "
                    "stage 1, stage 2, the disk buffer, the page tables, the kernel's stack, "
                    "the firmware's areas and the kernel's segments from 1 MiB.")
    title(d, "Physical memory while bootstack boots",
          "Not to scale: every region gets one row, whatever its size. Addresses from "
          "memory_layout.inc, the build and a boot in QEMU with 128 MiB.")
    d.text(x - 8, top - 10, "address", size=d.SMALL, colour=svg.NOTE, anchor="end")
    y = top
    previous_end = None
    d.group_start("regions")
    for start, end, name, detail, fill in rows:
        if previous_end is not None and start > previous_end:
            # A gap between two kernel segments or after 1 MiB's ROMs: a short break.
            d.text(x + width / 2, y + 13, "...", anchor="middle", colour=svg.NOTE)
            y += row_h / 2
        d.text(x - 8, y + 12, h(start), anchor="end", size=d.SMALL, mono=True)
        d.rect(x, y, width, row_h, fill=fill, dashed=fill == "free")
        d.check_fits(name, d.NORMAL, width - 12)
        d.text(x + 8, y + row_h / 2 + 5, name)
        size = end - start
        d.text(x + width - 8, y + row_h / 2 + 5, kib(size), anchor="end", size=d.SMALL,
               colour=svg.NOTE)
        if detail:
            d.check_fits(detail, d.SMALL, WIDTH - (x + width + 12) - 8)
            d.text(x + width + 12, y + row_h / 2 + 4, detail, size=d.SMALL, colour=svg.NOTE)
        y += row_h
        previous_end = end
    d.text(x - 8, y + 12, h(kernel_end), anchor="end", size=d.SMALL, mono=True)
    d.text(x + 8, y + 14, "the end of the kernel; free RAM after it", size=d.SMALL,
           colour=svg.NOTE)
    d.group_end()
    d.legend(16, height - 14, [("firmware", "firmware"), ("stage1", "stage 1"),
                               ("stage2", "stage 2"), ("data", "loader data"),
                               ("stack", "stacks"), ("tables", "page tables"),
                               ("kernel", "kernel"), ("free", "free")])
    return write(out_dir, "memory-during-boot", d)


# ---- 3. The page-table walk of 0x100000 -------------------------------------------------

FLAG_NAMES = {"P": "present", "W": "writable", "R": "read-only", "S": "supervisor",
              "U": "user", "X": "executable", "NX": "no-execute", "A": "accessed",
              "D": "dirty", "PS": "large page", "G": "global"}
ACCESSED = 1 << 5       # set by the CPU on a walk (SDM Vol. 3A, 4.8), never by the loader


def page_walk_picture(out_dir):
    address = kernel().loads[0].vaddr
    cr3, levels = page_walk(address)
    assert cr3 == memory_layout()["PAGE_TABLES_ADDRESS"]
    fields = [("63-48", "= bit 47", "0" if address >> 47 == 0 else "all 1s")]
    for (name, index, *_), (high, low) in zip(levels, ((47, 39), (38, 30), (29, 21), (20, 12))):
        fields.append((f"{high}-{low}", {"PML4E": "PML4", "PDPTE": "PDPT", "PDE": "PD",
                                         "PTE": "PT"}[name] + " index", str(index)))
    fields.append(("11-0", "offset", h(address & 0xFFF)))
    d = svg.Drawing(WIDTH, 520, f"The four-level page walk of {h(address)}",
                    f"Virtual address {h(address)} splits into the indexes "
                    f"{'/'.join(str(level[1]) for level in levels)}. CR3 = {h(cr3)} points to "
                    f"the PML4; its entry {levels[0][1]} points to the PDPT at "
                    f"{h(levels[0][5])}, whose entry {levels[1][1]} points to the page "
                    f"directory at {h(levels[1][5])}, whose entry {levels[2][1]} points to "
                    f"the page table at {h(levels[2][5])}, whose entry {levels[3][1]} maps "
                    f"the 4 KiB page at physical {h(levels[3][5])}: read-only, executable.")
    title(d, f"How the CPU translates virtual {h(address)} (the kernel's first instruction)",
          "Table addresses and entries as the kernel shell's `pt` prints them in a boot of "
          "build/disk.img in QEMU (128 MiB).")
    # The virtual address, split into its fields.
    top, x0, bits_w = 78, 150, 690
    d.text(x0 - 10, top + 24, f"virtual {h(address)}", anchor="end", mono=True, bold=True)
    widths = [1, 1, 1, 1, 1, 1]
    field_w = bits_w / sum(widths)
    centres = []
    d.group_start("virtual-address")
    for number, (bits, name, value) in enumerate(fields):
        fx = x0 + number * field_w
        d.text(fx + field_w / 2, top - 4, f"bits {bits}", size=d.SMALL, anchor="middle",
               colour=svg.NOTE)
        d.label_box(fx, top, field_w, 38, "highlight" if 1 <= number <= 4 else "free",
                    value, name, mono_title=True)
        centres.append(fx + field_w / 2)
    d.group_end()

    # CR3, the four tables, and the page.
    table_top, table_h, table_w = 190, 190, 148
    xs = [20 + 168 * column for column in range(5)]
    d.group_start("cr3")
    d.label_box(xs[0], table_top + 20, 120, 44, "stage2", "CR3", h(cr3), mono_detail=True,
                bold=True)
    d.text(xs[0], table_top + 84, "the loader loads it", size=d.SMALL, colour=svg.NOTE)
    d.text(xs[0], table_top + 98, "before paging goes on", size=d.SMALL, colour=svg.NOTE)
    d.line(xs[0] + 120, table_top + 42, xs[1] + 24, table_top, arrow=True)
    d.group_end()
    table_names = {"PML4E": "PML4", "PDPTE": "PDPT", "PDE": "page directory (PD)",
                   "PTE": "page table (PT)"}
    table_address = cr3
    for column, (name, index, entry, letters, kind, target) in enumerate(levels, 1):
        x = xs[column]
        d.group_start(f"level-{column}")
        d.text(x + 24, table_top - 22, table_names[name], size=d.SMALL, bold=True)
        d.text(x + 24, table_top - 8, f"at {h(table_address)}", size=d.SMALL, mono=True)
        d.rect(x + 24, table_top, table_w - 24, table_h, fill="tables")
        # The chosen entry's row, at its place among the 512 entries.
        row_y = table_top + 8 + (table_h - 40) * index / 511
        d.rect(x + 24, row_y, table_w - 24, 24, fill="highlight", stroke_width=1.5)
        d.text(x + 20, row_y + 16, f"[{index}]", anchor="end", size=d.SMALL, mono=True)
        d.check_fits(h(entry), d.NORMAL, table_w - 30, mono=True)
        d.text(x + 24 + (table_w - 24) / 2, row_y + 17, h(entry), anchor="middle", mono=True,
               bold=True)
        d.text(x + 20, table_top + table_h - 4, "[511]", anchor="end", size=d.SMALL, mono=True,
               colour=svg.NOTE)
        # The index comes from the virtual address.
        d.path([(centres[column], top + 38), (centres[column], top + 60),
                (x + 24 + (table_w - 24) / 2, table_top - 36)], dashed=True, colour=svg.NOTE)
        flags_y = table_top + table_h + 18
        d.text(x + 24, flags_y, " ".join(letters), mono=True, size=d.SMALL, bold=True)
        loader_wrote = entry & ~ACCESSED
        d.text(x + 24, flags_y + 15, f"loader wrote {h(loader_wrote)}", size=d.SMALL,
               colour=svg.NOTE)
        d.text(x + 24, flags_y + 30, f"-> {'table' if kind == 'table' else 'page'} {h(target)}",
               size=d.SMALL, colour=svg.NOTE)
        d.group_end()
        table_address = target
        if column < 4:
            d.line(x + table_w, row_y + 12, xs[column + 1] + 24, table_top + 2, arrow=True)

    # The physical page, under the page table.
    *_, kind, page = levels[-1]
    page_x, page_y = 600, 454
    d.group_start("page")
    pte_row = table_top + 8 + (table_h - 40) * levels[-1][1] / 511
    d.path([(xs[4] + table_w, pte_row + 12), (xs[4] + table_w + 14, pte_row + 12),
            (xs[4] + table_w + 14, page_y - 10), (page_x + 118, page_y - 10),
            (page_x + 118, page_y - 2)], arrow=True)
    d.label_box(page_x, page_y, 236, 44, "kernel", f"{kind} at {h(page)}",
                f"+ offset {h(address & 0xFFF)} = physical {h(page + (address & 0xFFF))}")
    d.group_end()
    legend_y = 462
    meanings = [f"{letter} {FLAG_NAMES[letter]}" for letter in
                sorted({letter for level in levels for letter in level[3]},
                       key=list(FLAG_NAMES).index)]
    d.text(20, legend_y, "Flags: " + ", ".join(meanings) + ".", size=d.SMALL)
    d.text(20, legend_y + 16, "A is set by the CPU when a walk uses the entry; the loader "
           "(page_tables.inc) writes P W", size=d.SMALL, colour=svg.NOTE)
    d.text(20, legend_y + 30, "for tables, and for the kernel's text page P alone: "
           "read-only, and executable (no NX bit).", size=d.SMALL, colour=svg.NOTE)
    return write(out_dir, "page-walk", d)


# ---- 4. Real mode to long mode ----------------------------------------------------------

def far_jump_selector(source, operand_bytes):
    """The selector a far jump in stage 2 loads, read from the assembled
    bytes: EA, the offset (2 or 4 bytes), then the selector."""
    code = stage2_bytes()[listing_offset("stage2", source):]
    assert code[0] == 0xEA, f"{source!r} did not assemble to a far jump"
    return int.from_bytes(code[1 + operand_bytes:3 + operand_bytes], "little")


def immediate_word(source):
    """The 16-bit immediate of a `mov ax/bx, imm16` in stage 2, as assembled."""
    code = stage2_bytes()[listing_offset("stage2", source):]
    code = code[1:] if code[0] == 0x66 else code      # operand-size prefix in 32-bit code
    assert code[0] in (0xB8, 0xBB), f"{source!r} is not a mov of an immediate"
    return int.from_bytes(code[1:3], "little")


def gdt_descriptors():
    """{selector: description} of stage 2's GDT, decoded from stage2.bin."""
    data = stage2_bytes()
    start = stage_offset("stage2", "gdt_start")
    limit = int.from_bytes(data[stage_offset("stage2", "gdt_pointer"):][:2], "little")
    described, at = {}, 0
    while at < limit:
        low = int.from_bytes(data[start + at:start + at + 8], "little")
        access, flags = (low >> 40) & 0xFF, (low >> 52) & 0xF
        if low == 0:
            described[at], size = "null descriptor", 8
        elif not access & 0x10:                 # S clear: a system descriptor, here the TSS
            described[at], size = "TSS of the reporting IDT (16 bytes)", 16
        else:
            kind = ("code, 64-bit (L)" if flags & 0x2 else "code, 32-bit (D)") if access & 0x8 \
                else "data, writable"
            base = ((low >> 16) & 0xFFFFFF) | ((low >> 56) << 24)
            limit_units = ((low & 0xFFFF) | ((low >> 32) & 0xF0000)) + 1
            span = limit_units << 12 if flags & 0x8 else limit_units      # G: 4 KiB units
            described[at], size = f"{kind}, base {h(base)}, limit {span >> 30} GiB", 8
        at += size
    return described


def mode_switch(out_dir):
    hw, m = hardware(), memory_layout()
    long_mode_inc = STAGE2_DIR / "long_mode.inc"
    target_mode = source_constant(long_mode_inc, "BIOS_TARGET_MODE")
    target_long = source_constant(long_mode_inc, "TARGET_MODE_LONG")
    code32 = far_jump_selector("jmp GDT_CODE32:in_protected_mode", 2)
    code64 = far_jump_selector("jmp GDT_CODE64:in_long_mode", 4)
    data = immediate_word("mov ax, GDT_DATA")
    unreal_data = immediate_word("mov bx, GDT_DATA")
    assert data == unreal_data
    gdt = gdt_descriptors()
    entry = kernel().entry
    modes = [
        ("16-bit real mode", "BIOS calls work; 64 KiB segments", "firmware"),
        ("unreal mode", "real mode, DS and ES reach 4 GiB", "stage1"),
        ("32-bit protected mode", "paging off, flat 4 GiB segments", "stage2"),
        ("compatibility mode", "EFER.LMA = 1, CS still 32-bit", "tables"),
        ("64-bit long mode", "stage 2's last instructions", "kernel"),
        ("the kernel", f"from its entry point {h(entry)}", "kernel"),
    ]
    steps = [
        ("enter_unreal_mode (unreal_mode.inc), for every access above 1 MiB", [
            "cli; lgdt [gdt_pointer]",
            f"CR0 |= {h(hw['CR0_PROTECTED_MODE'])} (PE: protected mode)",
            f"DS, ES = {selector(data)} (flat data: the 4 GiB limit goes into their caches)",
            f"CR0 &= ~{h(hw['CR0_PROTECTED_MODE'])}, DS and ES back: real mode, limit kept"]),
        ("enter_long_mode (long_mode.inc), once the kernel is in memory", [
            f"INT {h(hw['BIOS_SYSTEM'])} AX={h(target_mode)} BX={target_long}: tell the BIOS",
            f"cli; mask both PICs: {h(hw['PIC_MASK_ALL'])} to ports {h(hw['PIC_SLAVE_DATA'])}, "
            f"{h(hw['PIC_MASTER_DATA'])}",
            f"lgdt [gdt_pointer]; CR0 |= {h(hw['CR0_PROTECTED_MODE'])} (PE)",
            f"jmp {selector(code32)}:in_protected_mode (GDT_CODE32 into CS)"]),
        ("in_protected_mode", [
            f"DS, ES, FS, GS, SS = {selector(data)}; ESP = {h(m['KERNEL_STACK_TOP'])}",
            f"CR4 |= {h(hw['CR4_PAE'])} (PAE)",
            f"CR3 = {h(m['PAGE_TABLES_ADDRESS'])} (the PML4)",
            f"EFER (MSR {h(hw['MSR_EFER'])}) |= {h(hw['EFER_LONG_MODE_ENABLE'])} (LME), "
            f"| {h(hw['EFER_NO_EXECUTE_ENABLE'])} (NXE) if the CPU has NX",
            f"CR0 |= {h(hw['CR0_PAGING'] | hw['CR0_WRITE_PROTECT'])} (PG | WP): "
            "paging on, EFER.LMA = 1"]),
        ("still in_protected_mode", [
            f"jmp {selector(code64)}:in_long_mode (GDT_CODE64, L = 1, into CS)"]),
        ("in_long_mode", [
            f"DS, ES, FS, GS, SS = {selector(data)}; RSP = {h(m['KERNEL_STACK_TOP'])}",
            "call load_fault_report_idt",
            f"RDI = {h(m['BOOT_INFO_ADDRESS'])} (boot information); "
            f"jmp to the kernel's entry {h(entry)}"]),
    ]
    line_h, mode_h, gap = 16, 40, 14
    mode_x, mode_w, step_x = 40, 240, 300
    step_heights = [22 + line_h * len(lines) + 8 for _, lines in steps]
    d = svg.Drawing(WIDTH, 0, "From real mode to long mode",   # height: when all is drawn
                    "The mode switches stage 2 makes: into unreal mode and back for each access "
                    f"above 1 MiB; then the GDT, CR0.PE and a far jump to selector {selector(code32)} "
                    f"(32-bit protected mode); CR4.PAE, CR3 = {h(m['PAGE_TABLES_ADDRESS'])}, "
                    f"EFER.LME and NXE in MSR {h(hw['MSR_EFER'])}, CR0.PG and WP "
                    f"(compatibility mode); a far jump to selector {selector(code64)} (64-bit long "
                    "mode); then the jump to the kernel.")
    title(d, "From real mode to long mode: what stage 2 sets, step by step",
          "Values as assembled in build/bootloader/stage2.bin; routine names from "
          "bootloader/stage2/*.inc.")
    y = 64
    for number, (name, detail, fill) in enumerate(modes):
        d.group_start(f"mode-{number}")
        d.label_box(mode_x, y, mode_w, mode_h, fill, name, detail, bold=True)
        d.group_end()
        mode_bottom = y + mode_h
        y = mode_bottom
        if number == len(steps):
            break
        step_name, lines = steps[number]
        step_h = step_heights[number]
        y += gap
        d.group_start(f"step-{number}")
        d.rect(step_x, y, WIDTH - step_x - 16, step_h, fill="#ffffff")
        d.text(step_x + 10, y + 16, step_name, size=d.SMALL, bold=True)
        for line_number, line in enumerate(lines):
            d.check_fits(line, d.SMALL, WIDTH - step_x - 36, mono=True)
            d.text(step_x + 10, y + 34 + line_number * line_h, line, size=d.SMALL, mono=True)
        d.group_end()
        d.line(mode_x + mode_w / 2, mode_bottom, mode_x + mode_w / 2, y + step_h + gap,
               arrow=True)
        d.line(mode_x + mode_w / 2, y + step_h / 2, step_x, y + step_h / 2, dashed=True,
               colour=svg.NOTE)
        if number == 0:
            # Unreal mode is real mode still: stage 2 goes back and forth,
            # BIOS calls in between, and goes on to protected mode from it.
            unreal_middle = y + step_h + gap + mode_h / 2
            d.path([(mode_x, unreal_middle), (mode_x - 22, unreal_middle),
                    (mode_x - 22, mode_bottom - mode_h / 2), (mode_x - 2, mode_bottom - mode_h / 2)],
                   arrow=True)
            notes = ("BIOS calls in", "between. A BIOS", "call that", "switches modes",
                     "resets the", "limits: again", "after each", "disk read")
            for line_number, note in enumerate(notes):
                d.check_fits(note, d.SMALL, mode_w / 2 - 14)
                d.text(mode_x + 6, y - 6 + line_number * 14, note, size=d.SMALL, colour=svg.NOTE)
        y += step_h + gap
    # The GDT the far jumps index.
    y += 30
    d.group_start("gdt")
    d.text(step_x, y, "stage 2's GDT (gdt_start in descriptor_table.inc):", size=d.SMALL,
           bold=True)
    for number, (value, description) in enumerate(sorted(gdt.items())):
        row_y = y + 8 + number * 17
        chosen = value in (code32, code64, data)
        d.rect(step_x, row_y, 60, 17, fill="highlight" if chosen else "free")
        d.text(step_x + 30, row_y + 13, selector(value), size=d.SMALL, mono=True, anchor="middle")
        d.rect(step_x + 60, row_y, WIDTH - step_x - 76, 17, fill="free")
        d.text(step_x + 68, row_y + 13, description, size=d.SMALL)
    d.group_end()
    d.text(step_x, y + 8 + len(gdt) * 17 + 16, "highlighted: the selectors the steps above load",
           size=d.SMALL, colour=svg.NOTE)
    d.height = y + 8 + len(gdt) * 17 + 30
    return write(out_dir, "mode-switch", d)


# ---- 5. The kernel's segments, from the file to memory ----------------------------------

def kernel_segments(out_dir):
    elf = kernel()
    file_size = KERNEL_ELF.stat().st_size
    loads = elf.loads
    box_h, gap, zero_h, top = 46, 16, 40, 110
    file_x, file_w, mem_x, mem_w = 100, 260, 490, 350
    height = top + (len(loads) + 2) * (box_h + gap) + sum(
        zero_h for segment in loads if segment.memsz > segment.filesz) + 70
    d = svg.Drawing(WIDTH, height, "The kernel's PT_LOAD segments, from the file to memory",
                    f"The {len(loads)} loadable segments of {KERNEL_ELF.name}: stage 2 copies "
                    "p_filesz bytes from each segment's file offset to its physical address "
                    "and zeroes the rest up to p_memsz. " + "; ".join(
                        f"segment {s.index}: offset {h(s.offset)}, {h(s.filesz)} bytes to "
                        f"{h(s.paddr)}, {h(s.memsz)} in memory" for s in loads) + ".")
    title(d, "Loading the kernel: each PT_LOAD segment, from the file to memory",
          f"build/kernel/{KERNEL_ELF.name} as stored in the image; its program headers, as "
          "`readelf -l` shows them. Not to scale.")
    d.text(file_x, top - 14, f"the ELF file ({file_size} bytes): file offsets", size=d.SMALL,
           bold=True)
    d.text(mem_x, top - 14, "physical memory: addresses", size=d.SMALL, bold=True)
    # The headers come first in the file and are not loaded.
    d.group_start("headers")
    d.text(file_x - 8, top + 12, h(0), anchor="end", size=d.SMALL, mono=True)
    d.label_box(file_x, top, file_w, box_h, "free", "ELF header, program headers",
                "read by stage 2, not copied", dashed=True)
    d.group_end()
    y = top + box_h + gap
    for segment in loads:
        zeroed = segment.memsz - segment.filesz
        in_file = ", ".join(segment_sections(segment, in_file=True))
        d.group_start(f"segment-{segment.index}")
        d.text(file_x - 8, y + 12, h(segment.offset), anchor="end", size=d.SMALL, mono=True)
        d.label_box(file_x, y, file_w, box_h, "kernel", f"segment {segment.index}: {in_file}",
                    f"{h(segment.filesz)} bytes, {flags_text(segment.flags)}")
        copied_end = segment.paddr + segment.filesz
        d.label_box(mem_x, y, mem_w, box_h, "kernel", f"{h(segment.paddr)}-{h(copied_end - 1)}",
                    f"copied: {segment.filesz} bytes ({in_file})", mono_title=True)
        d.line(file_x + file_w, y + box_h / 2, mem_x - 2, y + box_h / 2, arrow=True)
        d.text((file_x + file_w + mem_x) / 2, y + box_h / 2 - 6, f"copy {h(segment.filesz)}",
               size=d.SMALL, anchor="middle", colour=svg.ARROW)
        if zeroed:
            not_in_file = segment_sections(segment, in_file=False)
            d.label_box(mem_x, y + box_h, mem_w, zero_h, "free",
                        f"{h(copied_end)}-{h(segment.end - 1)}: zeroed",
                        f"memsz - filesz = {h(zeroed)} bytes"
                        + "".join(f"; {name} at {h(section_address(name))}"
                                  for name in not_in_file), mono_title=True, hatch=True)
            y += zero_h
        d.group_end()
        y += box_h + gap
    d.group_start("tail")
    tail = max(segment.offset + segment.filesz for segment in loads)
    d.text(file_x - 8, y + 12, h(tail), anchor="end", size=d.SMALL, mono=True)
    d.label_box(file_x, y, file_w, box_h, "free", "section names and headers",
                "not loaded", dashed=True)
    d.text(file_x - 8, y + box_h + 4, h(file_size), anchor="end", size=d.SMALL, mono=True)
    d.text(mem_x, y + 12, f"{h(max(segment.end for segment in loads))}: the kernel's end "
           "(boot_info.kernel_end)", size=d.SMALL, colour=svg.NOTE)
    d.group_end()
    # kernel/linker.ld starts each segment on a page; the sentence below says so.
    assert all(s.offset % 4096 == 0 and s.paddr % 4096 == 0 for s in loads), loads
    d.text(16, height - 34, "Each segment starts on a 4 KiB page in the file and in memory, so "
           "the loader can map each page with its segment's flags (R, W, X).", size=d.SMALL)
    d.legend(16, height - 14, [("kernel", "bytes from the file"), ("free", "not loaded"),
                               ("zeroed", "zeroed by stage 2")])
    return write(out_dir, "kernel-segments", d)


PICTURES = {
    "disk-layout": disk_layout,
    "memory-during-boot": memory_during_boot,
    "page-walk": page_walk_picture,
    "mode-switch": mode_switch,
    "kernel-segments": kernel_segments,
}


def main(arguments):
    out_dir = DOCS_PICTURES
    if arguments[:1] == ["--out"]:
        out_dir, arguments = Path(arguments[1]), arguments[2:]
    unknown = [name for name in arguments if name not in PICTURES]
    if unknown:
        sys.exit(f"diagrams.py: no picture named {', '.join(unknown)}; "
                 f"there are: {', '.join(PICTURES)}")
    for name in arguments or PICTURES:
        for path in PICTURES[name](out_dir):
            print(f"{path}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
