"""The kernel in tests/foreign_kernel/: a small NASM kernel that shares no
code with ours, assembled, linked and put on a disk image. Its tests are
tests/test_foreign_kernel.py; the Bochs tests boot it too."""
from support.paths import BUILD, ROOT
from support.tools import run_tool

SOURCE_DIR = ROOT / "tests" / "foreign_kernel"
ASM_SOURCE = SOURCE_DIR / "foreign.asm"
LINKER_SCRIPT = SOURCE_DIR / "foreign.ld"

LD_FLAGS = ["-nostdlib", "-static", "-z", "max-page-size=0x1000"]
LAYOUTS = {
    "paged": [],
    "packed": ["-n"],       # no page alignment of sections in the file
}

MIB = 1024 * 1024
BSS_BYTES = 2 * MIB                      # foreign.asm BSS_BYTES

# What the kernel prints when every check passes, in order.
EXPECTED_LINES = [
    "foreign kernel: entry ok",
    "foreign kernel: boot info magic ok",
    "foreign kernel: boot info layout ok",   # followed by the addresses
    "foreign kernel: data ok",
    f"foreign kernel: bss ok ({BSS_BYTES} bytes zero)",
    "foreign kernel: guard ok",
    "foreign kernel: all checks passed",
]


def build_foreign_kernel(out_dir, layout, defines=()):
    """Assemble and link the kernel with the LAYOUTS entry `layout`;
    returns the ELF path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    obj = out_dir / "foreign.o"
    elf = out_dir / "foreign.elf"
    run_tool(["nasm", "-f", "elf64", *[f"-D{d}" for d in defines], "-o", obj, ASM_SOURCE])
    run_tool(["ld", *LD_FLAGS, *LAYOUTS[layout], "-T", LINKER_SCRIPT, "-o", elf, obj])
    return elf


def make_image(mkimage, kernel, out, force=False):
    """A disk image of the built loader and `kernel`, without a command line."""
    cmd = [mkimage, "build",
           "--stage1", BUILD / "bootloader" / "stage1.bin",
           "--stage2", BUILD / "bootloader" / "stage2.bin",
           "--kernel", kernel, "-o", out]
    if force:
        cmd.append("--force")
    run_tool(cmd)
    return out


def kernel_lines(result):
    """The lines the foreign kernel printed."""
    return [line for line in result.lines() if line.startswith("foreign kernel:")]
