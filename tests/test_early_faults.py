"""A kernel that faults before it loads its own IDT gets a report, not a
triple fault: our own 64-bit kernels, and Multiboot 1 and 2 kernels,
which start in 32-bit protected mode.

Stage 2 jumps into our own kernels with IDTR pointing at a small IDT of
its own (bootloader/stage2/fault_report.inc): every exception prints the
vector, its name, the error code where the CPU pushes one, RIP, RSP and
(for a page fault) CR2 on COM1 and on the screen, then halts. Without it
the CPU finds no handler, raises #DF, finds none for that either and shuts
down (a triple fault): with -no-reboot QEMU would exit, on a real PC the
machine reboots in a loop.

For Multiboot kernels the IDT is a 32-bit one (bootloader/stage2/
fault_report_32.inc), loaded by enter_protected_mode_handoff: the same
report with EIP and ESP.

The kernels here are tiny ELF files (tests/support/elf_factory.py), or
flat Multiboot files (tests/support/multiboot.py), whose first
instructions fault on purpose. QEMU runs with -no-reboot, so a triple
fault ends it: `still_running` tells that the machine halted.
"""
import re
import struct

import pytest

from support import multiboot as mb
from support.bochs import boot_bochs
from support.elf_factory import (E_PHNUM, E_PHOFF, PF_R, PF_W, PF_X, PH_SIZE, P_MEMSZ, P_TYPE,
                                 P_VADDR, PT_LOAD, Segment, elf64, write)
from support.images import build_image
from support.loader_lines import LOADER_HALTED
from support.paths import KERNEL_ELF
from support.qemu import boot
from support.tools import run_tool

P_FLAGS = 4                             # Elf64_Phdr.p_flags, right after p_type

KERNEL_ADDRESS = 0x100000
TEXT_SIZE = 0x1000
# Canonical, in the lower half, but far above the 4 GiB and the RAM the
# loader identity-maps: PML4 entry 128 is empty (page_tables.inc).
UNMAPPED_ADDRESS = 0x0000_4000_0000_0000
VGA_TEXT = 0xB8000                      # the colour text buffer (mode 3)
SCREEN_COLUMNS, SCREEN_ROWS = 80, 25
FAULT_HEADLINE = "stage2: error: the kernel faulted before loading its own IDT"
# Page fault error code bits (Intel SDM Vol. 3A, 6.15, "Interrupt 14"):
PF_PRESENT, PF_WRITE = 0x1, 0x2

UD2 = b"\x0f\x0b"
# mov rax, UNMAPPED_ADDRESS; mov byte [rax], 0
WRITE_UNMAPPED = b"\x48\xb8" + struct.pack("<Q", UNMAPPED_ADDRESS) + b"\xc6\x00\x00"
# mov rsp, KERNEL_ADDRESS + TEXT_SIZE (the end of the read-only, executable
# segment); push rax: the push writes to a read-only page, and the CPU has no
# usable stack to deliver the #PF on unless the handler brings its own.
READ_ONLY_STACK = (b"\x48\xc7\xc4" + struct.pack("<I", KERNEL_ADDRESS + TEXT_SIZE) + b"\x50")
# xor edx, edx; xor eax, eax; div eax  -> #DE, no error code
DIVIDE_BY_ZERO = b"\x31\xd2\x31\xc0\xf7\xf0"


def faulting_kernel(tmp_path, name, code):
    """A kernel whose entry point runs `code`, then HLTs."""
    body = code + b"\xf4" * (TEXT_SIZE - len(code))
    kernel = write(tmp_path / f"{name}.elf",
                   elf64([Segment(KERNEL_ADDRESS, body, flags=PF_R | PF_X)]))
    return build_image(tmp_path / f"{name}.img", kernel=kernel)


def screen_lines(xp_output):
    """The text rows of `xp /2000hx 0xb8000` output (character bytes only)."""
    cells = []
    for line in xp_output.splitlines():
        _, _, words = line.partition(":")
        cells += [int(word, 16) & 0xFF for word in words.split()]
    text = "".join(chr(cell) if 32 <= cell < 127 else " " for cell in cells)
    return [text[row * SCREEN_COLUMNS:(row + 1) * SCREEN_COLUMNS].rstrip()
            for row in range(SCREEN_ROWS)]


