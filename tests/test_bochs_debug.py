"""Step-through debugging in Bochs (`DEBUG_BREAKS=1 ./build.sh bochs`).

A debug build plants a Bochs magic breakpoint (`xchg bx, bx`) at each
stage boundary (bootloader/magic_break.inc, kernel/magic_break.h). Here we
build one, boot it headless in Bochs with a debugger script that
continues from break to break and prints the registers at each, and check
that every break is where it claims to be, in the CPU mode it should be
in. And that without MAGIC_BREAKS nothing changes: the normal loader and
kernel must not carry a single extra byte.
"""
import os
import re
import subprocess

import pexpect
import pytest

from support.bochs import bochsrc_text, boot_bochs
from support.paths import BUILD, ROOT, as_run_here
from support.sources import LOADER_FIELDS_INC, nasm_value
from support.symbols import symbol_address

BOOTLOADER = ROOT / "bootloader"
MAGIC_BREAK_16 = b"\x87\xdb"            # xchg bx, bx in 16-bit code
MAGIC_BREAK_WIDE = b"\x66\x87\xdb"      # the same in 32- and 64-bit code
DEBUG_TIMEOUT_SECONDS = 60
# Stage 2 is loaded at 0x7E00, at most STAGE2_MAX_SECTORS of 512 bytes.
STAGE2_MAX_BYTES = nasm_value(LOADER_FIELDS_INC, "STAGE2_MAX_SECTORS") * 512
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\x1b[=>]")

# The breaks in the order the boot passes them: (name, the label the
# break follows, at which offset from it Bochs stops). Bochs stops after
# executing the 2-byte (16-bit code) or 3-byte (32/64-bit) instruction.
BREAKS = [
    ("stage 1 entry", "skip_parameter_block", 2),
    ("stage 2 entry", "stage2_main", 2),
    ("before protected mode", "enter_long_mode", None),
    ("before long mode", "in_protected_mode.nx_done", None),
    ("before the kernel jump", "in_long_mode", None),
    ("kernel_main", "kernel_main", None),
]


def nasm(source, out, *defines):
    subprocess.run(["nasm", "-f", "bin", "-Wall", f"-I{BOOTLOADER}/", *defines,
                    "-o", str(out), str(BOOTLOADER / source)],
                   check=True, capture_output=True, cwd=BOOTLOADER)
    return out.read_bytes()


# Stage 2's: its entry, 3 on the way to our own kernels (long_mode.inc),
# and one before each other handoff (protected_mode_handoff.inc for
# Multiboot kernels, linux_boot.inc for Linux).
@pytest.mark.parametrize("stage, breaks", [("stage1", 1), ("stage2", 6)])
def test_breaks_only_with_the_define(tmp_path, stage, breaks):
    """Assembled without MAGIC_BREAKS a stage is byte for byte the build's;
    with it, it carries exactly its breakpoints more. Stage 1 has room for
    its one: still 512 bytes, NASM's size checks passed."""
    normal = nasm(f"{stage}.asm", tmp_path / "normal.bin")
    debug = nasm(f"{stage}.asm", tmp_path / "debug.bin", "-DMAGIC_BREAKS")
    assert normal == (BUILD / "bootloader" / f"{stage}.bin").read_bytes()
    assert debug != normal
    assert debug.count(MAGIC_BREAK_16) - normal.count(MAGIC_BREAK_16) == breaks
    if stage == "stage1":
        assert len(debug) == len(normal) == 512


def test_normal_kernel_has_no_break():
    kernel = (BUILD / "kernel" / "kernel-stripped.elf").read_bytes()
    assert MAGIC_BREAK_WIDE not in kernel


def read_symbols(path):
    """A .sym file as {name: address}."""
    symbols = {}
    for line in path.read_text().splitlines():
        address, name = line.split()
        symbols[name] = int(address, 16)
    return symbols


def test_symbol_files(build_dir):
    """The build's symbol files for Bochs's ldsym: "ADDRESS NAME", hex."""
    for name in ["stage1.sym", "stage2.sym"]:
        for line in (build_dir / "bootloader" / name).read_text().splitlines():
            assert re.fullmatch(r"[0-9a-f]+ [A-Za-z_.][\w.$@]*", line), line
    stage1 = read_symbols(build_dir / "bootloader" / "stage1.sym")
    stage2 = read_symbols(build_dir / "bootloader" / "stage2.sym")
    kernel = read_symbols(build_dir / "kernel" / "kernel.sym")
    assert stage1["start"] == 0x7C00 and stage1["skip_parameter_block"] == 0x7C5A
    assert stage2["stage2_header_block"] == 0x7E00
    # stage 2 starts with a jump over its header, to stage2_main
    assert stage2["stage2_main"] == 0x7E00 + nasm_value(LOADER_FIELDS_INC, "stage2_header_size")
    assert kernel["kernel_main"] == symbol_address(build_dir / "kernel" / "kernel.elf", "kernel_main")


