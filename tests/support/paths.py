"""Where the source tree and the build output are.

`./build.sh test` builds everything first and points BUILD_DIR at the build
directory; running pytest by hand works the same after `./build.sh build`.
"""
import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("BUILD_DIR", ROOT / "build")).resolve()

# The kernel the test images boot: symbols stripped, as mkimage's default.
KERNEL_ELF = BUILD / "kernel" / "kernel-stripped.elf"
