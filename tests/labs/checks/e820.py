"""Lab e820: the INT 15h EAX=E820h loop of stage 2 (read_e820_map in
bootloader/stage2/memory_map.inc).

What the BIOS has comes from the BIOS itself: SeaBIOS, QEMU's BIOS, prints
its E820 table on its debug port before it boots the disk ("e820 map has 7
items:" and one line per entry). The checks boot with that port captured
and compare, entry by entry, with what the loader counted and what the
kernel got in its boot information (it prints the map it was handed).

SeaBIOS answers the simple way. The last check boots through the chain
loader (tests/chainloader/chain.asm, -DE820_QUIRKS), which puts the ways
of other BIOSes in front of it: an empty entry, a 24-byte entry marked
"ignore", 20-byte entries that leave the attributes as they were, and the
end of the list by CF alone. The right map is still SeaBIOS's table.
"""
import re

from labs.grading import BOOT_COMPLETE, Failed, Check, Lab, expect, expect_in, last_lines
from support.chain import FIRST_HARD_DISK, build_chain_floppy, chained_boot_arguments

# SeaBIOS writes its debug messages to I/O port 0x402 (its CONFIG_DEBUG_IO
# default), which QEMU's isa-debugcon device turns into a file.
SEABIOS_DEBUG_PORT = 0x402
SEABIOS_MAP_HEADER = re.compile(r"^e820 map has (\d+) items:$", re.M)
# "  3: 0000000000100000 - 0000000007fe0000 = 1 RAM": start, end (exclusive), type
SEABIOS_MAP_ENTRY = re.compile(r"^\s+\d+: ([0-9a-f]{16}) - ([0-9a-f]{16}) = (\d+)", re.M)

LOADER_LINE = re.compile(r"stage2: memory map: (\d+) entries from (INT 15h \S+)")
KERNEL_MAP_HEADER = re.compile(r"^memory map \((\S+), (\d+) entries\):$", re.M)
KERNEL_MAP_ENTRY = re.compile(r"^  \[\d+\] base 0x([0-9a-f]{16}) length 0x([0-9a-f]{16}) type (\d+) ",
                              re.M)
KERNEL_USABLE_LINE = re.compile(r"^usable memory: (\d+) MiB$", re.M)
E820_SOURCE = "INT 15h E820h"
E820_USABLE = 1
FOUR_GIB = 1 << 32
MIB = 1 << 20
# The usable RAM QEMU reports is the -m size minus what SeaBIOS keeps for
# itself (the EBDA below 640 KiB, ACPI tables at the top of low RAM), never
# more; a few MiB at most on these machines.
FIRMWARE_KEEPS_AT_MOST = 8 * MIB


def boot_with_bios_log(context, memory, machine, quirks=False):
    """Boot this build with SeaBIOS's debug port captured (with `quirks`,
    through the chain loader's quirky E820h): (BootResult, SeaBIOS's E820
    entries as [(base, length, type)])."""
    log = context.work_dir / f"seabios-{machine}-{memory}{'-quirks' if quirks else ''}.log"
    debug_port = ("-chardev", f"file,id=seabios,path={log}",
                  "-device", f"isa-debugcon,iobase={SEABIOS_DEBUG_PORT:#x},chardev=seabios")
    if quirks:
        floppy = build_chain_floppy(context.work_dir, FIRST_HARD_DISK, FIRST_HARD_DISK,
                                    options=("E820_QUIRKS",))
        result = context.boot(image=floppy, drive="floppy", memory=memory, machine=machine,
                              extra=(*chained_boot_arguments([context.image()]), *debug_port))
    else:
        result = context.boot(memory=memory, machine=machine, extra=debug_port)
    text = log.read_text(errors="replace") if log.exists() else ""
    headers = list(SEABIOS_MAP_HEADER.finditer(text))
    if not headers:
        raise Failed(f"SeaBIOS printed no E820 table on its debug port ({log}); this check "
                     f"needs QEMU's own SeaBIOS")
    last = headers[-1]              # the table as it was at the boot, if printed twice
    count = int(last[1])
    entries = [(int(start, 16), int(end, 16) - int(start, 16), int(kind))
               for start, end, kind in SEABIOS_MAP_ENTRY.findall(text[last.end():])[:count]]
    expect(len(entries) == count, f"could not read SeaBIOS's {count} entries from {log}")
    return result, entries


