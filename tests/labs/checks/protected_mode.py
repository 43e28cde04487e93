"""Lab protected_mode: the GDT's flat descriptors
(bootloader/stage2/descriptor_table.inc) and the switch to 32-bit protected
mode that starts a Multiboot kernel (protected_mode_handoff.inc).

Unreal mode, the long mode switch and the handoff all load selectors from
that GDT, so the loader's own progress shows the data descriptor (it reads
the kernel into memory above 1 MiB through it), our kernel's first line the
two code descriptors, and tests/multiboot/probe.asm, started through the
handoff, prints the segment registers' descriptors and the machine state it
was given, which are judged against the Multiboot specifications. A
Multiboot kernel whose first instruction faults shows whether the handoff
loaded the loader's reporting IDT (fault_report_32.inc)."""
from labs.grading import (BOOT_COMPLETE, UNTIL_LOADER_HALTED, Check, Failed, Lab, expect,
                          expect_in, last_lines)
from support.multiboot_probe import (DESC_CODE, DESC_DB, DESC_L, DESC_P, DESC_READ_WRITE,
                                     DESC_S, descriptor_base_and_limit, probe_values)
from support.qemu import KERNEL_EXIT_SUCCESS
from support.x86 import CR0_PE, CR0_PG, EFLAGS_IF, EFLAGS_VM

MULTIBOOT1_MAGIC = 0x2BADB002           # Multiboot 0.6.96, 3.2: EAX at the entry
MULTIBOOT2_MAGIC = 0x36D76289           # Multiboot2 2.0, 3.3: EAX at the entry
FLAT = (0, 0xFFFFFFFF)                  # base, limit
SEGMENT_REGISTERS = ["cs", "ds", "es", "fs", "gs", "ss"]
UD2 = b"\x0f\x0b"                       # the invalid opcode: #UD, vector 6
FAULT_HEADLINE = "stage2: error: the kernel faulted before loading its own IDT"


def loader_gets_through_unreal_mode(context):
    """The kernel's bytes go above 1 MiB through DS and ES with the 4 GiB
    limit of GDT_DATA: without it the first copy faults."""
    serial = context.boot(until=UNTIL_LOADER_HALTED).serial
    expect_in(serial, "stage2: kernel checksum ok", "the loader's output")
    expect_in(serial, "stage2: page tables built", "the loader's output")


def kernel_runs_in_long_mode(context):
    result = context.boot(until=UNTIL_LOADER_HALTED)
    expect_in(result.serial, "Kernel: running in 64-bit long mode", "the boot's output")
    expect_in(result.serial, BOOT_COMPLETE, "the boot's output")
    expect(result.exit_code == KERNEL_EXIT_SUCCESS,
           f"the kernel did not end the machine with success; {result.describe()}")


def probe_boot(context, multiboot2=False, machine="pc"):
    """The probe's (state, segments) as it printed them, started by stage 2
    through the Multiboot 1 (or 2) handoff."""
    # Imported here: support.multiboot builds through pytest's helpers, and
    # `./build.sh lab` lists the labs with a Python that may lack pytest.
    from support import multiboot as mb
    out = context.work_dir / ("probe2" if multiboot2 else "probe1")
    kernel = mb.assemble("probe", out, defines=[] if multiboot2 else ["MULTIBOOT1"])
    image = mb.mkimage_build(context.build / "image" / "mkimage", kernel, out / "probe.img")
    result = context.boot(image=image, machine=machine, until=UNTIL_LOADER_HALTED)
    if "probe: done" not in result.serial:
        raise Failed(f"the Multiboot probe kernel did not report; the boot printed:\n"
                     f"{last_lines(result.serial)}")
    state, segments, _, _ = probe_values(result.serial)
    return state, segments


