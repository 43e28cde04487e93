"""The kernel and libk were compiled by the toolchain build.sh says it
chose (BUILD_DIR/toolchain.txt), and by no other compiler: compilers sign
each object in its .comment section and each compilation unit's debug
information (DW_AT_producer)."""
import re
import subprocess

from support.paths import BUILD

GCC = "GNU C"              # DW_AT_producer: "GNU C11 12.2.0 -mno-red-zone ..."
CLANG = "clang version"    # DW_AT_producer: "Debian clang version 14.0.6"
COMPILER = {"gnu": GCC, "cross": GCC, "llvm": CLANG}


def producers(elf):
    out = subprocess.run(["readelf", "--debug-dump=info", str(elf)], capture_output=True,
                         text=True, check=True).stdout
    return set(re.findall(r"DW_AT_producer\s*:\s*(?:\(indirect string, offset: \S+\): )?(.*)", out))


def test_every_compilation_unit_comes_from_the_chosen_compiler():
    toolchain = (BUILD / "toolchain.txt").read_text().strip()
    wanted = COMPILER[toolchain]
    found = producers(BUILD / "kernel" / "kernel.elf")
    # NASM's units (entry.asm, the interrupt stubs) name NASM.
    compiled = {p for p in found if not p.startswith("NASM")}
    assert compiled, found
    strangers = {p for p in compiled if wanted not in p}
    assert not strangers, f"TOOLCHAIN={toolchain}, yet compiled by: {strangers}"
    # libk's objects, linked into the kernel, are among them.
    assert any(wanted in p for p in producers(BUILD / "libk" / "printf.o"))
