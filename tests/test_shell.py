"""The kernel shell, driven from the host as a user would: over the serial
line (typed into QEMU's -serial stdio) and on the PS/2 keyboard (QEMU's
monitor `sendkey`). Each test boots the real image without `qemu-exit`, so
the kernel ends in its shell."""
import re
import socket
import time

import pexpect
import pytest

from support.images import build_image
from support.qemu import DEBUG_EXIT_PORT, qemu_binary
from support.sources import MEMORY_LAYOUT_INC, nasm_value

PROMPT = "bootstack> "
BOOT_TIMEOUT = 60
COMMAND_TIMEOUT = 20
COMMANDS = ["help", "mem", "mmap", "boot", "cpu", "ticks", "uptime", "pt", "fault",
            "reboot", "poweroff"]


@pytest.fixture(scope="module")
def shell_image(tmp_path_factory):
    return build_image(tmp_path_factory.mktemp("shell") / "shell.img", cmdline="")


KILL_GRACE_SECONDS = 2


class Machine:
    """A QEMU running our image, its serial line on a pexpect terminal and
    its monitor on a Unix socket."""

    def __init__(self, image, tmp_path, memory="128M"):
        self.monitor_path = str(tmp_path / "monitor.sock")
        command = [qemu_binary(), "-accel", "tcg", "-m", memory, "-display", "none",
                   "-no-reboot", "-nic", "none",
                   "-monitor", f"unix:{self.monitor_path},server,nowait",
                   # signal=off: a typed Ctrl-C goes to the guest, not to QEMU
                   "-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console",
                   "-snapshot",
                   "-drive", f"file={image},format=raw,if=ide",
                   "-device", f"isa-debug-exit,iobase={DEBUG_EXIT_PORT:#x},iosize=0x04"]
        self.child = pexpect.spawn(command[0], command[1:], encoding="latin-1",
                                   timeout=COMMAND_TIMEOUT)
        self.child.expect_exact(PROMPT, timeout=BOOT_TIMEOUT)

    def run(self, line):
        """Type a command on the serial line; return what it printed."""
        self.child.send(line + "\r")
        self.child.expect_exact(PROMPT)
        output = self.child.before.replace("\r", "")
        # The echo of the line comes first.
        assert output.startswith(line), output
        return output[len(line):]

    def monitor(self, command):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(self.monitor_path)
            s.settimeout(5)
            s.recv(4096)                          # the monitor's banner
            s.sendall(command.encode() + b"\n")
            time.sleep(0.2)
            return s.recv(65536).decode(errors="replace")

    def close(self):
        # pexpect gives a killed child 0.1 s to be gone before it reports
        # failure; on a busy machine QEMU can take longer to exit.
        self.child.delayafterterminate = KILL_GRACE_SECONDS
        self.child.close(force=True)


@pytest.fixture
def machine(shell_image, tmp_path):
    m = Machine(shell_image, tmp_path)
    yield m
    m.close()


def test_help_lists_every_command(machine):
    output = machine.run("help")
    for name in COMMANDS:
        assert re.search(rf"^  {name} ", output, re.M), output


def test_mem_reports_frames_and_heap(machine):
    output = machine.run("mem")
    frames = re.search(r"frames: (\d+) total, (\d+) free, (\d+) used", output)
    assert frames, output
    total, free, used = map(int, frames.groups())
    assert total == free + used and total > 20000, output   # 128 MiB: ~32k frames
    assert re.search(r"heap at 0x[0-9a-f]+: \d+ bytes mapped", output), output


def test_mmap_shows_raw_and_sanitised(machine):
    output = machine.run("mmap")
    assert "as the firmware reported it:" in output
    assert re.search(r"base 0x0000000000000000 length 0x000000000009fc00 type 1 usable", output)
    sanitised = re.search(r"sanitised .*: (\d+) ranges", output)
    assert sanitised and int(sanitised[1]) > 0, output


def test_boot_shows_loader_information(machine):
    output = machine.run("boot")
    address = nasm_value(MEMORY_LAYOUT_INC, "BOOT_INFO_ADDRESS")
    assert f"boot info: at 0x{address:016x}" in output
    assert "loader timestamps (TSC cycles since stage 2 start)" in output


def test_cpu_shows_long_mode_features(machine):
    output = machine.run("cpu")
    assert re.search(r"^vendor: \S+", output, re.M), output
    assert re.search(r"^  long mode +yes", output, re.M), output
    assert re.search(r"^  PAE +yes", output, re.M), output
    assert re.search(r"^  NX +(yes|no)", output, re.M), output


