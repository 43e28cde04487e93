"""Screenshots of the PC's screen, taken from real boots of this build in QEMU.

Each picture boots an image made from the current build (BUILD_DIR) in
QEMU, headless under TCG, waits until the screen shows what the picture is
about, and then asks QEMU's monitor (through QMP, tests/support/qemu.py)
for two things at the same moment: `screendump`, the picture itself, and
the VGA text buffer at 0xB8000 (`xp`), the 80x25 characters the picture
shows. The picture becomes NAME.png (netpbm's pnmtopng, a palette PNG),
the characters NAME.screen.txt, which tests/test_screenshots.py compares
with a fresh boot: a change to a message, an address or a checksum that
shows on the screen makes the committed picture stale, and the test says so.

Shell commands are typed on the PS/2 keyboard (the monitor's `sendkey`),
as a user at the QEMU window types them.

The one thing on these screens that differs between two boots of the same
build is the kernel's "loader timestamps" line: TSC readings around the
loader's disk reads, which take as long as the host takes to read the
file. The pictures show them as that boot read them, and the staleness
test compares that line without its numbers (comparable()). The line
keeps its three rows whatever the readings: its words take 130 of the 240
characters of three rows, so any 31 to 110 digits for the six numbers fit,
and TSC cycles at the host's clock rate give some 45 (a20 alone is some
10^5 cycles, the kernel's read 10^7 to 10^9). The
boots do not count instructions for the TSC (-icount): QEMU still reads
the disk in another thread, and on a busy host those numbers grew from 6
to 7 digits, so the line took two rows on one boot and three on another.
"""
import concurrent.futures
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # tests/, for support.*

from support.images import build_image  # noqa: E402
from support.loader_lines import LOADER_HALTED  # noqa: E402
from support.paths import ROOT  # noqa: E402
from support.qemu import boot  # noqa: E402
from support.sources import LOADER_FIELDS_INC, c_define, nasm_value  # noqa: E402

VGA_SOURCE = ROOT / "kernel" / "drivers" / "vga.c"
SHELL_PROMPT = "bootstack> "
SETTLE_TIMEOUT_SECONDS = 30.0     # from the trigger on the serial port to a settled screen
BOOT_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.1
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# No network card: its option ROM (iPXE) would print a banner of its own,
# which depends on the host's QEMU package and slows every boot.
NO_NETWORK = ["-nic", "none"]

# The rows of the kernel's loader-timestamps line: from its first words to
# the line after it (the memory map's heading).
TSC_LINE_START = "loader timestamps (TSC cycles"
TSC_LINE_END = "memory map ("
# The first row SeaBIOS prints: its version comes with the host's QEMU.
SEABIOS_BANNER = re.compile(r"^(SeaBIOS \(version ).*(\))$", re.MULTILINE)


VGA_TEXT_BUFFER = c_define(VGA_SOURCE, "VGA_TEXT_BUFFER")
VGA_COLUMNS = c_define(VGA_SOURCE, "VGA_COLUMNS")
VGA_ROWS = c_define(VGA_SOURCE, "VGA_ROWS")


def run_memory():
    """The guest RAM `./build.sh run` gives the machine: the picture shows
    the memory map a reader who runs it sees."""
    found = re.search(r"\$\{MEMORY:-(\w+)\}", (ROOT / "build.sh").read_text())
    if not found:
        raise LookupError("build.sh has no default MEMORY")
    return found[1]


def screen_text(run):
    """The VGA text buffer as 25 lines of 80 characters, trailing blanks
    stripped, read through the monitor. Each cell is a character and an
    attribute byte; the characters are code page 437, the VGA's own font."""
    cells = []
    dump = run(f"xp /{VGA_COLUMNS * VGA_ROWS}hx {VGA_TEXT_BUFFER:#x}")
    for line in dump.splitlines():
        if ":" in line:
            cells += [int(word, 16) for word in line.split(":", 1)[1].split()]
    if len(cells) != VGA_COLUMNS * VGA_ROWS:
        raise RuntimeError(f"xp gave {len(cells)} cells, not {VGA_COLUMNS * VGA_ROWS}:\n{dump}")
    characters = bytes(cell & 0xFF for cell in cells).decode("cp437").replace("\0", " ")
    rows = [characters[row * VGA_COLUMNS:(row + 1) * VGA_COLUMNS].rstrip()
            for row in range(VGA_ROWS)]
    return "\n".join(rows) + "\n"


