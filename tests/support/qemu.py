"""Boot a disk image in QEMU (TCG, headless) and read what it printed on COM1.

Every boot test goes through boot(): it starts the real emulator with the
serial port written to a file, waits until a pattern appears, QEMU exits or
the timeout passes, and hands back everything the machine printed. It can
also ask QEMU's monitor about the halted machine (registers, page tables)
before stopping it.
"""
import dataclasses
import json
import pathlib
import re
import shutil
import socket
import subprocess
import tempfile
import time

# The kernel ends the VM by writing to QEMU's isa-debug-exit device at port
# 0xf4; QEMU then exits with status (value << 1) | 1.
DEBUG_EXIT_PORT = 0xF4
KERNEL_EXIT_SUCCESS = (0x10 << 1) | 1   # kernel wrote 0x10: all went well
KERNEL_EXIT_FAILURE = (0x11 << 1) | 1   # kernel wrote 0x11: panic

MONITOR_TIMEOUT_SECONDS = 20.0          # for one QMP exchange with a live QEMU


@dataclasses.dataclass
class BootResult:
    serial: str              # everything written to COM1
    exit_code: int | None    # QEMU's exit status, None if we stopped it
    still_running: bool      # True when QEMU was alive at the end (halted guest)
    seconds: float
    # monitor command -> its output, for boot(monitor_commands=...); empty
    # when `until` never showed up and the commands were not run.
    monitor: dict = dataclasses.field(default_factory=dict)

    def lines(self):
        return self.serial.replace("\r", "").split("\n")

    def describe(self):
        """How the boot ended and what it printed, for failure messages."""
        return (f"QEMU exit code {self.exit_code}, still running {self.still_running}, "
                f"{self.seconds:.2f} s; serial output:\n{self.serial}")


def qemu_binary():
    return shutil.which("qemu-system-x86_64") or "qemu-system-x86_64"


def boot(image, *, machine="pc", memory="32M", cpu=None, drive="ide",
         until=None, timeout=60.0, settle=0.0, extra=(),
         monitor_commands=(), monitor_script=None, debug_exit=True):
    """Boot `image` and return a BootResult.

    until:   regex; once it shows on the serial port we wait `settle` more
             seconds (to see whether the machine stays halted) and stop QEMU.
             Without it we wait for QEMU to exit by itself.
    drive:   "ide" (-drive if=ide), "virtio", "ahci", "floppy", "usb-ehci"
             or "usb-xhci" (a USB stick on that controller), or "none" when
             `extra` attaches the disk itself.
    monitor_commands: human monitor commands ("info registers", "info tlb")
             to run, through QMP, once `until` has shown and `settle` has
             passed (or at the timeout, if QEMU still runs), before QEMU is
             stopped; the outputs land in BootResult.monitor.
    monitor_script: a function called, after monitor_commands, with one
             argument run(command) -> output, for questions that depend on
             earlier answers (following page tables wherever they are);
             what it returns lands in BootResult.monitor["script"].
    debug_exit: attach the isa-debug-exit device. Without it a kernel's
             exit request does nothing and the kernel halts instead, so the
             monitor can still look at it.
    """
    with tempfile.TemporaryDirectory(prefix="boot-") as tmp:
        log = pathlib.Path(tmp) / "serial.log"
        qmp_socket = pathlib.Path(tmp) / "qmp.sock"
        cmd = [qemu_binary(), "-accel", "tcg", "-machine", machine,
               "-m", str(memory), "-display", "none", "-no-reboot",
               "-serial", f"file:{log}", "-monitor", "none", "-snapshot"]
        if debug_exit:
            cmd += ["-device", f"isa-debug-exit,iobase={DEBUG_EXIT_PORT:#x},iosize=0x04"]
        if monitor_commands or monitor_script:
            cmd += ["-qmp", f"unix:{qmp_socket},server=on,wait=off"]
        if cpu:
            cmd += ["-cpu", cpu]
        cmd += _drive_args(str(image), drive)
        cmd += list(extra)
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        pattern = re.compile(until) if until else None
        seen_at = None
        monitor = {}
        try:
            while True:
                now = time.monotonic()
                if proc.poll() is not None:
                    break
                if pattern and seen_at is None and pattern.search(_read(log)):
                    seen_at = now
                if seen_at is not None and now - seen_at >= settle:
                    if monitor_commands or monitor_script:
                        monitor = _run_monitor_commands(qmp_socket, monitor_commands,
                                                        monitor_script)
                    break
                if now - start > timeout:
                    # `until` never showed: the commands still say where the
                    # machine is (a script may expect the state `until` names).
                    if monitor_commands:
                        monitor = _run_monitor_commands(qmp_socket, monitor_commands)
                    break
                time.sleep(0.05)
        finally:
            running = proc.poll() is None
            if running:
                proc.kill()
            out, _ = proc.communicate()
        serial = _read(log)
        if proc.returncode is not None and not running and out:
            serial += "\n[qemu] " + out.decode(errors="replace")
        return BootResult(serial=serial,
                          exit_code=None if running else proc.returncode,
                          still_running=running,
                          seconds=time.monotonic() - start,
                          monitor=monitor)


