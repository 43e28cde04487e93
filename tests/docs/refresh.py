#!/usr/bin/env python3
"""The values the docs quote from the build, recomputed: `./build.sh docs`.

A document marks each value that comes from the build (a size, an
address, a checksum, a line number, a listing excerpt, a debugger
transcript) with an HTML comment pair, invisible on GitHub:

    stage 2 is <!-- build: stage2-sectors -->34<!-- /build --> sectors long

or, around a whole fenced block:

    <!-- build: bochs-stage1-read -->
    ```
    ...
    ```
    <!-- /build -->

NAME is one of the VALUES below: a function that computes the text from
this build (mkimage info, readelf, nm, the NASM listings, a boot in QEMU
read from COM1 or typed at through the kernel's shell, a Bochs or GDB
session run headless with the commands the transcript shows). Run as a
program this script rewrites every marked value in README.md, docs/*.md,
docs/course/*.md and docs/course/labs/*.md; tests/test_docs_values.py
computes the same and fails, naming the document, the line, the quoted
and the actual text, when they differ.

Every value is computed at most once per run, and all values of one kind
share one boot or one session, so a refresh takes seconds.
"""
import atexit
import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # tests/, for support.*

from support.paths import BUILD, DOCS_TOOLCHAIN, ROOT, build_toolchain  # noqa: E402

MARKER = re.compile(r"<!-- build: (?P<name>[\w.-]+) -->(?P<body>.*?)<!-- /build -->", re.S)
# A marker name that is not one of ours is a mistake; this catches a
# misspelt opening or closing comment too.
ANY_MARKER = re.compile(r"<!-- */?build\b[^>]*-->")


VALUES = {}       # name -> a function computing the text from the build


def value(name):
    def register(function):
        VALUES[name] = function
        return function
    return register


def documents():
    """Every Markdown file whose quoted values are checked."""
    docs = ROOT / "docs"
    return [ROOT / "README.md", *sorted(docs.glob("*.md")), *sorted((docs / "course").glob("*.md")),
            *sorted((docs / "course" / "labs").glob("*.md"))]


def run(*command, cwd=None):
    result = subprocess.run([str(word) for word in command], capture_output=True, text=True,
                            cwd=cwd)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def block(lines):
    """A fenced block for a marker: the fences and the text."""
    text = "\n".join(lines) if isinstance(lines, list) else lines
    return "```\n" + text.rstrip("\n") + "\n```"


def select(lines, keep, lead=None):
    """The lines matching any regex in `keep` (all lines when keep is None),
    with "..." where lines were left out between two kept ones (and, when
    `lead` is given, `lead` where lines were left out before the first)."""
    if keep is None:
        return list(lines)
    patterns = [re.compile(pattern) for pattern in keep]
    shown, skipped = [], False
    if lead and lines and not any(pattern.search(lines[0]) for pattern in patterns):
        shown.append(lead)
    for line in lines:
        if any(pattern.search(line) for pattern in patterns):
            if skipped and shown:
                shown.append("...")
            shown.append(line)
            skipped = False
        else:
            skipped = True
    if lead and shown[1:2] == ["..."] and shown[0] == lead:
        del shown[1]
    return shown


# ---- The build's files -----------------------------------------------------------------

@functools.cache
def mkimage_info():
    """`mkimage info build/disk.img`, run as the docs show it (from the top of the tree)."""
    return run(BUILD / "image" / "mkimage", "info", BUILD / "disk.img").replace(
        f"image: {BUILD / 'disk.img'}", "image: build/disk.img")


def info_field(pattern):
    match = re.search(pattern, mkimage_info(), re.M)
    assert match, f"mkimage info no longer prints {pattern!r}:\n{mkimage_info()}"
    return match


@functools.cache
def nm():
    symbols = {}
    for line in run("nm", BUILD / "kernel" / "kernel.elf").splitlines():
        parts = line.split()
        if len(parts) == 3:
            symbols[parts[2]] = int(parts[0], 16)
    return symbols


@functools.cache
def listing(stage):
    return (BUILD / "bootloader" / f"{stage}.lst").read_text().splitlines()


def listing_grep(stage, pattern, after):
    """`grep -A<after> PATTERN build/bootloader/STAGE.lst`, as grep prints it."""
    out = run("grep", f"-A{after}", pattern, BUILD / "bootloader" / f"{stage}.lst")
    return out.splitlines()


def listing_offset(stage, instruction, after_label=None):
    """The offset (from the stage's start) of the first listing line whose
    source text matches `instruction`, after `after_label:` when given."""
    started = after_label is None
    for line in listing(stage):
        fields = re.match(r"^\s*\d+ ([0-9A-F]{8}) [0-9A-F\[\]()]+\s+(?:<\d+>)?\s*(.*)$", line)
        if not started:
            started = bool(re.search(rf"^\s*\d+\s+(?:[0-9A-F]{{8}}\s+)?(?:<\d+>)?\s*{re.escape(after_label)}:", line))
            continue
        if fields and re.search(instruction, fields.group(2)):
            return int(fields.group(1), 16)
    raise AssertionError(f"no {instruction!r} in build/bootloader/{stage}.lst"
                         + (f" after {after_label}:" if after_label else ""))


@functools.cache
def labels(stage):
    """{label: address} of a loader stage, from its Bochs symbol file."""
    result = {}
    for line in (BUILD / "bootloader" / f"{stage}.sym").read_text().splitlines():
        address, name = line.split()
        result[name] = int(address, 16)
    return result


def source_line(path, pattern):
    """The line number of the first line of ROOT/path matching `pattern`."""
    for number, line in enumerate((ROOT / path).read_text().splitlines(), 1):
        if re.search(pattern, line):
            return number
    raise AssertionError(f"no line matching {pattern!r} in {path}")


# ---- QEMU: a boot read from COM1, and the kernel's shell --------------------------------

@functools.cache
def serial():
    """What build/disk.img prints with 128 MiB (./build.sh run's defaults),
    up to the shell's prompt."""
    from support.qemu import boot
    result = boot(BUILD / "disk.img", memory="128M", until=r"bootstack> ", timeout=90)
    assert "bootstack> " in result.serial, result.describe()
    return result.serial.replace("\r", "").splitlines()


def serial_line(prefix):
    found = [line for line in serial() if line.startswith(prefix)]
    assert found, f"the boot printed no line starting with {prefix!r}:\n" + "\n".join(serial())
    return found[0]


@functools.cache
def fault_serial(kind):
    """The boot of KERNEL_CMDLINE="fault=KIND qemu-exit", to its panic."""
    from support.images import build_image
    from support.qemu import boot
    with tempfile.TemporaryDirectory(prefix="docs-") as tmp:
        image = build_image(Path(tmp) / "fault.img", cmdline=f"fault={kind} qemu-exit")
        result = boot(image, memory="128M", timeout=90)
    assert "PANIC" in result.serial, result.describe()
    return result.serial.replace("\r", "").splitlines()