def tsc_varying_rows(text):
    """Indexes of the rows that hold the loader-timestamps line: the TSC
    readings there change from boot to boot of the same build."""
    rows = text.split("\n")
    varying = set()
    inside = False
    for index, row in enumerate(rows):
        if row.startswith(TSC_LINE_START):
            inside = True
        elif inside and (row.startswith(TSC_LINE_END) or not row):
            inside = False
        if inside:
            varying.add(index)
    return varying


def comparable(text):
    """The screen text as the staleness test compares it: every row as it
    is, except two. The firmware's banner names the SeaBIOS build of the
    host's QEMU package (another distribution, another version), so its
    version is left out. The loader-timestamps rows (TSC readings) are
    joined back into the one line the kernel printed (a number may be split
    between two rows, and one more digit moves every later word), its
    numbers replaced by #, and followed by how many rows it took."""
    text = re.sub(SEABIOS_BANNER, r"\1...\2", text)
    rows = text.split("\n")
    varying = sorted(tsc_varying_rows(text))
    if not varying:
        return text
    first, last = varying[0], varying[-1]
    line = "".join(row.ljust(VGA_COLUMNS) for row in rows[first:last]) + rows[last]
    masked = f"{re.sub(r'[0-9]+', '#', line)} [{len(varying)} rows]"
    return "\n".join([*rows[:first], masked, *rows[last + 1:]])


