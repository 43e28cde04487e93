"""Interrupts and exceptions seen from outside the VM.

- Keys typed through QEMU's monitor (`sendkey`) reach the kernel through
  the PS/2 keyboard's IRQ 1 and come back as the echo on COM1.
- Bytes written into COM1 reach it through the UART's IRQ 4 and are echoed.
- A kernel asked to fault (`fault=KIND` on its command line,
  kernel/cpu/fault_demo.h) prints a report naming the exception, the
  function it happened in, the registers, and for a page fault CR2 and the
  decoded error code; then it ends the VM with the failure status. A
  double fault, even one caused by a broken stack, is reported from its own
  IST stack instead of resetting the machine (QEMU runs with -no-reboot, so
  a triple fault would end it with status 0).

Without `qemu-exit` the kernel echoes input after its last line
(kernel/main.c): these tests boot it that way, with COM1 on a Unix socket
we both read and write, and QMP on another for `sendkey`.
"""
import json
import pathlib
import re
import socket
import subprocess
import tempfile
import time

import pytest

from support.images import build_image
from support.qemu import KERNEL_EXIT_FAILURE, boot, qemu_binary

BOOT_DONE = "bootstack> "       # the shell's prompt: it echoes what is typed
BOOT_TIMEOUT_SECONDS = 60
ECHO_TIMEOUT_SECONDS = 20
CONNECT_TIMEOUT_SECONDS = 20


