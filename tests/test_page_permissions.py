"""The page tables the kernel starts on, seen from outside through QEMU's
monitor.

The loader maps the kernel's PT_LOAD segments with 4 KiB pages that carry
their ELF permissions: writable only with PF_W, no-execute unless PF_X (when
the CPU has NX); a page shared by two segments gets the union of their
permissions. Everything else is read/write/execute. It also sets CR0.WP, so
read-only pages bind the kernel too, and EFER.NXE when the CPU has NX
(bootloader/stage2/page_tables.inc, long_mode.inc).

We boot an image whose kernel halts instead of ending QEMU, wait for it to
say so, and then ask the monitor for:
  - `info registers`: CR0, CR3, CR4 and EFER;
  - every page table reachable from CR3 (`xp`, one table at a time), which
    we walk ourselves, the way the CPU does, for the effective permissions
    of every page;
  - `info tlb` (QEMU's list of leaf entries) and `info mem` (its effective
    writability by range), which must agree with our walk.
The expectations come from the kernel ELF's program headers, read here
with struct. Besides our kernel we boot the foreign kernel (segments in
several 2 MiB regions with gaps) and a small made-up kernel whose segments
share pages, for the union rule: neither foreign layout shares a page (its
"packed" layout packs the file, not memory).

Our kernel changes two things before it halts (kernel/mm/): the guard page
below its boot stack is unmapped, and its heap is mapped in the upper half
of the address space with tables from its frame allocator. Both are
expected here; everything else is as the loader left it.
"""
import bisect
import dataclasses
import re

import pytest

from support import elf_factory
from support.elf_reader import PF_W, PF_X, read_elf
from support.foreign_kernel import LAYOUTS, build_foreign_kernel, make_image
from support.images import build_image
from support.paths import BUILD, KERNEL_ELF
from support.qemu import boot
from support.sources import MEMORY_LAYOUT_INC, nasm_value
from support.symbols import symbol_address
from support.x86 import (CR0_PE, CR0_PG, CR0_WP, CR3_ADDRESS_MASK, CR4_PAE, EFER_LMA,
                         EFER_LME, EFER_NXE)

BOOT_TIMEOUT_SECONDS = 60
SETTLE_SECONDS = 0.2            # after the last line: the kernel reaches its hlt

PAGE = 1 << 12
LARGE_PAGE = 1 << 21
GIB = 1 << 30
MIB = 1 << 20
ENTRY_BYTES = 8
TABLE_ENTRIES = 512
# The loader's page table area.
PAGE_TABLES_START = nasm_value(MEMORY_LAYOUT_INC, "PAGE_TABLES_ADDRESS")
PAGE_TABLES_END = nasm_value(MEMORY_LAYOUT_INC, "PAGE_TABLES_END")


# Paging-structure entry bits (Intel SDM Vol. 3A, 4.5, tables 4-15 to 4-20).
ENTRY_PRESENT = 1 << 0
ENTRY_WRITABLE = 1 << 1
ENTRY_USER = 1 << 2
ENTRY_LARGE = 1 << 7            # PS in a PDPT or PD entry: it maps the page itself
ENTRY_NO_EXECUTE = 1 << 63
ENTRY_ADDRESS_MASK = 0x000FFFFFFFFFF000
# Bits covered by each level: PML4 entry 512 GiB, PDPT entry 1 GiB, PD 2 MiB, PT 4 KiB.
LEVEL_SHIFTS = (39, 30, 21, 12)

OUR_KERNEL = KERNEL_ELF
OUR_HALT_LINE = "bootstack> "     # the shell waits for input (HLT between keys)
FOREIGN_HALT_LINE = "foreign kernel: all checks passed"
# The shared-page kernel prints nothing: it is HLT instructions, entered
# with interrupts off, so it stops at its first instruction.
LOADER_LAST_LINE = "stage2: entering long mode, jumping to the kernel at"

REGISTERS = "info registers"
TLB = "info tlb"
MEM = "info mem"
MONITOR_COMMANDS = [REGISTERS, TLB, MEM]

