"""GDB commands for stepping through the loader; sourced by build/debug/gdbinit.

GDB stays in the i386:x86-64 architecture for the whole session (QEMU's
x86-64 GDB server allows no other, see the gdbinit). That is right for the
kernel and wrong for the loader's real-mode code in two ways, which these
commands make up for:
  - GDB's pc is the 16-bit IP alone; the CPU fetches from CS*16 + IP.
  - GDB decodes every byte as 64-bit code. The same bytes mean other
    instructions in 16-bit mode (0x66 prefixes, 16-bit registers,
    different addressing), so 16- and 32-bit code is disassembled here by
    objdump, which can be told the mode (-m i8086, -m i386).

Commands:
  real-mode-regs      registers as real-mode code sees them, with CS:IP and
                      SS:SP as segment:offset and as physical addresses
  x16 [N] [ADDRESS]   N (5) instructions decoded as 16-bit code, from
                      CS*16+IP or from ADDRESS (a physical address)
  here [N]            where the CPU is (mode, CS:IP, physical address,
                      loader label) and the next N (5) instructions, decoded
                      in the CPU's current mode
  loader-labels [TEXT]  the loader labels GDB knows ($stage2_main ...)
After every stop outside 64-bit code, `here 3` runs by itself.
"""
import os
import re
import subprocess
import tempfile

import gdb

CR0_PE = 1 << 0          # protected mode on
EFER_LMA = 1 << 10       # long mode active

_labels = []             # [(address, variable, stage, label)], code labels only


def load_loader_labels(path):
    """Read the generated pairs of lines `# stage: label`, `set $name = 0x...`."""
    _labels.clear()
    comment = re.compile(r"^# (stage\d): (\S+)$")
    assignment = re.compile(r"^set \$(\w+) = (0x[0-9a-f]+)$")
    origin = None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if comment.match(line):
                origin = comment.match(line).groups()
            elif assignment.match(line) and origin:
                name, address = assignment.match(line).groups()
                _labels.append((int(address, 16), name, *origin))
                origin = None
    _labels.sort()


def _label_address(name, default=None):
    for address, variable, _, _ in _labels:
        if variable == name:
            return address
    return default


def describe(address):
    """'stage2_main+12' for an address inside the loader, '' elsewhere."""
    best = None
    for label_address, _, stage, label in _labels:
        # Code only: 0x7C00 (stage 1) up to stage 2's end; stage 2's
        # variables at 0x3000 are not where code runs.
        if label_address < 0x7C00 or label_address > address:
            continue
        best = (label_address, stage, label)
    if best is None or address - best[0] > 0x1000:
        return ""
    offset = address - best[0]
    return f"{best[1]}: {best[2]}" + (f"+{offset:#x}" if offset else "")


def reg(name):
    return int(gdb.parse_and_eval(f"${name}")) & 0xFFFFFFFFFFFFFFFF


def cpu_mode():
    """(bits, physical address of the next instruction, description).

    Real mode (CR0.PE clear) fetches from CS*16+IP. With PE set the loader
    and SeaBIOS use segments based at 0, so the address is the pc. The
    loader's 16-bit code also runs with PE set for a moment (its switch to
    unreal mode) and its 32-bit code with LMA already set (between enabling
    paging and the far jump to 64-bit code); the stage 2 labels
    in_protected_mode and in_long_mode bound its 32-bit code.
    """
    cr0, efer, pc, cs = reg("cr0"), reg("efer"), reg("pc"), reg("cs")
    pm32 = _label_address("in_protected_mode", 0)
    lm64 = _label_address("in_long_mode", 0)
    in_loader_32 = pm32 <= pc < lm64
    in_loader_16 = 0x7C00 <= pc < 0x10000 and not in_loader_32 and pc < lm64
    if not cr0 & CR0_PE:
        return 16, (cs << 4) + (pc & 0xFFFF), "real mode"
    if not efer & EFER_LMA:
        if in_loader_16:
            return 16, (cs << 4) + (pc & 0xFFFF), "16-bit code with CR0.PE set (unreal-mode switch)"
        return 32, pc, "32-bit protected mode"
    if in_loader_32:
        return 32, pc, "32-bit code, long mode enabled (compatibility mode)"
    return 64, pc, "64-bit long mode"


def objdump(address, count, bits):
    """[(address, bytes, text)] of `count` instructions at `address`."""
    try:
        data = bytes(gdb.selected_inferior().read_memory(address, 15 * count))
    except gdb.MemoryError:
        return []
    machine = {16: "i8086", 32: "i386"}[bits]
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(data)
        f.flush()
        out = subprocess.run(["objdump", "-D", "-z", "-b", "binary", "-m", machine, "-M", "intel",
                              f"--adjust-vma={address:#x}", f.name],
                             capture_output=True, text=True).stdout
    result = []
    for line in out.splitlines():
        # -z: show runs of zero bytes as instructions, not as "...".
        # "    7c00:\teb 58                \tjmp    0x7c5a"; long instructions
        # continue their bytes on a line without text, which is skipped.
        m = re.match(r"^\s*([0-9a-f]+):\t([0-9a-f ]+?)\s*\t(.*)$", line)
        if m:
            result.append((int(m.group(1), 16), m.group(2), m.group(3).strip()))
        if len(result) == count:
            break
    return result