def test_bochsrc_is_for_debugging(tmp_path):
    text = bochsrc_text(disk=tmp_path / "d.img", cylinders=3, serial=tmp_path / "s",
                        log=tmp_path / "l", bios="/bios", vga_bios="/vga")
    for line in ["magic_break: enabled=1", "port_e9_hack: enabled=1",
                 'romimage: file="/bios"', 'vgaromimage: file="/vga"',
                 "cylinders=3, heads=16, spt=63", "reset_on_triple_fault=0",
                 "com1: enabled=1, mode=file"]:
        assert line in text


@pytest.fixture(scope="module")
def debug_build(tmp_path_factory, mkimage):
    """What `DEBUG_BREAKS=1 ./build.sh build` makes, built here into a
    directory of our own: loader and kernel with -DMAGIC_BREAKS."""
    build = tmp_path_factory.mktemp("debug-build")
    make = ["make", "--no-print-directory", f"BUILD={build}"]
    subprocess.run(make + ["-C", str(ROOT / "bootloader"), "NASM_DEFINES=-DMAGIC_BREAKS"],
                   check=True, capture_output=True)
    subprocess.run(make + ["-C", str(ROOT / "libk"), "kernel"], check=True, capture_output=True)
    subprocess.run(make + ["-C", str(ROOT / "kernel"), "KERNEL_EXTRA_CFLAGS=-DMAGIC_BREAKS"],
                   check=True, capture_output=True)
    cmd = [str(mkimage), "build",
           "--stage1", str(build / "bootloader" / "stage1.bin"),
           "--stage2", str(build / "bootloader" / "stage2.bin"),
           "--kernel", str(build / "kernel" / "kernel-stripped.elf"),
           "--cmdline", "bochs", "-o", str(build / "disk.img")]
    subprocess.run(cmd, check=True, capture_output=True)
    return build


def handoff_stop(debug_build, mkimage, kernel, image, *extra):
    """Boot `kernel` through the debug loader in Bochs to its third magic
    break (after stage 1's and stage 2's entry): the handoff's. Returns
    the stop as parse_stop() reads it, the debugger's output there, and
    stage 2's symbols."""
    loader = debug_build / "bootloader"
    subprocess.run([str(mkimage), "build", "--stage1", str(loader / "stage1.bin"),
                    "--stage2", str(loader / "stage2.bin"), "--kernel", str(kernel),
                    "-o", str(image), *extra], check=True, capture_output=True)
    result = boot_bochs(image, until=None, timeout=DEBUG_TIMEOUT_SECONDS,
                        debugger_commands=["c", "c", "c", "r", "sreg", "creg", "q"],
                        symbols=[loader / "stage1.sym", loader / "stage2.sym"])
    console = ANSI_ESCAPE.sub("", result.console).replace("\r", "")
    assert result.exited, f"{result.stop_reason}\n{console[-3000:]}"
    parts = console.split("(0) Magic breakpoint")
    assert len(parts) == 4, f"{len(parts) - 1} magic breaks, expected 3:\n{console[-3000:]}"
    return parse_stop(parts[3]), parts[3], read_symbols(loader / "stage2.sym")


def test_debug_build_stops_before_the_multiboot_handoff(bochs_installed, debug_build, mkimage,
                                                        tmp_path):
    """Multiboot2 3.3's machine state, one jump from the kernel: 32-bit
    protected mode, paging off, EAX the magic."""
    kernel = tmp_path / "tutorial.bin"
    subprocess.run(["nasm", "-f", "bin", "-o", str(kernel),
                    str(ROOT / "tests" / "multiboot" / "tutorial.asm")], check=True)
    stop, _, stage2 = handoff_stop(debug_build, mkimage, kernel, tmp_path / "tutorial.img")
    assert stop["symbol"].startswith("enter_protected_mode_handoff.in_flat_32_bit_mode+"), stop
    assert mode(stop) == "protected" and stop["cs"] == 0x08, stop
    assert stop["rax"] == MULTIBOOT2_MAGIC, stop
    assert stop["gdtr"] == stage2["gdt_start"], stop


