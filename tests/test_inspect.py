"""`./build.sh inspect`: every part of the report is there, and its numbers
agree with the files they describe (measured here another way)."""
import os
import re
import subprocess

import pexpect
import pytest

from support.paths import BUILD, ROOT
from support.symbols import symbol_address

HEADING = re.compile(r"^==== (.*)$", re.M)


@pytest.fixture(scope="module")
def report():
    # Same build directory and environment as the rest of the tests: the
    # build inside `inspect` then has nothing to do.
    env = dict(os.environ, BUILD_DIR=str(BUILD))
    result = subprocess.run([str(ROOT / "build.sh"), "inspect"], capture_output=True,
                            text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def parts(report):
    """{heading: text under it} in the order printed."""
    pieces = HEADING.split(report.stdout)
    assert pieces[0].strip() == "", f"text before the first heading: {pieces[0]!r}"
    return {pieces[i]: pieces[i + 1] for i in range(1, len(pieces), 2)}


def part(parts, start):
    matches = [text for heading, text in parts.items() if heading.startswith(start)]
    assert len(matches) == 1, f"no single part headed {start!r}: {list(parts)}"
    return matches[0]


def nm_address(name):
    return symbol_address(BUILD / "kernel" / "kernel.elf", name)


def test_every_part_is_there_in_order(parts):
    starts = ["kernel ELF header", "kernel functions", "kernel entry", "start of kernel_main",
              "disk image layout", "loader sizes"]
    headings = list(parts)
    assert [next(h for h in headings if h.startswith(s)) for s in starts] == \
        [h for h in headings if any(h.startswith(s) for s in starts)]
    for start in starts:
        part(parts, start)


def test_output_is_plain_text_when_piped(report):
    assert "\x1b" not in report.stdout
    # The build's own lines go to stderr, so stdout is only the report.
    assert "disk image ready" not in report.stdout
    assert "disk image ready" in report.stderr


def test_elf_headers_program_headers_and_sections(parts):
    text = part(parts, "kernel ELF header")
    for title in ("ELF Header:", "Program Headers:", "Section Headers:"):
        assert title in text
    entry = int(re.search(r"Entry point address:\s+0x([0-9a-f]+)", text).group(1), 16)
    assert entry == nm_address("kernel_entry")
    for section in (".text", ".rodata", ".data", ".bss"):
        assert re.search(rf"\] {re.escape(section)}\s", text), section


def test_symbols_are_code_sorted_by_address_with_a_note(parts):
    text = part(parts, "kernel functions")
    rows = re.findall(r"^([0-9a-f]{16}) ([A-Za-z]) (\S+)$", text, re.M)
    assert {kind for _, kind, _ in rows} <= {"T", "t"}
    addresses = [int(address, 16) for address, _, _ in rows]
    assert addresses == sorted(addresses)
    names = {name: int(address, 16) for address, _, name in rows}
    for function in ("kernel_entry", "kernel_main", "kprintf", "memory_init"):
        assert names[function] == nm_address(function), function
    # Abridged, and it says what it left out and how to see everything.
    assert not any(name.startswith(("ktest_body_", "interrupt_stub_")) for name in names)
    assert re.search(r"\d+ in-kernel test bodies", text)
    assert re.search(r"\d+ interrupt stubs", text)
    assert re.search(r"nm -n \S*kernel\.elf", text)


def test_entry_disassembly_names_kernel_entry(parts):
    text = part(parts, "kernel entry")
    assert re.search(r"^0*100000 <kernel_entry>:$", text, re.M), text
    assert re.search(r"\bcall\s+[0-9a-f]+ <kernel_main>", text), text
    assert "<kernel_entry.halt>:" in text      # the whole entry, up to the next symbol
    assert "interrupt_stub" not in text


def test_kernel_main_is_shown_from_its_start(parts):
    text = part(parts, "start of kernel_main")
    address = nm_address("kernel_main")
    assert re.search(rf"^0*{address:x} <kernel_main>:$", text, re.M), text
    instructions = re.findall(r"^ *[0-9a-f]+:\t", text, re.M)
    assert 1 <= len(instructions) <= 16
    assert re.search(r"more instructions to the end of kernel_main", text)


def test_image_layout_is_mkimage_info(parts, mkimage):
    text = part(parts, "disk image layout")
    info = subprocess.run([str(mkimage), "info", str(BUILD / "disk.img")],
                          capture_output=True, text=True, check=True).stdout
    # The same report, whatever path it names the image by.
    assert text.strip().splitlines()[1:] == info.strip().splitlines()[1:]
    assert "result: ok" in text


def stage1_code_end_from_listing():
    """One past the last byte the listing assembles before the disk address
    packet, not counting `times` padding: continuation lines have their own
    offsets, and runs are written "00<rep Nh>"."""
    end = 0
    listing = (BUILD / "bootloader" / "stage1.lst").read_text()
    for match in re.finditer(r"^ *\d+ ([0-9A-F]{8}) ([0-9A-F]+)(?:<rep ([0-9A-F]+)h>)?-? *(.*)$",
                             listing, re.M):
        offset, data, repeat, source = match.groups()
        if source.lstrip().startswith("times"):
            continue
        length = int(repeat, 16) if repeat else len(data) // 2
        if int(offset, 16) < 0x1A8:
            end = max(end, int(offset, 16) + length)
    return end


def test_stage1_size_matches_the_binary_and_listing(parts):
    text = part(parts, "loader sizes")
    match = re.search(r"^stage 1: (\d+) of 424 bytes before the disk address packet "
                      r"\(446-byte MBR code area\)$", text, re.M)
    assert match, text
    used = int(match.group(1))
    binary = (BUILD / "bootloader" / "stage1.bin").read_bytes()
    assert len(binary) == 512
    assert used <= 0x1A8
    assert binary[used:0x1A8] == bytes(0x1A8 - used), "bytes counted as padding are not zero"
    last_nonzero = max(i for i in range(0x1A8) if binary[i])
    assert used > last_nonzero
    assert used == stage1_code_end_from_listing()


def test_stage2_size_matches_the_binary_and_limit(parts):
    text = part(parts, "loader sizes")
    match = re.search(r"^stage 2: (\d+) bytes, (\d+) of (\d+) sectors", text, re.M)
    assert match, text
    size, sectors, limit = map(int, match.groups())
    assert size == (BUILD / "bootloader" / "stage2.bin").stat().st_size
    assert sectors == -(-size // 512)
    fields = (ROOT / "bootloader" / "loader_fields.inc").read_text()
    assert limit == int(re.search(r"^STAGE2_MAX_SECTORS\s+equ\s+(\d+)", fields, re.M).group(1))
    assert sectors <= limit


def test_headings_are_bold_only_on_a_terminal():
    env = dict(os.environ, TERM="xterm")
    env.pop("NO_COLOR", None)
    child = pexpect.spawn(str(ROOT / "image" / "inspect.sh"), [str(BUILD)],
                          env=env, encoding="utf-8",
                          timeout=60, dimensions=(50, 200))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert "\x1b[1m==== loader sizes" in child.before


def test_extra_arguments_are_refused():
    result = subprocess.run([str(ROOT / "build.sh"), "inspect", "extra"],
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "inspect takes no arguments" in result.stderr
