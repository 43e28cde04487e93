"""GRUB 2 as a test oracle: a raw disk that GRUB boots a kernel from, with
no file system on it.

Debian's grub-pc-bin brings GRUB's BIOS images and modules
(/usr/lib/grub/i386-pc). The disk is put together here, without
grub-install, grub-bios-setup or a partition table:

    LBA 0             boot.img, GRUB's MBR sector. It loads one sector from
                      the LBA it keeps at offset 0x5C (we write 1 there) to
                      0x8000 and jumps to it.
    LBA 1 ...         core.img from grub-mkimage -O i386-pc: its first
                      sector is diskboot.img, whose block list (the last 12
                      bytes of the sector: LBA, sector count, segment) says
                      where the rest of core.img lies; grub-mkimage makes
                      it "from LBA 2, all the other sectors", which is where
                      they are.
    LBA 2048 ...      the payloads (kernel, initrd, modules), each starting
                      on a sector, one after the other.

core.img carries the modules it needs and a configuration, embedded with
grub-mkimage -c, that names the payloads by block list, "(hd0)START+COUNT"
(start sector and sector count on the first BIOS disk): GRUB reads such a
name as a file without any file system. A file read so is COUNT sectors
long, so a payload comes with the zeros that pad it to a whole sector.

The embedded configuration is run by GRUB's rescue parser. It sends GRUB's
output to COM1 too, so that an error shows in the test's output; should
the boot command fail, GRUB ends at its "grub>" prompt, which the boot
helpers watch for.

What GRUB hands a kernel differs in one documented way from what was
asked: its `linux` command puts "BOOT_IMAGE=<the kernel's file name> " in
front of the command line (linux_cmdline() below gives the line Linux
sees). GRUB splits the command line into words as its shell does and
joins them with single spaces; the helpers take plain words only.
"""
import pathlib
import re
import shutil
import struct

from support.paths import ROOT
from support.qemu import boot
from support.tools import run_tool

PROBE_DIR = ROOT / "tests" / "grub_probe"
# Multiboot version -> the minimal probe kernel for it.
MINIMAL_PROBES = {1: PROBE_DIR / "mb1_min.asm", 2: PROBE_DIR / "mb2_min.asm"}

GRUB_DIR = pathlib.Path("/usr/lib/grub/i386-pc")
BOOT_IMG = GRUB_DIR / "boot.img"
DISKBOOT_IMG = GRUB_DIR / "diskboot.img"

SECTOR = 512
CORE_LBA = 1
PAYLOAD_LBA = 2048              # 1 MiB in, as partitioning tools start a disk

# boot.img (GRUB's boot/i386/pc/boot.S): where it keeps the 64-bit LBA of
# core.img's first sector, and the signature ending the sector.
BOOT_KERNEL_SECTOR_OFFSET = 0x5C
MBR_SIGNATURE_OFFSET = 0x1FE
MBR_SIGNATURE = b"\x55\xaa"

# diskboot.img's first block list entry (the last 12 bytes of its sector):
# start LBA (8 bytes), sector count (2) and the segment to load to (2).
BLOCKLIST_OFFSET = SECTOR - 12
BLOCKLIST = struct.Struct("<QHH")

# grub-mkimage adds what these need (moddep.lst). biosdisk reads (hd0);
# serial and terminal send GRUB's own output to COM1.
MODULES = ["biosdisk", "serial", "terminal", "echo", "linux", "multiboot", "multiboot2"]

# GRUB's prompt, where it lands when the embedded configuration fails.
GRUB_PROMPT = r"grub(?: rescue)?> "
# Characters that GRUB's shell would read as quoting, variables or syntax.
GRUB_SPECIAL = re.compile(r"""["'\\$;|&<>{}#]|\s\s|^\s|\s$""")

GRUB_BOOT_TIMEOUT_SECONDS = 240     # GRUB reads a 14 MiB kernel through the BIOS


class GrubMissing(Exception):
    """grub-pc-bin is not installed."""


def check_grub():
    """Fail with GrubMissing unless grub-mkimage and GRUB's BIOS files are there."""
    if shutil.which("grub-mkimage") is None or not BOOT_IMG.exists():
        raise GrubMissing("GRUB 2 for BIOS is not installed (Debian's grub-pc-bin): "
                          "run ./build.sh deps")