def print_code(address, count, bits, segment=None):
    for n, (at, code, text) in enumerate(objdump(address, count, bits)):
        where = f"{segment:04x}:{at - (segment << 4):04x} " if segment is not None else ""
        label = describe(at)
        gdb.write(f"{'=>' if n == 0 else '  '} {where}{at:#07x}  {code:<20} {text}"
                  + (f"    <{label}>" if label and n == 0 else "") + "\n")


class X16(gdb.Command):
    """x16 [N] [ADDRESS]: N instructions (default 5) decoded as 16-bit code,
    at CS*16+IP (shown as CS:IP and physical address), or at the physical ADDRESS."""

    def __init__(self):
        super().__init__("x16", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        words = gdb.string_to_argv(arg)
        count = int(gdb.parse_and_eval(words[0])) if words else 5
        if len(words) > 1:
            print_code(int(gdb.parse_and_eval(words[1])), count, 16)
        else:
            cs = reg("cs")
            print_code((cs << 4) + (reg("pc") & 0xFFFF), count, 16, segment=cs)


class Here(gdb.Command):
    """here [N]: the CPU's mode, where it is, and N (default 5) instructions
    decoded in that mode."""

    def __init__(self):
        super().__init__("here", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        count = int(gdb.parse_and_eval(arg)) if arg.strip() else 5
        bits, address, mode = cpu_mode()
        cs, pc = reg("cs"), reg("pc")
        label = describe(address)
        if bits == 16:
            gdb.write(f"[{mode}] cs:ip = {cs:04x}:{pc & 0xFFFF:04x}, physical {address:#07x}"
                      + (f"  <{label}>" if label else "") + "\n")
            print_code(address, count, 16, segment=cs)
        elif bits == 32:
            gdb.write(f"[{mode}] cs = {cs:#x}, eip = {pc:#x}" + (f"  <{label}>" if label else "") + "\n")
            print_code(address, count, 32)
        else:
            gdb.write(f"[{mode}] rip = {pc:#x}\n")
            gdb.execute(f"x/{count}i $pc")


class RealModeRegs(gdb.Command):
    """real-mode-regs: the registers as 16-bit code sees them."""

    def __init__(self):
        super().__init__("real-mode-regs", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        cs, ip, ss, sp = reg("cs"), reg("pc") & 0xFFFF, reg("ss"), reg("rsp") & 0xFFFF
        label = describe((cs << 4) + ip)
        gdb.write(f"cs:ip  {cs:04x}:{ip:04x}  physical {(cs << 4) + ip:#07x}"
                  + (f"  <{label}>" if label else "") + "\n")
        gdb.write(f"ss:sp  {ss:04x}:{sp:04x}  physical {(ss << 4) + sp:#07x}\n")
        gdb.write("  ".join(f"{r} {reg(r):04x}" for r in ("ds", "es", "fs", "gs")) + "\n")
        gdb.write("  ".join(f"{r[1:]} {reg(r) & 0xFFFF:04x}"
                            for r in ("rax", "rbx", "rcx", "rdx")) + "\n")
        gdb.write("  ".join(f"{r[1:]} {reg(r) & 0xFFFF:04x}"
                            for r in ("rsi", "rdi", "rbp")) + "\n")
        flags = reg("eflags")
        names = [name for bit, name in ((0, "CF"), (2, "PF"), (6, "ZF"), (7, "SF"),
                                        (9, "IF"), (10, "DF"), (11, "OF")) if flags >> bit & 1]
        gdb.write(f"flags  {flags & 0xFFFF:04x} [ {' '.join(names)} ]\n")
        cr0 = reg("cr0")
        gdb.write(f"cr0    {cr0:#010x} (PE={cr0 & 1}: {'protected' if cr0 & 1 else 'real'} mode)\n")


class LoaderLabels(gdb.Command):
    """loader-labels [TEXT]: the loader's labels as GDB variables (break *$stage2_main)."""

    def __init__(self):
        super().__init__("loader-labels", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        for address, variable, stage, label in _labels:
            if arg.strip() in variable:
                gdb.write(f"${variable:<40} {address:#07x}  {stage}: {label}\n")


def on_stop(event):
    try:
        bits, _, _ = cpu_mode()
        if bits != 64:      # in 64-bit code GDB's own stop display is right
            gdb.execute("here 3")
    except gdb.error:
        pass


X16()
Here()
RealModeRegs()
LoaderLabels()
gdb.events.stop.connect(on_stop)