class InteractiveMachine:
    """QEMU with COM1 on a Unix socket (we read the output and type input)
    and QMP on another (for `sendkey`)."""

    def __init__(self, image, tmp):
        self.serial_path = pathlib.Path(tmp) / "serial.sock"
        self.qmp_path = pathlib.Path(tmp) / "qmp.sock"
        cmd = [qemu_binary(), "-accel", "tcg", "-machine", "pc", "-m", "32M",
               "-display", "none", "-no-reboot", "-snapshot", "-monitor", "none",
               # wait=on: QEMU starts the guest only once we are connected,
               # so not a byte of output is lost.
               "-chardev", f"socket,id=com1,path={self.serial_path},server=on,wait=on",
               "-serial", "chardev:com1",
               "-qmp", f"unix:{self.qmp_path},server=on,wait=off",
               "-drive", f"file={image},format=raw,if=ide"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.serial = self._connect(self.serial_path)
        self.serial.settimeout(0.1)
        self.output = b""
        self.qmp = None

    def _connect(self, path):
        deadline = time.monotonic() + CONNECT_TIMEOUT_SECONDS
        while True:
            try:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.connect(str(path))
                return sock
            except (FileNotFoundError, ConnectionRefusedError):
                sock.close()
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise
                time.sleep(0.05)

    def text(self):
        return self.output.decode("latin-1").replace("\r", "")

    def expect(self, pattern, timeout):
        """Read COM1 until `pattern` (a regex) shows in everything read so
        far; fail with the output otherwise."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while not regex.search(self.text()):
            if time.monotonic() > deadline:
                pytest.fail(f"no {pattern!r} on COM1 after {timeout} s:\n{self.text()}")
            try:
                chunk = self.serial.recv(4096)
                if not chunk:
                    pytest.fail(f"COM1 closed (QEMU ended) before {pattern!r}:\n{self.text()}")
                self.output += chunk
            except socket.timeout:
                pass

    def type_serial(self, data):
        self.serial.sendall(data)

    def sendkey(self, *keys):
        """QEMU's `sendkey` for each key: press and release (a PS/2 make and
        break code), e.g. "h", "shift-a", "ret"."""
        if self.qmp is None:
            sock = self._connect(self.qmp_path)
            sock.settimeout(CONNECT_TIMEOUT_SECONDS)
            self.qmp = sock.makefile("rw", encoding="utf-8", newline="\n")
            self.qmp.readline()                       # greeting
            self._execute("qmp_capabilities")
        for key in keys:
            self._execute("human-monitor-command", **{"command-line": f"sendkey {key}"})
            time.sleep(0.05)   # let the guest take each key before the next

    def _execute(self, command, **arguments):
        request = {"execute": command}
        if arguments:
            request["arguments"] = arguments
        self.qmp.write(json.dumps(request) + "\n")
        self.qmp.flush()
        while True:
            reply = json.loads(self.qmp.readline())
            if "event" in reply:
                continue
            assert "error" not in reply, reply
            return reply["return"]

    def close(self):
        for closable in (self.qmp, self.serial):
            if closable is not None:
                closable.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()


@pytest.fixture(scope="module")
def echo_image(tmp_path_factory):
    """Our kernel without qemu-exit: after its last line it echoes input."""
    return build_image(tmp_path_factory.mktemp("echo") / "echo.img", cmdline="")


@pytest.fixture
def machine(echo_image):
    with tempfile.TemporaryDirectory(prefix="irq-") as tmp:
        vm = InteractiveMachine(echo_image, tmp)
        try:
            vm.expect(re.escape(BOOT_DONE), BOOT_TIMEOUT_SECONDS)
            yield vm
        finally:
            vm.close()


def test_keyboard_keys_are_echoed(machine):
    # Shift, and Backspace rubbing out a character ("\b \b"), on the way.
    machine.sendkey("h", "i", "shift-x", "x", "backspace", "spc", "1", "ret")
    machine.expect(re.escape(BOOT_DONE) + r"hiXx\x08 \x08 1\n", ECHO_TIMEOUT_SECONDS)


def test_keyboard_ctrl_and_arrow_keys(machine):
    # Ctrl-C is the control character 0x03: the shell abandons the line
    # and says ^C. The arrow keys arrive as the escape sequence ESC [ A,
    # which the line editor takes whole and ignores: only the "a" shows.
    machine.sendkey("ctrl-c", "up", "a")
    machine.expect(re.escape("^C\n" + BOOT_DONE + "a"), ECHO_TIMEOUT_SECONDS)


def test_serial_input_is_echoed(machine):
    # A terminal sends CR for Enter and 0x7F for Backspace.
    machine.type_serial(b"serial ok\r")
    machine.expect(re.escape(BOOT_DONE) + r"serial ok\n", ECHO_TIMEOUT_SECONDS)
    machine.type_serial(b"ab\x7fc\r\nz")
    # CR LF counts once: one command line "ac", then a prompt with the z.
    machine.expect(re.escape(BOOT_DONE) + r"ab\x08 \x08c\nunknown command \"ac\"[^\n]*\n"
                   + re.escape(BOOT_DONE) + "z", ECHO_TIMEOUT_SECONDS)


def test_keyboard_and_serial_share_one_input(machine):
    machine.sendkey("k")
    machine.expect(re.escape(BOOT_DONE) + r"k", ECHO_TIMEOUT_SECONDS)
    machine.type_serial(b"s")
    machine.expect(re.escape(BOOT_DONE) + r"ks", ECHO_TIMEOUT_SECONDS)
    machine.sendkey("k")
    machine.expect(re.escape(BOOT_DONE) + r"ksk", ECHO_TIMEOUT_SECONDS)


# fault kind -> (exception name in the report, vector, the function it
# happens in, what the report must say besides)
FAULTS = {
    "pf": ("Page fault (#PF)", 14, "fault_page",
           [r"page fault at CR2=0x00007ffffffff000: not present, write, kernel mode",
            r"error code 0x0000000000000002"]),
    "gp": ("General protection (#GP)", 13, "fault_general_protection",
           [r"error code 0x0000000000000000"]),
    "ud": ("Invalid opcode (#UD)", 6, "fault_invalid_opcode", []),
    "de": ("Divide error (#DE)", 0, "fault_divide", []),
    "df": ("Double fault (#DF)", 8, "fault_double",
           [r"RSP=0x00007ffffffff800"]),
    "stack": ("Double fault (#DF)", 8, "fault_recurse",
              [r"frames returned to the same address"]),
}


def report_pattern(name, vector):
    return rf"EXCEPTION: {re.escape(name)}, vector {vector}, error code 0x[0-9a-f]{{16}}"


@pytest.mark.parametrize("kind", FAULTS)
def test_fault_report(kind, tmp_path):
    name, vector, function, extra = FAULTS[kind]
    image = build_image(tmp_path / f"{kind}.img", cmdline=f"fault={kind} qemu-exit")
    result = boot(image, timeout=BOOT_TIMEOUT_SECONDS)
    serial = result.serial.replace("\r", "")
    assert result.exit_code == KERNEL_EXIT_FAILURE, \
        f"expected the failure status {KERNEL_EXIT_FAILURE} (a triple fault ends QEMU " \
        f"with 0 under -no-reboot), got {result.exit_code}\n{serial}"
    assert f'Kernel: provoking fault "{kind}"' in serial, serial
    assert re.search(report_pattern(name, vector), serial), serial
    # RIP inside the kernel, named: <function+0xoffset> (GCC may add a
    # suffix such as .isra.0 to a function it specialised).
    assert re.search(rf"RIP=0x[0-9a-f]{{16}} <{function}(\.[a-z]+\.\d+)?\+0x[0-9a-f]+>", serial), serial
    for register in ("RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "R8 ", "R9 ", "R10",
                     "R11", "R12", "R13", "R14", "R15", "CS", "RFLAGS", "RSP", "SS", "CR2", "CR3"):
        assert re.search(rf"\b{register}=0x[0-9a-f]+", serial), (register, serial)
    assert "backtrace:" in serial, serial
    if kind != "stack":     # there the backtrace ends before the recursion does
        assert re.search(r"<kernel_main\+0x[0-9a-f]+>", serial), \
            "kernel_main not in the backtrace\n" + serial
    for pattern in extra:
        assert re.search(pattern, serial), (pattern, serial)
    assert re.search(r"PANIC: unhandled CPU exception: " + re.escape(name), serial), serial


def test_fault_without_qemu_exit_halts(tmp_path):
    """Not asked to end the VM: the report, then the machine stays halted
    (no reset: a triple fault would end QEMU under -no-reboot)."""
    image = build_image(tmp_path / "halt.img", cmdline="fault=stack")
    result = boot(image, until=r"PANIC: [^\n]*\n", settle=1.0, timeout=BOOT_TIMEOUT_SECONDS)
    assert result.still_running, result.serial
    assert re.search(report_pattern("Double fault (#DF)", 8), result.serial), result.serial


def test_unknown_fault_kind_panics(tmp_path):
    image = build_image(tmp_path / "unknown.img", cmdline="fault=nonsense qemu-exit")
    result = boot(image, timeout=BOOT_TIMEOUT_SECONDS)
    assert result.exit_code == KERNEL_EXIT_FAILURE, result.serial
    assert 'PANIC: unknown fault kind "nonsense" (known: pf gp ud de df stack)' in result.serial
