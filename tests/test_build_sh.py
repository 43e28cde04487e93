"""build.sh as a user meets it: help, bad commands, a clean and an
incremental build, and `run` on a terminal without a display."""
import os
import re
import shutil
import subprocess

import pexpect
import pytest

from support.paths import ROOT

BUILD_SH = str(ROOT / "build.sh")
# Lines of make's output that show a compiler or the image builder ran.
COMPILER_RAN = re.compile(r"^(nasm|gcc|cc|clang|ld|ar|objcopy|x86_64-elf-\w+) ", re.M)
MKIMAGE_RAN = re.compile(r'mkimage"? build ', re.M)


def run(*args, env=None, **kwargs):
    return subprocess.run([BUILD_SH, *args], capture_output=True, text=True,
                          env=env, **kwargs)


@pytest.fixture(scope="module")
def fresh_build(tmp_path_factory):
    """A clean build in a build directory of its own."""
    build = tmp_path_factory.mktemp("fresh-build")
    env = dict(os.environ, BUILD_DIR=str(build))
    env.pop("KERNEL_CMDLINE", None)
    first = run("build", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    return build, env, first


def test_help_lists_the_commands():
    result = run("help")
    assert result.returncode == 0
    for command in ("build", "run", "test", "deps", "clean", "help"):
        assert re.search(rf"^\s+\./build\.sh \[?{command}", result.stdout, re.M), result.stdout


def test_unknown_command_is_an_error():
    result = run("frobnicate")
    assert result.returncode == 2
    assert 'unknown command "frobnicate"' in result.stderr
    assert "./build.sh run" in result.stderr    # the usage follows


def test_pictures_refuses_an_unknown_name_before_building(tmp_path):
    """A misspelt picture name is refused at once, with the list of the
    pictures, and nothing is built or written."""
    env = dict(os.environ, BUILD_DIR=str(tmp_path / "build"))
    result = run("pictures", "NOPE", env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "no picture named NOPE" in result.stderr and "boot" in result.stderr, result.stderr
    assert not (tmp_path / "build").exists(), "build.sh built before checking the names"


def test_clean_build_makes_the_image(fresh_build):
    build, _, first = fresh_build
    assert (build / "disk.img").stat().st_size == 1 << 20
    assert (build / "kernel" / "kernel.elf").exists()
    assert "disk image ready" in first.stdout
    assert COMPILER_RAN.search(first.stdout), "a clean build ran no compiler?\n" + first.stdout
    assert MKIMAGE_RAN.search(first.stdout), first.stdout


def test_second_build_does_nothing(fresh_build):
    build, env, _ = fresh_build
    before = (build / "disk.img").stat().st_mtime_ns
    again = run("build", env=env)
    assert again.returncode == 0, again.stderr
    assert not COMPILER_RAN.search(again.stdout), "an unchanged build compiled:\n" + again.stdout
    assert not MKIMAGE_RAN.search(again.stdout), "an unchanged build made the image:\n" + again.stdout
    assert (build / "disk.img").stat().st_mtime_ns == before


def test_editing_an_include_reassembles_the_loader(tmp_path):
    # On a copy of the sources: touching the real include would rebuild the
    # loader under the feet of every test building in parallel.
    source = tmp_path / "source"
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    build_sh = str(source / "build.sh")
    env = dict(os.environ, BUILD_DIR=str(tmp_path / "build"))
    env.pop("KERNEL_CMDLINE", None)
    first = subprocess.run([build_sh, "build"], capture_output=True, text=True, env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    include = source / "bootloader" / "stage2" / "disk.inc"
    os.utime(include)                                # as if just edited
    again = subprocess.run([build_sh, "build"], capture_output=True, text=True, env=env)
    assert again.returncode == 0, again.stderr
    assert re.search(r"^nasm .*stage2\.asm", again.stdout, re.M), again.stdout
    assert not re.search(r"^nasm .*stage1\.asm", again.stdout, re.M), again.stdout
    assert MKIMAGE_RAN.search(again.stdout), again.stdout


def test_changed_command_line_rebuilds_only_the_image(fresh_build):
    build, env, _ = fresh_build
    changed = run("build", env=dict(env, KERNEL_CMDLINE="hello"))
    assert changed.returncode == 0, changed.stderr
    assert MKIMAGE_RAN.search(changed.stdout), changed.stdout
    assert not COMPILER_RAN.search(changed.stdout), changed.stdout
    assert b"hello\0" in (build / "disk.img").read_bytes()[:64 * 512]
    back = run("build", env=env)     # and back, for the tests after this one
    assert back.returncode == 0


def test_run_on_a_terminal_boots_and_quits(fresh_build):
    _, env, _ = fresh_build
    env = dict(env)
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    child = pexpect.spawn(BUILD_SH, ["run"], env=env, encoding="latin-1", timeout=60)
    try:
        child.expect("press Ctrl-A then X")
        child.expect("bootstack stage 2: loader started")
        child.expect("bootstack> ")
        child.send("\x01x")                 # QEMU's mon:stdio escape: Ctrl-A x quits
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, (child.exitstatus, child.signalstatus)


def test_relative_build_dir_is_taken_from_where_build_sh_runs(tmp_path):
    """BUILD_DIR=rel means ./rel from the caller's directory, for every
    component: not kernel/rel, libk/rel... inside the source tree."""
    env = dict(os.environ, BUILD_DIR="rel-build")
    env.pop("KERNEL_CMDLINE", None)
    result = subprocess.run([BUILD_SH, "build"], capture_output=True, text=True,
                            env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "rel-build" / "disk.img").exists()
    for part in ("bootloader", "libk", "kernel", "image", "tests"):
        assert not (ROOT / part / "rel-build").exists(), part


def test_a_build_directory_keeps_its_toolchain(tmp_path):
    """Objects of two compilers never mix: a build directory built with one
    toolchain refuses another, before compiling anything."""
    (tmp_path / "toolchain.txt").write_text("llvm\n")
    env = dict(os.environ, BUILD_DIR=str(tmp_path), TOOLCHAIN="gnu")
    result = run("build", env=env)
    assert result.returncode == 1
    assert (f"build.sh: error: {tmp_path} was built with TOOLCHAIN=llvm, not gnu: "
            "set BUILD_DIR to another directory, or run ./build.sh clean first") in result.stderr
    assert not COMPILER_RAN.search(result.stdout), result.stdout


def test_an_unknown_toolchain_is_refused():
    result = run("build", env=dict(os.environ, TOOLCHAIN="msvc"))
    assert result.returncode == 1
    assert "TOOLCHAIN=msvc: use cross (x86_64-elf-gcc), gnu (gcc and binutils) or llvm" in result.stderr