# Our kernel changes the loader's tables before it halts (kernel/mm/):
# it unmaps the guard page below its boot stack (entry.asm,
# kernel_boot_stack_guard) and maps its heap in the upper half of the
# address space, with tables of its own from the frame allocator. The
# identity map stays in the lower half, where every table must be the
# loader's.
UPPER_HALF = 0xFFFF800000000000
SIGN_EXTENSION = 0xFFFF000000000000   # bits 63-48 copy bit 47 (canonical addresses)
BOOT_STACK_GUARD_SYMBOL = "kernel_boot_stack_guard"
OUR_KERNEL_WITH_SYMBOLS = BUILD / "kernel" / "kernel.elf"


# ---- The kernel's segments and what they promise ------------------------------------------

@dataclasses.dataclass(frozen=True)
class Access:
    writable: bool
    no_execute: bool


def load_segments(elf_path):
    """The PT_LOAD segments that occupy memory."""
    segments = [segment for segment in read_elf(elf_path).loads if segment.memsz]
    assert segments, f"{elf_path} has no loadable segment"
    return segments


def pages_of(segment):
    first = segment.paddr // PAGE * PAGE
    end = -(-(segment.paddr + segment.memsz) // PAGE) * PAGE
    return range(first, end, PAGE)


def expected_kernel_pages(segments, cpu_has_nx):
    """Page address -> Access for every page a segment touches: the union of
    the permissions of the segments that share it."""
    union = {}
    for segment in segments:
        for page in pages_of(segment):
            writable, executable = union.get(page, (False, False))
            union[page] = (writable or bool(segment.flags & PF_W),
                           executable or bool(segment.flags & PF_X))
    return {page: Access(writable, cpu_has_nx and not executable)
            for page, (writable, executable) in union.items()}


def kernel_regions(segments):
    """The 2 MiB regions holding part of a segment: the loader splits them
    into 4 KiB pages."""
    return sorted({page // LARGE_PAGE * LARGE_PAGE
                   for segment in segments for page in pages_of(segment)})


# ---- Reading the monitor's answers -----------------------------------------------------------

def registers(text):
    """Control registers, EFER, RIP and the halt state from `info registers`."""
    values = {}
    for name in ("RIP", "CR0", "CR3", "CR4", "EFER", "HLT"):
        match = re.search(rf"\b{name}=([0-9a-fA-F]+)", text)
        assert match, f"{name} missing from info registers:\n{text}"
        values[name] = int(match[1], 16)
    return values


def physical_memory(dump):
    """`xp /Ngx ADDR` output ("ADDR: 0x... 0x...") as address -> qword."""
    memory = {}
    for line in dump.splitlines():
        address, _, values = line.partition(":")
        for index, value in enumerate(values.split()):
            memory[int(address, 16) + index * ENTRY_BYTES] = int(value, 16)
    return memory


@dataclasses.dataclass(frozen=True)
class Leaf:
    virtual: int
    size: int
    physical: int
    entry: int          # the leaf entry itself
    writable: bool      # effective: every level allows writes
    no_execute: bool    # effective: some level forbids execution
    user: bool


def read_page_tables(run):
    """Monitor script: every page table reachable from CR3, read with `xp`
    wherever it lies. Returns (memory as address -> qword, {table address:
    True when it is reached only through an upper-half PML4 entry})."""
    cr3 = registers(run(REGISTERS))["CR3"] & CR3_ADDRESS_MASK
    memory, tables = {}, {}
    pending = [(cr3, 0, False)]
    while pending:
        table, level, upper = pending.pop()
        tables[table] = upper
        memory.update(physical_memory(run(f"xp /{TABLE_ENTRIES}gx {table:#x}")))
        if level == len(LEVEL_SHIFTS) - 1:
            continue
        for index in range(TABLE_ENTRIES):
            entry = memory[table + index * ENTRY_BYTES]
            if entry & ENTRY_PRESENT and not (level > 0 and entry & ENTRY_LARGE):
                pending.append((entry & ENTRY_ADDRESS_MASK, level + 1,
                                upper or (level == 0 and index >= TABLE_ENTRIES // 2)))
    return memory, tables


def canonical(virtual):
    return virtual | SIGN_EXTENSION if virtual & (UPPER_HALF & ~SIGN_EXTENSION) else virtual


def walk_page_tables(memory, cr3):
    """Every present leaf reachable from CR3, with its effective access,
    the way the CPU combines the levels (Intel SDM Vol. 3A, 4.6.1)."""
    leaves = []

    def read_entry(address):
        return memory[address]

    def visit(table, level, base, writable, no_execute, user):
        shift = LEVEL_SHIFTS[level]
        for index in range(TABLE_ENTRIES):
            entry = read_entry(table + index * ENTRY_BYTES)
            if not entry & ENTRY_PRESENT:
                continue
            virtual = canonical(base + (index << shift))
            now_writable = writable and bool(entry & ENTRY_WRITABLE)
            now_no_execute = no_execute or bool(entry & ENTRY_NO_EXECUTE)
            now_user = user and bool(entry & ENTRY_USER)
            is_leaf = level == len(LEVEL_SHIFTS) - 1 or (level > 0 and entry & ENTRY_LARGE)
            if is_leaf:
                size = 1 << shift
                physical = entry & ENTRY_ADDRESS_MASK & ~(size - 1)
                leaves.append(Leaf(virtual, size, physical, entry,
                                   now_writable, now_no_execute, now_user))
            else:
                visit(entry & ENTRY_ADDRESS_MASK, level + 1, virtual,
                      now_writable, now_no_execute, now_user)

    visit(cr3 & CR3_ADDRESS_MASK, 0, 0, True, False, True)
    return sorted(leaves, key=lambda leaf: leaf.virtual)


def non_leaf_entries(memory, cr3):
    """(level, entry) of every present PML4, PDPT and PD entry that points
    to a further table."""
    found = []

    def visit(table, level):
        for index in range(TABLE_ENTRIES):
            entry = memory[table + index * ENTRY_BYTES]
            if not entry & ENTRY_PRESENT or level == len(LEVEL_SHIFTS) - 1:
                continue
            if level > 0 and entry & ENTRY_LARGE:
                continue
            found.append((level, entry))
            visit(entry & ENTRY_ADDRESS_MASK, level + 1)

    visit(cr3 & CR3_ADDRESS_MASK, 0)
    return found


# address: physical flags, the flags being NX, global, PS, dirty, accessed,
# PCD, PWT, user, writable (QEMU's target/i386/monitor.c, print_pte).
TLB_LINE = re.compile(
    r"^([0-9a-f]{16}): ([0-9a-f]{16}) ([X-])([G-])([P-])([D-])([A-])([C-])([T-])([U-])([W-])$")


def tlb_entries(text):
    """`info tlb`: virtual -> (physical, flags) for each leaf entry. The
    flags are those of the leaf entry alone: X = NX bit, P = PS bit (a
    large page), U = user, W = writable."""
    entries = {}
    for line in text.splitlines():
        match = TLB_LINE.match(line.strip())
        assert match, f"unexpected info tlb line: {line!r}"
        entries[int(match[1], 16)] = (int(match[2], 16), {
            "no_execute": match[3] == "X", "large": match[5] == "P",
            "user": match[10] == "U", "writable": match[11] == "W"})
    return entries


MEM_LINE = re.compile(r"^([0-9a-f]{16})-([0-9a-f]{16}) [0-9a-f]{16} ([u-])r([w-])$")


def mem_ranges(text):
    """`info mem`: (start, end, writable, user) ranges of mapped memory,
    writability combined over all levels (it does not show NX)."""
    ranges = []
    for line in text.splitlines():
        match = MEM_LINE.match(line.strip())
        assert match, f"unexpected info mem line: {line!r}"
        ranges.append((int(match[1], 16), int(match[2], 16), match[4] == "w", match[3] == "u"))
    return ranges


def merge_writable_ranges(leaves):
    """Our walk in `info mem`'s form: runs of adjacent leaves with the same
    effective write and user permission."""
    ranges = []
    for leaf in leaves:
        end = leaf.virtual + leaf.size
        if ranges and ranges[-1][1] == leaf.virtual and ranges[-1][2:] == (leaf.writable, leaf.user):
            ranges[-1] = (ranges[-1][0], end, leaf.writable, leaf.user)
        else:
            ranges.append((leaf.virtual, end, leaf.writable, leaf.user))
    return ranges


def leaf_at(leaves, address):
    starts = [leaf.virtual for leaf in leaves]
    index = bisect.bisect_right(starts, address) - 1
    assert index >= 0 and address < leaves[index].virtual + leaves[index].size, \
        f"{address:#x} is not mapped"
    return leaves[index]


# ---- The boots ---------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Case:
    kernel: str             # "ours", "shared-pages", or a foreign kernel layout: "packed", "paged"
    cpu: str
    cpu_has_nx: bool
    cpu_has_gib_pages: bool
    memory_mib: int = 32

    @property
    def id(self):
        return f"{self.kernel}-{self.cpu.replace(',', '')}-{self.memory_mib}M"


CASES = [
    Case("ours", "qemu64", cpu_has_nx=True, cpu_has_gib_pages=False),
    Case("ours", "qemu64,-nx", cpu_has_nx=False, cpu_has_gib_pages=False),
    Case("ours", "max", cpu_has_nx=True, cpu_has_gib_pages=True, memory_mib=6144),
    Case("packed", "qemu64", cpu_has_nx=True, cpu_has_gib_pages=False),
    Case("paged", "max", cpu_has_nx=True, cpu_has_gib_pages=True),
    Case("shared-pages", "qemu64", cpu_has_nx=True, cpu_has_gib_pages=False),
    Case("shared-pages", "qemu64,-nx", cpu_has_nx=False, cpu_has_gib_pages=False),
]

# The made-up kernel: three 4 KiB pages, each shared by two segments.
#   0x300000  code (R X) + constants (R)      -> read-only, executable
#   0x301000  constants (R) + data (RW)       -> writable, no-execute
#   0x302000  data's BSS (RW) + code (R X)    -> writable and executable
SHARED_PAGES_BASE = 0x300000
HALF_PAGE = PAGE // 2


def shared_pages_kernel():
    base = SHARED_PAGES_BASE
    return elf_factory.elf64([
        elf_factory.text(base, HALF_PAGE),
        elf_factory.Segment(base + HALF_PAGE, b"constants".ljust(HALF_PAGE, b"\0")),
        elf_factory.Segment(base + PAGE, b"more constants".ljust(HALF_PAGE, b"\0")),
        elf_factory.data(base + PAGE + HALF_PAGE, HALF_PAGE, bss=HALF_PAGE),
        elf_factory.text(base + 2 * PAGE + HALF_PAGE, HALF_PAGE),
    ], entry=base)


@pytest.fixture(scope="module")
def halting_image(tmp_path_factory):
    """Our kernel without `qemu-exit`: it halts after its last line."""
    return build_image(tmp_path_factory.mktemp("halting") / "halt.img", cmdline="")


@pytest.fixture(scope="module")
def shared_pages_image(tmp_path_factory):
    """(kernel ELF, image) for the made-up shared-page kernel."""
    base = tmp_path_factory.mktemp("shared-pages")
    elf = elf_factory.write(base / "shared.elf", shared_pages_kernel())
    return elf, build_image(base / "shared.img", kernel=elf, cmdline="")


@pytest.fixture(scope="module")
def foreign_kernels(tmp_path_factory, mkimage):
    """layout -> (kernel ELF, image) for tests/foreign_kernel, built the
    way tests/test_foreign_kernel.py builds it."""
    base = tmp_path_factory.mktemp("foreign-pages")
    kernels = {}
    for layout in LAYOUTS:
        elf = build_foreign_kernel(base / layout, layout)
        kernels[layout] = (elf, make_image(mkimage, elf, base / layout / "foreign.img"))
    return kernels


def boot_and_inspect(image, case, halt_line):
    # No isa-debug-exit device: the foreign kernel's exit request then does
    # nothing and it halts, like ours without qemu-exit.
    result = boot(image, cpu=case.cpu, memory=f"{case.memory_mib}M", until=re.escape(halt_line),
                  settle=SETTLE_SECONDS, timeout=BOOT_TIMEOUT_SECONDS,
                  monitor_commands=MONITOR_COMMANDS, monitor_script=read_page_tables,
                  debug_exit=False)
    assert halt_line in result.serial and result.still_running and result.monitor, \
        f"the kernel did not reach {halt_line!r} and halt ({result.seconds:.2f} s):\n{result.serial}"
    return result


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_page_permissions(case, request):
    if case.kernel == "ours":
        elf, image, halt_line = OUR_KERNEL, request.getfixturevalue("halting_image"), OUR_HALT_LINE
    elif case.kernel == "shared-pages":
        elf, image = request.getfixturevalue("shared_pages_image")
        halt_line = LOADER_LAST_LINE
    else:
        elf, image = request.getfixturevalue("foreign_kernels")[case.kernel]
        halt_line = FOREIGN_HALT_LINE
    segments = load_segments(elf)
    result = boot_and_inspect(image, case, halt_line)
    context = f"{case.id}, {result.seconds:.2f} s\n--- serial ---\n{result.serial}"

    # Control registers: paging in long mode, WP on, NXE exactly with NX.
    regs = registers(result.monitor[REGISTERS])
    monitor_context = f"{context}\n--- info registers ---\n{result.monitor[REGISTERS]}"
    assert regs["HLT"] == 1, monitor_context
    assert any(s.paddr <= regs["RIP"] < s.paddr + s.memsz and s.flags & PF_X for s in segments), \
        "the CPU is not halted in the kernel's code\n" + monitor_context
    assert regs["CR0"] & (CR0_PE | CR0_PG | CR0_WP) == CR0_PE | CR0_PG | CR0_WP, monitor_context
    assert regs["CR4"] & CR4_PAE, monitor_context
    assert regs["EFER"] & (EFER_LME | EFER_LMA) == EFER_LME | EFER_LMA, monitor_context
    assert bool(regs["EFER"] & EFER_NXE) == case.cpu_has_nx, monitor_context
    assert regs["CR3"] & CR3_ADDRESS_MASK == PAGE_TABLES_START, monitor_context

    memory, tables = result.monitor["script"]
    # The loader's tables all lie in its table area; only tables our kernel
    # added for its upper-half mappings may lie elsewhere.
    for table, upper_half_only in tables.items():
        assert not upper_half_only or case.kernel == "ours", f"{case.kernel}: table {table:#x}"
        assert upper_half_only or PAGE_TABLES_START <= table < PAGE_TABLES_END, \
            f"a page table at {table:#x} lies outside the loader's area " \
            f"{PAGE_TABLES_START:#x}-{PAGE_TABLES_END:#x}"
    all_leaves = walk_page_tables(memory, regs["CR3"])
    leaves = [leaf for leaf in all_leaves if leaf.virtual < UPPER_HALF]
    kernel_mappings = [leaf for leaf in all_leaves if leaf.virtual >= UPPER_HALF]

    # Tables above the leaves decide nothing: writable, executable, and
    # supervisor-only, so each leaf alone sets a page's access.
    for level, entry in non_leaf_entries(memory, regs["CR3"]):
        assert entry & ENTRY_WRITABLE and not entry & ENTRY_NO_EXECUTE, (level, hex(entry))
    assert not any(leaf.user for leaf in all_leaves), "a page is open to user mode"

    # An identity map without holes from 0 to where the loader says it
    # ends; our kernel has unmapped one page, the guard below its stack.
    holes = {symbol_address(OUR_KERNEL_WITH_SYMBOLS, BOOT_STACK_GUARD_SYMBOL)} \
        if case.kernel == "ours" else set()
    map_end = int(re.search(r"page tables built: 0-(\d+) GiB", result.serial)[1]) * GIB
    position = 0
    for leaf in leaves:
        while position in holes:
            position += PAGE
        assert leaf.virtual == position, f"hole or overlap at {position:#x}"
        assert leaf.physical == leaf.virtual, f"{leaf.virtual:#x} maps to {leaf.physical:#x}"
        position += leaf.size
    assert position == map_end, f"mapped up to {position:#x}, the kernel was told {map_end:#x}"

    # Our kernel's own mappings (the heap): 4 KiB pages of RAM above 1 MiB
    # outside the kernel, writable and, with NX, not executable.
    kernel_frames = {page for segment in segments for page in pages_of(segment)}
    assert bool(kernel_mappings) == (case.kernel == "ours"), kernel_mappings
    for leaf in kernel_mappings:
        assert leaf.size == PAGE and leaf.writable, leaf
        assert leaf.no_execute == case.cpu_has_nx, leaf
        assert leaf.physical >= MIB and leaf.physical not in kernel_frames, leaf

    # The kernel's pages: 4 KiB each, with the ELF permissions.
    expected = expected_kernel_pages(segments, case.cpu_has_nx)
    for page in holes:
        assert page in expected, f"the guard page {page:#x} is not a kernel page"
    for page, access in sorted(expected.items()):
        if page in holes:
            continue
        leaf = leaf_at(leaves, page)
        assert leaf.size == PAGE, f"kernel page {page:#x} is inside a {leaf.size:#x}-byte page"
        assert Access(leaf.writable, leaf.no_execute) == access, \
            f"kernel page {page:#x}: {Access(leaf.writable, leaf.no_execute)}, expected {access}"

    # Every other page in the kernel's 2 MiB regions, the first 2 MiB
    # (where the loader still ran when paging came on; split into 4 KiB
    # pages because its memory types differ) and everything else stays
    # read/write/execute.
    regions = kernel_regions(segments)
    for leaf in leaves:
        if leaf.virtual in expected:
            continue
        assert leaf.writable and not leaf.no_execute, \
            f"{leaf.virtual:#x} ({leaf.size:#x} bytes) outside the kernel is not read/write/execute"
        region = leaf.virtual // LARGE_PAGE * LARGE_PAGE
        small_expected = region in regions or region == 0
        assert (leaf.size == PAGE) == small_expected, \
            f"{leaf.virtual:#x}: {leaf.size:#x}-byte page; only the first 2 MiB and " \
            "the kernel's regions use 4 KiB pages"
    # The same, spelled out for a few places named in the boot protocol.
    for address in (0x0, 0x7C00, MIB - PAGE, 0x200000):
        if address // PAGE * PAGE in expected:
            continue                    # the foreign kernel starts at 0x200000
        leaf = leaf_at(leaves, address)
        assert leaf.writable and not leaf.no_execute, f"{address:#x}: {leaf}"

    # Large pages: 2 MiB below 4 GiB (memory types change there), above
    # 4 GiB 1 GiB when the CPU has them.
    for leaf in leaves:
        if leaf.size > PAGE:
            above_4g = leaf.virtual >= 4 * GIB
            assert leaf.size == (GIB if case.cpu_has_gib_pages and above_4g else LARGE_PAGE), leaf
    if not case.cpu_has_nx:
        assert not any(leaf.entry & ENTRY_NO_EXECUTE for leaf in all_leaves), \
            "an NX bit is set though the CPU has none (a reserved bit: page fault)"

    # QEMU's own views agree with our walk.
    tlb = tlb_entries(result.monitor[TLB])
    assert sorted(tlb) == [leaf.virtual for leaf in all_leaves], "info tlb lists other pages"
    for leaf in all_leaves:
        physical, flags = tlb[leaf.virtual]
        assert physical == leaf.physical, (leaf, physical)
        assert flags == {"no_execute": leaf.no_execute, "large": leaf.size > PAGE,
                         "user": leaf.user, "writable": leaf.writable}, (leaf, flags)
    assert mem_ranges(result.monitor[MEM]) == merge_writable_ranges(all_leaves), \
        result.monitor[MEM]


def test_shared_pages_kernel_has_the_intended_shape(shared_pages_image):
    """Each of its pages really holds two segments with different
    permissions, and the union comes out as the comment above says."""
    segments = load_segments(shared_pages_image[0])
    owners = {}
    for segment in segments:
        for page in pages_of(segment):
            owners.setdefault(page, set()).add(segment.flags)
    base = SHARED_PAGES_BASE
    assert sorted(owners) == [base, base + PAGE, base + 2 * PAGE]
    assert all(len(flags) == 2 for flags in owners.values()), owners
    assert expected_kernel_pages(segments, cpu_has_nx=True) == {
        base: Access(writable=False, no_execute=False),
        base + PAGE: Access(writable=True, no_execute=True),
        base + 2 * PAGE: Access(writable=True, no_execute=False),
    }