def kernel_map(serial):
    """The map the kernel printed: (source name, [(base, length, type)])."""
    serial = serial.replace("\r", "")
    header = KERNEL_MAP_HEADER.search(serial)
    if header is None:
        raise Failed(f"the kernel printed no memory map (did it start?); the boot printed:\n"
                     f"{last_lines(serial)}")
    entries = [(int(b, 16), int(l, 16), int(t))
               for b, l, t in KERNEL_MAP_ENTRY.findall(serial[header.end():])]
    return header[1], entries[:int(header[2])]


def describe(entries):
    return "\n".join(f"  base 0x{base:016x} length 0x{length:016x} type {kind}"
                     for base, length, kind in entries) or "  (none)"


def check_loader_count(result, bios):
    """Stage 2's `memory map:` line names E820h and as many entries as `bios`."""
    line = LOADER_LINE.search(result.serial)
    if line is None:
        raise Failed(f"stage 2 printed no `memory map:` line; it printed:\n"
                     f"{last_lines(result.serial)}")
    expect(line[2] == E820_SOURCE,
           f"stage 2 took its map from {line[2]}, not {E820_SOURCE}: read_e820_map "
           f"returned CF set (`{line[0]}`)")
    expect(int(line[1]) == len(bios),
           f"stage 2 counted {line[1]} entries, but the BIOS has {len(bios)}:\n"
           f"{describe(bios)}")


def check_kernel_map(result, bios):
    """The kernel got exactly the entries of `bios`, in order, and booted."""
    source, entries = kernel_map(result.serial)
    expect(source == "E820", f"the kernel's map came from {source}, not from E820h")
    expect(entries == bios,
           f"the kernel got these {len(entries)} entries:\n{describe(entries)}\n"
           f"but the BIOS has these {len(bios)}:\n{describe(bios)}")
    expect_in(result.serial, BOOT_COMPLETE, "the boot's output")


def loader_counts_what_the_bios_has(memory, machine):
    def run(context):
        check_loader_count(*boot_with_bios_log(context, memory, machine))
    return run


def kernel_gets_the_bios_map(memory, machine):
    def run(context):
        check_kernel_map(*boot_with_bios_log(context, memory, machine))
    return run


def quirky_bios(context):
    result, bios = boot_with_bios_log(context, "128M", "pc", quirks=True)
    expect_in(result.serial, "chain: booting drive 0x80", "the chain loader's output")
    check_loader_count(result, bios)
    check_kernel_map(result, bios)


def kernel_sees_the_ram_above_4_gib(context):
    memory = "4G"
    result, bios = boot_with_bios_log(context, memory, "pc")
    above = [entry for entry in bios if entry[0] >= FOUR_GIB and entry[2] == E820_USABLE]
    expect(above, f"SeaBIOS has no usable entry above 4 GiB with -m {memory}:\n{describe(bios)}")
    _, entries = kernel_map(result.serial)
    for entry in above:
        expect(entry in entries, f"the BIOS's usable entry at 0x{entry[0]:x} (length "
               f"0x{entry[1]:x}) did not reach the kernel; it got:\n{describe(entries)}")
    usable = KERNEL_USABLE_LINE.search(result.serial.replace("\r", ""))
    expect(usable is not None, f"the kernel printed no `usable memory:` line:\n"
           f"{last_lines(result.serial)}")
    ram_mib = FOUR_GIB // MIB
    expect(ram_mib - FIRMWARE_KEEPS_AT_MOST // MIB <= int(usable[1]) <= ram_mib,
           f"the kernel counts {usable[1]} MiB of usable RAM on a {ram_mib} MiB machine")


LAB = Lab(
    name="e820",
    title="the memory map: the INT 15h E820h loop",
    handout="docs/course/labs/e820.md",
    chapter="docs/course/03-stage2-real-mode.md",
    checks=[
        Check("stage 2 counts every entry the BIOS has (pc, 128 MiB)", 10,
              loader_counts_what_the_bios_has("128M", "pc")),
        Check("the kernel gets the BIOS's entries as they are, in order (pc, 128 MiB)", 10,
              kernel_gets_the_bios_map("128M", "pc")),
        Check("a 4 GiB machine: the RAM above 4 GiB reaches the kernel", 10,
              kernel_sees_the_ram_above_4_gib),
        Check("another chipset's map, with more holes (q35, 2 GiB)", 10,
              kernel_gets_the_bios_map("2G", "q35")),
        Check("other BIOSes' ways: an empty entry, one to ignore, 20-byte entries after a "
              "24-byte one, the end by CF alone", 15, quirky_bios),
    ])
