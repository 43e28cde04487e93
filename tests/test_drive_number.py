"""Stage 1 uses the drive number the BIOS passed in DL.

SeaBIOS numbers the disk it boots from 0x80 whatever its position, so a
plain boot can never tell whether stage 1 reads DL or just assumes 0x80.
tests/chainloader/chain.asm plays the BIOS instead: booted from a floppy,
it loads sector 0 of a hard disk and jumps to it with a DL of our choosing
(both are assembled in). With our image on the second hard disk and DL =
0x81, a stage 1 that ignored DL would read the blank first disk.

Stage 1 accepts the numbers a BIOS can mean, floppies 0x00-0x0F and hard
disks 0x80-0x8F (bits 4-6 clear, see `drive_number_is_plausible` in
bootloader/stage1.asm); for anything else it uses 0x80, and stage 2 warns.
"""
import re

import pytest

from support.chain import FIRST_HARD_DISK, FLOPPY_BYTES, boot_chained, build_chain_floppy
from support.qemu import KERNEL_EXIT_SUCCESS, boot

BOOT_TIMEOUT_SECONDS = 60
SETTLE_SECONDS = 1.0            # after the chain loader jumped: time for stage 2 to speak
HALT_SETTLE_SECONDS = 0.5       # after a halt message: make sure nothing follows
BLANK_DISK_BYTES = 1 << 20
SECOND_HARD_DISK = 0x81

BOGUS_WARNING = ("stage2: warning: the BIOS passed boot drive 0x{:02x}, which is no disk "
                 "number; stage 1 used 0x80, the first hard disk")


@pytest.fixture
def blank_disk(tmp_path):
    disk = tmp_path / "blank.img"
    disk.write_bytes(bytes(BLANK_DISK_BYTES))
    return disk


def test_chain_loader_is_a_boot_sector(tmp_path):
    floppy = build_chain_floppy(tmp_path, SECOND_HARD_DISK, SECOND_HARD_DISK)
    assert floppy.stat().st_size == FLOPPY_BYTES


def test_stage1_boots_from_the_drive_in_dl(exit_image, blank_disk, tmp_path):
    # Our image is drive 0x81; 0x80 is blank (a zero MBR, no signature).
    floppy = build_chain_floppy(tmp_path, SECOND_HARD_DISK, SECOND_HARD_DISK)
    result = boot_chained(floppy, [blank_disk, exit_image], timeout=BOOT_TIMEOUT_SECONDS)
    serial = result.serial
    assert "chain: booting drive 0x81 with DL=0x81" in serial, result.describe()
    assert result.exit_code == KERNEL_EXIT_SUCCESS, result.describe()
    assert "loader started (boot drive 0x81)" in serial, result.describe()
    assert "boot drive: 0x81" in serial, result.describe()
    assert "stage2: warning" not in serial, result.describe()
    assert "Kernel: boot complete, halting" in serial, result.describe()


def test_the_blank_first_disk_does_not_boot(exit_image, blank_disk, tmp_path):
    """The control for the test above: handed 0x80 (what a stage 1 that
    ignored DL would use), stage 1 reads the blank disk and never reaches
    stage 2. So the boot above really depends on DL."""
    floppy = build_chain_floppy(tmp_path, SECOND_HARD_DISK, FIRST_HARD_DISK)
    result = boot_chained(floppy, [blank_disk, exit_image], until=r"chain: booting drive",
                          settle=SETTLE_SECONDS, timeout=BOOT_TIMEOUT_SECONDS)
    assert "chain: booting drive 0x81 with DL=0x80" in result.serial, result.describe()
    assert "bootstack stage 2" not in result.serial, result.describe()
    assert result.exit_code != KERNEL_EXIT_SUCCESS, result.describe()


def test_right_drive_number_gives_no_warning(exit_image, tmp_path):
    floppy = build_chain_floppy(tmp_path, FIRST_HARD_DISK, FIRST_HARD_DISK)
    result = boot_chained(floppy, [exit_image], timeout=BOOT_TIMEOUT_SECONDS)
    assert "chain: booting drive 0x80 with DL=0x80" in result.serial, result.describe()
    assert result.exit_code == KERNEL_EXIT_SUCCESS, result.describe()
    assert "loader started (boot drive 0x80)" in result.serial, result.describe()
    assert "boot drive: 0x80" in result.serial, result.describe()
    assert "stage2: warning" not in result.serial, result.describe()


