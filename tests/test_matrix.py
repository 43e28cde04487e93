"""The boot test matrix: the real image on the machines, disks, memory sizes
and CPUs a user might boot it on.

Each configuration is one real boot of the kernel image with the command
line `qemu-exit` (QEMU exits with status 33 after `Kernel: boot complete,
halting`). Rather than the full cross product, every axis is covered once
against a plain baseline (pc, IDE, 32 MiB, qemu64), plus a few combinations
that meet in the loader: USB and a large sparse disk (a stick written with
dd), a lot of RAM with and without 1 GiB pages, a floppy on a CPU without NX.

Each boot is checked for the same things (check_boot): every loader line in
order, one boot drive from the loader to the kernel, the CPU line against
what the CPU model has, the page tables against the CPU and the memory map,
and the kernel's memory map against the RAM size.
"""
import dataclasses

import pytest

from support.loader_lines import PAGE_TABLES_LINE
from support.qemu import KERNEL_EXIT_SUCCESS, boot
from support.serial import assert_in_order, memory_map
from support.sources import MEMORY_LAYOUT_INC, nasm_value

BOOT_TIMEOUT_SECONDS = 60       # a boot takes well under a second; this is for a loaded machine
MIB = 1 << 20
GIB = 1 << 30
FLOPPY_BYTES = 80 * 2 * 18 * 512        # 1.44 MB: 80 cylinders, 2 heads, 18 sectors
SPARSE_DISK_BYTES = 2 * GIB             # "a USB stick" the image is dd-ed onto
ALWAYS_MAPPED_GIB = 4                   # the loader maps at least the 32-bit address space
# QEMU keeps a few hundred KiB of the RAM for the BIOS (EBDA, ROM shadow).
USABLE_SLACK_MIB = 2
E820_USABLE = 1
FIRST_HARD_DISK = 0x80
FIRST_FLOPPY = 0x00

# What each CPU model offers in CPUID 80000001h EDX under QEMU's TCG:
# (NX, bit 20; 1 GiB pages, bit 26).
CPU_FEATURES = {
    "qemu64":         (True, False),   # QEMU's default 64-bit CPU
    "qemu64,-nx":     (False, False),
    "max":            (True, True),    # everything TCG can emulate
    "max,-pdpe1gb":   (True, False),
    "max,-nx":        (False, True),
    "Nehalem":        (True, False),   # a real Intel model from before 1 GiB pages
    "phenom":         (True, True),    # a real AMD model with 1 GiB pages
}


@dataclasses.dataclass(frozen=True)
class Config:
    machine: str = "pc"
    drive: str = "ide"          # a qemu.boot() drive kind
    memory_mib: int = 32
    cpu: str = "qemu64"
    medium: str = "image"       # "image" as built, "floppy" (1.44 MB), "sparse" (2 GiB file)

    @property
    def id(self):
        memory = f"{self.memory_mib // 1024}G" if self.memory_mib >= 1024 else f"{self.memory_mib}M"
        parts = [self.machine, self.drive, memory, self.cpu.replace(",", "")]
        if self.medium not in ("image", self.drive):
            parts.append(self.medium)
        return "-".join(parts)


MATRIX = [
    # Machines and disks, on the baseline memory and CPU.
    Config("pc", "ide"),
    Config("q35", "ahci"),
    Config("pc", "virtio"),
    Config("q35", "virtio"),
    Config("pc", "usb-ehci"),
    Config("pc", "usb-xhci"),
    Config("q35", "usb-ehci"),
    Config("q35", "usb-xhci"),
    Config("pc", "floppy", medium="floppy"),
    Config("q35", "floppy", medium="floppy"),
    Config("pc", "ide", medium="sparse"),
    Config("q35", "usb-xhci", medium="sparse"),         # a stick written with dd
    # Memory sizes.
    Config("pc", "ide", memory_mib=512),
    Config("q35", "usb-ehci", memory_mib=512),
    Config("pc", "ide", memory_mib=4096),
    Config("q35", "ahci", memory_mib=4096, cpu="max"),
    Config("pc", "ide", memory_mib=6144),                # above 4 GiB with 2 MiB pages
    Config("q35", "virtio", memory_mib=6144, cpu="max"),  # ... and with 1 GiB pages
    # CPUs with and without NX and 1 GiB pages.
    Config("pc", "ide", cpu="max"),
    Config("pc", "ide", cpu="qemu64,-nx"),
    Config("pc", "ide", cpu="max,-pdpe1gb"),
    Config("q35", "ahci", cpu="max,-nx"),
    Config("pc", "ide", cpu="Nehalem"),
    Config("q35", "ahci", cpu="phenom"),
    Config("pc", "floppy", memory_mib=4096, cpu="max,-nx", medium="floppy"),
]

