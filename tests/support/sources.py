"""Values the loader's NASM sources define, evaluated by NASM itself, and
the plain numbers the kernel's C sources #define.

Tests compare what a boot printed with these rather than with numbers
copied into the tests, so that a change in the sources (a field added to
the boot information block, the page tables moved) needs no change here.
"""
import functools
import re
import struct
import subprocess
import tempfile
from pathlib import Path

from support.paths import ROOT

BOOT_INFO_INC = ROOT / "bootloader" / "boot_info.inc"
LOADER_FIELDS_INC = ROOT / "bootloader" / "loader_fields.inc"
MEMORY_LAYOUT_INC = ROOT / "bootloader" / "stage2" / "memory_layout.inc"


def nasm_structs(inc_text):
    """{struc name: [field names in order]} from the text of an .inc file."""
    structs = {}
    for name, body in re.findall(r"^struc (\w+)\n(.*?)^endstruc", inc_text, re.M | re.S):
        structs[name] = re.findall(r"^\s+\.(\w+):", body, re.M)
    return structs


def nasm_values(includes, expressions, work_dir=None):
    """Evaluate NASM expressions (constants, `struc.field` offsets,
    `struc_size`) after %including each file in `includes`; returns the
    values as integers, in order."""
    if work_dir is None:
        with tempfile.TemporaryDirectory(prefix="nasm-values-") as tmp:
            return nasm_values(includes, expressions, Path(tmp))
    source = Path(work_dir) / "probe.asm"
    source.write_text("".join(f'%include "{Path(inc).name}"\n' for inc in includes) +
                      "".join(f"dq {expr}\n" for expr in expressions))
    out = Path(work_dir) / "probe.bin"
    search = [f"-I{Path(inc).parent}/" for inc in includes]
    subprocess.run(["nasm", "-f", "bin", *search, "-o", str(out), str(source)], check=True)
    return list(struct.unpack(f"<{len(expressions)}Q", out.read_bytes()))


@functools.cache
def nasm_value(include, expression):
    """One value, as nasm_values; remembered for the rest of the run."""
    (value,) = nasm_values([include], [expression])
    return value


def c_define(path, name):
    """The number the C source at `path` #defines as NAME (a plain decimal
    or hexadecimal literal), read from the source itself."""
    found = re.search(rf"^#define {name} (0[xX][0-9a-fA-F]+|\d+)\b", path.read_text(), re.M)
    if not found:
        raise LookupError(f"{path.relative_to(ROOT)} defines no {name}")
    return int(found[1], 0)