# Numbers with some of bits 4-6 set are no BIOS disk: 0x42 is nonsense,
# 0x90 is just past the hard disks, 0xE0 is where El Torito puts CD-ROMs.
@pytest.mark.parametrize("bogus_dl", [0x42, 0x90, 0xE0], ids=lambda dl: f"dl-{dl:02x}")
def test_bogus_drive_number_falls_back_to_the_first_disk(exit_image, tmp_path, bogus_dl):
    floppy = build_chain_floppy(tmp_path, FIRST_HARD_DISK, bogus_dl)
    result = boot_chained(floppy, [exit_image], timeout=BOOT_TIMEOUT_SECONDS)
    serial = result.serial
    assert f"chain: booting drive 0x80 with DL=0x{bogus_dl:02x}" in serial, result.describe()
    assert result.exit_code == KERNEL_EXIT_SUCCESS, result.describe()
    assert "loader started (boot drive 0x80)" in serial, result.describe()
    # The warning comes right after the banner, before any other step.
    lines = [line for line in result.lines() if line]
    banner = next(i for i, line in enumerate(lines) if "loader started" in line)
    assert lines[banner + 1] == BOGUS_WARNING.format(bogus_dl), result.describe()
    assert "boot drive: 0x80" in serial, result.describe()
    assert "Kernel: boot complete, halting" in serial, result.describe()


# The edges of the accepted ranges: the last floppy and the last hard disk
# number. Stage 1 must take them as given (no fallback, no warning), so with
# no such drive it stops with the BIOS's error instead of booting 0x80.
@pytest.mark.parametrize("plausible_dl", [0x0F, 0x8F], ids=lambda dl: f"dl-{dl:02x}")
def test_plausible_drive_number_is_used_as_given(exit_image, tmp_path, plausible_dl):
    floppy = build_chain_floppy(tmp_path, FIRST_HARD_DISK, plausible_dl)
    stage1_error = r"Stage 1: disk error 0x[0-9A-F]{2}"
    result = boot_chained(floppy, [exit_image], until=stage1_error, settle=HALT_SETTLE_SECONDS,
                          timeout=BOOT_TIMEOUT_SECONDS)
    assert f"chain: booting drive 0x80 with DL=0x{plausible_dl:02x}" in result.serial, result.describe()
    assert re.search(stage1_error, result.serial), result.describe()
    assert "bootstack stage 2" not in result.serial, result.describe()
    assert result.still_running, result.describe()


def test_chain_loader_reports_a_missing_disk(tmp_path):
    """The chain loader's own failure path: no drive 0x81 at all. It must
    say so with the BIOS's code rather than jump into garbage, or the tests
    above could fail for reasons that look like the loader's."""
    floppy = build_chain_floppy(tmp_path, SECOND_HARD_DISK, SECOND_HARD_DISK)
    result = boot(floppy, drive="floppy", extra=["-boot", "a"],
                  until=r"chain: reading sector 0 of drive 0x81 failed, BIOS error 0x[0-9a-f]{2}",
                  settle=HALT_SETTLE_SECONDS, timeout=BOOT_TIMEOUT_SECONDS)
    assert re.search(r"chain: reading sector 0 of drive 0x81 failed, BIOS error 0x[0-9a-f]{2}",
                     result.serial), result.describe()
    assert result.still_running, result.describe()
    assert "bootstack" not in result.serial, result.describe()


def test_chain_loader_reports_a_disk_without_boot_signature(blank_disk, tmp_path):
    floppy = build_chain_floppy(tmp_path, FIRST_HARD_DISK, FIRST_HARD_DISK)
    message = "chain: drive 0x80 has no boot signature 0x55 0xAA in sector 0"
    result = boot_chained(floppy, [blank_disk], until=re.escape(message), settle=HALT_SETTLE_SECONDS,
                          timeout=BOOT_TIMEOUT_SECONDS)
    assert message in result.serial, result.describe()
    assert result.still_running, result.describe()


def test_stage1_entered_at_07c0_0000(exit_image, tmp_path):
    """A BIOS that jumps to 07C0:0000: stage 1 reloads CS with a far jump,
    so the boot goes on exactly as from 0000:7C00. (Today's stage 1 uses
    only relative jumps and DS-based data, so this guards against a change
    that would make it depend on CS = 0 without the far jump.)"""
    floppy = build_chain_floppy(tmp_path, FIRST_HARD_DISK, FIRST_HARD_DISK, enter_at_07c0=True)
    result = boot_chained(floppy, [exit_image], timeout=BOOT_TIMEOUT_SECONDS)
    assert "chain: booting drive 0x80 with DL=0x80" in result.serial, result.describe()
    assert result.exit_code == KERNEL_EXIT_SUCCESS, result.describe()
    assert "Kernel: boot complete, halting" in result.serial, result.describe()
