"""The sources keep the formatting .clang-format and .editorconfig describe.

clang-format --dry-run --Werror reformats each C file in memory and fails
when the result differs from the file. Tables laid out by hand (the
keyboard's scancode rows) are fenced with clang-format off/on comments.
"""
import shutil
import subprocess

import pytest

from support.paths import ROOT

FORMATTED_DIRS = ["kernel", "libk", "image", "tests/unit", "tests/linux_init", "tests/fuzz"]


def clang_format():
    tool = shutil.which("clang-format")
    if tool is None:
        pytest.fail("clang-format is not installed: run ./build.sh deps")
    return tool


def c_files(directory):
    return sorted(str(path.relative_to(ROOT)) for pattern in ("*.c", "*.h")
                  for path in (ROOT / directory).rglob(pattern))


@pytest.mark.parametrize("directory", FORMATTED_DIRS)
def test_sources_are_formatted(directory):
    files = c_files(directory)
    assert files, f"no C files under {directory}/"
    result = subprocess.run([clang_format(), "--dry-run", "--Werror", *files], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, \
        f"not formatted as .clang-format says (run clang-format -i on them):\n{result.stderr}"


def test_the_check_sees_a_badly_formatted_file():
    """The same check on a function laid out against the style (two-space
    indent, brace on the same line) must fail, or the test above proves
    nothing; laid out in the style (which LLVM's default, two spaces, is
    not) it passes, so the style is the one in .clang-format."""
    badly_formatted = "int answer(void) {\n  return 42;\n}\n"
    result = subprocess.run([clang_format(), "--dry-run", "--Werror",
                             f"--assume-filename={ROOT / 'libk' / 'example.c'}"],
                            cwd=ROOT, input=badly_formatted, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0, result.stderr
    well_formatted = "int answer(void)\n{\n    return 42;\n}\n"
    result = subprocess.run([clang_format(), "--dry-run", "--Werror",
                             f"--assume-filename={ROOT / 'libk' / 'example.c'}"],
                            cwd=ROOT, input=well_formatted, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr


# ---- .editorconfig ---------------------------------------------------------------

# Files indented with spaces only, as .editorconfig says.
SPACE_INDENTED = (".c", ".h", ".asm", ".inc", ".ld", ".py", ".sh")


# The fuzzers' seed inputs are bytes, not text, even where they hold no
# NUL byte (.gitattributes marks them binary).
BINARY_DIRS = ("tests/fuzz/corpus/",)


def tracked_text_files():
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, capture_output=True, check=True).stdout.decode()
    for name in filter(None, out.split("\0")):
        if name.startswith(BINARY_DIRS):
            continue
        path = ROOT / name
        if path.is_file():
            data = path.read_bytes()
            if b"\0" not in data:
                yield name, data.decode()


def test_text_files_keep_the_editorconfig_rules():
    """Every text file ends with a newline and has no trailing blanks and
    no CR; C, NASM, linker scripts, Python and shell indent with spaces
    (make recipes keep their tab: make itself insists on it)."""
    problems = []
    for name, text in tracked_text_files():
        if text and not text.endswith("\n"):
            problems.append(f"{name}: no newline at the end")
        for number, line in enumerate(text.split("\n"), 1):
            if line != line.rstrip():
                problems.append(f"{name}:{number}: trailing blanks or CR")
            if name.endswith(SPACE_INDENTED) and line.startswith("\t"):
                problems.append(f"{name}:{number}: indented with a tab")
    assert not problems, "\n".join(problems[:50])

