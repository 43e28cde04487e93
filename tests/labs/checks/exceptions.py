"""Lab exceptions: the IDT's gates (set_gate in kernel/cpu/idt.c) and the
exception report (kernel/cpu/exceptions.c: exception_handle, the report's
first lines, the page fault's decoded error code). Graded by faults the
kernel provokes on request (`fault=KIND`, kernel/cpu/fault_demo.c): the
report must name the vector and error code the SDM gives, a RIP inside the
function that faulted (the symbol table of kernel.elf is the oracle) and,
for the page fault, CR2 equal to the address fault_demo.c wrote to; by the
kernel's own exception tests, which read vector, error code and CR2
through the claim handler; and by the timer, whose IRQ comes through the
same IDT.
"""
import re

from labs.grading import Check, Failed, Lab, c_address, expect, kernel_tests, last_lines
from support.qemu import KERNEL_EXIT_FAILURE
from support.symbols import nm_symbols

FAULT_DEMO = "kernel/cpu/fault_demo.c"
SYMBOLS_ELF = "kernel/kernel.elf"     # in the build: kernel.elf before stripping
REPORT = re.compile(r"^EXCEPTION: (?P<name>.+), vector (?P<vector>\d+), "
                    r"error code 0x(?P<error>[0-9a-f]{16})$", re.M)
RIP = re.compile(r"^  RIP=0x(?P<rip>[0-9a-f]{16}) ", re.M)
PAGE_FAULT = re.compile(r"^  page fault at CR2=0x(?P<cr2>[0-9a-f]{16}): (?P<decoded>.*)$", re.M)

# Vectors and error codes: Intel SDM Vol. 3A, 6.15 (each exception's
# "Exception Error Code"); the page fault's bits: 4.7, Figure 4-12.
PF_VECTOR, GP_VECTOR, UD_VECTOR, DE_VECTOR, DF_VECTOR = 14, 13, 6, 0, 8
PF_ERROR_WRITE = 0x2        # a kernel-mode write to a page that is not present


def function_range(context, name):
    """[start, end) of the kernel function `name` (GCC may have renamed a
    function it specialised: fault_page.isra.0)."""
    for symbol in nm_symbols(context.build / SYMBOLS_ELF):
        if (symbol.name == name or symbol.name.startswith(name + ".")) and symbol.size:
            return symbol.address, symbol.address + symbol.size
    raise Failed(f"kernel.elf has no function {name}")


def fault_report(context, kind, vector, function, error_code=None):
    """Boot with fault=KIND; check the report's first line (vector and,
    when given, error code), that RIP lies inside `function`, and that the
    kernel then panicked. Returns the serial output."""
    result = context.boot(cmdline=f"fault={kind} qemu-exit")
    serial = result.serial.replace("\r", "")
    report = REPORT.search(serial)
    if report is None:
        ended = ("QEMU ended with status 0: the CPU reset, as a triple fault does (QEMU runs "
                 "with -no-reboot); " if result.exit_code == 0 else "")
        raise Failed(f"fault={kind}: no `EXCEPTION: NAME, vector N, error code 0x...` line; "
                     f"{ended}the kernel printed:\n{last_lines(serial)}")
    expect(int(report["vector"]) == vector,
           f"fault={kind}: the report says vector {report['vector']}, the CPU raises {vector}")
    if error_code is not None:
        expect(int(report["error"], 16) == error_code,
               f"fault={kind}: the report says error code 0x{report['error']}, "
               f"expected {error_code:#x}")
    rip = RIP.search(serial, report.end())
    expect(rip is not None, f"fault={kind}: no `  RIP=0x...` line after the report's first "
           f"line:\n{last_lines(serial)}")
    start, end = function_range(context, function)
    address = int(rip["rip"], 16)
    expect(start <= address < end,
           f"fault={kind}: RIP=0x{address:016x} is not inside {function} "
           f"(0x{start:016x}-0x{end:016x} in kernel.elf's symbol table)")
    expect("PANIC: unhandled CPU exception" in serial and result.exit_code == KERNEL_EXIT_FAILURE,
           f"fault={kind}: after the report the kernel must panic (`PANIC: unhandled CPU "
           f"exception ...`) and end QEMU with the failure status; {result.describe()}")
    return serial


def page_fault_is_reported(context):
    serial = fault_report(context, "pf", PF_VECTOR, "fault_page", PF_ERROR_WRITE)
    line = PAGE_FAULT.search(serial)
    expect(line is not None, f"fault=pf: no `  page fault at CR2=0x...: ...` line:\n"
           f"{last_lines(serial)}")
    wanted = c_address(context, FAULT_DEMO, "UNMAPPED_ADDRESS")
    expect(int(line["cr2"], 16) == wanted,
           f"fault=pf: CR2=0x{line['cr2']}, but fault_page wrote to 0x{wanted:016x}")
    expect(line["decoded"] == "not present, write, kernel mode",
           f"fault=pf: the error code 0x2 decodes to `not present, write, kernel mode`, "
           f"the report says `{line['decoded']}`")


def general_protection_is_reported(context):
    fault_report(context, "gp", GP_VECTOR, "fault_general_protection", 0)


def invalid_opcode_and_divide_error_are_reported(context):
    fault_report(context, "ud", UD_VECTOR, "fault_invalid_opcode", 0)
    fault_report(context, "de", DE_VECTOR, "fault_divide", 0)


def double_faults_are_reported_on_their_own_stack(context):
    # Both break the stack: only a gate with its IST slot gets the report
    # out (without it the CPU resets, which ends QEMU with status 0).
    fault_report(context, "df", DF_VECTOR, "fault_double", 0)
    fault_report(context, "stack", DF_VECTOR, "fault_recurse", 0)


LAB = Lab(
    name="exceptions",
    title="the IDT's gates and the exception report",
    handout="docs/course/labs/exceptions.md",
    chapter="docs/course/08-interrupts-and-exceptions.md",
    checks=[
        Check("the timer ticks: IRQ 0 arrives through your IDT", 5,
              kernel_tests("timer_ticks_advance", "timer_ticks_advance")),
        Check("a page fault names vector 14, error code 0x2, RIP in fault_page and CR2", 15,
              page_fault_is_reported),
        Check("a #GP names vector 13, error code 0, RIP in fault_general_protection", 5,
              general_protection_is_reported),
        Check("#UD and #DE name vectors 6 and 0 and the functions that raised them", 5,
              invalid_opcode_and_divide_error_are_reported),
        Check("a double fault is reported from its IST stack (fault=df, fault=stack)", 10,
              double_faults_are_reported_on_their_own_stack),
        Check("the kernel's exception tests pass (vector, error code, CR2)", 10,
              kernel_tests("exception_")),
    ])
