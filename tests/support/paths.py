"""Where the source tree and the build output are.

`./build.sh test` builds everything first and points BUILD_DIR at the build
directory; running pytest by hand works the same after `./build.sh build`.
"""
import os
import pathlib
import shlex

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("BUILD_DIR", ROOT / "build")).resolve()

# The kernel the test images boot: symbols stripped, as mkimage's default.
KERNEL_ELF = BUILD / "kernel" / "kernel-stripped.elf"

# The toolchain whose build the docs quote (addresses, sizes, transcripts:
# `./build.sh docs`). Another toolchain's kernel differs in every one of
# them by design, so the checks of quoted values run on this one's build.
DOCS_TOOLCHAIN = "gnu"


def build_toolchain():
    """The toolchain the build directory was made with (build.sh records it)."""
    recorded = BUILD / "toolchain.txt"
    return recorded.read_text().strip() if recorded.exists() else DOCS_TOOLCHAIN


def as_run_here(line):
    """The words of a shell line the docs show, with its build/ and tests/
    paths made absolute (the tests' BUILD_DIR may be elsewhere than build/),
    the other words as they are."""
    words = []
    for word in shlex.split(line):
        if word.startswith("build/"):
            word = str(BUILD / word.removeprefix("build/"))
        elif word.startswith("tests/"):
            word = str(ROOT / word)
        words.append(word)
    return words