def wait_for_screen(run, settled):
    """Poll the screen until settled(text) holds; returns the text."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    while True:
        text = screen_text(run)
        if settled(text):
            return text
        if time.monotonic() > deadline:
            raise TimeoutError(f"the screen did not settle in {SETTLE_TIMEOUT_SECONDS} s; "
                               f"it shows:\n{text}")
        time.sleep(POLL_SECONDS)


def capture(run, ppm):
    """The screendump and the text it shows, taken together: text, picture,
    text again, until both reads of the text agree (nothing was written to
    the screen while QEMU drew the picture)."""
    for _ in range(50):
        before = screen_text(run)
        run(f"screendump {ppm}")
        after = screen_text(run)
        if before == after:
            return after
        time.sleep(POLL_SECONDS)
    raise RuntimeError("the screen kept changing while the screendump was taken")


def type_keys(run, line):
    """Type `line` and Enter on the PS/2 keyboard, a key at a time."""
    names = {" ": "spc", "\n": "ret"}
    for character in line + "\n":
        run(f"sendkey {names.get(character, character)}")


def last_row(text):
    rows = [row for row in text.split("\n") if row]
    return rows[-1] if rows else ""


def at_prompt(text):
    return last_row(text) == SHELL_PROMPT.rstrip()


def to_png(ppm, png):
    """A palette PNG at the highest compression: the text screen has a few
    colours, so a palette makes it a few kilobytes."""
    if not shutil.which("pnmtopng"):
        raise RuntimeError("pnmtopng is missing (Debian package netpbm): run ./build.sh deps")
    with open(png, "wb") as out:
        subprocess.run(["pnmtopng", "-compression", "9", str(ppm)], stdout=out, check=True,
                       stderr=subprocess.PIPE)
    if not png.read_bytes().startswith(PNG_SIGNATURE):
        raise RuntimeError(f"pnmtopng wrote no PNG to {png}")


def screenshot(name, out_dir, image, *, until, settled, keys=None, ready=at_prompt, cpu=None):
    """Boot `image`; once `until` shows on the serial port, wait until
    ready(text) holds and type `keys` (a shell command) if given, then wait
    until settled(text) holds, and write NAME.png and NAME.screen.txt."""
    out_dir = pathlib.Path(out_dir)
    with tempfile.TemporaryDirectory(prefix=f"screenshot-{name}-") as tmp:
        ppm = pathlib.Path(tmp) / f"{name}.ppm"

        def take(run):
            if keys is not None:
                wait_for_screen(run, ready)
                type_keys(run, keys)
            wait_for_screen(run, settled)
            return capture(run, ppm)

        result = boot(image, memory=run_memory(), cpu=cpu, until=until, settle=0.0,
                      timeout=BOOT_TIMEOUT_SECONDS, extra=NO_NETWORK,
                      monitor_script=take)
        text = result.monitor.get("script")
        if text is None or not ppm.exists():
            raise RuntimeError(f"{name}: the screen never showed what the picture is of; "
                               + result.describe())
        png = out_dir / f"{name}.png"
        screen = out_dir / f"{name}.screen.txt"
        to_png(ppm, png)
        screen.write_text(text)
        return [png, screen]


def shell_image(work_dir):
    """The image `./build.sh run` boots: this build, an empty command line
    (so the kernel ends in its shell)."""
    return build_image(pathlib.Path(work_dir) / "shell.img", cmdline="")


def make_boot(out_dir):
    with tempfile.TemporaryDirectory(prefix="screenshot-image-") as tmp:
        return screenshot("boot", out_dir, shell_image(tmp), until=SHELL_PROMPT,
                          settled=at_prompt)


# The kernel's last line after an exception nobody handles (kernel/cpu/exceptions.c).
KERNEL_PANIC = "PANIC: unhandled CPU exception: Page fault"


def make_fault_pf(out_dir):
    with tempfile.TemporaryDirectory(prefix="screenshot-image-") as tmp:
        return screenshot("fault-pf", out_dir, shell_image(tmp), until=SHELL_PROMPT,
                          keys="fault pf", settled=lambda text: KERNEL_PANIC in text)


def make_pt(out_dir):
    with tempfile.TemporaryDirectory(prefix="screenshot-image-") as tmp:
        return screenshot("pt-0x100000", out_dir, shell_image(tmp), until=SHELL_PROMPT,
                          keys="pt 0x100000",
                          settled=lambda text: "pt 0x100000" in text and at_prompt(text))


STAGE1_DISK_ERROR = "Stage 1: disk error 0x"


def make_stage1_disk_error(out_dir):
    """A disk of one sector, the MBR: every read of stage 2 fails, and
    stage 1 shows its error (as tests/test_loader_failures.py's mbr-only
    case makes it)."""
    with tempfile.TemporaryDirectory(prefix="screenshot-image-") as tmp:
        good = shell_image(tmp)
        sector = nasm_value(LOADER_FIELDS_INC, "SECTOR_SIZE")
        image = pathlib.Path(tmp) / "mbr-only.img"
        image.write_bytes(good.read_bytes()[:sector])
        return screenshot("stage1-disk-error", out_dir, image,
                          until=rf"{re.escape(STAGE1_DISK_ERROR)}[0-9A-F]{{2}}",
                          settled=lambda text: re.search(
                              rf"{re.escape(STAGE1_DISK_ERROR)}[0-9A-F]{{2}}", text))


NO_LONG_MODE = "this CPU does not support 64-bit long mode"


def make_no_long_mode(out_dir):
    """A 32-bit CPU (QEMU's qemu32 model has no long mode): stage 2's CPUID
    check stops the boot."""
    with tempfile.TemporaryDirectory(prefix="screenshot-image-") as tmp:
        return screenshot("no-long-mode", out_dir, shell_image(tmp), cpu="qemu32",
                          until=re.escape(LOADER_HALTED),
                          settled=lambda text: NO_LONG_MODE in text and LOADER_HALTED in text)


def unchanged(name, new_dir, out_dir):
    """True when the screenshot `name` just taken into new_dir shows the
    same screen as the one in out_dir (comparable() texts equal, the PNG
    there): make.py then keeps out_dir's files, whose PNG bytes would
    differ only by the cursor's blink and the TSC's digits."""
    old_text = out_dir / f"{name}.screen.txt"
    if not (old_text.is_file() and (out_dir / f"{name}.png").is_file()):
        return False
    new_text = (new_dir / f"{name}.screen.txt").read_text()
    return comparable(old_text.read_text()) == comparable(new_text)


PICTURES = {
    "boot": make_boot,
    "stage1-disk-error": make_stage1_disk_error,
    "no-long-mode": make_no_long_mode,
    "fault-pf": make_fault_pf,
    "pt-0x100000": make_pt,
}


if __name__ == "__main__":
    # A quick look without make.py: python3 tests/pictures/screenshots.py DIR [NAME ...]
    target = pathlib.Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for files in pool.map(lambda name: PICTURES[name](target), sys.argv[2:] or PICTURES):
            for path in files:
                print(path, path.stat().st_size)
