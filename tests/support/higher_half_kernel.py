"""The kernel in tests/higher_half_kernel/: a NASM kernel linked at
0xFFFFFFFF80100000 and loaded at 0x100000. Its tests are
tests/test_higher_half_kernel.py; the Bochs tests boot it too."""
from support.paths import ROOT
from support.tools import run_tool

SOURCE_DIR = ROOT / "tests" / "higher_half_kernel"
KERNEL_VIRTUAL_BASE = 0xFFFF_FFFF_8000_0000        # higher_half.ld: p_vaddr - p_paddr
PREFIX = "higher-half kernel: "
# The checks it reports, in order; then "all checks passed".
CHECKS = ["virtual", "boot info", "identity", "permissions text", "permissions rodata",
          "permissions data"]
EXPECTED_LINES = [f"{check} ok" for check in CHECKS] + ["all checks passed"]


def build_higher_half_kernel(out_dir, defines=()):
    """Assemble and link the kernel; returns the ELF path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    obj, elf = out_dir / "higher_half.o", out_dir / "higher_half.elf"
    run_tool(["nasm", "-f", "elf64", *[f"-D{d}" for d in defines], "-o", obj,
              SOURCE_DIR / "higher_half.asm"])
    run_tool(["ld", "-nostdlib", "-static", "-z", "max-page-size=0x1000",
              "-T", SOURCE_DIR / "higher_half.ld", "-o", elf, obj])
    return elf


def kernel_lines(result):
    """What the kernel printed, without its prefix."""
    return [line.removeprefix(PREFIX) for line in result.lines() if line.startswith(PREFIX)]
