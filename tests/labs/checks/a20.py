"""Lab a20: the three ways stage 2 opens the A20 gate (a20_by_bios,
a20_by_fast_gate and a20_by_keyboard_controller in
bootloader/stage2/a20.inc).

QEMU's BIOS hands over with the gate open, so a plain boot proves nothing.
Every check boots through the chain loader (tests/chainloader/chain.asm,
support/chain.py) from a floppy: it shuts the gate at both switches,
checks that memory wraps at 1 MiB, and then starts our stage 1 from the
hard disk. Each check takes one more way away from stage 2, so each way
must work, and the loader must see for itself (in memory) whether it did:
  - the gate shut: the BIOS's INT 15h AX=2401h opens it;
  - and a BIOS whose AX=2401h says yes and does nothing: port 0x92 must;
  - and port 0x92 reading "on" while the gate is shut (wired to nothing):
    the keyboard controller must.
Then the kernel, loaded above 1 MiB, must boot to the end.
"""
from labs.grading import BOOT_COMPLETE, Failed, Check, Lab, expect, expect_in, last_lines
from support.chain import FIRST_HARD_DISK, build_chain_floppy, chained_boot_arguments
from support.loader_lines import LOADER_HALTED
from support.qemu import KERNEL_EXIT_SUCCESS

A20_LINE_PREFIX = "stage2: A20 enabled "
CHAIN_A20_STAYED_ON = "chain: A20 stayed on"
CHAIN_BOOTING = "chain: booting drive 0x80 with DL=0x80"


def opened_by(options, wanted_how):
    """A check: with the chain loader's `options`, stage 2 must report
    `wanted_how` and the kernel must boot to the end."""
    def run(context):
        floppy = build_chain_floppy(context.work_dir, FIRST_HARD_DISK, FIRST_HARD_DISK,
                                    options=options)
        result = context.boot(image=floppy, drive="floppy",
                              extra=tuple(chained_boot_arguments([context.image()])),
                              until=f"{LOADER_HALTED}|{CHAIN_A20_STAYED_ON}")
        serial = result.serial.replace("\r", "")
        expect(CHAIN_A20_STAYED_ON not in serial,
               "the chain loader could not shut the A20 gate, so this check cannot run")
        expect_in(serial, CHAIN_BOOTING, "the chain loader's output")
        said = [line for line in serial.split("\n") if line.startswith(A20_LINE_PREFIX)]
        if not said:
            raise Failed(f"stage 2 did not say it enabled A20; it printed:\n{last_lines(serial)}")
        wanted = f"{A20_LINE_PREFIX}{wanted_how}"
        expect(said[0] == wanted, f"stage 2 said `{said[0]}`, but here only `{wanted}` can "
               f"have opened the gate")
        expect_in(serial, BOOT_COMPLETE, "the boot's output")
        expect(result.exit_code == KERNEL_EXIT_SUCCESS,
               f"the kernel did not end the machine with success; {result.describe()}")
    return run


LAB = Lab(
    name="a20",
    title="the A20 gate: the BIOS, port 0x92 and the keyboard controller",
    handout="docs/course/labs/a20.md",
    chapter="docs/course/03-stage2-real-mode.md",
    checks=[
        Check("the gate shut at hand-over: the BIOS call opens it", 10,
              opened_by(("SHUT_A20",), "(BIOS INT 15h AX=2401h)")),
        Check("a BIOS that says yes and does nothing: port 0x92 opens it", 15,
              opened_by(("SHUT_A20", "BIOS_A20_SAYS_YES"), "(fast A20, port 0x92)")),
        Check("and port 0x92 wired to nothing: the keyboard controller opens it", 15,
              opened_by(("SHUT_A20", "BIOS_A20_SAYS_YES", "PORT_92_READS_ON"),
                        "(keyboard controller)")),
    ])
