"""Which packages build.sh installs, on a machine made of stubs.

build.sh is sourced by bash (it then only defines its functions) with a
PATH that holds nothing but stub programs: the tools a test says are
installed, and an `apt-get`, `sudo` and `id` that record how they were
called. Files (headers, Bochs's BIOS) are looked up under a fake root
directory instead of /, by redefining build.sh's one file probe,
have_file. Nothing is installed for real.
"""
import re
import subprocess

import pytest

from support.paths import ROOT

BASH = "/bin/bash"

# Programs the package checks themselves run, taken from the host.
HOST_TOOLS = ("dirname", "realpath", "sort", "uname", "env", "grep", "cat")

# Everything each command needs on a machine that has nothing: the
# specification these tests hold build.sh to.
BUILD = {"make", "nasm", "gcc", "libc6-dev", "binutils"}
QEMU = {"qemu-system-x86"}
GDB = {"gdb", "python3"}
BOCHS = {"bochs", "bochsbios", "vgabios", "bochs-term", "python3"}
PYTEST = {"python3", "python3-pytest", "python3-pexpect", "python3-pytest-xdist"}
FUZZ = {"clang", "libclang-rt-dev"}
NEEDS_ON_A_BARE_MACHINE = {
    "build": BUILD,
    "run": BUILD | QEMU,
    "test": BUILD | QEMU | GDB | BOCHS | PYTEST | {"libcmocka-dev", "e2fsprogs", "clang-format", "grub-pc-bin", "xxd", "netpbm"} | FUZZ,
    "debug": BUILD | QEMU | GDB,
    "bochs": BUILD | BOCHS,
    "fresh-test": {"debootstrap", "git"},
    "lab": {"python3", "git"},
    "grade": BUILD | QEMU | {"python3"},
    "docs": BUILD | QEMU | GDB | BOCHS | PYTEST | {"xxd"},
    "pictures": BUILD | QEMU | {"python3", "netpbm"},
    "fuzz": BUILD | FUZZ,
}
NEEDS_ON_A_BARE_MACHINE["deps"] = set().union(*NEEDS_ON_A_BARE_MACHINE.values())

# The stub programs and files of a machine that has everything.
ALL_PROGRAMS = ("make", "nasm", "cc", "gcc", "ld", "objcopy", "ar", "nm", "objdump",
                "qemu-system-x86_64", "gdb", "python3", "bochs", "debootstrap", "git", "mkfs.ext2",
                "clang", "ld.lld", "llvm-objcopy", "llvm-ar", "llvm-nm", "clang-format",
                "grub-mkimage", "xxd", "pnmtopng")
ALL_FILES = ("usr/include/stdio.h", "usr/include/cmocka.h",
             "usr/lib/gcc/x86_64-linux-gnu/12/libasan.so", "usr/lib/gcc/x86_64-linux-gnu/12/libubsan.so",
             "usr/lib/grub/i386-pc/boot.img",
             "usr/share/bochs/BIOS-bochs-latest", "usr/share/bochs/VGABIOS-lgpl-latest",
             "usr/lib/x86_64-linux-gnu/bochs/plugins/libbx_term_gui.so",
             "usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a",
             # last: tests drop it with ALL_FILES[:-1]
             "usr/lib/x86_64-linux-gnu/bochs/plugins/libbx_x_gui.so")

# What the stub qemu-system-x86_64 answers to `-display help`.
QEMU_WITH_GTK = "Available display backend types:\nnone\ngtk\n"


