"""The loader (NASM) and the C code must agree on every shared layout.

Two pairs of files describe the same bytes:
  bootloader/boot_info.inc      <-> kernel/boot_info.h        (what the kernel gets)
  bootloader/loader_fields.inc  <-> image/loader_fields.h     (what mkimage fills in)
For each pair we ask NASM for the offset of every `struc` field and the C
compiler for offsetof/sizeof of the member with the same name, and compare
the constants defined on both sides. Nothing is parsed by hand except the
field and constant names.
"""
import re
import subprocess

import pytest

from support.paths import ROOT
from support.sources import BOOT_INFO_INC, MEMORY_LAYOUT_INC, nasm_structs, nasm_values

PAIRS = [
    ("bootloader/boot_info.inc", "kernel/boot_info.h"),
    ("bootloader/loader_fields.inc", "image/loader_fields.h"),
]


def nasm_constants(inc_text):
    return re.findall(r"^(\w+)\s+equ\b", inc_text, re.M)


def c_values(tmp_path, header, expressions):
    """Evaluate expressions with the host C compiler, after including `header`."""
    source = tmp_path / "probe.c"
    lines = [f'#include "{header}"', "#include <stddef.h>", "#include <stdio.h>",
             "int main(void) {"]
    lines += [f'    printf("%llu\\n", (unsigned long long)({expr}));' for expr in expressions]
    lines += ["    return 0;", "}"]
    source.write_text("\n".join(lines) + "\n")
    exe = tmp_path / "probe"
    subprocess.run(["cc", "-std=c11", "-Wall", "-Werror", "-o", str(exe), str(source)], check=True)
    output = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    return [int(v) for v in output.split()]


def c_defines(header_text, name):
    return re.search(rf"(#define\s+{name}\b|\b{name}\s*=)", header_text) is not None


@pytest.mark.parametrize("inc_path, header_path", PAIRS)
def test_struct_layouts_agree(tmp_path, inc_path, header_path):
    inc = ROOT / inc_path
    header = ROOT / header_path
    structs = nasm_structs(inc.read_text())
    assert structs, f"no struc found in {inc_path}"
    for name, fields in structs.items():
        assert fields, name
        nasm = nasm_values([inc], [f"{name}.{f}" for f in fields] + [f"{name}_size"], tmp_path)
        c_exprs = [f"offsetof(struct {name}, {f})" for f in fields]
        c_exprs += [f"sizeof(((struct {name} *)0)->{f})" for f in fields]
        c_exprs += [f"sizeof(struct {name})"]
        c = c_values(tmp_path, header, c_exprs)
        offsets, sizes, total = c[:len(fields)], c[len(fields):-1], c[-1]
        assert total == nasm[-1], f"struct {name}: C says {total} bytes, NASM {nasm[-1]}"
        ends = nasm[1:]   # each NASM field ends where the next starts
        for i, field in enumerate(fields):
            assert offsets[i] == nasm[i], \
                f"{name}.{field}: C offset {offsets[i]}, NASM offset {nasm[i]}"
            assert sizes[i] == ends[i] - nasm[i], \
                f"{name}.{field}: C size {sizes[i]}, NASM size {ends[i] - nasm[i]}"


@pytest.mark.parametrize("inc_path, header_path", PAIRS)
def test_shared_constants_agree(tmp_path, inc_path, header_path):
    inc = ROOT / inc_path
    header = ROOT / header_path
    header_text = header.read_text()
    shared = [n for n in nasm_constants(inc.read_text()) if c_defines(header_text, n)]
    assert len(shared) >= 4, f"expected {inc_path} and {header_path} to share constants"
    assert nasm_values([inc], shared, tmp_path) == c_values(tmp_path, header, shared), shared


def test_boot_info_fits_its_page(tmp_path):
    """Stage 2 clears and fills one 4 KiB page at BOOT_INFO_ADDRESS."""
    size, area = nasm_values([BOOT_INFO_INC, MEMORY_LAYOUT_INC],
                             ["boot_info_size", "BOOT_INFO_AREA_SIZE"], tmp_path)
    assert size <= area
