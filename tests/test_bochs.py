"""Boot the disk image in Bochs, with Bochs's own BIOS instead of SeaBIOS.

QEMU's TCG ignores segment limits and sends serial bytes the moment they
are written; Bochs, like a real PC, does neither, and its BIOS (rombios)
differs from SeaBIOS in what it leaves behind. A loader that boots in both
has not merely been lucky in one emulator.

Bochs has no isa-debug-exit device, so neither kernel can end the run: we
stop Bochs once the last line we expect is on COM1 (see tests/support/bochs.py).
"""
import re

import pytest

from support.bochs import boot_bochs
from support.elf_reader import read_elf
from support.foreign_kernel import (EXPECTED_LINES, LAYOUTS, build_foreign_kernel,
                                    kernel_lines, make_image)
from support.higher_half_kernel import build_higher_half_kernel
from support.higher_half_kernel import EXPECTED_LINES as HIGHER_HALF_LINES
from support.higher_half_kernel import kernel_lines as higher_half_lines
from support.images import build_image
from support.loader_lines import LOADER_HALTED, loader_progress
from support.serial import assert_in_order, memory_map
from support.sources import BOOT_INFO_INC, MEMORY_LAYOUT_INC, nasm_value

# Any word the kernel does not know; not "qemu-exit", so that nothing is
# written to port 0xF4 and the kernel ends exactly as on a real PC.
CMDLINE = "bochs"
BOOT_TIMEOUT_SECONDS = 30
KERNEL_DONE = "Kernel: boot complete, starting the shell"
# Stop waiting as soon as the boot has clearly failed, too.
OUR_KERNEL_ENDS = "|".join([re.escape(KERNEL_DONE), re.escape(LOADER_HALTED),
                            r"PANIC: [^\n]*\n"])
FOREIGN_KERNEL_ENDS = "|".join([r"foreign kernel: (all checks passed|some checks FAILED)",
                                re.escape(LOADER_HALTED)])

HIGHER_HALF_KERNEL_ENDS = "|".join([r"higher-half kernel: (all checks passed|some checks FAILED)",
                                    re.escape(LOADER_HALTED)])


def progress():
    """What a boot with CMDLINE prints, in order: the loader's lines (as
    test_boot checks them), then the kernel's first lines."""
    boot_info_address = nasm_value(MEMORY_LAYOUT_INC, "BOOT_INFO_ADDRESS")
    boot_info_size = nasm_value(BOOT_INFO_INC, "boot_info_size")
    return loader_progress(CMDLINE) + [
        rf"^boot info: at 0x{boot_info_address:016x}, version \d+, {boot_info_size} bytes",
        rf'^command line: "{CMDLINE}"',
        r"^memory map \(E820, \d+ entries\):",
        r"^usable memory: \d+ MiB",
        re.escape(KERNEL_DONE),
    ]


@pytest.fixture(scope="module")
def bochs_image(tmp_path_factory, mkimage):
    """Today's loader and kernel with our command line."""
    return build_image(tmp_path_factory.mktemp("bochs") / "bochs.img", cmdline=CMDLINE)


def boot(image, **kwargs):
    result = boot_bochs(image, timeout=BOOT_TIMEOUT_SECONDS, **kwargs)
    # Every boot must be quick: a slow one means Bochs or the loader got
    # stuck somewhere and only the stop pattern saved it.
    assert result.seconds < BOOT_TIMEOUT_SECONDS, result.describe()
    return result


@pytest.mark.parametrize("memory_mib", [32, 64])
def test_boots_to_kernel_in_bochs(bochs_installed, bochs_image, memory_mib):
    result = boot(bochs_image, memory_mib=memory_mib, until=OUR_KERNEL_ENDS)
    assert KERNEL_DONE in result.serial, result.describe()
    assert_in_order(result.serial, progress(), result.describe())
    assert "PANIC" not in result.serial, result.describe()

    # Bochs's BIOS builds its own E820 map: low memory and RAM from 1 MiB
    # must be there and usable, adding up to the RAM we gave the machine
    # less what the BIOS keeps (its ACPI tables sit at the top of RAM).
    entries = memory_map(result.serial)
    header = re.search(r"memory map \(E820, (\d+) entries\):", result.serial)
    assert header and int(header[1]) == len(entries) > 0, result.describe()
    assert any(base == 0 and kind == 1 for base, _, kind in entries), entries
    assert any(base == 0x100000 and kind == 1 for base, _, kind in entries), entries
    usable = sum(length for _, length, kind in entries if kind == 1)
    reported = int(re.search(r"usable memory: (\d+) MiB", result.serial)[1])
    assert reported == usable >> 20, result.describe()
    assert memory_mib - 2 <= reported <= memory_mib, result.describe()

    # No CPU errors on the way (a write past a segment limit, say): Bochs
    # logs them and carries on, so the serial output alone may not show them.
    assert "(none)" == result.log_problems(), result.describe()