def check_flat_segments(segments):
    expect(sorted(segments) == SEGMENT_REGISTERS, f"the probe reported {sorted(segments)}")
    for name in SEGMENT_REGISTERS:
        descriptor = segments[name][1]
        shown = f"{name.upper()}'s descriptor 0x{descriptor:016x}"
        base, limit = descriptor_base_and_limit(descriptor)
        expect((base, limit) == FLAT, f"{shown}: base 0x{base:x}, limit 0x{limit:x}; "
                                      f"a flat segment has base 0 and limit 0xffffffff")
        expect(descriptor & DESC_P and descriptor & DESC_S, f"{shown}: not a present "
                                                            f"code or data segment")
        expect(descriptor & DESC_DB and not descriptor & DESC_L,
               f"{shown}: not a 32-bit segment (D/B set, L clear)")
        expect(bool(descriptor & DESC_CODE) == (name == "cs"),
               f"{shown}: {'not ' if name == 'cs' else ''}a code segment")
        expect(descriptor & DESC_READ_WRITE, f"{shown}: code must be readable, data writable")


def check_entry_state(state, magic):
    expect(state["eax"] == magic, f"EAX at the entry was 0x{state['eax']:08x}, "
                                  f"not the magic 0x{magic:08x}")
    expect(state["cr0"] & CR0_PE and not state["cr0"] & CR0_PG,
           f"CR0 at the entry was 0x{state['cr0']:08x}: PE must be set, PG clear")
    expect(not state["eflags"] & (EFLAGS_IF | EFLAGS_VM),
           f"EFLAGS at the entry was 0x{state['eflags']:08x}: IF and VM must be clear")


def multiboot1_flat_segments(context):
    check_flat_segments(probe_boot(context)[1])


def multiboot1_entry_state(context):
    check_entry_state(probe_boot(context)[0], MULTIBOOT1_MAGIC)


def multiboot2_on_q35(context):
    state, segments = probe_boot(context, multiboot2=True, machine="q35")
    check_flat_segments(segments)
    check_entry_state(state, MULTIBOOT2_MAGIC)


def multiboot_fault_is_reported(context):
    """A Multiboot 1 kernel whose entry point is UD2: with the reporting
    IDT loaded the loader's handler names the fault and halts; without it
    the CPU triple-faults and QEMU (-no-reboot) stops."""
    from support import multiboot as mb
    out = context.work_dir / "fault"
    out.mkdir(parents=True, exist_ok=True)
    kernel = out / "ud2.bin"
    kernel.write_bytes(mb.multiboot1_kernel(placed=True, code=UD2 + mb.HALT_CODE))
    image = mb.mkimage_build(context.build / "image" / "mkimage", kernel, out / "ud2.img")
    result = context.boot(image=image, until=UNTIL_LOADER_HALTED)
    expect_in(result.serial, FAULT_HEADLINE, "the boot's output")
    expect_in(result.serial, "exception 6: #UD invalid opcode", "the boot's output")
    expect(result.still_running, f"the machine did not stay halted; {result.describe()}")


LAB = Lab(
    name="protected_mode",
    title="the GDT and the switch to 32-bit protected mode",
    handout="docs/course/labs/protected_mode.md",
    chapter="docs/course/04-protected-mode.md",
    checks=[
        Check("the loader gets through unreal mode (the data descriptor)", 10,
              loader_gets_through_unreal_mode),
        Check("our kernel runs in 64-bit long mode (the code descriptors)", 10,
              kernel_runs_in_long_mode),
        Check("a Multiboot 1 kernel gets flat 32-bit CS, DS, ES, FS, GS and SS", 10,
              multiboot1_flat_segments),
        Check("a Multiboot 1 kernel gets EAX = magic, CR0.PE on, paging off, IF clear", 10,
              multiboot1_entry_state),
        Check("a Multiboot 2 kernel on q35 gets the same machine state", 5, multiboot2_on_q35),
        Check("a Multiboot kernel that faults at once gets the loader's report", 5,
              multiboot_fault_is_reported),
    ])
