"""Boot a disk image in Bochs, with Bochs's own BIOS, and read COM1.

Why a second emulator: QEMU's TCG does not check segment limits, transmits
serial bytes instantly and comes with SeaBIOS. Bochs checks limits like a
real CPU, models the UART's transmitter timing and brings a different BIOS
(rombios), so code that only works by luck in QEMU shows up here.

Bochs has no headless display and, as Debian builds it, stops at its
debugger prompt before the first instruction. So boot_bochs():

  * writes a bochsrc into a temporary directory (bochsrc_text(), which the
    interactive mode below shares),
  * copies the image there, padded to whole cylinders (Bochs wants a flat
    disk image to be exactly cylinders * heads * sectors * 512 bytes),
  * runs Bochs with the "term" display on a pseudo-terminal we own and a
    debugger script (-rc) that just says "c" (continue),
  * waits until a pattern shows in the serial file (COM1 goes to a file),
    Bochs exits by itself (a panic) or the timeout passes,
  * kills Bochs's whole process group and deletes the directory, lock file
    and all, whatever happened.

Run as a program it boots an image for a person instead, with the
debugger prompt live (`./build.sh bochs` does this):

    python3 tests/support/bochs.py --interactive build/disk.img

or headless as the tests do, printing COM1 and the log's errors:

    python3 tests/support/bochs.py build/disk.img --until "boot complete"
"""
import argparse
import dataclasses
import fcntl
import os
import pathlib
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time

# Debian's bochsbios and vgabios packages; the first file that exists wins.
BIOS_CANDIDATES = ["/usr/share/bochs/BIOS-bochs-latest"]
VGA_BIOS_CANDIDATES = ["/usr/share/bochs/VGABIOS-lgpl-latest",
                       "/usr/share/vgabios/vgabios.bin"]
# Debian builds the displays as plugins, each in a package of its own
# (bochs-term, bochs-x, ...). Where Bochs was built without plugins (no
# such directory) the displays are inside the binary and we do not check.
PLUGIN_DIRS = ["/usr/lib/x86_64-linux-gnu/bochs/plugins", "/usr/lib/bochs/plugins",
               "/usr/local/lib/bochs/plugins"]
TEST_PACKAGES = "bochs bochsbios vgabios bochs-term"


def _first_existing(paths):
    return next((p for p in paths if os.path.isfile(p)), None)


def has_display_library(name):
    """Whether Bochs can load the display library `name` ("term", "x")."""
    dirs = [d for d in [os.environ.get("LTDL_LIBRARY_PATH"), *PLUGIN_DIRS]
            if d and os.path.isdir(d)]
    if not dirs:
        return True
    return any(os.path.exists(os.path.join(d, f"libbx_{name}_gui.so")) for d in dirs)


# The disk geometry we give Bochs. Its BIOS reports it through INT 13h
# AH=08h, and stage 1 uses it only when the BIOS has no LBA extensions
# (Bochs's has them). 16 heads of 63 sectors is the classic translation.
HEADS = 16
SECTORS_PER_TRACK = 63
SECTOR = 512
CYLINDER_BYTES = HEADS * SECTORS_PER_TRACK * SECTOR

# A CPU model with long mode (CPUID 80000001h EDX bit 29), which our loader
# requires; a named model pins down the CPUID the guest sees. Sandy Bridge
# has NX but no 1 GiB pages, so the loader maps memory with 2 MiB pages.
CPU_MODEL = "corei7_sandy_bridge_2600k"
# Emulated instructions per second. With "clock: sync=none" this only sets
# how many instructions make one second of guest time (for the PIT, the
# CMOS clock and the TSC); Bochs runs as fast as it can either way.
IPS = 50_000_000

# A guest stuck in a loop that faults on every instruction makes Bochs log
# tens of megabytes per second ("error: action=report"). We stop there:
# the first few thousand lines say everything.
LOG_LIMIT_BYTES = 8 << 20

PR_SET_PDEATHSIG = 1                    # prctl(2), from <linux/prctl.h>

# The pseudo-terminal the "term" display draws on: a VGA text screen.
TERMINAL_ROWS, TERMINAL_COLUMNS = 25, 80


class BochsMissing(RuntimeError):
    pass