def test_serial_output_arrives_whole(bochs_installed, bochs_image):
    """Bochs's UART takes time to send each byte, like a real one. Every
    line must arrive complete and start on a line of its own; in particular
    the loader's last line must not be lost or garbled when the kernel
    reprograms the UART."""
    result = boot(bochs_image, until=OUR_KERNEL_ENDS)
    assert "\0" not in result.serial, \
        f"NUL bytes on COM1 (a byte lost or garbled in the UART):\n{result.serial!r}"
    lines = result.lines()
    for expected in ["Kernel: running in 64-bit long mode", KERNEL_DONE]:
        assert expected in lines, \
            f"{expected!r} is not a line of its own:\n{result.serial!r}"
    assert any(line.startswith("stage2: entering long mode") for line in lines), result.describe()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_foreign_kernel_boots_in_bochs(bochs_installed, mkimage, tmp_path, layout):
    """The kernel from tests/foreign_kernel: it ends with a write to QEMU's
    isa-debug-exit port, which goes nowhere in Bochs, and then halts."""
    kernel = build_foreign_kernel(tmp_path / layout, layout)
    image = make_image(mkimage, kernel, tmp_path / "foreign.img")
    result = boot(image, until=FOREIGN_KERNEL_ENDS, settle=0.2)

    loader = re.search(r"kernel ELF ok: (\d+) loadable segments", result.serial)
    assert loader and int(loader[1]) == len(read_elf(kernel).loads), result.describe()
    lines = kernel_lines(result)
    for expected in EXPECTED_LINES:
        assert any(line.startswith(expected) for line in lines), \
            f"missing {expected!r}\n{result.describe()}"
    assert not any("FAILED" in line for line in lines), result.describe()
    assert "(none)" == result.log_problems(), result.describe()


def test_higher_half_kernel_boots_in_bochs(bochs_installed, mkimage, tmp_path):
    """The kernel from tests/higher_half_kernel, with Bochs's CPU model
    walking the page tables stage 2 built for its virtual addresses."""
    kernel = build_higher_half_kernel(tmp_path / "higher-half")
    image = make_image(mkimage, kernel, tmp_path / "higher-half.img")
    result = boot(image, until=HIGHER_HALF_KERNEL_ENDS, settle=0.2)
    # The loader names the entry by its virtual address, as under QEMU.
    assert f"entry 0x{read_elf(kernel).entry:016x}" in result.serial, result.describe()
    assert higher_half_lines(result) == HIGHER_HALF_LINES, result.describe()
    assert "(none)" == result.log_problems(), result.describe()


def test_kernel_tests_pass_in_bochs(bochs_installed, tmp_path):
    """The in-kernel tests (exceptions, PIC, PIT against the RTC, input
    buffer) in Bochs: its PIC, PIT and CMOS are models of their own, and it
    checks descriptor tables more strictly than QEMU."""
    image = build_image(tmp_path / "ktest.img", cmdline="test")
    result = boot(image, until=r"ktest: \d+ passed, \d+ failed\r?\n|PANIC: [^\n]*\n")
    serial = result.serial.replace("\r", "")
    summary = re.search(r"ktest: (\d+) passed, (\d+) failed", serial)
    assert summary and int(summary[1]) > 0 and summary[2] == "0", serial


def test_exception_report_in_bochs(bochs_installed, tmp_path):
    """A stack overflow becomes a double fault reported from its IST stack
    (Bochs would otherwise log a triple fault and reset)."""
    image = build_image(tmp_path / "fault.img", cmdline="fault=stack")
    result = boot(image, until=r"PANIC: [^\n]*\n")
    serial = result.serial.replace("\r", "")
    assert "EXCEPTION: Double fault (#DF), vector 8" in serial, serial
    assert re.search(r"RIP=0x[0-9a-f]{16} <fault_recurse", serial), serial