class Machine:
    """A PATH of stubs and a fake root; run() calls build.sh functions there."""

    def __init__(self, tmp_path, programs=(), files=(), uid=0, apt=True, sudo=True):
        self.bin = tmp_path / "bin"
        self.root = tmp_path / "root"
        self.log = tmp_path / "calls.log"
        self.bin.mkdir(parents=True)
        self.root.mkdir()
        for tool in HOST_TOOLS:
            (self.bin / tool).symlink_to(subprocess.run(
                [BASH, "-c", f"command -v {tool}"], capture_output=True, text=True,
                check=True).stdout.strip())
        for program in programs:
            self.stub(program, "exit 0")
        for name in files:
            (self.root / name).parent.mkdir(parents=True, exist_ok=True)
            (self.root / name).touch()
        self.stub("id", f'[ "$1" = -u ] && echo {uid}')
        if apt:
            self.stub("apt-get", f'echo "apt-get $*" >> {self.log}')
        if sudo:
            self.stub("sudo", f'echo "sudo $1" >> {self.log}; exec "$@"')

    def stub(self, name, body):
        path = self.bin / name
        path.write_text(f"#!{BASH}\n{body}\n")
        path.chmod(0o755)

    def run(self, script, **env):
        """Source build.sh and run SCRIPT (bash) on this machine."""
        prelude = (f'source {ROOT / "build.sh"}\n'
                   f'have_file() {{ compgen -G "{self.root}$1" >/dev/null; }}\n')
        environment = {"PATH": str(self.bin), "HOME": str(self.root),
                       "BUILD_DIR": str(self.root / "build"), **env}
        return subprocess.run([BASH, "-c", prelude + script], env=environment,
                              capture_output=True, text=True, timeout=60)

    def calls(self):
        return self.log.read_text().splitlines() if self.log.exists() else []

    def installed(self):
        """The package lists of every `apt-get install` call."""
        return [line.split("--no-install-recommends", 1)[1].split()
                for line in self.calls() if re.match(r"apt-get .*install ", line)]


@pytest.mark.parametrize("command", sorted(NEEDS_ON_A_BARE_MACHINE))
def test_a_bare_machine_gets_everything_in_one_install(tmp_path, command):
    machine = Machine(tmp_path)
    result = machine.run(f"ensure {command}")
    assert result.returncode == 0, result.stderr
    installs = machine.installed()
    assert len(installs) == 1, machine.calls()
    assert sorted(installs[0]) == sorted(NEEDS_ON_A_BARE_MACHINE[command])
    assert sum("apt-get" in c and "update" in c for c in machine.calls()) == 1
    assert "installing missing packages: " + " ".join(installs[0]) in result.stdout


@pytest.mark.parametrize("command", sorted(NEEDS_ON_A_BARE_MACHINE))
def test_nothing_is_installed_when_everything_is_there(tmp_path, command):
    machine = Machine(tmp_path, programs=ALL_PROGRAMS, files=ALL_FILES)
    machine.stub("qemu-system-x86_64", f"printf '{QEMU_WITH_GTK}'")
    for settings in ({}, {"DISPLAY": ":0"}, {"TOOLCHAIN": "llvm"}):
        result = machine.run(f"ensure {command}", **settings)
        assert result.returncode == 0, result.stderr
        assert "installing" not in result.stdout
    assert machine.calls() == []


def test_only_the_missing_package_is_installed(tmp_path):
    machine = Machine(tmp_path, programs=[p for p in ALL_PROGRAMS if p != "nasm"],
                      files=ALL_FILES)
    result = machine.run("ensure test")
    assert result.returncode == 0, result.stderr
    assert machine.installed() == [["nasm"]]


@pytest.mark.parametrize("runtime", ["libasan.so", "libubsan.so"])
def test_a_compiler_without_the_sanitizer_runtimes_gets_gcc(tmp_path, runtime):
    """The tests' sanitizer builds link GCC's sanitizer runtimes: a cc
    without them is enough to build, not to test."""
    machine = Machine(tmp_path, programs=ALL_PROGRAMS,
                      files=[f for f in ALL_FILES if not f.endswith("/" + runtime)])
    machine.stub("qemu-system-x86_64", f"printf '{QEMU_WITH_GTK}'")
    result = machine.run("ensure build")
    assert result.returncode == 0, result.stderr
    assert machine.installed() == []
    result = machine.run("ensure test")
    assert result.returncode == 0, result.stderr
    assert machine.installed() == [["gcc"]]


def test_a_display_adds_the_windows(tmp_path):
    machine = Machine(tmp_path, programs=ALL_PROGRAMS, files=ALL_FILES[:-1])
    machine.stub("qemu-system-x86_64", "printf 'Available display backend types:\\nnone\\n'")
    result = machine.run("ensure run; ensure bochs", DISPLAY=":0")
    assert result.returncode == 0, result.stderr
    assert machine.installed() == [["qemu-system-gui"], ["bochs-x"]]
    # Without a display neither window is wanted.
    machine.log.unlink()
    assert machine.run("ensure run; ensure bochs").returncode == 0
    assert machine.calls() == []