def ask_monitor(socket_path, commands):
    """Run human monitor commands on a QEMU that another program started
    with -qmp unix:SOCKET,server=on,wait=off (tests/bench/bench.py);
    returns {command: output}."""
    return _run_monitor_commands(socket_path, commands)


def _run_monitor_commands(socket_path, commands, script=None):
    """Run human monitor commands through QMP (QEMU's JSON monitor protocol,
    docs/interop/qmp-spec): unlike the plain monitor it hands back each
    command's output as one clean string, without echo or prompts."""
    outputs = {}
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(MONITOR_TIMEOUT_SECONDS)
        sock.connect(str(socket_path))
        stream = sock.makefile("rw", encoding="utf-8", newline="\n")

        def execute(command, **arguments):
            request = {"execute": command}
            if arguments:
                request["arguments"] = arguments
            stream.write(json.dumps(request) + "\n")
            stream.flush()
            while True:
                line = stream.readline()
                if not line:
                    raise ConnectionError(f"QEMU closed the QMP socket during {command}")
                reply = json.loads(line)
                if "event" in reply:       # asynchronous news, not our answer
                    continue
                if "QMP" in reply:         # a greeting that came late: QEMU
                    continue               # answers a new client once the last has gone
                if "error" in reply:
                    raise RuntimeError(f"QMP {command} failed: {reply['error']}")
                return reply["return"]

        stream.readline()                   # the greeting
        execute("qmp_capabilities")         # leave capabilities negotiation mode
        for command in commands:
            outputs[command] = execute("human-monitor-command", **{"command-line": command})
        if script:
            outputs["script"] = script(
                lambda command: execute("human-monitor-command", **{"command-line": command}))
    return outputs


# drive kind -> QEMU's USB host controller device for it
USB_CONTROLLERS = {
    "usb-ehci": "usb-ehci",      # USB 2.0
    "usb-xhci": "qemu-xhci",     # USB 3
}


def _drive_args(image, drive):
    if drive == "ide":
        return ["-drive", f"file={image},format=raw,if=ide"]
    if drive == "virtio":
        return ["-drive", f"file={image},format=raw,if=virtio"]
    if drive == "floppy":
        return ["-drive", f"file={image},format=raw,if=floppy"]
    if drive == "ahci":
        return ["-drive", f"file={image},format=raw,if=none,id=bootdisk",
                "-device", "ide-hd,drive=bootdisk,bus=ide.0"]
    if drive in USB_CONTROLLERS:
        # A USB stick: SeaBIOS boots USB mass storage like a hard disk (0x80).
        controller = USB_CONTROLLERS[drive]
        return ["-device", f"{controller},id=usb",
                "-drive", f"file={image},format=raw,if=none,id=bootdisk",
                "-device", "usb-storage,bus=usb.0,drive=bootdisk,bootindex=0"]
    if drive == "none":
        return []
    raise ValueError(f"unknown drive kind {drive!r}")


def _read(path):
    try:
        return path.read_bytes().decode("latin-1")
    except FileNotFoundError:
        return ""
