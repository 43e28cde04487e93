"""Lab page_tables: the identity map in build_page_tables
(bootloader/stage2/page_tables.inc): a PDPT linked from the PML4 for every
512 GiB, and for each GiB a page directory of 2 MiB pages below 4 GiB (or
on a CPU without 1 GiB pages), or one 1 GiB page above.

Besides the loader's own report and our kernel's boot, the tables are read
from outside: a made-up kernel that is only HLT instructions
(tests/support/elf_factory.py) stops at its first instruction, and QEMU's
monitor lists every page the tables map (`info tlb`: virtual address,
physical address, flags, with P for a large page). Its first 2 MiB and its
own pages are split into 4 KiB pages by code that is not part of the lab."""
import re

from labs.grading import (BOOT_COMPLETE, UNTIL_LOADER_DONE, UNTIL_LOADER_HALTED, Check,
                          Failed, Lab, boot_and_ask_monitor, expect, expect_in,
                          hlt_kernel_image, last_lines, monitor_answer)
from support.loader_lines import PAGE_TABLES_LINE
from support.qemu import KERNEL_EXIT_SUCCESS

MIB = 1 << 20
GIB = 1 << 30
LARGE_PAGE = 2 * MIB
ALWAYS_MAPPED_GIB = 4
BIG_MEMORY = "6G"                       # RAM above 4 GiB on the pc machine
CPU_WITH_1G_PAGES = ("-cpu", "max")     # CPUID 80000001h EDX bit 26 (pdpe1gb)
TLB = "info tlb"
SHORT_WARNING = "stage2: warning: the RAM map reaches"
# An `info tlb` line: "00000000ffe00000: 00000000ffe00000 --P-----W"; the
# third flag is PS, the entry maps a large page (QEMU's print_pte).
TLB_LINE = re.compile(r"^([0-9a-f]{16}): ([0-9a-f]{16}) (\S+)$", re.M)
FLAG_LARGE_INDEX = 2


def halted_hlt_kernel(context, memory="128M", extra=()):
    """(the loader's page tables line as a match, {virtual: (physical,
    large)} from `info tlb`) at the HLT kernel's entry."""
    image = hlt_kernel_image(context)
    result = boot_and_ask_monitor(str(image), UNTIL_LOADER_DONE, (TLB,),
                                  memory=memory, extra=tuple(extra))
    reported = re.search(PAGE_TABLES_LINE, result.serial)
    if not reported:
        raise Failed(f"the loader did not report its page tables; it printed:\n"
                     f"{last_lines(result.serial)}")
    expect(SHORT_WARNING not in result.serial,
           f"the loader mapped less than the RAM:\n{last_lines(result.serial, 3)}")
    pages = TLB_LINE.findall(monitor_answer(result, TLB).replace("\r", ""))
    leaves = {int(virtual, 16): (int(physical, 16), flags[FLAG_LARGE_INDEX] == "P")
              for virtual, physical, flags in pages}
    expect(leaves, "QEMU's `info tlb` lists no mapped page at all")
    for virtual, (physical, _) in leaves.items():
        expect(virtual == physical,
               f"virtual 0x{virtual:x} maps to physical 0x{physical:x}, not to itself")
    return reported, leaves


def expect_large_pages(leaves, start, end, size):
    """Every `size` step of [start, end) is a large page mapped to itself,
    and no other page starts inside them."""
    for address in range(start, end, size):
        if leaves.get(address) != (address, True):
            raise Failed(f"0x{address:x} is not mapped to itself by a "
                         f"{size // MIB} MiB page; `info tlb` has "
                         f"{leaves.get(address, 'nothing there')}")
    inside = sorted(v for v in leaves if start <= v < end and (v - start) % size)
    if inside:
        raise Failed(f"{len(inside)} smaller pages from 0x{inside[0]:x} on lie inside the "
                     f"{size // MIB} MiB pages of 0x{start:x}-0x{end:x}")


def loader_reports_4_gib(context):
    reported, _ = halted_hlt_kernel(context)
    expect(int(reported["mapped_gib"]) == ALWAYS_MAPPED_GIB,
           f"the loader reports 0-{reported['mapped_gib']} GiB on 128 MiB of RAM, "
           f"not 0-{ALWAYS_MAPPED_GIB} GiB")


def kernel_boots(context):
    result = context.boot(until=UNTIL_LOADER_HALTED)
    expect_in(result.serial, BOOT_COMPLETE, "the boot's output")
    expect(result.exit_code == KERNEL_EXIT_SUCCESS,
           f"the kernel did not end the machine with success (QEMU exit code "
           f"{result.exit_code})")


def first_4_gib_in_2_mib_pages(context):
    _, leaves = halted_hlt_kernel(context)
    # The first 2 MiB are split into 4 KiB pages after the loop.
    expect_large_pages(leaves, LARGE_PAGE, ALWAYS_MAPPED_GIB * GIB, LARGE_PAGE)
    expect(0 in leaves, "address 0 (the first 2 MiB, split later) is not mapped")


def above_4_gib(context, extra, size, wanted_note):
    reported, leaves = halted_hlt_kernel(context, BIG_MEMORY, extra)
    mapped = int(reported["mapped_gib"])
    expect(mapped > ALWAYS_MAPPED_GIB, f"with {BIG_MEMORY} of RAM the loader reports "
                                       f"only 0-{mapped} GiB")
    expect(bool(reported["gib_above_4g"]) == wanted_note,
           f"the loader says: {reported[0]}")
    expect_large_pages(leaves, LARGE_PAGE, ALWAYS_MAPPED_GIB * GIB, LARGE_PAGE)
    expect_large_pages(leaves, ALWAYS_MAPPED_GIB * GIB, mapped * GIB, size)


def above_4_gib_with_1g_pages(context):
    above_4_gib(context, CPU_WITH_1G_PAGES, GIB, True)


def above_4_gib_without_1g_pages(context):
    above_4_gib(context, (), LARGE_PAGE, False)


LAB = Lab(
    name="page_tables",
    title="the identity map: PML4, PDPTs, page directories, 2 MiB and 1 GiB pages",
    handout="docs/course/labs/page_tables.md",
    chapter="docs/course/05-long-mode.md",
    checks=[
        Check("the loader reports 0-4 GiB identity-mapped on 128 MiB", 5, loader_reports_4_gib),
        Check("our kernel boots to the end on your tables", 10, kernel_boots),
        Check("QEMU's page walk: 0-4 GiB maps to itself in 2 MiB pages", 10,
              first_4_gib_in_2_mib_pages),
        Check(f"{BIG_MEMORY} RAM, a CPU with 1 GiB pages: 1 GiB pages above 4 GiB", 10,
              above_4_gib_with_1g_pages),
        Check(f"{BIG_MEMORY} RAM, a CPU without 1 GiB pages: 2 MiB pages above 4 GiB", 10,
              above_4_gib_without_1g_pages),
    ])
