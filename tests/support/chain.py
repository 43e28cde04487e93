"""The chain loader (tests/chainloader/chain.asm): a boot sector on a
floppy that plays the BIOS's part for our stage 1. It loads sector 0 of a
hard disk and jumps there with a DL of our choosing, and on request first
leaves the machine as some BIOSes do: the A20 gate shut, an INT 15h
AX=2401h that answers yes and does nothing, port 0x92 wired to nothing.
tests/test_drive_number.py and the a20 and e820 labs (tests/labs/checks/)
boot through it. The grader imports this module outside pytest, so it
does not use support.tools."""
import subprocess

from support.paths import ROOT
from support.qemu import boot

CHAIN_SOURCE = ROOT / "tests" / "chainloader" / "chain.asm"
SECTOR = 512
BOOT_SIGNATURE = b"\x55\xaa"
FLOPPY_BYTES = 80 * 2 * 18 * SECTOR     # 1.44 MB: 80 cylinders, 2 heads, 18 sectors
FIRST_HARD_DISK = 0x80
NASM_TIMEOUT_SECONDS = 60


def build_chain_floppy(directory, source_drive, pass_dl, enter_at_07c0=False, options=()):
    """Assemble the chain loader for one (source drive, DL) pair and put it
    on a 1.44 MB floppy image. With enter_at_07c0 it jumps to 07C0:0000;
    `options` are more of chain.asm's switches, without -D (SHUT_A20,
    BIOS_A20_SAYS_YES, PORT_92_READS_ON, E820_QUIRKS: then it is two
    sectors, the second with the INT 15h hook)."""
    variant = ("-07c0" if enter_at_07c0 else "") + "".join(f"-{o.lower()}" for o in options)
    binary = directory / f"chain-{source_drive:02x}-{pass_dl:02x}{variant}.bin"
    defines = (["-DENTER_AT_07C0"] if enter_at_07c0 else []) + [f"-D{o}" for o in options]
    cmd = ["nasm", "-f", "bin", "-Wall", f"-DSOURCE_DRIVE={source_drive:#04x}",
           f"-DPASS_DL={pass_dl:#04x}", *defines, f"-I{CHAIN_SOURCE.parent.parent}/",
           "-o", str(binary), str(CHAIN_SOURCE)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=NASM_TIMEOUT_SECONDS)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stdout}{result.stderr}")
    sectors = binary.read_bytes()
    assert len(sectors) % SECTOR == 0 and sectors[SECTOR - 2:SECTOR] == BOOT_SIGNATURE, \
        "chain.asm is not a boot sector"
    floppy = binary.with_suffix(".floppy.img")
    floppy.write_bytes(sectors.ljust(FLOPPY_BYTES, b"\0"))
    return floppy


def chained_boot_arguments(hard_disks):
    """QEMU arguments that boot the floppy (-boot a) with `hard_disks` on
    IDE in order: the first becomes BIOS drive 0x80, the second 0x81."""
    extra = ["-boot", "a"]
    for index, disk in enumerate(hard_disks):
        extra += ["-drive", f"file={disk},format=raw,if=ide,index={index}"]
    return extra


def boot_chained(floppy, hard_disks, **boot_args):
    """Boot the chain floppy with `hard_disks` (chained_boot_arguments)."""
    return boot(floppy, drive="floppy", extra=chained_boot_arguments(hard_disks), **boot_args)