# What stage 2 prints, in order, on every successful boot. Values checked
# more closely by check_boot are captured.
LOADER_LINES = [
    r"bootstack stage 2: loader started \(boot drive 0x(?P<loader_drive>[0-9a-f]{2})\)",
    r'stage2: kernel command line: "qemu-exit"',
    r"stage2: CPU supports 64-bit long mode \(NX: (?P<nx>yes|no), 1 GiB pages: (?P<gib_pages>yes|no), "
    r"physical address bits: (?P<physical_bits>\d+)\)",
    r"stage2: A20 enabled \(.+\)",
    r"stage2: memory map: (?P<loader_e820_count>\d+) entries from INT 15h E820h",
    r"stage2: disk reads by "
    r"(?P<read_method>LBA \(INT 13h extensions\)|CHS: \d+ heads, \d+ sectors per track)",
    r"stage2: loading the kernel: \d+ bytes from sector \d+",
    r"stage2: kernel ELF ok: \d+ loadable segments at 0x[0-9a-f]{16}-0x[0-9a-f]{16}, "
    r"entry 0x[0-9a-f]{16}",
    r"stage2: kernel checksum ok \(0x[0-9a-f]{16}\)",
    PAGE_TABLES_LINE,
    r"stage2: entering long mode, jumping to the kernel at 0x[0-9a-f]{16}",
    r"Kernel: running in 64-bit long mode",
    r"boot drive: 0x(?P<kernel_drive>[0-9a-f]{2})",
    r"page tables: 0x(?P<tables_start>[0-9a-f]{16})-0x(?P<tables_end>[0-9a-f]{16}), "
    r"identity map up to 0x(?P<identity_map_end>[0-9a-f]{16})",
    r"memory map \(E820, (?P<kernel_e820_count>\d+) entries\):",
    r"usable memory: (?P<usable_mib>\d+) MiB",
    r"Kernel: boot complete, halting",
]

