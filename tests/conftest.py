"""Shared pytest fixtures: where the source tree and the build output are.

`./build.sh test` builds everything first and points BUILD_DIR at the build
directory; running pytest by hand works the same after `./build.sh build`.
"""
import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUILD = pathlib.Path(os.environ.get("BUILD_DIR", ROOT / "build")).resolve()

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def build_dir():
    return BUILD


@pytest.fixture(scope="session")
def mkimage():
    tool = BUILD / "image" / "mkimage"
    if not tool.exists():
        pytest.fail(f"{tool} is missing: run ./build.sh build first")
    return tool


def build_image(out, *, kernel=None, cmdline="qemu-exit", force=False):
    """Make a disk image with mkimage from the built loader and a kernel
    (ours, stripped, by default). Returns the image path."""
    import subprocess
    cmd = [str(BUILD / "image" / "mkimage"), "build",
           "--stage1", str(BUILD / "bootloader" / "stage1.bin"),
           "--stage2", str(BUILD / "bootloader" / "stage2.bin"),
           "--kernel", str(kernel or BUILD / "kernel" / "kernel-stripped.elf"),
           "--cmdline", cmdline, "-o", str(out)]
    if force:
        cmd.append("--force")
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, f"mkimage failed:\n{result.stdout}{result.stderr}"
    return pathlib.Path(out)


@pytest.fixture(scope="session")
def exit_image(tmp_path_factory):
    """Our kernel with the command line `qemu-exit`: it ends the VM when done."""
    return build_image(tmp_path_factory.mktemp("image") / "exit.img")