def test_the_llvm_toolchain_needs_clang_lld_and_llvm(tmp_path):
    machine = Machine(tmp_path)
    result = machine.run("ensure build", TOOLCHAIN="llvm")
    assert result.returncode == 0, result.stderr
    assert sorted(machine.installed()[0]) == sorted(
        {"make", "nasm", "gcc", "libc6-dev", "binutils", "clang", "lld", "llvm"})


def test_a_user_installs_through_sudo(tmp_path):
    machine = Machine(tmp_path, uid=1000)
    result = machine.run("ensure build")
    assert result.returncode == 0, result.stderr
    sudo = [c for c in machine.calls() if c.startswith("sudo")]
    assert len(sudo) == 2 and all(c == "sudo env" for c in sudo), machine.calls()
    assert len(machine.installed()) == 1


def test_a_user_without_sudo_is_told_to_install_as_root(tmp_path):
    machine = Machine(tmp_path, uid=1000, sudo=False)
    result = machine.run("ensure build")
    assert result.returncode == 1
    assert machine.calls() == []
    assert re.search(r"missing packages: .*Install them as root: apt-get install "
                     r"(\S+ )*nasm", result.stderr), result.stderr


def test_without_apt_get_the_packages_are_named(tmp_path):
    machine = Machine(tmp_path, apt=False)
    result = machine.run("ensure test")
    assert result.returncode == 1
    assert machine.calls() == []
    assert "build.sh: error: missing packages (Debian names): " in result.stderr
    named = result.stderr.split("(Debian names): ", 1)[1].splitlines()[0].split()
    assert sorted(named) == sorted(NEEDS_ON_A_BARE_MACHINE["test"])
    for system in ("Fedora:", "Arch:", "macOS:"):
        assert system in result.stderr


def test_a_failed_install_says_what_to_install(tmp_path):
    machine = Machine(tmp_path)
    machine.stub("apt-get", '[ "$*" != "${*#*install}" ] && exit 100; exit 0')
    result = machine.run("ensure build")
    assert result.returncode == 1
    assert "apt-get install failed; install these packages by hand: " in result.stderr


def test_deps_through_the_command_line(tmp_path):
    """`./build.sh deps` itself, not the sourced functions."""
    machine = Machine(tmp_path, programs=ALL_PROGRAMS, files=ALL_FILES)
    result = subprocess.run([BASH, str(ROOT / "build.sh"), "deps"],
                            env={"PATH": str(machine.bin)}, capture_output=True, text=True)
    # /usr/include/stdio.h and friends are looked up on the real machine
    # here; what matters is the one call and the closing line.
    assert result.returncode == 0, result.stderr
    assert len(machine.installed()) <= 1
    assert "all packages for building, running, testing and debugging are installed" in result.stdout
    bad = subprocess.run([BASH, str(ROOT / "build.sh"), "deps", "extra"],
                         env={"PATH": str(machine.bin)}, capture_output=True, text=True)
    assert bad.returncode == 1 and "deps takes no arguments" in bad.stderr


def readme_requirements():
    """The package names in the README's Requirements list (backquoted
    words of its bullet points)."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Requirements\n", 1)[1].split("\n## ", 1)[0]
    bullets = [line for line in section.splitlines() if line.startswith(("- ", "  "))]
    return set(re.findall(r"`([a-z0-9][a-z0-9.+-]*)`", "\n".join(bullets)))


def test_the_readme_lists_every_package_build_sh_installs(tmp_path):
    """Everything any command can install, on a bare machine with a display
    and with either toolchain, is what the README's Requirements name."""
    wanted = set()
    for toolchain, display in (("gnu", ""), ("llvm", ":0")):
        machine = Machine(tmp_path / toolchain)
        result = machine.run("packages_missing_for deps", TOOLCHAIN=toolchain, DISPLAY=display)
        assert result.returncode == 0, result.stderr
        wanted |= set(result.stdout.split())
    assert wanted == readme_requirements()
