"""Patterns for the lines stage 2 prints, shared by every boot test so a
change of wording is made in one place."""
import re

from support.elf_reader import read_elf
from support.paths import KERNEL_ELF

PAGE_TABLES_LINE = (
    r"stage2: page tables built: 0-(?P<mapped_gib>\d+) GiB identity-mapped with 2 MiB pages"
    r"(?P<gib_above_4g> \(1 GiB pages above 4 GiB\))?, "
    r"4 KiB pages for the first 2 MiB and the kernel's segments \(with their ELF permissions\), "
    r"NX (?P<nx_state>on|off \(the CPU has no NX\))")

# The loader's last words when it gives up (a bad kernel, a disk error).
LOADER_HALTED = "stage2: the system is halted."


def loader_progress(cmdline="qemu-exit", kernel=KERNEL_ELF):
    """What stage 2 prints, in order, on every successful boot of `kernel`
    with `cmdline`. The segment count, the range they cover and the entry
    point are read from the kernel's ELF headers, as stage 2 reads them."""
    elf = read_elf(kernel)
    start = min(segment.paddr for segment in elf.loads)
    end = max(segment.end for segment in elf.loads)
    return [
        r"bootstack stage 2: loader started \(boot drive 0x80\)",
        rf'stage2: kernel command line: "{re.escape(cmdline)}"',
        r"stage2: CPU supports 64-bit long mode \(NX: (yes|no), 1 GiB pages: (yes|no), "
        r"physical address bits: \d+\)",
        r"stage2: A20 enabled \(.+\)",
        r"stage2: memory map: \d+ entries from INT 15h E820h",
        r"stage2: disk reads by LBA \(INT 13h extensions\)",
        r"stage2: loading the kernel: \d+ bytes from sector \d+",
        rf"stage2: kernel ELF ok: {len(elf.loads)} loadable segments "
        rf"at 0x{start:016x}-0x{end:016x}, entry 0x{elf.entry:016x}",
        r"stage2: kernel checksum ok \(0x[0-9a-f]{16}\)",
        PAGE_TABLES_LINE,
        rf"stage2: entering long mode, jumping to the kernel at 0x{elf.entry:016x}",
        r"Kernel: running in 64-bit long mode",
    ]
