"""The kernel's own symbol table (kernel/cpu/symbols.h, built by the
two-pass link in kernel/Makefile): placed after everything else, holding
exactly the text symbols of the kernel sorted by address, and the build
refuses a linker script that lets the table move other symbols."""
import shutil
import struct
import subprocess

from support.paths import BUILD, ROOT
from support.symbols import nm_symbols

KERNEL_ELF = BUILD / "kernel" / "kernel.elf"
ENTRY = struct.Struct("<QQ")       # struct kernel_symbol: address, name pointer


def sections(elf):
    """name -> (address, file offset, size) of the allocated sections."""
    out = subprocess.run(["readelf", "-SW", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    found = {}
    for line in out.splitlines():
        parts = line.replace("[ ", "[").split()
        if len(parts) > 7 and parts[0].startswith("[") and parts[1].startswith("."):
            name, address, offset, size, flags = parts[1], parts[3], parts[4], parts[5], parts[7]
            if "A" in flags:
                found[name] = (int(address, 16), int(offset, 16), int(size, 16))
    return found


def text_symbols(elf):
    out = subprocess.run(["nm", "-n", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    return [(int(a, 16), n) for a, t, n in (line.split() for line in out.splitlines()
                                             if len(line.split()) == 3) if t in "tT"]


def test_symbol_table_is_last_and_complete():
    table = sections(KERNEL_ELF)
    assert ".ksymtab" in table, table
    address, offset, size = table[".ksymtab"]
    assert address == max(a for a, _, _ in table.values()), \
        f".ksymtab at {address:#x} is not the last section: {table}"

    # linker.ld: the entries between __ksymtab_start and __ksymtab_end,
    # then their names, all in the output section .ksymtab.
    symbols = {s.name: s.address for s in nm_symbols(KERNEL_ELF)}
    start, end = symbols["__ksymtab_start"], symbols["__ksymtab_end"]
    assert start == address and end <= address + size

    image = KERNEL_ELF.read_bytes()
    entries = [ENTRY.unpack_from(image, offset + i) for i in range(0, end - start, ENTRY.size)]

    def name_at(pointer):
        assert end <= pointer < address + size, hex(pointer)
        position = offset + (pointer - address)
        return image[position:image.index(b"\0", position)].decode()

    in_table = [(a, name_at(p)) for a, p in entries]
    # The table's own labels are data symbols; every text symbol is listed.
    assert in_table == text_symbols(KERNEL_ELF)
    assert [a for a, _ in in_table] == sorted(a for a, _ in in_table)
    assert any(name == "kernel_main" for _, name in in_table)


def test_build_fails_when_the_table_moves_other_symbols(tmp_path):
    """A linker script that puts the names first in .text shifts everything
    after it between the two links: the build must stop, saying so."""
    source = tmp_path / "src"
    for part in ("kernel", "libk"):
        shutil.copytree(ROOT / part, source / part)
    script = source / "kernel" / "linker.ld"
    text = script.read_text()
    anchor = "*(.text.entry)"
    assert anchor in text
    script.write_text(text.replace(anchor, "*(.ksymtab_names)\n        " + anchor))
    build = tmp_path / "build"
    make = ["make", "--no-print-directory", "-j2", f"BUILD={build}"]
    subprocess.run(make + ["-C", str(source / "libk"), "kernel"], check=True, capture_output=True)
    result = subprocess.run(make + ["-C", str(source / "kernel")], capture_output=True, text=True)
    assert result.returncode != 0, result.stdout
    assert "the symbol table moved other symbols" in result.stderr, result.stderr
    assert not (build / "kernel" / "kernel.elf").exists()