SHELL_PROMPT = "bootstack> "


@functools.cache
def shell_outputs(commands, memory="128M"):
    """{command: what it printed} for shell commands typed on the serial
    line of build/disk.img (a snapshot: the image is not written)."""
    import pexpect
    from support.qemu import DEBUG_EXIT_PORT, qemu_binary
    command = [qemu_binary(), "-accel", "tcg", "-m", memory, "-display", "none", "-no-reboot",
               "-nic", "none", "-monitor", "none", "-chardev", "stdio,id=console,signal=off",
               "-serial", "chardev:console", "-snapshot",
               "-drive", f"file={BUILD / 'disk.img'},format=raw,if=ide",
               "-device", f"isa-debug-exit,iobase={DEBUG_EXIT_PORT:#x},iosize=0x04"]
    child = pexpect.spawn(command[0], command[1:], encoding="latin-1", timeout=30)
    try:
        child.expect_exact(SHELL_PROMPT, timeout=90)
        outputs = {}
        for line in commands:
            child.send(line + "\r")
            child.expect_exact(SHELL_PROMPT)
            text = child.before.replace("\r", "")
            assert text.startswith(line), text
            outputs[line] = text[len(line):].strip("\n").splitlines()
        return outputs
    finally:
        child.close(force=True)


def shell_transcript(steps):
    """`bootstack> COMMAND` and its output (filtered as in select()) for
    each (command, keep) step, all typed into one boot."""
    outputs = shell_outputs(tuple(command for command, _ in steps))
    lines = []
    for command, keep in steps:
        lines.append(SHELL_PROMPT + command)
        lines += select(outputs[command], keep, lead="  ...")
    return lines


# ---- Bochs and GDB sessions, headless -------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\x1b[=>]")
BOCHS_MARK = 0xD0C50000        # `? 0xd0c5NNNN` prints "0xd0c5NNNN <decimal>": a separator


@functools.cache
def bochs_outputs(commands):
    """[what Bochs printed at the reset vector, then each command's output]
    for debugger commands run as `./build.sh bochs` runs them (the same
    bochsrc, the build's symbol files, 64 MiB), with no terminal."""
    from support.bochs import boot_bochs
    script = []
    for number, command in enumerate(commands):
        script += [f"? {BOCHS_MARK + number:#x}", command]
    script.append("q")
    result = boot_bochs(BUILD / "disk.img", until=None, timeout=120, debugger_commands=script,
                        symbols=[BUILD / "bootloader" / "stage1.sym",
                                 BUILD / "bootloader" / "stage2.sym",
                                 BUILD / "kernel" / "kernel.sym"])
    console = ANSI.sub("", result.console).replace("\r", "")
    parts = re.split(r"^0xd0c5[0-9a-f]{4} \d+\n", console, flags=re.M)
    assert len(parts) == len(commands) + 1, f"{result.stop_reason}\n{console[-3000:]}"
    start = parts[0][parts[0].find("Next at t=0"):]
    outputs = [start.splitlines()]
    for part in parts[1:]:
        lines = []
        for line in part.splitlines():
            if line.strip() == "[bochs]:" or line.startswith("(0).["):
                continue
            if line.startswith("\t") and lines:     # sreg: a register's descriptor, decoded
                lines[-1] += "\n" + line.rstrip()
            else:
                lines.append(line.rstrip())
        outputs.append(lines)
    return outputs


def bochs_transcript(steps, start=False, part=None):
    """A Bochs debugger transcript as a person sees it: `<bochs:N> command`
    and its output, for (command, keep) steps; start=True shows the stop
    at the reset vector first. part=(first, end): only those steps of the
    session, numbered as in the whole session."""
    outputs = bochs_outputs(tuple(command for command, _ in steps))
    lines = list(outputs[0]) if start else []
    first, end = part or (0, len(steps))
    for number, ((command, keep), output) in enumerate(zip(steps, outputs[1:]), 1):
        if first < number <= end:
            lines.append(f"<bochs:{number}> {command}")
            lines += select(output, keep)
    return lines