def boot_and_read_screen(image, extra=()):
    command = f"xp /{SCREEN_COLUMNS * SCREEN_ROWS}hx {VGA_TEXT:#x}"
    result = boot(image, until=re.escape(LOADER_HALTED), settle=1.0, timeout=60,
                  debug_exit=False, monitor_commands=[command], extra=extra)
    assert result.still_running, "QEMU exited: the CPU triple-faulted or reset\n" + \
        result.describe()
    assert result.monitor, result.describe()
    return result, screen_lines(result.monitor[command])


def assert_reported(result, screen, lines):
    """Each of `lines` on COM1 and on the screen, then the halt and nothing after it."""
    serial = result.serial.replace("\r", "")
    for line in [FAULT_HEADLINE] + lines:
        assert line in serial.split("\n"), f"{line!r} not on COM1\n{result.describe()}"
        assert line in screen, f"{line!r} not on the screen:\n" + "\n".join(screen)
    assert serial.rstrip().endswith("Fix the problem above and reboot."), result.describe()
    assert any(LOADER_HALTED in row for row in screen), "\n".join(screen)


def test_invalid_opcode_at_the_entry_point(tmp_path):
    result, screen = boot_and_read_screen(faulting_kernel(tmp_path, "ud2", UD2))
    assert_reported(result, screen, [
        "  exception 6: #UD invalid opcode",
        f"  RIP 0x{KERNEL_ADDRESS:016x}  RSP 0x0000000000080000",
    ])
    assert "error code" not in result.serial        # #UD pushes none
    assert "CR2" not in result.serial


def test_page_fault_reports_the_error_code_and_cr2(tmp_path):
    result, screen = boot_and_read_screen(faulting_kernel(tmp_path, "unmapped", WRITE_UNMAPPED))
    assert_reported(result, screen, [
        f"  exception 14: #PF page fault, error code 0x{PF_WRITE:016x}",
        f"  RIP 0x{KERNEL_ADDRESS + 10:016x}  RSP 0x0000000000080000",
        f"  CR2 0x{UNMAPPED_ADDRESS:016x}",
    ])


def test_a_fault_on_an_unusable_stack_is_still_reported(tmp_path):
    """The issue's case: a kernel whose stack is read-only. The #PF cannot be
    pushed on the kernel's stack; the handlers run on a stack of their own
    (IST1 in the loader's TSS), so the report names the original #PF."""
    stack_top = KERNEL_ADDRESS + TEXT_SIZE
    result, screen = boot_and_read_screen(faulting_kernel(tmp_path, "stack", READ_ONLY_STACK))
    assert_reported(result, screen, [
        f"  exception 14: #PF page fault, error code 0x{PF_PRESENT | PF_WRITE:016x}",
        f"  RIP 0x{KERNEL_ADDRESS + 7:016x}  RSP 0x{stack_top:016x}",
        f"  CR2 0x{stack_top - 8:016x}",
    ])


@pytest.mark.parametrize("name, code, line", [
    ("divide", DIVIDE_BY_ZERO, "  exception 0: #DE divide error"),
    ("int3", b"\xcc", "  exception 3: #BP breakpoint"),
], ids=["divide", "int3"])
def test_other_vectors_are_named(tmp_path, name, code, line):
    result, screen = boot_and_read_screen(faulting_kernel(tmp_path, name, code))
    assert_reported(result, screen, [line])


def test_a_kernel_that_set_the_direction_flag(tmp_path):
    """The handlers print with LODSB and scroll with REP MOVSW: they must
    not inherit a kernel's STD (an interrupt gate leaves DF alone, SDM
    Vol. 3A, 6.12.1.3)."""
    result, screen = boot_and_read_screen(faulting_kernel(tmp_path, "std", b"\xfd" + UD2))
    assert_reported(result, screen, [
        "  exception 6: #UD invalid opcode",
        f"  RIP 0x{KERNEL_ADDRESS + 1:016x}  RSP 0x0000000000080000",
    ])