@dataclasses.dataclass
class BochsResult:
    serial: str             # everything the guest wrote to COM1
    log: str                # Bochs's own log (BIOS messages, errors, panics)
    seconds: float          # wall-clock time from start to stop
    found: bool             # the `until` pattern appeared
    exited: bool            # Bochs ended by itself (panic, or a quit)
    stop_reason: str        # why we stopped waiting, for failure messages
    console: str = ""       # what Bochs printed on its terminal (the debugger's output)
    # {regex: seconds from start until it first showed on COM1}, for the
    # `marks` boot_bochs() was given that showed.
    marks: dict = dataclasses.field(default_factory=dict)

    def lines(self):
        return self.serial.replace("\r", "").split("\n")

    def log_problems(self, limit=20):
        """The log's error and panic lines without the tick count, each
        once with how often it occurred: a guest faulting in a loop repeats
        one message millions of times."""
        counts = {}
        for line in self.log.splitlines():
            match = re.match(r"^\d+([ep])\[([^\]]*)\]\s*(.*)$", line)
            if match:
                key = f"{match[1]}[{match[2].strip()}] {match[3]}"
                counts[key] = counts.get(key, 0) + 1
        shown = [f"{n:>9} x {text}" for text, n in list(counts.items())[:limit]]
        return "\n".join(shown) or "(none)"

    def describe(self):
        return (f"Bochs: {self.stop_reason}, {self.seconds:.1f} s\n"
                f"--- serial ---\n{self.serial}\n"
                f"--- Bochs log errors and panics ---\n{self.log_problems()}")


# A line of the debugger's `x`/`xp` output: the address, the symbol Bochs
# puts next to it, then the values, each 0x-prefixed after a tab.
EXAMINE_LINE = re.compile(r"^0x[0-9a-f]+ <[^>]*>:((?:\t0x[0-9a-f]+)+)\r?$", re.M)


def examined_values(console):
    """Every value that `x`/`xp` commands printed in `console`, in order."""
    return [int(value, 16) for values in EXAMINE_LINE.findall(console)
            for value in values.split()]


def find_bochs():
    """(bochs binary, BIOS image, VGA BIOS image), or BochsMissing saying
    how to get them."""
    binary = shutil.which("bochs")
    bios = _first_existing(BIOS_CANDIDATES)
    vga_bios = _first_existing(VGA_BIOS_CANDIDATES)
    missing = [name for name, found in (
        ("bochs", binary),
        ("its BIOS, package bochsbios", bios),
        ("its VGA BIOS, package vgabios", vga_bios),
        ("its term display, package bochs-term", has_display_library("term"))) if not found]
    if missing:
        raise BochsMissing(f"Bochs is not installed ({'; '.join(missing)} missing): "
                           f"run ./build.sh deps (Debian packages: {TEST_PACKAGES})")
    return binary, bios, vga_bios