def test_debug_build_stops_before_the_linux_handoff(bochs_installed, debug_build, mkimage,
                                                    linux, tmp_path):
    """Real mode, every data segment at Linux's setup segment, one far
    jump from its setup code."""
    kernel, archive = linux
    stop, text, stage2 = handoff_stop(debug_build, mkimage, kernel, tmp_path / "linux.img",
                                      "--initrd", str(archive))
    assert stop["symbol"].startswith("boot_linux+"), stop
    assert stage2["boot_linux"] < stop["linear"] < stage2["place_initrd"], stop
    assert mode(stop) == "real" and stop["cs"] == 0, stop
    for name in ["ds", "es", "fs", "gs", "ss"]:
        assert re.search(rf"^{name}:0x{LINUX_SETUP_SEGMENT:04x},", text, re.M), text


def parse_stop(text):
    """One magic break's output: where it stopped and the registers."""
    stop = {}
    where = re.search(r"\(0\) \[0x([0-9a-f]+)\] ([0-9a-f]{4}):([0-9a-f]+) \(([^)]*)\)", text)
    assert where, text
    stop["linear"] = int(where[1], 16)
    stop["cs"] = int(where[2], 16)
    stop["ip"] = int(where[3], 16)
    stop["symbol"] = where[4]
    for register in ["rax", "rdx", "rip"]:
        match = re.search(rf"^{register}: ([0-9a-f]{{8}})_([0-9a-f]{{8}})", text, re.M)
        assert match, f"no {register} in:\n{text}"
        stop[register] = int(match[1] + match[2], 16)
    # creg prints each bit's name in capitals when it is set.
    cr0 = re.search(r"^CR0=0x([0-9a-f]+): (.*)$", text, re.M)
    efer = re.search(r"^EFER=0x([0-9a-f]+): (.*)$", text, re.M)
    cr4 = re.search(r"^CR4=0x([0-9a-f]+):", text, re.M)
    assert cr0 and cr4 and efer, text
    stop["cr0"], stop["cr4"], stop["efer"] = int(cr0[1], 16), int(cr4[1], 16), int(efer[1], 16)
    stop["cr0_bits"], stop["efer_bits"] = cr0[2].split(), efer[2].split()
    gdtr = re.search(r"^gdtr:base=0x([0-9a-f]+), limit=0x([0-9a-f]+)", text, re.M)
    assert gdtr, text
    stop["gdtr"] = int(gdtr[1], 16)
    return stop


def mode(stop):
    """The CPU mode as the registers say: CR0.PE, CR0.PG, EFER.LMA."""
    pe, pg, lma = stop["cr0"] & 1, stop["cr0"] >> 31 & 1, stop["efer"] >> 10 & 1
    assert ("PE" in stop["cr0_bits"]) == bool(pe) and ("LMA" in stop["efer_bits"]) == bool(lma)
    if not pe:
        return "real"
    if not pg:
        return "protected"
    return "long" if lma else "protected with paging"