def test_our_kernel_with_an_execute_only_data_segment(tmp_path):
    """The issue's own case: our kernel with its writable segment's flags
    flipped to execute-only (mkimage and the loader accept that). The
    segment holds the kernel's stack, now read-only: the first push
    faults. Before the reporting IDT: #PF, #DF, triple fault."""
    elf = bytearray(KERNEL_ELF.read_bytes())
    phoff = struct.unpack_from("<Q", elf, E_PHOFF)[0]
    phnum = struct.unpack_from("<H", elf, E_PHNUM)[0]
    writable = [phoff + index * PH_SIZE for index in range(phnum)
                if struct.unpack_from("<I", elf, phoff + index * PH_SIZE + P_TYPE)[0] == PT_LOAD
                and struct.unpack_from("<I", elf, phoff + index * PH_SIZE + P_FLAGS)[0] & PF_W]
    assert len(writable) == 1, "expected one writable PT_LOAD segment in our kernel"
    header = writable[0]
    struct.pack_into("<I", elf, header + P_FLAGS, PF_X)
    start = struct.unpack_from("<Q", elf, header + P_VADDR)[0]
    end = start + struct.unpack_from("<Q", elf, header + P_MEMSZ)[0]
    kernel = tmp_path / "execute-only-data.elf"
    kernel.write_bytes(bytes(elf))
    image = build_image(tmp_path / "execute-only-data.img", kernel=kernel)

    result, screen = boot_and_read_screen(image)
    assert_reported(result, screen, [
        f"  exception 14: #PF page fault, error code 0x{PF_PRESENT | PF_WRITE:016x}"])
    cr2 = re.search(r"^  CR2 0x([0-9a-f]{16})$", result.serial.replace("\r", ""), re.M)
    assert cr2, result.describe()
    assert start <= int(cr2[1], 16) < end, f"CR2 outside the segment {start:#x}-{end:#x}\n" + \
        result.describe()
    assert "Kernel:" not in result.serial


def test_the_report_in_bochs(bochs_installed, tmp_path):
    """Bochs checks descriptors like a real CPU (the 16-byte TSS descriptor,
    the IST switch) and has another BIOS: the read-only stack case again."""
    stack_top = KERNEL_ADDRESS + TEXT_SIZE
    image = faulting_kernel(tmp_path, "stack", READ_ONLY_STACK)
    assert_bochs_reports(image, [
        FAULT_HEADLINE,
        f"  exception 14: #PF page fault, error code 0x{PF_PRESENT | PF_WRITE:016x}",
        f"  CR2 0x{stack_top - 8:016x}"])


def assert_bochs_reports(image, lines):
    """Boot `image` in Bochs: the report's `lines` reach COM1, the machine
    stays halted, and Bochs saw no triple fault."""
    result = boot_bochs(image, until=r"Fix the problem above and reboot\.", settle=1.0,
                        timeout=60)
    assert result.found and not result.exited, result.describe()
    serial = result.serial.replace("\r", "").split("\n")
    for line in lines:
        assert line in serial, f"{line!r} not on COM1\n{result.describe()}"
    assert "triple fault" not in result.log.lower(), result.describe()


# Multiboot kernels: 32-bit code, entered in flat protected mode with ESP
# at the loader's KERNEL_STACK_TOP (memory_layout.inc).
MULTIBOOT_KINDS = ["multiboot1", "multiboot2"]
MULTIBOOT_ESP = 0x80000
# A selector far beyond the loader's GDT limit: loading it raises #GP with
# the selector (RPL bits clear) as its error code (SDM Vol. 3A, 6.13).
BAD_SELECTOR = 0xFFF8
# The #PF probe's own paging: one 4 MiB page (CR4.PSE, SDM Vol. 3A, 4.3)
# identity-maps 0-4 MiB (the loader, the screen, the probe); the write
# goes to 8 MiB, which is not mapped.
PROBE_PAGE_DIRECTORY = 0x200000
PROBE_STACK_TOP = 0x300000
PROBE_UNMAPPED = 0x800000
ENABLE_PAGING = f"""
    mov esp, {PROBE_STACK_TOP:#x}
    mov edi, {PROBE_PAGE_DIRECTORY:#x}
    xor eax, eax
    mov ecx, 1024
    rep stosd                           ; RAM is not zero: every entry not present
    mov dword [{PROBE_PAGE_DIRECTORY:#x}], 0x83  ; P, R/W, PS: 0-4 MiB
    mov eax, cr4
    or eax, 0x10                        ; PSE
    mov cr4, eax
    mov eax, {PROBE_PAGE_DIRECTORY:#x}
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000                  ; PG
    mov cr0, eax
"""


def assemble32(tmp_path, name, source):
    """`source` assembled as flat 32-bit code (nasm -f bin)."""
    asm, out = tmp_path / f"{name}.asm", tmp_path / f"{name}.bin"
    asm.write_text("bits 32\n" + source + "\n")
    run_tool(["nasm", "-f", "bin", "-o", out, asm])
    return out.read_bytes()


