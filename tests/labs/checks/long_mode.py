"""Lab long_mode: from 32-bit protected mode into 64-bit long mode in
bootloader/stage2/long_mode.inc: CR4.PAE, CR3, EFER.LME (and NXE when the
CPU has NX), CR0.PG with CR0.WP, and the far jump to the 64-bit code
segment.

Our kernel's first line says it runs in long mode. The registers are read
from outside: a made-up kernel (tests/support/elf_factory.py) that is only
HLT instructions is entered with interrupts off and stops at its first
instruction, exactly as the loader left the machine, and QEMU's monitor
shows CR0, CR3, CR4, EFER and CS there."""
import re

from labs.grading import (BOOT_COMPLETE, UNTIL_LOADER_DONE, UNTIL_LOADER_HALTED, Check,
                          Failed, Lab, boot_and_ask_monitor, expect, expect_in,
                          hlt_kernel_image, monitor_answer)
from support.qemu import KERNEL_EXIT_SUCCESS
from support.sources import MEMORY_LAYOUT_INC, nasm_value
from support.x86 import (CR0_PE, CR0_PG, CR0_WP, CR3_ADDRESS_MASK, CR4_PAE, EFER_LMA,
                         EFER_LME, EFER_NXE)

PAGE_TABLES_ADDRESS = nasm_value(MEMORY_LAYOUT_INC, "PAGE_TABLES_ADDRESS")

REGISTERS = "info registers"
CPU_WITHOUT_NX = ("-cpu", "qemu64,-nx")
# QEMU's `info registers` line for CS in 64-bit mode:
# "CS =0010 0000000000000000 ffffffff 00a09b00 DPL=0 CS64 [-RA]".
CS_LINE = re.compile(r"^CS =([0-9a-f]{4}) .*$", re.M)


def halted_registers(context, extra=()):
    """Register name -> value at the HLT kernel's entry, and the CS line."""
    image = hlt_kernel_image(context)
    result = boot_and_ask_monitor(str(image), UNTIL_LOADER_DONE, (REGISTERS,),
                                  extra=tuple(extra))
    text = monitor_answer(result, REGISTERS)
    values = {}
    for name in ("CR0", "CR3", "CR4", "EFER"):
        match = re.search(rf"\b{name}=([0-9a-fA-F]+)", text)
        if not match:
            raise Failed(f"{name} is missing from QEMU's `info registers`:\n{text}")
        values[name] = int(match[1], 16)
    cs = CS_LINE.search(text)
    values["CS"] = cs[0] if cs else "(no CS line)"
    return values


def kernel_runs_in_long_mode(context, extra=()):
    result = context.boot(extra=tuple(extra), until=UNTIL_LOADER_HALTED)
    expect_in(result.serial, "Kernel: running in 64-bit long mode", "the boot's output")
    expect_in(result.serial, BOOT_COMPLETE, "the boot's output")
    expect(result.exit_code == KERNEL_EXIT_SUCCESS,
           f"the kernel did not end the machine with success (QEMU exit code "
           f"{result.exit_code})")


def long_mode_active(context):
    efer = halted_registers(context)["EFER"]
    expect(efer & EFER_LME, f"EFER=0x{efer:x}: LME (bit 8) is clear")
    expect(efer & EFER_LMA, f"EFER=0x{efer:x}: LMA (bit 10) is clear: long mode is "
                            f"not active (is CR0.PG set?)")


def pae_and_page_tables(context):
    registers = halted_registers(context)
    expect(registers["CR4"] & CR4_PAE, f"CR4=0x{registers['CR4']:x}: PAE (bit 5) is clear")
    cr3 = registers["CR3"] & CR3_ADDRESS_MASK
    expect(cr3 == PAGE_TABLES_ADDRESS, f"CR3 points to 0x{cr3:x}, not to the loader's PML4 "
                                       f"at 0x{PAGE_TABLES_ADDRESS:x}")


def paging_and_write_protect(context):
    cr0 = halted_registers(context)["CR0"]
    for bit, name in ((CR0_PE, "PE (bit 0)"), (CR0_PG, "PG (bit 31)"), (CR0_WP, "WP (bit 16)")):
        expect(cr0 & bit, f"CR0=0x{cr0:x}: {name} is clear")


def code_segment_is_64_bit(context):
    cs = halted_registers(context)["CS"]
    expect(" CS64 " in cs, f"at the kernel's entry CS is not a 64-bit code segment: {cs}")


def nx_enabled_when_the_cpu_has_it(context):
    efer = halted_registers(context)["EFER"]
    expect(efer & EFER_NXE, f"EFER=0x{efer:x}: NXE (bit 11) is clear, though QEMU's default "
                            f"CPU has NX")


def nx_left_off_without_nx(context):
    efer = halted_registers(context, CPU_WITHOUT_NX)["EFER"]
    expect(not efer & EFER_NXE, f"EFER=0x{efer:x}: NXE is set on a CPU without NX")
    kernel_runs_in_long_mode(context, CPU_WITHOUT_NX)


LAB = Lab(
    name="long_mode",
    title="into long mode: PAE, CR3, EFER.LME, paging on, the far jump",
    handout="docs/course/labs/long_mode.md",
    chapter="docs/course/05-long-mode.md",
    checks=[
        Check("our kernel runs in 64-bit long mode and boots to the end", 10,
              kernel_runs_in_long_mode),
        Check("at the kernel's entry EFER.LME and EFER.LMA are set", 10, long_mode_active),
        Check("CR4.PAE is set and CR3 holds the loader's PML4", 5, pae_and_page_tables),
        Check("CR0.PG and CR0.WP are set (CR0.PE still)", 5, paging_and_write_protect),
        Check("CS is the 64-bit code segment", 5, code_segment_is_64_bit),
        Check("EFER.NXE is set on a CPU with NX", 5, nx_enabled_when_the_cpu_has_it),
        Check("a CPU without NX (-cpu qemu64,-nx): NXE clear, the kernel boots", 5,
              nx_left_off_without_nx),
    ])