def padded_copy(image, out):
    """Copy `image` to `out`, padded with zeros to whole cylinders; returns
    the cylinder count. Bochs refuses a flat image whose size is not
    exactly C * H * S sectors, and the padding is past everything mkimage
    placed, so the guest never sees the difference."""
    data = pathlib.Path(image).read_bytes()
    cylinders = max(1, -(-len(data) // CYLINDER_BYTES))
    pathlib.Path(out).write_bytes(data + bytes(cylinders * CYLINDER_BYTES - len(data)))
    return cylinders


def bochsrc_text(*, disk, cylinders, serial, log, memory_mib=64, display="term",
                 bios=None, vga_bios=None):
    """The configuration for one boot. All paths are written as given."""
    if bios is None or vga_bios is None:
        _, bios, vga_bios = find_bochs()
    return f"""\
# Written by tests/support/bochs.py for one boot of {disk}.
megs: {memory_mib}
romimage: file="{bios}"
vgaromimage: file="{vga_bios}"
cpu: model={CPU_MODEL}, count=1, ips={IPS}, reset_on_triple_fault=0
# Guest time follows the instruction count, not the host clock: a boot
# takes the same emulated steps however busy the host is.
clock: sync=none, time0=local
ata0-master: type=disk, mode=flat, path="{disk}", cylinders={cylinders}, heads={HEADS}, spt={SECTORS_PER_TRACK}
boot: disk
com1: enabled=1, mode=file, dev="{serial}"
# `xchg bx, bx` stops in the debugger: the breakpoints a debug build
# plants at each stage boundary (DEBUG_BREAKS=1, bootloader/magic_break.inc).
# In a normal build the instruction never occurs, so this changes nothing.
magic_break: enabled=1
# A byte written to port 0xE9 appears on Bochs's terminal: the cheapest
# print there is while stepping (`mov al, 'A'` then `out 0xe9, al`).
port_e9_hack: enabled=1
display_library: {display}
mouse: enabled=0
# No sound: Bochs would open the host's sound card through ALSA, and print
# errors where there is none (a server, a container).
speaker: enabled=0
sound: driver=dummy
log: "{log}"
# A triple fault (reset_on_triple_fault=0) and other panics end Bochs;
# errors, such as a write past a segment limit, go to the log.
panic: action=fatal
error: action=report
info: action=report
debug: action=ignore
"""


def debugger_rc_text(symbols=(), commands=()):
    """Start-up commands for Bochs's debugger (-rc): load each symbol file
    (lines "ADDRESS NAME", made by the build: bootloader/*.sym from NASM's
    map files, kernel/kernel.sym from nm) as global symbols, which hold
    whatever CR3 is (Bochs keeps other symbols per address space), then
    run `commands`. Once the file is done Bochs reads its terminal."""
    lines = [f'ldsym global "{pathlib.Path(path).resolve()}"' for path in symbols]
    return "\n".join([*lines, *commands, ""])


def _set_terminal_size(fd):
    fcntl.ioctl(fd, termios.TIOCSWINSZ,
                struct.pack("HHHH", TERMINAL_ROWS, TERMINAL_COLUMNS, 0, 0))


def _read(path):
    try:
        return pathlib.Path(path).read_bytes().decode("latin-1")
    except FileNotFoundError:
        return ""


def _size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _stop(proc):
    """End Bochs and anything it started (Bochs forks nothing today): it
    runs in a session and process group of its own, so one signal reaches
    them all. SIGKILL, because the term display catches SIGTERM and then
    carries on ("sig 15 caught"). Nothing is lost: the disk and its lock
    file are our copies in a directory about to be deleted, and the
    terminal is our own pty."""
    if proc.poll() is None:             # not yet reaped, so the group id is still its own
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def _die_with_us():
    """Run in the child just before exec: have Linux kill Bochs if we die
    without cleaning up (pytest killed with SIGKILL, say), so that no halted
    Bochs spins on forever. PR_SET_PDEATHSIG survives exec."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):    # not Linux: the finally below still stops it
        pass


def boot_bochs(image, *, memory_mib=64, until=r"Kernel: boot complete",
               timeout=30.0, settle=0.0, debugger_commands=("c",), symbols=(), marks=()):
    """Boot `image` (a copy of it) in Bochs and return a BochsResult.

    until:   regex; once it appears on COM1 we wait `settle` more seconds
             and stop Bochs. The guest never ends Bochs itself (Bochs has
             no isa-debug-exit device), so a boot always runs until this
             pattern or the timeout. None: wait for Bochs to end (a
             debugger script that ends with "q") or the timeout.
    debugger_commands: what the debugger runs from its prompt at the
             reset vector, after loading the `symbols` files; its output
             is the result's `console`.
    marks:   regexes whose first appearance on COM1 is timed (the
             result's `marks`): how far a slow boot got, and when.
    """
    binary, bios, vga_bios = find_bochs()
    pattern = re.compile(until) if until is not None else None
    with tempfile.TemporaryDirectory(prefix="bochs-") as tmp:
        tmp = pathlib.Path(tmp)
        disk, serial, log = tmp / "disk.img", tmp / "serial.txt", tmp / "bochs.log"
        cylinders = padded_copy(image, disk)
        rc = tmp / "bochsrc"
        rc.write_text(bochsrc_text(disk=disk, cylinders=cylinders, serial=serial, log=log,
                                   memory_mib=memory_mib, bios=bios, vga_bios=vga_bios))
        commands = tmp / "debugger.rc"
        commands.write_text(debugger_rc_text(symbols, debugger_commands))
        console = bytearray()

        master, slave = pty.openpty()
        _set_terminal_size(slave)
        env = dict(os.environ, TERM="xterm")   # the term display needs curses
        start = time.monotonic()
        proc = None
        reason = "timed out"
        found = False
        seen_marks = {}
        try:
            proc = subprocess.Popen(
                [binary, "-q", "-f", str(rc), "-rc", str(commands)],
                cwd=tmp, stdin=slave, stdout=slave, stderr=slave, env=env,
                start_new_session=True, close_fds=True, preexec_fn=_die_with_us)
            os.close(slave)
            slave = None
            seen_at = None
            while True:
                # Keep the terminal drained: Bochs blocks once its output
                # fills the pseudo-terminal's buffer.
                while select.select([master], [], [], 0.05)[0]:
                    try:
                        data = os.read(master, 65536)
                    except OSError:         # the slave side closed: Bochs is gone
                        break
                    if not data:
                        break
                    console += data
                now = time.monotonic()
                if len(seen_marks) < len(marks):
                    text = _read(serial)
                    seen_marks.update({mark: now - start for mark in marks
                                       if mark not in seen_marks and re.search(mark, text)})
                if proc.poll() is not None:
                    reason = f"Bochs exited by itself with status {proc.returncode}"
                    break
                if seen_at is None and pattern and pattern.search(_read(serial)):
                    found, seen_at = True, now
                if seen_at is not None and now - seen_at >= settle:
                    reason = f"found {until!r}"
                    break
                if _size(log) > LOG_LIMIT_BYTES:
                    reason = (f"stopped: the Bochs log passed {LOG_LIMIT_BYTES >> 20} MiB, "
                              "the guest is probably faulting in a loop")
                    break
                if now - start > timeout:
                    reason = f"timed out after {timeout:.0f} s"
                    break
        finally:
            exited = proc is not None and proc.poll() is not None
            if proc is not None:
                _stop(proc)
            if slave is not None:
                os.close(slave)
            # What Bochs printed between our last read and its end (the
            # output of a debugger script's last commands).
            while select.select([master], [], [], 0)[0]:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    break
                if not data:
                    break
                console += data
            os.close(master)
            seconds = time.monotonic() - start
        if not found and pattern:
            found = bool(pattern.search(_read(serial)))
        return BochsResult(serial=_read(serial), log=_read(log)[:LOG_LIMIT_BYTES],
                           seconds=seconds, found=found, exited=exited, stop_reason=reason,
                           console=console.decode("latin-1"), marks=seen_marks)


# ---- For people: boot with the debugger at the prompt ---------------------------

def interactive(image, memory_mib=64, symbols=(), run=False):
    """Boot `image` in Bochs for a person: the debugger prompt waits at the
    reset vector ("c" continues, Ctrl-C breaks back in, "q" quits), or
    with `run` at the first magic breakpoint of a debug build. With an
    X display (and Debian's bochs-x) the PC's screen is a window; otherwise
    it is drawn on this terminal, around the debugger's lines. COM1 and
    Bochs's log go to files beside the image. The `symbols` files (the
    build's *.sym) are loaded first, so disassembly shows label names."""
    binary, bios, vga_bios = find_bochs()
    display = "x" if os.environ.get("DISPLAY") and has_display_library("x") else "term"
    image = pathlib.Path(image).resolve()
    serial = image.parent / "bochs-serial.txt"
    log = image.parent / "bochs.log"
    with tempfile.TemporaryDirectory(prefix="bochs-") as tmp:
        tmp = pathlib.Path(tmp)
        disk, rc = tmp / "disk.img", tmp / "bochsrc"
        commands = tmp / "debugger.rc"
        symbols = [path for path in symbols if os.path.isfile(path)]
        commands.write_text(debugger_rc_text(symbols, ["c"] if run else []))
        cylinders = padded_copy(image, disk)
        rc.write_text(bochsrc_text(disk=disk, cylinders=cylinders, serial=serial, log=log,
                                   memory_mib=memory_mib, display=display,
                                   bios=bios, vga_bios=vga_bios))
        print(f"bochs.py: booting a copy of {image} in Bochs ({display} display, "
              f"{memory_mib} MiB).\n"
              f"bochs.py: COM1 goes to {serial}: watch it with tail -f in another terminal.\n"
              f"bochs.py: Bochs's own log goes to {log}.\n"
              "bochs.py: at the <bochs:1> prompt: c runs, Ctrl-C stops, q quits;\n"
              "bochs.py: lb 0x7c00 then c stops at the boot sector, r and sreg show\n"
              "bochs.py: the registers, u /10 disassembles, help lists the rest.\n"
              f"bochs.py: symbols loaded from: {', '.join(map(str, symbols)) or 'none'}.",
              flush=True)
        if run:
            print("bochs.py: a debug build: c runs to the next stage boundary "
                  "(stage 1, stage 2, real mode's end, protected mode's end, the kernel jump, "
                  "kernel_main; for a Multiboot kernel or Linux, the handoff after stage 2).",
                  flush=True)
        # Ctrl-C is for Bochs (it breaks into the debugger), not for us: a
        # handler that does nothing keeps Python waiting, and unlike SIG_IGN
        # it is not inherited by Bochs.
        previous = signal.signal(signal.SIGINT, lambda *_: None)
        try:
            return subprocess.call([binary, "-q", "-f", str(rc), "-rc", str(commands)], cwd=tmp)
        finally:
            signal.signal(signal.SIGINT, previous)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Boot a disk image in Bochs.")
    parser.add_argument("image", type=pathlib.Path)
    parser.add_argument("--interactive", action="store_true",
                        help="with the Bochs debugger, for a person (the default)")
    parser.add_argument("--memory", type=int, default=64, help="guest RAM in MiB")
    parser.add_argument("--symbols", type=pathlib.Path, action="append", default=[],
                        help="a symbol file (lines 'ADDRESS NAME') for the debugger; repeatable")
    parser.add_argument("--continue", dest="run", action="store_true",
                        help="interactive: continue to the first (magic) breakpoint")
    parser.add_argument("--until", help="headless: boot, wait for this regex on COM1, print COM1")
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args(argv)
    if not args.image.is_file():
        parser.error(f"{args.image}: no such file (build it with ./build.sh build)")
    try:
        if args.until:
            result = boot_bochs(args.image, memory_mib=args.memory, until=args.until,
                                timeout=args.timeout)
            print(result.describe())
            return 0 if result.found else 1
        return interactive(args.image, args.memory, symbols=args.symbols, run=args.run)
    except BochsMissing as error:
        print(f"bochs.py: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
