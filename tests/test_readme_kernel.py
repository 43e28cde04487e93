"""README.md, "Bring your own kernel": the minimal kernel it shows is built
with exactly its files and commands, and boots.

The NASM source and the linker script are the section's ```nasm and ```ld
blocks; the ```sh block's commands run one by one in a scratch directory
(build/... standing for this build's directory), the last one being QEMU,
which must end with the kernel's exit status. The one-line ld alternative
the section gives is linked and accepted too, and the -Ttext=0x100000 it
warns against gets mkimage's explanation.
"""
import re
import shlex
import subprocess

import pytest

from support.paths import BUILD, ROOT

README = ROOT / "README.md"
SECTION = "## Bring your own kernel"
QEMU_TIMEOUT_SECONDS = 60
KERNEL_EXIT_STATUS = 33                 # the kernel writes 0x10 to isa-debug-exit
GREETING = "Hello from my kernel"


def section_text():
    text = README.read_text()
    start = text.index(SECTION + "\n")
    end = text.find("\n## ", start + len(SECTION))
    return text[start:end if end != -1 else len(text)]


def blocks(kind):
    return re.findall(rf"^```{kind}\n(.*?)^```$", section_text(), re.M | re.S)


def arguments(command):
    """The command's words, build/... pointing into this build."""
    return [str(BUILD / word.removeprefix("build/")) if word.startswith("build/") else word
            for word in shlex.split(command)]


def run(command, directory, **kwargs):
    return subprocess.run(arguments(command), cwd=directory, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, **kwargs)


@pytest.fixture
def sources(tmp_path):
    [asm] = blocks("nasm")
    [script] = blocks("ld")
    (tmp_path / "hello.asm").write_text(asm)
    (tmp_path / "hello.ld").write_text(script)
    return tmp_path


def commands():
    [shell] = blocks("sh")
    return [line for line in shell.splitlines() if line.strip()]


def test_readme_kernel_builds_and_boots(sources):
    *build_steps, qemu = commands()
    assert qemu.startswith("qemu-system-x86_64 "), qemu
    for step in build_steps:
        result = run(step, sources)
        assert result.returncode == 0, f"{step}\n{result.stdout}{result.stderr}"
    result = run(qemu, sources, timeout=QEMU_TIMEOUT_SECONDS)
    assert result.returncode == KERNEL_EXIT_STATUS, result.stdout + result.stderr
    assert GREETING in result.stdout, result.stdout


def test_readme_boot_command_is_the_tested_one():
    """The generic QEMU command further down is the one that just ran,
    for another image."""
    qemu = commands()[-1]
    generic = qemu.replace("file=hello.img", "file=my-disk.img")
    assert f"```\n{generic}\n```" in section_text(), generic


def linked_with(sources, ld_command):
    """Assemble as the README does, link with `ld_command`, run mkimage."""
    assemble, _, mkimage_step, _ = commands()
    assert run(assemble, sources).returncode == 0
    linked = run(ld_command, sources)
    assert linked.returncode == 0, linked.stderr
    return run(mkimage_step, sources)


def test_readme_one_line_link_is_accepted(sources):
    [one_line] = re.findall(r"`(ld [^`]*-Ttext-segment=[^`]*)`", section_text())
    result = linked_with(sources, one_line)
    assert result.returncode == 0, result.stderr


def test_ttext_gets_explained(sources):
    """ld -Ttext=0x100000 adds a segment for the ELF headers at 0xFF000;
    mkimage says so and what to do instead."""
    [one_line] = re.findall(r"`(ld [^`]*-Ttext-segment=[^`]*)`", section_text())
    result = linked_with(sources, one_line.replace("-Ttext-segment=", "-Ttext="))
    assert result.returncode == 1, result.stderr
    assert ("segment 0 at 0xFF000 holds the ELF header and program headers (file offset 0)"
            in result.stderr), result.stderr
    assert "link with -Ttext-segment=0x100000 instead, or with a linker script" in result.stderr
