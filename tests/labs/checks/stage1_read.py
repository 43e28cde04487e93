"""Lab stage1_read: stage 1 reads stage 2 with the INT 13h extensions
(bootloader/stage1.asm: the EDD check, AH=41h, and the read, AH=42h with
the disk address packet).

Graded by booting the image from disks that SeaBIOS drives in different
ways (IDE, virtio, AHCI, a USB stick; all have the extensions), from a
floppy (which has none: stage 1 must notice and read by CHS), and from
disks cut short, where the read fails and stage 1 must say so with the
BIOS's status rather than jump into a stage 2 that is not all there.
"""
import re
import struct

from labs.grading import BOOT_COMPLETE, Failed, Check, Lab, expect, expect_in, last_lines
from support.chain import FLOPPY_BYTES
from support.loader_lines import LOADER_HALTED
from support.qemu import KERNEL_EXIT_SUCCESS
from support.sources import LOADER_FIELDS_INC, nasm_value

SECTOR = 512
STAGE2_STARTED = re.compile(r"bootstack stage 2: loader started \(boot drive 0x([0-9a-f]{2})\)")
STAGE1_DISK_ERROR = re.compile(r"Stage 1: disk error 0x([0-9A-F]{2})")
# INT 13h status 00h is "no error": a failed read always reports another.
BIOS_STATUS_SUCCESS = 0
# Stop a boot as soon as a stage has given up, rather than wait for the
# timeout: stage 1 then halts for good.
GAVE_UP = f"{STAGE1_DISK_ERROR.pattern}|{re.escape(LOADER_HALTED)}"
DRIVE_NAMES = {"ide": "an IDE disk", "virtio": "a virtio disk", "ahci": "an AHCI disk",
               "usb-ehci": "a USB stick", "floppy": "a floppy"}


def stage2_location(image):
    """(first LBA, sector count) of stage 2, as the image builder wrote them
    into stage 1's disk address packet."""
    dap = nasm_value(LOADER_FIELDS_INC, "STAGE1_DAP_OFFSET")
    sectors = nasm_value(LOADER_FIELDS_INC, "disk_address_packet.sectors")
    lba = nasm_value(LOADER_FIELDS_INC, "disk_address_packet.lba")
    head = image.read_bytes()[:SECTOR]
    return struct.unpack_from("<Q", head, dap + lba)[0], struct.unpack_from("<H", head, dap + sectors)[0]


def boots_to_the_end(drive="ide", machine="pc"):
    """A check that the image boots to the kernel's end from `drive`."""
    def run(context):
        result = context.boot(drive=drive, machine=machine, until=GAVE_UP)
        if not STAGE2_STARTED.search(result.serial):
            raise Failed(f"stage 2 never started from {DRIVE_NAMES[drive]}; the boot printed:\n"
                         f"{last_lines(result.serial)}")
        expect_in(result.serial, BOOT_COMPLETE, f"the boot from {DRIVE_NAMES[drive]}")
        expect(result.exit_code == KERNEL_EXIT_SUCCESS,
               f"the kernel did not end the machine with success; {result.describe()}")
    return run


def stage2_starts(context):
    result = context.boot(until=f"{STAGE2_STARTED.pattern}|{GAVE_UP}")
    found = STAGE2_STARTED.search(result.serial)
    if found is None:
        raise Failed(f"no `bootstack stage 2: loader started` line; the boot printed:\n"
                     f"{last_lines(result.serial)}")
    expect(found[1] == "80", f"stage 2 got boot drive 0x{found[1]}, not 0x80 (DL as the BIOS "
           f"gave it)")


def floppy_reads_by_chs(context):
    data = context.image().read_bytes()
    expect(len(data) <= FLOPPY_BYTES, "the image does not fit a 1.44 MB floppy")
    floppy = context.work_dir / "floppy.img"
    floppy.write_bytes(data.ljust(FLOPPY_BYTES, b"\0"))
    result = context.boot(image=floppy, drive="floppy", extra=("-boot", "a"), until=GAVE_UP)
    error = STAGE1_DISK_ERROR.search(result.serial)
    expect(error is None, f"stage 1 failed to read stage 2 from a floppy, which has no INT 13h "
           f"extensions (`{error and error[0]}`): did it check for them before AH=42h?")
    expect_in(result.serial, "stage2: disk reads by CHS", "the boot from a floppy")
    expect_in(result.serial, BOOT_COMPLETE, "the boot from a floppy")


def short_disk_stops_in_stage1(keep):
    """A check on a disk cut after `keep(first LBA, sectors)` sectors: the
    read fails, and stage 1 must print the BIOS's (non-zero) status and
    halt, never run what it has of stage 2."""
    def run(context):
        image = context.image()
        lba, sectors = stage2_location(image)
        kept = keep(lba, sectors)
        short = context.work_dir / f"short-{kept}.img"
        short.write_bytes(image.read_bytes()[:kept * SECTOR])
        result = context.boot(image=short, until=f"{STAGE1_DISK_ERROR.pattern}|{STAGE2_STARTED.pattern}")
        what = (f"a disk of {kept} sector{'s' if kept > 1 else ''} (stage 2 is sectors "
                f"{lba}-{lba + sectors - 1})")
        expect("stage 2" not in result.serial,
               f"with {what}, stage 1 jumped into a stage 2 it had not read in full:\n"
               f"{last_lines(result.serial)}")
        error = STAGE1_DISK_ERROR.search(result.serial)
        if error is None:
            raise Failed(f"with {what}, stage 1 did not report `Stage 1: disk error 0x..`; "
                         f"{result.describe()}")
        expect(int(error[1], 16) != BIOS_STATUS_SUCCESS,
               f"with {what}, stage 1 reported status 0x{error[1]}, which means success: "
               f"report the status the BIOS gave in AH")
        expect(result.still_running, f"stage 1 did not halt after its error; {result.describe()}")
    return run


LAB = Lab(
    name="stage1_read",
    title="stage 1 reads stage 2 with the INT 13h extensions",
    handout="docs/course/labs/stage1_read.md",
    chapter="docs/course/02-mbr-and-stage1.md",
    checks=[
        Check("stage 2 starts, with the boot drive the BIOS gave (IDE disk)", 10, stage2_starts),
        Check("all of stage 2 arrived: the kernel boots to the end (IDE disk)", 10,
              boots_to_the_end()),
        Check("a virtio disk", 5, boots_to_the_end("virtio")),
        Check("an AHCI disk (q35)", 5, boots_to_the_end("ahci", "q35")),
        Check("a USB stick (EHCI)", 5, boots_to_the_end("usb-ehci")),
        Check("a floppy, without extensions: stage 1 notices and reads by CHS", 5,
              floppy_reads_by_chs),
        Check("a disk that ends inside stage 2: stage 1 reports the BIOS's error and halts", 10,
              short_disk_stops_in_stage1(lambda lba, sectors: lba + sectors // 2)),
        Check("a disk that ends before stage 2: the same", 5,
              short_disk_stops_in_stage1(lambda lba, sectors: lba)),
    ])