def gib_rounded_up(address):
    return -(-address // GIB)


def prepare_medium(exit_image, config, tmp_path):
    """The file QEMU boots: the image itself, padded or cut to a 1.44 MB
    floppy (the stripped kernel fits), or written at the start of a large
    sparse file the way `dd conv=notrunc` writes it to a USB stick."""
    if config.medium == "image":
        return exit_image
    data = exit_image.read_bytes()
    if config.medium == "floppy":
        floppy = tmp_path / "floppy.img"
        floppy.write_bytes(data[:FLOPPY_BYTES].ljust(FLOPPY_BYTES, b"\0"))
        return floppy
    if config.medium == "sparse":
        disk = tmp_path / "sparse-disk.img"
        with open(disk, "wb") as f:
            f.truncate(SPARSE_DISK_BYTES)           # a hole: takes no room on the host
            f.seek(0)
            f.write(data)
        assert disk.stat().st_size == SPARSE_DISK_BYTES
        return disk
    raise ValueError(f"unknown medium {config.medium!r}")


def check_boot(result, config):
    """Everything a good boot of `config` must show on the serial port."""
    serial = result.serial
    context = f"{config.id}: exit code {result.exit_code}, {result.seconds:.2f} s\n--- serial ---\n{serial}"
    assert result.exit_code == KERNEL_EXIT_SUCCESS, context
    found = assert_in_order(serial, LOADER_LINES, context)

    # One boot drive, from the BIOS through stage 1 and stage 2 to the
    # kernel: the first floppy or the first hard disk (SeaBIOS numbers the
    # disk it boots from 0x80, USB sticks included).
    expected_drive = FIRST_FLOPPY if config.drive == "floppy" else FIRST_HARD_DISK
    assert int(found["loader_drive"], 16) == expected_drive, context
    assert int(found["kernel_drive"], 16) == expected_drive, context
    assert "stage2: warning: the BIOS passed boot drive" not in serial, context
    # Floppies have no INT 13h extensions: both stages read by CHS.
    assert found["read_method"].startswith("CHS" if config.drive == "floppy" else "LBA"), context

    # The CPU line says what the model has, and the page tables use it.
    has_nx, has_gib_pages = CPU_FEATURES[config.cpu]
    assert found["nx"] == ("yes" if has_nx else "no"), context
    assert found["gib_pages"] == ("yes" if has_gib_pages else "no"), context
    assert 36 <= int(found["physical_bits"]) <= 52, context     # x86-64's architectural range
    # "(1 GiB pages above 4 GiB)" only when such pages are used: RAM above 4 GiB.
    assert bool(found["gib_above_4g"]) == (has_gib_pages and int(found["mapped_gib"]) > 4), context
    assert found["nx_state"] == ("on" if has_nx else "off (the CPU has no NX)"), context

    # The memory map: the loader's count, the kernel's list and its total.
    entries = memory_map(serial)
    assert int(found["loader_e820_count"]) == int(found["kernel_e820_count"]) == len(entries) > 0, context
    usable = [(base, length) for base, length, kind in entries if kind == E820_USABLE]
    assert any(base == 0 for base, _ in usable), context                  # conventional memory
    assert any(base == MIB for base, _ in usable), context                # RAM from 1 MiB
    usable_bytes = sum(length for _, length in usable)
    assert int(found["usable_mib"]) == usable_bytes // MIB, context
    assert config.memory_mib - USABLE_SLACK_MIB <= usable_bytes // MIB <= config.memory_mib, context
    above_4g = [base for base, _ in usable if base >= ALWAYS_MAPPED_GIB * GIB]
    # QEMU moves RAM beyond the PCI hole above 4 GiB once it has 2-3 GiB or more.
    if config.memory_mib >= 4096:
        assert above_4g, "no usable RAM above 4 GiB reported\n" + context
    else:
        assert not above_4g, context

    # The identity map reaches the end of the highest usable RAM, and the
    # loader and the kernel agree on where it ends.
    mapped_gib = int(found["mapped_gib"])
    highest_usable_end = max(base + length for base, length in usable)
    assert mapped_gib >= max(ALWAYS_MAPPED_GIB, gib_rounded_up(highest_usable_end)), context
    assert int(found["identity_map_end"], 16) == mapped_gib * GIB, context
    assert "the page table area is full" not in serial, context
    tables_start, tables_end = int(found["tables_start"], 16), int(found["tables_end"], 16)
    page_tables_start = nasm_value(MEMORY_LAYOUT_INC, "PAGE_TABLES_ADDRESS")
    page_tables_end = nasm_value(MEMORY_LAYOUT_INC, "PAGE_TABLES_END")
    assert tables_start == page_tables_start < tables_end <= page_tables_end, context


@pytest.mark.parametrize("config", [pytest.param(c, id=c.id) for c in MATRIX])
def test_boot_matrix(exit_image, tmp_path, config):
    medium = prepare_medium(exit_image, config, tmp_path)
    extra = ["-boot", "a"] if config.drive == "floppy" else []
    result = boot(medium, machine=config.machine, memory=f"{config.memory_mib}M",
                  cpu=config.cpu, drive=config.drive, timeout=BOOT_TIMEOUT_SECONDS,
                  extra=extra)
    check_boot(result, config)


def test_matrix_covers_every_axis():
    """Each value of each axis appears in the matrix at least once, so
    trimming the list cannot silently drop a machine, disk or CPU."""
    covered = {field.name: {getattr(c, field.name) for c in MATRIX}
               for field in dataclasses.fields(Config)}
    assert covered["machine"] >= {"pc", "q35"}
    assert covered["drive"] >= {"ide", "ahci", "virtio", "usb-ehci", "usb-xhci", "floppy"}
    assert covered["memory_mib"] >= {32, 512, 4096, 6144}
    assert covered["cpu"] == set(CPU_FEATURES)
    assert covered["medium"] >= {"image", "floppy", "sparse"}
    ids = [c.id for c in MATRIX]
    assert len(ids) == len(set(ids)), "two configurations share an id"