# docs/debugging-bochs.md: the debug build (DEBUG_BREAKS=1), run from one
# magic breakpoint to the next. `./build.sh bochs` with DEBUG_BREAKS=1 has
# the first `c` in the debugger's start-up file, so that one has no prompt.
@functools.cache
def debug_build():
    """DEBUG_BREAKS=1 ./build.sh build, into BUILD/breaks (kept: it is
    rebuilt only when the sources change)."""
    env = dict(os.environ, DEBUG_BREAKS="1", BUILD_DIR=str(BUILD))
    toolchain = BUILD / "toolchain.txt"
    if toolchain.exists():
        env["TOOLCHAIN"] = toolchain.read_text().strip()
    result = subprocess.run([ROOT / "build.sh", "build"], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return BUILD / "breaks"


BREAKS_SESSION = (("c", None),
                  ("r", [r"^rdx:", r"^rsp:", r"^rip:"]), ("sreg", [r"^cs:", r"^gdtr:", r"^idtr:"]),
                  ("c", None), ("x /16bx 0x7e00", None),
                  ("c", None), ("info gdt", [r"^Global", r"^GDT\["]),
                  ("c", None), ("creg", [r"^CR0=", r"^CR3=", r"^CR4=", r"^EFER="]),
                  ("sreg", [r"^cs:", r"^gdtr:"]),
                  ("c", None), ("creg", [r"^CR0=", r"^EFER="]), ("info tab", None),
                  ("page 0x100000", None),
                  ("c", None), ("r", [r"^rax:", r"^rsp:", r"^rdi:", r"^rip:"]))
BREAKS_STOPS = [(0, 3), (3, 5), (5, 7), (7, 10), (10, 14), (14, 16)]


@functools.cache
def breaks_outputs():
    from support.bochs import boot_bochs
    build = debug_build()
    commands = tuple(command for command, _ in BREAKS_SESSION)
    script = []
    for number, command in enumerate(commands):
        script += [f"? {BOCHS_MARK + number:#x}", command]
    script.append("q")
    result = boot_bochs(build / "disk.img", until=None, timeout=120, debugger_commands=script,
                        symbols=[build / "bootloader" / "stage1.sym",
                                 build / "bootloader" / "stage2.sym",
                                 build / "kernel" / "kernel.sym"])
    console = ANSI.sub("", result.console).replace("\r", "")
    parts = re.split(r"^0xd0c5[0-9a-f]{4} \d+\n", console, flags=re.M)
    assert len(parts) == len(commands) + 1, f"{result.stop_reason}\n{console[-3000:]}"
    outputs = []
    for part in parts[1:]:
        lines = []
        for line in part.splitlines():
            if line.strip() == "[bochs]:" or line.startswith("(0).["):
                continue
            if line.startswith("\t") and lines:
                lines[-1] += "\n" + line.rstrip()
            else:
                lines.append(line.rstrip())
        outputs.append(lines)
    return outputs


def breaks_stop(number):
    first, end = BREAKS_STOPS[number - 1]
    lines = []
    for index in range(first, end):
        command, keep = BREAKS_SESSION[index]
        output = breaks_outputs()[index]
        if command == "c":
            output = [line for line in output if not line.startswith("Next at t=")]
        if index:
            lines.append(f"<bochs:{index}> {command}")
        lines += select(output, keep)
    return lines


def breaks_place(number):
    """`CS:IP` (`symbol+offset`) where magic break `number` stopped."""
    line = next(line for line in breaks_stop(number) if line.startswith("(0) ["))
    where = re.search(r"\] ([0-9a-f]{4}):0*([0-9a-f]+) \(([^)]+)\)", line)
    return f"`{where[1]}:{int(where[2], 16):04x}` (`{where[3]}`)"


for _stop in range(1, len(BREAKS_STOPS) + 1):
    value(f"bochs-breaks-stop-{_stop}")(lambda stop=_stop: block(breaks_stop(stop)))
    value(f"bochs-breaks-place-{_stop}")(functools.partial(breaks_place, _stop))


# docs/boot-flow.md, "Stepping through in Bochs": one session in three parts.
BOOT_FLOW_BOCHS = (("lb 0x7c00", None), ("c", None), ("s", None),
                   ("lb 0x7e00", None), ("c", None), ("x /16bx 0x7e00", None),
                   ("lb 0x100000", None), ("c", None),
                   ("sreg", [r"^es:", r"^cs:", r"^gdtr:", r"^idtr:"]), ("info gdt", None),
                   ("creg", None), ("q", None))
BOOT_FLOW_BOCHS_PARTS = {"stage1": (0, 3), "stage2": (3, 6), "kernel": (6, 12)}


def boot_flow_bochs(part):
    steps = BOOT_FLOW_BOCHS[:-1]            # bochs_outputs ends the session with q itself
    lines = bochs_transcript(steps, part=BOOT_FLOW_BOCHS_PARTS[part])
    if part == "kernel":
        lines.append(f"<bochs:{len(BOOT_FLOW_BOCHS)}> q")
    return block(lines)


for _part in BOOT_FLOW_BOCHS_PARTS:
    value(f"bochs-boot-flow-{_part}")(functools.partial(boot_flow_bochs, _part))


@value("stage1-edd-int-offset")
def _():
    check = listing_offset("stage1", r"mov ah, DISK_EXT_CHECK")
    return hex(listing_offset_after("stage1", r"int BIOS_DISK", check))


@value("stage1-edd-int-break")
def _():
    return f"`lb {0x7C00 + int(VALUES['stage1-edd-int-offset'](), 16):#x}`"


@value("qemu-exit-dap-dump")
def _():
    return block(run("xxd", "-s", "0x1a8", "-l", "16", qemu_exit_image()))


GDB_MARK = "@@docs-step-"


@functools.cache
def gdb_outputs(commands):
    """Each GDB command's output in one `./build.sh debug` session run in
    batch mode (DEBUG_GDB_BATCH), from its start at the reset vector. The
    session runs on a directory of links to this build, so that it does not
    take the build directory's session lock."""
    with tempfile.TemporaryDirectory(prefix="docs-gdb-") as tmp:
        tmp = Path(tmp)
        for name in ("kernel", "bootloader", "disk.img"):
            (tmp / name).symlink_to(BUILD / name)
        script = tmp / "commands.gdb"
        script.write_text("".join(f"echo {GDB_MARK}{number}\\n\n{command}\n"
                                  for number, command in enumerate(commands)))
        result = subprocess.run([sys.executable, ROOT / "tests" / "debug" / "gdb_session.py",
                                 "--build", tmp, "--batch", script],
                                capture_output=True, text=True, timeout=300,
                                env=dict(os.environ, MEMORY="128M"))
    out = result.stdout
    parts = re.split(rf"^{GDB_MARK}\d+\n", out, flags=re.M)
    assert result.returncode == 0 and len(parts) == len(commands) + 1, out + result.stderr
    outputs = [part.splitlines() for part in parts[1:]]
    outputs[-1] = [line for line in outputs[-1] if not line.startswith("[Inferior 1")]
    return outputs


def gdb_transcript(steps):
    outputs = gdb_outputs(tuple(command for command, _ in steps))
    lines = []
    for (command, keep), output in zip(steps, outputs):
        lines.append(f"(gdb) {command}")
        lines += select(output, keep)
    return lines


# ---- The values ------------------------------------------------------------------------

# mkimage info: the image's layout.
@value("mkimage-info")
def _():
    return block(mkimage_info())


@value("kernel-bytes")
def _():
    return info_field(r"^kernel: LBA \d+, \d+ sectors, (\d+) bytes")[1]


@value("kernel-sectors")
def _():
    return info_field(r"^kernel: LBA \d+, (\d+) sectors")[1]


@value("kernel-lba")
def _():
    return info_field(r"^kernel: LBA (\d+)")[1]


@value("kernel-lba-hex")
def _():
    return hex(int(VALUES["kernel-lba"]()))


@value("kernel-reads")
def _():
    sectors = int(VALUES["kernel-sectors"]())
    chunk = 127                       # DISK_BUFFER_SECTORS
    return str(-(-sectors // chunk))


@value("stage2-sectors")
def _():
    return info_field(r"^stage 2: LBA \d+, (\d+) sectors")[1]


@value("stage2-header-version")
def _():
    return info_field(r"^stage 2 header: .*, version (\d+)")[1]


@value("stage2-header-size")
def _():
    size = int(info_field(r"^stage 2 header: .*, size (\d+)")[1])
    return f"{size:#x} = {size}"


@value("dap-xxd")
def _():
    return block(run("xxd", "-s", "0x1a8", "-l", "16", BUILD / "disk.img"))


# readelf and nm: the kernel file.
@value("readelf-l")
def _():
    out = run("readelf", "-l", BUILD / "kernel" / "kernel.elf").strip("\n")
    return block([line.rstrip() for line in out.splitlines()])


def load_segments():
    segments = re.findall(r"^  segment (\d+): offset (0x\w+), paddr (0x\w+), vaddr 0x\w+, "
                          r"filesz (0x\w+), memsz (0x\w+)", mkimage_info(), re.M)
    return [tuple(int(field, 16) for field in segment[1:]) for segment in segments]


@value("kernel-end")
def _():
    return f"{max(paddr + memsz for _, paddr, _, memsz in load_segments()):#X}".replace("0X", "0x")


@value("bss-segment")
def _():
    [(offset, paddr, filesz, memsz)] = [s for s in load_segments() if s[3] > s[2]]
    return (f"{filesz:#x} bytes from the file, {memsz:#X} in memory, so stage 2 zeroes "
            f"{paddr + filesz:#X}-{paddr + memsz - 1:#X}").replace("0X", "0x")


def nm_lines(pattern):
    out = run("nm", BUILD / "kernel" / "kernel.elf")
    return [line for line in out.splitlines() if re.search(pattern, line)]


@value("data-bytes")
def _():
    [(offset, paddr, filesz, memsz)] = [s for s in load_segments() if s[3] > s[2]]
    return f"{filesz:#x}"


@value("kernel-entry-bytes")
def _():
    dump = run("xxd", "-s", "0x1000", "-l", "7", BUILD / "kernel" / "kernel.elf")
    data = bytes.fromhex("".join(dump.split(":", 1)[1].split("  ")[0].split()))
    return "`" + " ".join(f"{byte:02x}" for byte in data) + "`"


@value("entry-lea")
def _():
    distance = nm()["kernel_boot_stack_top"] - 0x100007      # RIP after the 7-byte lea
    return f"`rip+{distance}` = 0x100007 + {hex_upper(distance)}"


def segment_range(number):
    """First-last byte of PT_LOAD segment `number` in memory."""
    _, paddr, _, memsz = sorted(load_segments(), key=lambda segment: segment[1])[number]
    return f"{hex_upper(paddr)}-{hex_upper(paddr + memsz - 1)}"


for _segment in range(4):
    value(f"segment-{_segment}-range")(functools.partial(segment_range, _segment))


@value("kernel-range-inclusive")
def _():
    end = max(paddr + memsz for _, paddr, _, memsz in load_segments())
    return f"0x100000-{hex_upper(end - 1)}"


@value("boot-stack-range")
def _():
    return f"{hex_upper(nm()['kernel_boot_stack_bottom'])}-{hex_upper(nm()['kernel_boot_stack_top'] - 1)}"


@value("stage2-extent")
def _():
    size = (BUILD / "bootloader" / "stage2.bin").stat().st_size
    return f"{size} bytes, 0x7E00-{hex_upper(0x7E00 + size - 1)}"


@value("nm-boot-stack")
def _():
    return block(nm_lines("kernel_boot_stack"))


@value("kernel-main-address")
def _():
    return f"{nm()['kernel_main']:#x}"


# Stage 1's listing (chapter 02).
STAGE1_EXCERPT_LINES = 16


@value("stage1-listing-grep")
def _():
    return block(f"grep -A{stage1_excerpt_length()} 'skip_parameter_block:' "
                 "build/bootloader/stage1.lst")


def stage1_excerpt_length():
    """How many lines after `skip_parameter_block:` reach the far jump."""
    lines = listing("stage1")
    start = next(n for n, line in enumerate(lines) if re.search(r"\bskip_parameter_block:", line))
    for n in range(start, len(lines)):
        if re.search(r"jmp 0:segments_are_normalised", lines[n]):
            return n - start
    raise AssertionError("no far jump after skip_parameter_block in stage1.lst")


@value("stage1-listing")
def _():
    lines = listing_grep("stage1", "skip_parameter_block:", stage1_excerpt_length())
    keep = [r"skip_parameter_block:", r"\bcli\b", r"xor ax, ax", r"mov sp,", r"jmp 0:segments_are_normalised"]
    return block(select(lines, keep))


@value("stage1-cli-offset")
def _():
    return f"{labels('stage1')['skip_parameter_block'] - 0x7C00:#X}".replace("0X", "0x")


@value("stage1-cli-address")
def _():
    return f"{labels('stage1')['skip_parameter_block']:#X}".replace("0X", "0x")


@value("stage1-far-jump-target")
def _():
    offset = labels("stage1")["segments_are_normalised"] - 0x7C00
    return f"{offset:#06X}".replace("0X", "0x")


@value("stage1-far-jump-target-address")
def _():
    return f"{labels('stage1')['segments_are_normalised']:#X}".replace("0X", "0x")


@value("stage1-stage2-jump-offset")
def _():
    return f"{listing_offset('stage1', r'jmp STAGE2_LOAD_ADDRESS'):#X}".replace("0X", "0x")


# Stage 2's listing (chapters 03, 04).
def stage2_address(offset):
    return f"{0x7E00 + offset:#X}".replace("0X", "0x")


def hex_upper(number):
    return f"{number:#X}".replace("0X", "0x")


@value("unreal-mode-offsets")
def _():
    lgdt = listing_offset("stage2", r"lgdt", "enter_unreal_mode")
    first = listing_offset("stage2", r"mov cr0, eax", "enter_unreal_mode")
    second = next(offset for offset in [listing_offset_after("stage2", r"mov cr0, eax", first)])
    return (f"offsets {hex_upper(lgdt)}, {hex_upper(first)} and {hex_upper(second)}: in memory "
            f"{stage2_address(lgdt)}, {stage2_address(first)} and {stage2_address(second)}")


def listing_offset_after(stage, instruction, after_offset):
    for line in listing(stage):
        fields = re.match(r"^\s*\d+ ([0-9A-F]{8}) [0-9A-F\[\]()]+\s+(?:<\d+>)?\s*(.*)$", line)
        if fields and int(fields.group(1), 16) > after_offset and re.search(instruction, fields.group(2)):
            return int(fields.group(1), 16)
    raise AssertionError(f"no {instruction!r} after offset {after_offset:#x} in {stage}.lst")


def second_unreal_cr0():
    first = listing_offset("stage2", r"mov cr0, eax", "enter_unreal_mode")
    return 0x7E00 + listing_offset_after("stage2", r"mov cr0, eax", first)


@value("unreal-mode-listing-grep")
def _():
    lines = listing("stage2")
    start = next(n for n, line in enumerate(lines) if re.search(r"<1> enter_unreal_mode:", line))
    end = next(n for n in range(start, len(lines)) if
               re.search(r"mov cr0, eax", lines[n]) and 0x7E00 + int(lines[n].split()[1], 16)
               == second_unreal_cr0())
    return block(f"grep -A{end - start} '^ *[0-9]* *<1> enter_unreal_mode:' "
                 "build/bootloader/stage2.lst")


@value("bochs-unreal-mode")
def _():
    address = second_unreal_cr0()
    return block(bochs_transcript([
        (f"lb {address:#x}", None), ("c", None), ("s", []), ("s", []), ("s", None),
        ("sreg", [r"^es:", r"^cs:", r"^ds:"]),
    ]))


@value("banner-offset")
def _():
    return hex_upper(labels("stage2")["banner_message"] - 0x7E00)


@value("gdt-offset")
def _():
    return hex_upper(labels("stage2")["gdt_start"] - 0x7E00)


@value("gdt-address")
def _():
    return hex_upper(labels("stage2")["gdt_start"])


@value("fault-idt-address")
def _():
    return hex_upper(labels("stage2")["fault_idt"])


@value("fault-idt-32-address")
def _():
    return hex_upper(labels("stage2")["fault_idt_32"])


@value("fault-tss-address")
def _():
    return hex_upper(labels("stage2")["fault_report_tss"])


@value("gdt-address-bracketed")
def _():
    offset = labels("stage2")["gdt_start"] - 0x7E00
    return "`[" + offset.to_bytes(4, "little").hex().upper() + "]`"


@value("in-protected-mode-offset")
def _():
    return hex_upper(labels("stage2")["in_protected_mode"] - 0x7E00)


@value("in-protected-mode-address")
def _():
    return hex_upper(labels("stage2")["in_protected_mode"])


@value("in-long-mode-address")
def _():
    return hex_upper(labels("stage2")["in_long_mode"])


@value("gdt-listing")
def _():
    """The null descriptor, the first descriptor's access and flags bytes,
    and gdt_pointer: the lines chapter 04 reads."""
    lines = listing_grep("stage2", "gdt_start:", 60)
    wanted = [r"dq 0\b", r"<2>\s+db %1$", r"<2>\s+db \(\(%2\) << 4\)",
              r"dw gdt_end - gdt_start - 1", r"dd gdt_start"]
    # Only lines that assembled to bytes (an address column): the lab's
    # STUB comments quote the same instructions.
    assembled = re.compile(r"^\s*\d+ [0-9A-F]{8} ")
    picked = [next(n for n, line in enumerate(lines)
                   if assembled.match(line) and re.search(pattern, line))
              for pattern in wanted]
    shown = []
    for previous, n in zip([None, *picked], picked):
        if previous is not None and n != previous + 1:
            shown.append("...")
        shown.append(lines[n])
    return block(shown)


@value("bochs-protected-mode")
def _():
    address = labels("stage2")["in_protected_mode"]
    return block(bochs_transcript([
        (f"lb {address:#x}", None), ("c", None),
        ("sreg", [r"^cs:", r"^ss:", r"^gdtr:"]),
        ("creg", [r"^CR0="]), ("info gdt", None)]))


# Chapter 01 and 02: Bochs at the boot sector.
@value("bochs-reset-to-boot-sector")
def _():
    return block(bochs_transcript([("lb 0x7c00", None), ("c", None)], start=True))


@value("bios-instructions")
def _():
    out = bochs_outputs(("lb 0x7c00", "c"))[2]
    t = int(next(re.search(r"Next at t=(\d+)", line)[1] for line in out if "Next at t=" in line))
    return f"{round(t / 1e6)} million"


@value("bochs-stage2-read")
def _():
    return block(bochs_transcript([
        ("lb 0x7c00", None), ("c", []), ("x /16bx 0x7e00", None), ("lb 0x7e00", None),
        ("c", None), ("x /16bx 0x7e00", None)]))


# Chapters 05 and 07: Bochs at the kernel's entry.
@value("bochs-kernel-entry-paging")
def _():
    return block(bochs_transcript([
        ("lb 0x100000", None), ("c", None),
        ("creg", [r"^CR0=", r"^CR3=", r"^CR4=", r"^EFER="]), ("page 0x100000", None), ("info tab", None)]))


@value("bochs-kernel-entry-registers")
def _():
    return block(bochs_transcript([
        ("lb 0x100000", None), ("c", None),
        ("r", [r"^rax:", r"^rsp:", r"^rbp:", r"^rdi:"]), ("x /16bx 0x1000", None),
        ("s", []), ("s", None), ("r", [r"^rsp:"])]))


@value("kernel-stack-top")
def _():
    return hex_upper(nm()["kernel_boot_stack_top"])


# GDB (./build.sh debug), chapters 02 and 05 and docs/debugging.md.
@value("gdb-stage1")
def _():
    return block(gdb_transcript([
        ("stage1", None), ("real-mode-regs", None), ("stepi", None), ("x16 4", None)]))


@value("gdb-long-mode")
def _():
    return block(gdb_transcript([
        ("break *$in_protected_mode", None), ("continue", None),
        ("info registers cr0 cr3 cr4 efer", None),
        ("break *$in_long_mode", None), ("continue", None),
        ("info registers cr0 cr3 cr4 efer", None),
        ("x/3i $pc", None)]))


# The instructor kit's mistake 1 (no far jump after CR0.PE): what QEMU and
# Bochs log depends on the bytes that run as 16-bit code, which move with
# the loader's code; made again on a copy of the loader, once for both.
@functools.cache
def far_jump_mistake_logs():
    from support.mistakes import far_jump_mistake
    with tempfile.TemporaryDirectory(prefix="docs-mistake-") as tmp:
        _, sequence, _, complaints = far_jump_mistake(Path(tmp))
    assert sequence and complaints, "mistake 1 logged no exceptions"
    return sequence, complaints


@value("kit-far-jump-qemu")
def _():
    return block(far_jump_mistake_logs()[0])


@value("kit-far-jump-bochs")
def _():
    return block(far_jump_mistake_logs()[1])


# boot-protocol.md: the machine state at the first kernel instruction, as
# QEMU's monitor shows it (abridged to the lines the table above it explains).
@value("kernel-entry-monitor-registers")
def _():
    with tempfile.TemporaryDirectory(prefix="docs-gdb-") as tmp:
        tmp = Path(tmp)
        for name in ("kernel", "bootloader", "disk.img"):
            (tmp / name).symlink_to(BUILD / name)
        script = tmp / "commands.gdb"
        script.write_text("hbreak *0x100000\ncontinue\nmonitor info registers\n")
        result = subprocess.run([sys.executable, ROOT / "tests" / "debug" / "gdb_session.py",
                                 "--build", tmp, "--batch", script],
                                capture_output=True, text=True, timeout=300,
                                env=dict(os.environ, MEMORY="128M"))
    # GDB passes the monitor's answer on to its stderr.
    shown = select(result.stderr.splitlines(),
                   [r"^RAX=", r"^RSI=", r"^RIP=", r"^ES =", r"^CS =", r"^SS =",
                    r"^GDT=", r"^IDT=", r"^CR0=", r"^EFER="])
    assert result.returncode == 0 and len(shown) >= 10, result.stdout + result.stderr
    return block([line for line in shown if line != "..."])


# docs/debugging.md: one session, shown in parts, so that GDB's breakpoint
# numbers run on from part to part as they do for the reader.
DEBUGGING_SESSION = (("stage1", None), ("real-mode-regs", None), ("stepi", None),
                     ("break *$stage2_main", None), ("continue", None),
                     ("break *$in_protected_mode", None), ("continue", None),
                     ("kernel", None), ("bt", None), ("info registers cs cr0 cr3 efer", None))
DEBUGGING_PARTS = {"stage1": (0, 1), "regs": (1, 2), "stepi": (2, 3), "stage2": (3, 5),
                   "protected": (5, 7), "kernel": (7, 10)}


def debugging_part(part):
    first, end = DEBUGGING_PARTS[part]
    outputs = gdb_outputs(tuple(command for command, _ in DEBUGGING_SESSION))
    lines = []
    for (command, keep), output in list(zip(DEBUGGING_SESSION, outputs))[first:end]:
        lines.append(f"(gdb) {command}")
        lines += select(output, keep)
    return block(lines)


for _part in DEBUGGING_PARTS:
    value(f"gdb-session-{_part}")(functools.partial(debugging_part, _part))


@value("gdb-loader-labels")
def _():
    """Two entries of build/debug/loader-labels.gdb, as the session writes it."""
    from debug.gdb_session import write_label_script
    with tempfile.TemporaryDirectory(prefix="docs-labels-") as tmp:
        out = Path(tmp) / "loader-labels.gdb"
        write_label_script(BUILD / "bootloader", out)
        lines = out.read_text().splitlines()
    shown = []
    for label in ("stage2_main", "stage2_main.drive_number_as_given"):
        n = lines.index(f"# stage2: {label}")
        shown += lines[n:n + 2]
    return block(shown)


@value("bochs-info-symbol-kernel-main")
def _():
    return f"`{nm()['kernel_main']:016x}: kernel_main`"


@value("bochs-lb-kernel-main")
def _():
    return f"`lb {nm()['kernel_main']:#x}`"


# The boot, on COM1 (chapters 03, 06, 07, 09 and the README).
@value("serial-real-mode")
def _():
    lines = serial()
    start = next(n for n, line in enumerate(lines) if line.startswith("bootstack stage 2:"))
    end = next(n for n, line in enumerate(lines) if line.startswith("stage2: loading the kernel"))
    return block(lines[start:end + 1])


@value("serial-kernel-loaded")
def _():
    return block([serial_line("stage2: kernel ELF ok"), serial_line("stage2: kernel checksum ok")])


@value("serial-memory-line")
def _():
    return block([serial_line("memory: ")])


@value("serial-memory-map")
def _():
    lines = shell_outputs(("boot",))["boot"]            # the shell's `boot`, as chapter 03 says
    start = next(n for n, line in enumerate(lines) if line.startswith("memory map (E820"))
    end = next(n for n in range(start + 1, len(lines)) if not lines[n].startswith("  ["))
    return block(lines[start:end])


@value("serial-boot-info")
def _():
    lines = shell_outputs(("boot",))["boot"]            # the shell's `boot`, as chapter 07 says
    start = next(n for n, line in enumerate(lines) if line.startswith("boot info: at"))
    shown = []
    for line in lines[start:]:
        if line.startswith("loader timestamps"):
            continue          # TSC cycles: they differ from boot to boot (the chapter says so)
        shown.append(line)
        if line.startswith("memory map (E820"):
            break
    return block(shown + ["  ..."])


@value("readme-boot")
def _():
    lines = serial()
    start = next(n for n, line in enumerate(lines) if line.startswith("bootstack stage 2:"))
    load = next(n for n, line in enumerate(lines) if line.startswith("stage2: loading the kernel"))
    tables = next(n for n, line in enumerate(lines) if line.startswith("stage2: page tables built"))
    kernel = next(n for n, line in enumerate(lines) if line.startswith("Kernel: running"))
    done = next(n for n, line in enumerate(lines) if line.startswith("Kernel: boot complete"))
    return block(lines[start:load + 1] + ["..."] + lines[tables:kernel + 1] + ["..."]
                 + lines[done:done + 2] + ["bootstack>"])


@value("serial-loading-line")
def _():
    return f"`{serial_line('stage2: loading the kernel: ')}`"


@value("loader-disk-reads")
def _():
    return f"`{serial_line('loader disk reads: ')}`"


@value("serial-loading-block")
def _():
    return block([serial_line("stage2: loading the kernel: ")])


@value("serial-checksum-block")
def _():
    return block([serial_line("stage2: kernel checksum ok")])


# An image with the command line qemu-exit, as `KERNEL_CMDLINE=qemu-exit
# ./build.sh build` makes it (docs/boot-flow.md, docs/boot-protocol.md).
@functools.cache
def qemu_exit_image():
    from support.images import build_image
    directory = Path(tempfile.mkdtemp(prefix="docs-qemu-exit-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return build_image(directory / "disk.img", cmdline="qemu-exit")


@functools.cache
def qemu_exit_serial():
    from support.qemu import boot
    result = boot(qemu_exit_image(), memory="128M", timeout=90, extra=["-nic", "none"])
    assert result.exit_code == 33, result.describe()
    return result.serial.replace("\r", "")


@value("qemu-exit-boot")
def _():
    return block(qemu_exit_serial().rstrip("\n"))


@value("qemu-exit-mkimage-info")
def _():
    image = qemu_exit_image()
    return block(run(BUILD / "image" / "mkimage", "info", image).replace(
        f"image: {image}", "image: build/disk.img"))


@value("qemu-exit-header-dump")
def _():
    return block(run("xxd", "-s", "0x200", "-l", "48", qemu_exit_image()))


@value("qemu-exit-header-reading")
def _():
    data = qemu_exit_image().read_bytes()[0x200:0x200 + 40]
    jump, magic = data[0:3], data[4:8].decode()
    version, size = int.from_bytes(data[8:10], "little"), int.from_bytes(data[10:12], "little")
    lba, sectors, length = (int.from_bytes(data[n:n + 4], "little") for n in (12, 16, 20))
    checksum = int.from_bytes(data[24:32], "little")
    kind = int.from_bytes(data[32:36], "little")
    return (f"jump `{jump.hex(' ')}` + pad, magic \"{magic}\", version {version}, size "
            f"{hex_upper(size)} ({size}), kernel at LBA {hex_upper(lba)} ({lba}), "
            f"{hex_upper(sectors)} ({sectors}) sectors, {hex_upper(length)} ({length}) bytes, "
            f"checksum {checksum:#018X}".replace("0X", "0x") + f", kind {kind}")


@value("disk-layout")
def _():
    """docs/memory-layout.md's table of this build's image, from mkimage info."""
    stage2_bytes = (BUILD / "bootloader" / "stage2.bin").stat().st_size
    stage2_sectors = int(VALUES["stage2-sectors"]())
    kernel_lba, kernel_sectors = int(VALUES["kernel-lba"]()), int(VALUES["kernel-sectors"]())
    kernel_bytes = int(VALUES["kernel-bytes"]())
    image_sectors = int(info_field(r"^image: .*\((\d+) sectors\)")[1])
    kernel_end = kernel_lba + kernel_sectors

    def row(lbas, first, count, what):
        byte_range = f"0x{first * 512:06X}-0x{(first + count) * 512 - 1:06X}"
        return f" {lbas:<7} {byte_range:<21} {what}"
    rows = [" LBA     bytes in the image    what",
            row("0", 0, 1, "stage 1 (512 bytes)"),
            row(f"1-{stage2_sectors}", 1, stage2_sectors,
                f"stage 2 ({stage2_bytes} bytes, {stage2_sectors} sectors)")]
    if kernel_lba > stage2_sectors + 1:
        gap = kernel_lba - stage2_sectors - 1
        lbas = str(stage2_sectors + 1) if gap == 1 else f"{stage2_sectors + 1}-{kernel_lba - 1}"
        rows.append(row(lbas, stage2_sectors + 1, gap,
                        "zeros: the kernel starts on a 4 KiB boundary"))
    rows.append(row(f"{kernel_lba}-{kernel_end - 1}", kernel_lba, kernel_sectors,
                    f"the kernel ({kernel_bytes} bytes, {kernel_sectors} sectors)"))
    rows.append(row(f"{kernel_end}-{image_sectors - 1}", kernel_end, image_sectors - kernel_end,
                    f"zeros: the image is {image_sectors} sectors, "
                    f"{image_sectors * 512 >> 20} MiB").replace("  zeros", " zeros", 1))
    # (the last LBA range is one column wider; the table keeps its columns)
    return block(rows)


# The kernel's shell (chapters 05 and 09).
@value("shell-pt")
def _():
    return block(shell_transcript([
        ("pt 0x100000", None),
        ("pt 0x200000", [r"^  PDE "]),
        ("pt 0x80000000", [r"^  PDPTE", r"^  PDE "])]))


@value("shell-mem")
def _():
    return block(shell_transcript([("mem", None)]))


def guard_commands():
    guard = nm()["kernel_boot_stack_guard"]
    return (f"pt {guard:#x}", f"pt {guard + 0x1000:#x}", "pt 0xffffc00000000000")


@value("shell-guard-and-heap")
def _():
    below, above, heap = guard_commands()
    return block(shell_transcript([(below, [r"^  PTE", r"=>"]), (above, [r"^  PTE", r"=>"]),
                                   (heap, None)]))


@value("guard-gap")
def _():
    guard = nm()["kernel_boot_stack_guard"]
    return f"{hex_upper(guard)}-{hex_upper(guard + 0x1000)}"


@value("guard-address")
def _():
    return hex_upper(nm()["kernel_boot_stack_guard"])


@value("ksymtab-walk")
def _():
    address = max(paddr for _, paddr, _, _ in load_segments())     # the last segment: .ksymtab
    command = f"pt {address:#x}"
    pte = next(line for line in shell_outputs((command,))[command] if line.startswith("  PTE"))
    index, entry = re.search(r"\[\s*(\d+)\] (0x[0-9a-f]+)", pte).groups()
    return f"{hex_upper(address)}: PT entry [{index}] is `{entry}`"


@value("pt-rodata")
def _():
    return f"`pt {sorted(paddr for _, paddr, _, _ in load_segments())[1]:#x}`"


@value("qemu-info-tlb")
def _():
    from support.qemu import boot
    text, rodata = sorted(paddr for _, paddr, _, _ in load_segments())[:2]
    result = boot(BUILD / "disk.img", memory="128M", until=r"bootstack> ", timeout=90,
                  monitor_commands=["info tlb"])
    lines = result.monitor["info tlb"].replace("\r", "").splitlines()
    wanted = [f"{address:016x}:" for address in (text, rodata)]
    return block(["(qemu) info tlb", *select(lines, [f"^{w}" for w in wanted], lead="...")])


@value("kernel-picture")
def _():
    """Chapter 09's picture of the address space after start-up, with this
    kernel's segments, guard page and end."""
    segments = sorted(load_segments(), key=lambda segment: segment[1])
    text, rodata, data, ksymtab = (paddr for _, paddr, _, _ in segments)
    guard = nm()["kernel_boot_stack_guard"]
    end = max(paddr + memsz for _, paddr, _, memsz in segments)
    end = -(-end // 0x1000) * 0x1000

    def at(address):
        return f"0x{address:016X}"
    return block([
        "virtual address                      what                     mapped to",
        "0x0000000000000000 -+",
        "                     | identity map of the loader (chapter 05): virtual = physical",
        f"{at(text)}   |   .text      read-only, executable",
        f"{at(rodata)}   |   .rodata    read-only, no-execute",
        f"{at(data)}   |   .data      writable,  no-execute",
        f"{at(guard)}   |   guard page NOT MAPPED (memory_init)",
        f"{at(guard + 0x1000)}   |   .bss with the boot stack, writable, no-execute",
        f"{at(ksymtab)}   |   .ksymtab   read-only, no-execute",
        f"{at(end)}   |   RAM, devices ... read/write/execute up to 4 GiB",
        "0x0000000100000000 -+",
        "        ...              (not mapped)",
        "0xFFFFC00000000000 -+    heap, 64 KiB mapped at first     -> frames after the kernel",
        "0xFFFFC00000010000 -+"])


@value("x3i-stage2-main")
def _():
    return f"`x/3i {labels('stage2')['stage2_main']:#x}`"


@value("qemu-info-mem")
def _():
    from support.qemu import boot
    result = boot(BUILD / "disk.img", memory="128M", until=r"bootstack> ", timeout=90,
                  monitor_commands=["info mem"])
    assert "info mem" in result.monitor, result.describe()
    return block(["(qemu) info mem", *result.monitor["info mem"].replace("\r", "").splitlines()])


@functools.cache
def kernel_registers():
    from support.qemu import boot
    result = boot(BUILD / "disk.img", memory="128M", until=r"bootstack> ", timeout=90,
                  monitor_commands=["info registers"])
    assert "info registers" in result.monitor, result.describe()
    return result.monitor["info registers"].replace("\r", "").splitlines()


@value("qemu-kernel-tables")
def _():
    return block(["(qemu) info registers"]
                 + select(kernel_registers(), [r"^CS =", r"^TR =", r"^GDT=", r"^IDT="], lead="..."))


@value("kernel-gdt-address")
def _():
    line = next(line for line in kernel_registers() if line.startswith("GDT="))
    return hex_upper(int(line.split()[1], 16))


def heap_walk():
    return shell_outputs(guard_commands())["pt 0xffffc00000000000"]


@value("heap-tables")
def _():
    tables = [int(m[1], 16) for line in heap_walk() for m in [re.search(r"-> table (0x\w+)", line)] if m]
    return f"{hex_upper(tables[0])}-{hex_upper(tables[-1])}"


@value("heap-page")
def _():
    page = next(re.search(r"4 KiB page (0x\w+)", line)[1] for line in heap_walk() if "4 KiB page" in line)
    return hex_upper(int(page, 16))


# Chapter 08: an exception report.
@value("fault-pf")
def _():
    lines = fault_serial("pf")
    start = next(n for n, line in enumerate(lines) if line.startswith("EXCEPTION:"))
    end = next(n for n, line in enumerate(lines) if line.startswith("PANIC:"))
    return block(select(lines[start:end + 1],
                        [r"^EXCEPTION", r"^  page fault", r"^  RIP=", r"^  CS=", r"^  CR2=",
                         r"^backtrace", r"^  0x", r"^PANIC"]))


@value("fault-stack")
def _():
    lines = fault_serial("stack")
    start = next(n for n, line in enumerate(lines) if line.startswith("EXCEPTION:"))
    end = next(n for n, line in enumerate(lines) if line.startswith("PANIC:"))
    shown = select(lines[start:end], [r"^EXCEPTION", r"^  RIP=", r"^  CS=", r"^  CR2=",
                                      r"^backtrace", r"^  0x", r"^  \("])
    backtrace = shown.index("backtrace:")
    return block(shown[:backtrace + 3] + [line for line in shown[backtrace + 3:]
                                          if line.startswith("  (")][:1])


@value("fault-stack-cr2")
def _():
    line = next(line for line in fault_serial("stack") if line.startswith("  CR2="))
    return hex_upper(int(re.search(r"CR2=(0x[0-9a-f]+)", line)[1], 16))


@value("guard-page")
def _():
    guard = nm()["kernel_boot_stack_guard"]
    return f"{hex_upper(guard)}-{hex_upper(guard + 0xFFF)}"


@value("fault-pf-rsp")
def _():
    lines = fault_serial("pf")
    return "0x" + re.search(r"RSP=0x0*([0-9a-f]+)", next(l for l in lines if "RSP=" in l))[1]


# ./build.sh inspect (README, chapter 02).
@functools.cache
def inspect_sizes():
    out = run(ROOT / "image" / "inspect.sh", BUILD)
    return [line for line in out.splitlines()
            if line.startswith(("stage 1: ", "stage 2: ")) and " of " in line]


@value("inspect-loader-sizes")
def _():
    return block(inspect_sizes())


@value("inspect-stage1")
def _():
    return block(inspect_sizes()[:1])


# ---- Reading and rewriting the docs ----------------------------------------------------

def masked(text):
    """`text` with every code span that shows a marker (as the README does,
    to explain them) blanked out, at the same offsets."""
    # Code spans pair their backticks from the left, as Markdown does.
    return re.sub(r"`[^`\n]*`", lambda m: " " * len(m.group(0)) if "<!--" in m.group(0)
                  else m.group(0), text)


def markers(text):
    """[(line number, name, body, match)] of the marked values in `text`."""
    return [(text.count("\n", 0, match.start()) + 1, match["name"], match["body"], match)
            for match in MARKER.finditer(masked(text))]


# Parts of a transcript that differ from run to run whatever the build: the
# time stamp counter values the loader records. The check compares them as
# "N"; the refresh writes those of its own run.
VARYING = [(re.compile(r"^(loader timestamps \(TSC cycles since stage 2 start\):).*$", re.M),
            r"\1 N")]


def normalised(text):
    for pattern, replacement in VARYING:
        text = pattern.sub(replacement, text)
    return text.strip("\n")


def render(name, body_in_doc):
    """The marker's new body: a block on lines of its own, a value inline."""
    text = VALUES[name]()
    if "\n" in text or body_in_doc.startswith("\n"):
        return "\n" + text + "\n"
    return text


def check(path):
    """[(line, name, quoted, actual)] for each marked value of `path` that
    differs from the build, and [(line, problem)] for broken markers."""
    text = path.read_text()
    differences, problems = [], []
    for line, name, body, _ in markers(text):
        if name not in VALUES:
            problems.append((line, f"unknown build value {name!r} (tests/docs/refresh.py has "
                                   f"{', '.join(sorted(VALUES))})"))
            continue
        actual = render(name, body)
        if normalised(body) != normalised(actual):
            differences.append((line, name, body.strip("\n"), actual.strip("\n")))
    opened = len(ANY_MARKER.findall(masked(text)))
    if opened != 2 * len(markers(text)):
        problems.append((0, f"{opened} build comments, but {len(markers(text))} complete "
                            "<!-- build: NAME -->...<!-- /build --> pairs"))
    return differences, problems


def refresh(path):
    text = path.read_text()
    new, end = [], 0
    for _, name, body, match in markers(text):
        if name in VALUES:
            fresh = render(name, body)
            if normalised(fresh) == normalised(body):
                fresh = body          # only run-to-run noise differs: leave the text alone
            new += [text[end:match.start()], f"<!-- build: {name} -->{fresh}<!-- /build -->"]
            end = match.end()
    new = "".join(new) + text[end:]
    if new != text:
        path.write_text(new)
        return True
    return False


def main():
    if build_toolchain() != DOCS_TOOLCHAIN:
        print(f"refresh.py: the docs quote the TOOLCHAIN={DOCS_TOOLCHAIN} build, and {BUILD} "
              f"was built with TOOLCHAIN={build_toolchain()}: run TOOLCHAIN={DOCS_TOOLCHAIN} "
              f"./build.sh docs", file=sys.stderr)
        return 2
    changed = 0
    for path in documents():
        if not markers(path.read_text()):
            continue
        if refresh(path):
            changed += 1
            print(f"refresh.py: updated {path.relative_to(ROOT)}")
        _, problems = check(path)
        for line, problem in problems:
            print(f"refresh.py: {path.relative_to(ROOT)}:{line}: {problem}", file=sys.stderr)
            changed = -1
    if changed >= 0:
        print(f"refresh.py: {changed} document(s) changed; every quoted build value is current")
    return 1 if changed < 0 else 0


if __name__ == "__main__":
    sys.exit(main())