def test_ticks_and_uptime_advance(machine):
    first = int(re.search(r"(\d+) ticks at (\d+) Hz", machine.run("ticks"))[1])
    time.sleep(0.5)
    second = int(re.search(r"(\d+) ticks at", machine.run("ticks"))[1])
    assert second > first
    assert re.search(r"^up \d+\.\d{3} s$", machine.run("uptime"), re.M)


def test_pt_walks_the_page_tables(machine):
    output = machine.run("pt 0x100000")
    assert "PML4" in output and "PDPT" in output, output
    assert "pt: give one hexadecimal address" in machine.run("pt nothex")
    assert "pt: give one hexadecimal address" in machine.run("pt")


def test_bad_input_gets_a_helpful_message(machine):
    assert 'unknown command "frobnicate": type help for the list' in machine.run("frobnicate")
    assert "mem takes no arguments" in machine.run("mem please")
    assert "fault: choose one of: pf gp ud de df stack" in machine.run("fault nothing")
    assert machine.run("") == "\n"


def test_line_editing_backspace_and_ctrl_c(machine):
    machine.child.send("hepx\b\blp\r")          # "hepx", two backspaces, "lp"
    machine.child.expect_exact(PROMPT)
    assert re.search(r"^  mem ", machine.child.before.replace("\r", ""), re.M)
    machine.child.send("garbage\x03")            # Ctrl-C abandons the line
    machine.child.expect_exact("^C")
    machine.child.expect_exact(PROMPT)


LINE_MAX_CHARACTERS = 127     # kernel/shell/shell.c: LINE_MAX 128, one for the NUL
TOO_LONG = f"line too long (max {LINE_MAX_CHARACTERS} characters): ignored"


def test_a_line_too_long_is_refused_not_cut(machine):
    """Cutting `mem` + 130 spaces + `x` at 127 characters would run `mem`:
    the whole line is refused with a message and nothing runs."""
    machine.child.send("mem" + " " * 130 + "x\r")
    machine.child.expect_exact(PROMPT)
    output = machine.child.before.replace("\r", "")
    assert TOO_LONG in output, output
    assert "frames:" not in output and "takes no arguments" not in output, output
    # Exactly the maximum is accepted, and characters typed past it and
    # deleted again with backspace leave a line that fits.
    longest = "mem" + " " * (LINE_MAX_CHARACTERS - 3)
    assert "frames:" in machine.run(longest)
    machine.child.send(longest + "yy\b\b\r")
    machine.child.expect_exact(PROMPT)
    output = machine.child.before.replace("\r", "")
    assert "frames:" in output and TOO_LONG not in output, output


def test_an_incomplete_escape_sequence_does_not_swallow_enter(machine):
    # ESC [ with no final byte, then Enter: the Enter still submits the line.
    machine.child.send("help\x1b[\r")
    machine.child.expect(r"  poweroff ")
    machine.child.expect_exact(PROMPT)
    # A lone ESC, then Enter, likewise.
    machine.child.send("uptime\x1b\r")
    machine.child.expect(r"up \d+\.\d{3} s")
    machine.child.expect_exact(PROMPT)
    # A complete sequence (cursor up: ESC [ A) is still ignored as before.
    machine.child.send("up\x1b[Atime\r")
    machine.child.expect(r"up \d+\.\d{3} s")
    machine.child.expect_exact(PROMPT)


def test_fault_command_reports_the_exception(machine):
    machine.child.send("fault ud\r")
    machine.child.expect(r"(?i)invalid opcode")
    machine.child.expect(r"RIP")


def test_poweroff_ends_the_vm(machine):
    machine.child.send("poweroff\r")
    machine.child.expect(pexpect.EOF)
    machine.child.close()
    assert machine.child.exitstatus == 0


def test_reboot_resets_the_machine(machine):
    # QEMU runs with -no-reboot: a reset ends it.
    machine.child.send("reboot\r")
    machine.child.expect_exact("reboot: resetting through the keyboard controller")
    machine.child.expect(pexpect.EOF)


def test_keyboard_drives_the_shell(machine):
    """The PS/2 path: keys pressed through QEMU's monitor reach the shell."""
    for key in ["h", "e", "l", "p", "ret"]:
        machine.monitor(f"sendkey {key}")
    machine.child.expect_exact("help")
    machine.child.expect(r"  poweroff ")
    machine.child.expect_exact(PROMPT)