def test_stops_at_each_stage_boundary(bochs_installed, debug_build):  # noqa: F811
    stage1 = read_symbols(debug_build / "bootloader" / "stage1.sym")
    stage2 = read_symbols(debug_build / "bootloader" / "stage2.sym")
    kernel = read_symbols(debug_build / "kernel" / "kernel.sym")
    symbols = {**stage1, **stage2, **kernel}
    # At each break: the registers, the segments (GDTR) and the control
    # registers; then on to the next. "q" at the end ends Bochs.
    commands = ["c", "r", "sreg", "creg"] * len(BREAKS) + ["q"]
    result = boot_bochs(debug_build / "disk.img", until=None, timeout=DEBUG_TIMEOUT_SECONDS,
                        debugger_commands=commands,
                        symbols=[debug_build / "bootloader" / "stage1.sym",
                                 debug_build / "bootloader" / "stage2.sym",
                                 debug_build / "kernel" / "kernel.sym"])
    console = ANSI_ESCAPE.sub("", result.console).replace("\r", "")
    assert result.exited, f"{result.stop_reason}\n{console[-3000:]}"
    parts = console.split("(0) Magic breakpoint")
    assert len(parts) == len(BREAKS) + 1, \
        f"{len(parts) - 1} magic breaks, expected {len(BREAKS)}:\n{console[-3000:]}"
    stops = {name: parse_stop(text) for (name, _, _), text in zip(BREAKS, parts[1:])}

    # Bochs names the place with the symbols we loaded.
    for name, label, offset in BREAKS:
        stop = stops[name]
        assert stop["symbol"].startswith(label + "+"), (name, stop)
        assert stop["linear"] > symbols[label], (name, stop)
        if offset is not None:
            assert stop["linear"] == symbols[label] + offset, (name, stop)

    first = stops["stage 1 entry"]
    assert mode(first) == "real"
    assert (first["cs"], first["ip"]) == (0x0000, 0x7C5C)     # 0x7C5A + the break
    assert first["rdx"] & 0xFF == 0x80                         # boot drive from the BIOS

    second = stops["stage 2 entry"]
    assert mode(second) == "real"
    assert second["cs"] == 0 and 0x7E00 < second["ip"] < 0x7E00 + STAGE2_MAX_BYTES
    assert second["ip"] == stage2["stage2_main"] + 2

    real_end = stops["before protected mode"]
    assert mode(real_end) == "real"
    assert real_end["gdtr"] == stage2["gdt_start"], "the loader's GDT is loaded"

    protected = stops["before long mode"]
    assert mode(protected) == "protected"                      # PE=1, PG=0
    assert protected["cs"] == 0x08                             # the 32-bit code segment
    assert "LME" in protected["efer_bits"] and protected["cr4"] & 1 << 5     # EFER.LME, CR4.PAE

    for name in ["before the kernel jump", "kernel_main"]:
        assert mode(stops[name]) == "long", name               # EFER.LMA=1
        assert stops[name]["cs"] == 0x10, name                 # the 64-bit code segment
    assert stops["before the kernel jump"]["rax"] == kernel["kernel_entry"]

    last = stops["kernel_main"]
    after_main = min(address for address in kernel.values() if address > kernel["kernel_main"])
    assert kernel["kernel_main"] < last["rip"] < after_main
    assert last["rip"] == last["ip"]


# ---- docs/debugging-bochs.md, "Stepping into a Multiboot or Linux handoff" ----------

HANDOFF_SECTION = "## Stepping into a Multiboot or Linux handoff"
DEBUGGING_DOC = ROOT / "docs" / "debugging-bochs.md"
PROMPT = r"<bochs:(\d+)> "
SESSION_TIMEOUT_SECONDS = 90
MULTIBOOT2_MAGIC = 0x36D76289           # Multiboot2 specification 2.0, 3.3
LINUX_SETUP_SEGMENT = 0x9000            # linux_boot.inc; the entry is 0x9020:0000
LINUX_SETUP_END = 0xA0000               # the setup segment's 64 KiB end


def handoff_blocks():
    """The code blocks of the section, each as its lines, in order: the
    Multiboot shell commands and debugger session, then Linux's."""
    text = DEBUGGING_DOC.read_text()
    section = text.split(HANDOFF_SECTION + "\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```\n(.*?)^```$", section, re.S | re.M)
    assert len(blocks) == 4, f"{HANDOFF_SECTION}: 4 code blocks expected, found {len(blocks)}"
    return [block.splitlines() for block in blocks]


def run_documented_session(shell_lines, debugger_lines, cwd):
    """Run the shell lines in `cwd`, the last one (bochs.py --interactive)
    on a pseudo-terminal, type the debugger lines at its prompts and quit.
    Returns (outputs, COM1): outputs[i] is what the i-th debugger command
    printed. ADDRESS in a command is the first address that an earlier
    command's `info symbols` printed."""
    *builds, interactive = shell_lines
    for line in builds:
        done = subprocess.run(as_run_here(line), cwd=cwd, capture_output=True, text=True)
        assert done.returncode == 0, f"{line}\n{done.stdout}{done.stderr}"
    program, *arguments = as_run_here(interactive)
    session = pexpect.spawn(program, arguments, cwd=str(cwd), encoding="latin-1",
                            env=dict(os.environ, TERM="xterm"), dimensions=(25, 80),
                            timeout=SESSION_TIMEOUT_SECONDS)
    outputs, transcript = [], ""
    try:
        for number, line in enumerate(debugger_lines, 1):
            prompt = f"<bochs:{number}> "
            assert line.startswith(prompt), f"{DEBUGGING_DOC.name}: {line!r}"
            session.expect_exact(prompt)
            before = ANSI_ESCAPE.sub("", session.before).replace("\r", "")
            transcript += before
            if number > 1:
                outputs.append(before)
            command = line.removeprefix(prompt)
            if "ADDRESS" in command:
                address = re.search(r"\b([0-9a-f]{16}): \w", "".join(outputs))
                assert address, transcript[-2000:]
                command = command.replace("ADDRESS", f"0x{int(address[1], 16):x}")
            session.sendline(command)
        session.expect_exact(f"<bochs:{len(debugger_lines) + 1}> ")
        outputs.append(ANSI_ESCAPE.sub("", session.before).replace("\r", ""))
        session.sendline("q")
        session.expect(pexpect.EOF)
    finally:
        session.close(force=True)
    return outputs, (cwd / "bochs-serial.txt").read_text(encoding="latin-1")


