"""Disk images made with mkimage from the built loader and a kernel."""
import pathlib
import subprocess

from support.paths import BUILD, KERNEL_ELF


def build_image(out, *, kernel=None, cmdline="qemu-exit", force=False):
    """Make a disk image with mkimage from the built loader and a kernel
    (ours, stripped, by default). Returns the image path."""
    cmd = [str(BUILD / "image" / "mkimage"), "build",
           "--stage1", str(BUILD / "bootloader" / "stage1.bin"),
           "--stage2", str(BUILD / "bootloader" / "stage2.bin"),
           "--kernel", str(kernel or KERNEL_ELF),
           "--cmdline", cmdline, "-o", str(out)]
    if force:
        cmd.append("--force")
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, f"mkimage failed:\n{result.stdout}{result.stderr}"
    return pathlib.Path(out)
