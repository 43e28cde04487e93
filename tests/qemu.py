"""Boot a disk image in QEMU (TCG, headless) and read what it printed on COM1.

Every boot test goes through boot(): it starts the real emulator with the
serial port written to a file, waits until a pattern appears, QEMU exits or
the timeout passes, and hands back everything the machine printed.
"""
import dataclasses
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import time

# The kernel ends the VM by writing to QEMU's isa-debug-exit device at port
# 0xf4; QEMU then exits with status (value << 1) | 1.
DEBUG_EXIT_PORT = 0xF4
KERNEL_EXIT_SUCCESS = (0x10 << 1) | 1   # kernel wrote 0x10: all went well
KERNEL_EXIT_FAILURE = (0x11 << 1) | 1   # kernel wrote 0x11: panic


@dataclasses.dataclass
class BootResult:
    serial: str              # everything written to COM1
    exit_code: int | None    # QEMU's exit status, None if we stopped it
    still_running: bool      # True when QEMU was alive at the end (halted guest)
    seconds: float

    def lines(self):
        return self.serial.replace("\r", "").split("\n")


def qemu_binary():
    return shutil.which("qemu-system-x86_64") or "qemu-system-x86_64"


def boot(image, *, machine="pc", memory="32M", cpu=None, drive="ide",
         until=None, timeout=60.0, settle=0.0, extra=()):
    """Boot `image` and return a BootResult.

    until:   regex; once it shows on the serial port we wait `settle` more
             seconds (to see whether the machine stays halted) and stop QEMU.
             Without it we wait for QEMU to exit by itself.
    drive:   "ide" (-drive if=ide), "virtio", "ahci", "floppy", or "none"
             when `extra` attaches the disk itself.
    """
    with tempfile.TemporaryDirectory(prefix="boot-") as tmp:
        log = pathlib.Path(tmp) / "serial.log"
        cmd = [qemu_binary(), "-accel", "tcg", "-machine", machine,
               "-m", str(memory), "-display", "none", "-no-reboot",
               "-serial", f"file:{log}", "-monitor", "none",
               "-device", f"isa-debug-exit,iobase={DEBUG_EXIT_PORT:#x},iosize=0x04",
               "-snapshot"]
        if cpu:
            cmd += ["-cpu", cpu]
        cmd += _drive_args(str(image), drive)
        cmd += list(extra)
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        pattern = re.compile(until) if until else None
        seen_at = None
        try:
            while True:
                now = time.monotonic()
                if proc.poll() is not None:
                    break
                if pattern and seen_at is None and pattern.search(_read(log)):
                    seen_at = now
                if seen_at is not None and now - seen_at >= settle:
                    break
                if now - start > timeout:
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
                          seconds=time.monotonic() - start)


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
    if drive == "none":
        return []
    raise ValueError(f"unknown drive kind {drive!r}")


def _read(path):
    try:
        return path.read_bytes().decode("latin-1")
    except FileNotFoundError:
        return ""