def sectors(size):
    return -(-size // SECTOR)


def blocklist(lba, size):
    """GRUB's name for `size` bytes at `lba` on the first BIOS disk."""
    return f"(hd0){lba}+{sectors(size)}"


def plain_words(text):
    """`text`, after making sure GRUB's shell would pass it on unchanged."""
    if GRUB_SPECIAL.search(text):
        raise ValueError(f"GRUB would change this command line: {text!r}")
    return text


def make_core_image(config_text, out_dir):
    """grub-mkimage's core.img with MODULES and the embedded configuration."""
    check_grub()
    config = out_dir / "embedded.cfg"
    config.write_text(config_text)
    core = out_dir / "core.img"
    # The prefix is where GRUB would look for more modules and grub.cfg;
    # there are none on this disk, and it needs none.
    run_tool(["grub-mkimage", "-O", "i386-pc", "-d", GRUB_DIR, "-p", "(hd0)",
              "-c", config, "-o", core, *MODULES])
    return core


def make_disk(out, config_for, payloads):
    """Write a raw disk image to `out`: boot.img, core.img, then `payloads`
    (paths) from PAYLOAD_LBA on. config_for(names) gives the embedded
    configuration text, given the block list name of each payload."""
    lbas, lba = [], PAYLOAD_LBA
    for payload in payloads:
        lbas.append(lba)
        lba += sectors(payload.stat().st_size)
    names = [blocklist(start, path.stat().st_size) for start, path in zip(lbas, payloads)]
    core = make_core_image(config_for(names), out.parent).read_bytes()
    core_sectors = sectors(len(core))
    if CORE_LBA + core_sectors > PAYLOAD_LBA:
        raise ValueError(f"core.img has {core_sectors} sectors; they must end before "
                         f"LBA {PAYLOAD_LBA}")

    start, count, _segment = BLOCKLIST.unpack_from(core, BLOCKLIST_OFFSET)
    if (start, count) != (CORE_LBA + 1, core_sectors - 1):
        raise ValueError(f"diskboot.img's block list says LBA {start}, {count} sectors; "
                         f"core.img's rest is at LBA {CORE_LBA + 1}, {core_sectors - 1} "
                         f"sectors")

    mbr = bytearray(BOOT_IMG.read_bytes())
    assert len(mbr) == SECTOR and mbr[MBR_SIGNATURE_OFFSET:] == MBR_SIGNATURE
    struct.pack_into("<Q", mbr, BOOT_KERNEL_SECTOR_OFFSET, CORE_LBA)

    with open(out, "wb") as disk:
        disk.write(mbr)
        disk.seek(CORE_LBA * SECTOR)
        disk.write(core)
        for start, payload in zip(lbas, payloads):
            disk.seek(start * SECTOR)
            disk.write(payload.read_bytes())
        disk.truncate(lba * SECTOR)
    return pathlib.Path(out)


def _config(lines):
    """The embedded configuration: GRUB's output on COM1 too, then `lines`."""
    return "\n".join(["serial --unit=0 --speed=115200",
                      "terminal_output --append serial",
                      *lines, "boot", ""])


def linux_cmdline(kernel_name, cmdline):
    """The command line Linux gets from GRUB's `linux NAME CMDLINE`."""
    return f"BOOT_IMAGE={kernel_name} {cmdline}"


def make_linux_disk(out, kernel, initrd, cmdline):
    """A disk on which GRUB boots `kernel` with `initrd`; returns the disk
    and the command line Linux will see."""
    plain_words(cmdline)
    names = {}

    def config_for(blocklists):
        names["kernel"] = blocklists[0]
        return _config([f"linux {blocklists[0]} {cmdline}", f"initrd {blocklists[1]}"])
    disk = make_disk(out, config_for, [kernel, initrd])
    return disk, linux_cmdline(names["kernel"], cmdline)


def make_multiboot_disk(out, kernel, modules=(), cmdline="", version=2):
    """A disk on which GRUB boots the Multiboot (version 1 or 2) `kernel`
    with `modules`, (path, string) pairs, in that order."""
    command, module_command = {1: ("multiboot", "module"), 2: ("multiboot2", "module2")}[version]
    plain_words(cmdline)
    for _, string in modules:
        plain_words(string)

    def config_for(blocklists):
        lines = [f"{command} {blocklists[0]} {cmdline}".rstrip()]
        lines += [f"{module_command} {name} {string}".rstrip()
                  for name, (_, string) in zip(blocklists[1:], modules)]
        return _config(lines)
    return make_disk(out, config_for, [kernel, *[path for path, _ in modules]])


def build_multiboot_probe(source, out_dir):
    """Assemble a NASM probe kernel (tests/grub_probe/) and link it as
    ELF32 at 1 MiB, all in one loaded segment; returns the ELF path."""
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    obj = out_dir / (source.stem + ".o")
    elf = out_dir / (source.stem + ".elf")
    run_tool(["nasm", "-f", "elf32", f"-I{ROOT / 'tests'}/", "-o", obj, source])
    # -n: no page alignment, so no segment for the ELF headers below 1 MiB.
    run_tool(["ld", "-m", "elf_i386", "-nostdlib", "-static", "-n", "--no-warn-rwx-segments",
              "-Ttext=0x100000", "-e", "_start", "-o", elf, obj])
    return elf


def boot_grub_disk(disk, *, until=None, settle=0.0, timeout=GRUB_BOOT_TIMEOUT_SECONDS, **kwargs):
    """Boot a disk made here (support.qemu.boot's arguments). QEMU is stopped
    once `until` shows, or at GRUB's prompt, which means the boot failed."""
    pattern = GRUB_PROMPT if until is None else f"{until}|{GRUB_PROMPT}"
    return boot(disk, until=pattern, settle=settle, timeout=timeout, **kwargs)


def boot_multiboot(kernel, modules=(), cmdline="", *, work_dir, version=2, **kwargs):
    """Boot a Multiboot kernel under GRUB 2 from a raw disk in `work_dir`.
    The kernel ends QEMU itself (isa-debug-exit), or pass `until`."""
    disk = make_multiboot_disk(pathlib.Path(work_dir) / "grub-multiboot.img", kernel,
                               modules, cmdline, version)
    return boot_grub_disk(disk, **kwargs)


def boot_linux(kernel, initrd, cmdline, *, work_dir, **kwargs):
    """Boot Linux under GRUB 2 from a raw disk in `work_dir`; returns the
    boot result and the command line Linux should report."""
    disk, expected = make_linux_disk(pathlib.Path(work_dir) / "grub-linux.img", kernel,
                                     initrd, cmdline)
    return boot_grub_disk(disk, debug_exit=False, **kwargs), expected