def multiboot_faulting_kernel(tmp_path, kind, name, before, faulting):
    """A flat Multiboot `kind` kernel loaded at 1 MiB whose entry point runs
    the 32-bit code `before`, then the instruction `faulting`, then halts.
    Returns the image and the faulting instruction's address (its EIP)."""
    prefix = assemble32(tmp_path, f"{name}-before", before) if before else b""
    code = prefix + assemble32(tmp_path, f"{name}-fault", faulting) + mb.HALT_CODE
    data = (mb.multiboot1_kernel(placed=True, code=code) if kind == "multiboot1"
            else mb.flat_kernel(code=code))
    entry = mb.LOAD_ADDRESS + len(data) - len(code)
    kernel = tmp_path / f"{name}-{kind}.bin"
    kernel.write_bytes(data)
    return build_image(tmp_path / f"{name}-{kind}.img", kernel=kernel), entry + len(prefix)


def boot_multiboot_fault(tmp_path, image):
    """Boot with QEMU's log of exceptions and resets; the report must come,
    and no triple fault."""
    log = tmp_path / "qemu.log"
    result, screen = boot_and_read_screen(image, extra=("-d", "int,cpu_reset", "-D", str(log)))
    qemu_log = log.read_text(errors="replace") if log.exists() else ""
    assert "Triple fault" not in qemu_log, qemu_log[-3000:]
    return result, screen


@pytest.mark.parametrize("kind", MULTIBOOT_KINDS)
@pytest.mark.parametrize("name, before, faulting, line", [
    ("ud2", "", "ud2", "  exception 6: #UD invalid opcode"),
    ("selector", f"mov ax, {BAD_SELECTOR:#x}", "mov ds, ax",
     f"  exception 13: #GP general protection, error code 0x{BAD_SELECTOR:08x}"),
    ("divide", "xor edx, edx\nxor eax, eax", "div eax", "  exception 0: #DE divide error"),
])
def test_multiboot_kernel_faulting_at_once(tmp_path, kind, name, before, faulting, line):
    image, eip = multiboot_faulting_kernel(tmp_path, kind, name, before, faulting)
    result, screen = boot_multiboot_fault(tmp_path, image)
    assert_reported(result, screen, [line, f"  EIP 0x{eip:08x}  ESP 0x{MULTIBOOT_ESP:08x}"])
    if "error code" not in line:
        assert "error code" not in result.serial
    assert "CR2" not in result.serial


def test_multiboot_kernel_with_a_null_data_segment_and_df_set(tmp_path):
    """A null selector in DS and ES is allowed at CPL 0 (any use of it
    faults), and an interrupt gate changes neither them nor DF: the
    handler must load its own data segment and CLD before it prints."""
    image, eip = multiboot_faulting_kernel(tmp_path, "multiboot1", "null-ds",
                                           "std\nxor eax, eax\nmov ds, ax\nmov es, ax", "ud2")
    result, screen = boot_multiboot_fault(tmp_path, image)
    assert_reported(result, screen, ["  exception 6: #UD invalid opcode",
                                     f"  EIP 0x{eip:08x}  ESP 0x{MULTIBOOT_ESP:08x}"])


def test_multiboot_kernel_page_fault_after_turning_paging_on(tmp_path):
    """Paging is off at the handoff, but a kernel may turn it on before its
    LIDT: a #PF then reports CR2. The probe maps the loader (where the
    reporting IDT and its handlers live) and moves its stack, so ESP is
    the probe's."""
    image, eip = multiboot_faulting_kernel(tmp_path, "multiboot2", "paging", ENABLE_PAGING,
                                           f"mov byte [{PROBE_UNMAPPED:#x}], 0")
    result, screen = boot_multiboot_fault(tmp_path, image)
    assert_reported(result, screen, [
        f"  exception 14: #PF page fault, error code 0x{PF_WRITE:08x}",
        f"  EIP 0x{eip:08x}  ESP 0x{PROBE_STACK_TOP:08x}",
        f"  CR2 0x{PROBE_UNMAPPED:08x}",
    ])


def test_the_multiboot_report_in_bochs(bochs_installed, tmp_path):
    """Bochs checks the 32-bit gates and selectors like a real CPU: the
    #GP case again, through the Multiboot 1 handoff."""
    image, eip = multiboot_faulting_kernel(tmp_path, "multiboot1", "selector",
                                           f"mov ax, {BAD_SELECTOR:#x}", "mov ds, ax")
    assert_bochs_reports(image, [
        FAULT_HEADLINE,
        f"  exception 13: #GP general protection, error code 0x{BAD_SELECTOR:08x}",
        f"  EIP 0x{eip:08x}  ESP 0x{MULTIBOOT_ESP:08x}"])