def register(output, name):
    match = re.search(rf"^{name}: ([0-9a-f]{{8}})_([0-9a-f]{{8}})", output, re.M)
    assert match, output
    return int(match[1] + match[2], 16)


def segment(output, name):
    """(selector, the decoded descriptor line) from `sreg` output."""
    match = re.search(rf"^{name}:0x([0-9a-f]{{4}}), [^\n]*\n\s*([^\n]*)", output, re.M)
    assert match, output
    return int(match[1], 16), match[2]


def test_stepping_into_a_multiboot_handoff_as_documented(bochs_installed, tmp_path):
    shell, debugger, _, _ = handoff_blocks()
    outputs, serial = run_documented_session(shell, debugger, tmp_path)
    symbols, _, first_stop, registers, _, second_stop, segments = outputs
    stage2 = read_symbols(BUILD / "bootloader" / "stage2.sym")
    assert f"{stage2['enter_protected_mode_handoff']:016x}: enter_protected_mode_handoff" \
        in symbols, symbols
    assert "(enter_protected_mode_handoff+0)" in first_stop, first_stop

    information = re.search(r"Multiboot2 information at 0x([0-9a-f]{8}) .* jumping to the "
                            r"kernel at 0x([0-9a-f]{8})", serial)
    assert information, serial
    assert register(registers, "rax") == MULTIBOOT2_MAGIC, registers
    assert register(registers, "rbx") == int(information[1], 16), registers
    entry = int(information[2], 16)
    assert any(line.endswith(f" lb {entry:#x}") for line in debugger), \
        f"the docs break elsewhere than at the entry, {entry:#x}"
    assert f"Breakpoint 2, {entry:#018x}" in second_stop, second_stop

    selector, descriptor = segment(segments, "cs")
    assert selector == 0x08 and "32-bit" in descriptor, segments
    for name in ["ds", "es", "ss"]:
        assert "base=0x00000000, limit=0xffffffff" in segment(segments, name)[1], segments


def test_stepping_into_a_linux_handoff_as_documented(bochs_installed, linux, tmp_path):
    _, _, shell, debugger = handoff_blocks()
    kernel, archive = linux                 # the files the docs name, fetched and built
    assert all(str(path.relative_to(BUILD)) in " ".join(shell) for path in (kernel, archive))
    outputs, serial = run_documented_session(shell, debugger, tmp_path)
    _, setup_stop, setup_segments, _, entry_stop, entry_registers, entry_segments = outputs
    assert "stage2: starting Linux" in serial, serial

    setup_entry = (LINUX_SETUP_SEGMENT + 0x20) << 4
    assert f"Breakpoint 1, {setup_entry:#018x}" in setup_stop, setup_stop
    assert segment(setup_segments, "cs")[0] == LINUX_SETUP_SEGMENT + 0x20, setup_segments
    for name in ["ds", "es", "ss"]:
        assert segment(setup_segments, name)[0] == LINUX_SETUP_SEGMENT, setup_segments
    for name in ["ds", "es"]:               # unreal mode's limit, kept by real-mode loads
        assert "limit=0xffffffff" in segment(setup_segments, name)[1], setup_segments

    assert f"Breakpoint 2, {0x100000:#018x}" in entry_stop, entry_stop
    selector, descriptor = segment(entry_segments, "cs")
    assert selector == 0x10 and "32-bit" in descriptor, entry_segments
    # ESI: Linux's copy of the boot parameters, inside its setup segment.
    assert LINUX_SETUP_SEGMENT << 4 <= register(entry_registers, "rsi") < LINUX_SETUP_END, \
        entry_registers
