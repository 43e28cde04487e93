#!/usr/bin/env python3
"""The boot benchmark: how long our loader takes, against what it cannot avoid.

    python3 tests/bench/bench.py [--runs N] [--no-tests] [--json PATH]
                                 [--warmup N] [--no-build-time] [--work-dir DIR]
                                 [--linux-runs N] [--no-linux]
    ./build.sh bench [same options]          (builds first, then runs this)

Every boot runs in QEMU under TCG, headless, `-machine pc -m 64M`, from an
IDE disk, without a network card, and ends itself by writing 0x10 to
QEMU's isa-debug-exit device at port 0xF4 (QEMU then exits with status 33).
A sample is the wall time from starting QEMU (Popen) to its exit. The
configurations:

  firmware  firmware_floor.asm: a boot sector that exits at once, i.e. what
            QEMU's start-up and the BIOS (SeaBIOS) cost by themselves
  io-small  io_floor.asm: a boot sector that reads as many sectors as the
  io-large  loader reads for the small / large kernel (stage 2 + kernel),
            127 a call through INT 13h AH=42h, and exits
  small     our stage 1 + stage 2 with exit_kernel.asm (exits at entry)
  large     the same kernel plus a 16 MiB data segment of random bytes

The runs are interleaved (round r boots every configuration once) so that a
slow moment of the host hits all of them alike; one boot of each before the
first round is not counted (it loads QEMU, the BIOS and the images into
the page cache). Two more boots, of kernels assembled with -DDUMP_BOOT_INFO,
send the boot information block over COM1; from it come the disk read
statistics and the loader's timestamps.

A second part boots Linux (Debian's cloud kernel and the tests' initramfs,
tests/support/linux.py) on `-machine pc -m 256M`, each sample being the wall
time from starting QEMU to the line /init prints:

  linux-qemu  QEMU's own loader (-kernel, -initrd, -append): no disk at all,
              the floor
  linux-grub  GRUB 2 (Debian's grub-pc-bin) from a raw disk, the kernel and
              initrd named by block lists (tests/support/grub.py)
  linux-ours  our loader from a raw disk (mkimage --initrd)

and QEMU's block statistics (query-blockstats, read through QMP once the
line shows) say how much each read from the disk. Two boot sectors on
copies of our Linux disk give its I/O floor (linux-io, which reads as many
sectors as our loader, minus linux-firmware, which exits at once): ours
should stay within 1.10 times that floor above QEMU's loader, and no
slower than GRUB 2. --linux-runs N sets the rounds (default 3), --no-linux
leaves the part out.

The table says how far the loader is above the floors: (small - firmware)
- (io-small - firmware) should stay within 5 ms, and (large - firmware) /
(io-large - firmware) within 1.15. Then come the build and test times.
Everything, with every raw sample, also goes to $BUILD_DIR/bench/results.json
and results-<commit>.json beside it (or to --json PATH), to compare commits.

The loader and mkimage come from $BUILD_DIR (default build/); build them
first (`./build.sh bench` does).
"""
import argparse
import dataclasses
import datetime
import json
import math
import os
import pathlib
import random
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

BENCH_DIR = pathlib.Path(__file__).resolve().parent
TESTS_DIR = BENCH_DIR.parent
# Run as a program (./build.sh bench), tests/ is not on the path yet; the
# tests import this file with it there already.
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from support import elf_factory  # noqa: E402  (needs the path above)
from support import grub as grub_disk  # noqa: E402
from support import linux  # noqa: E402
from support.paths import BUILD, ROOT  # noqa: E402
from support.qemu import ask_monitor, qemu_binary  # noqa: E402
from support.sources import nasm_structs, nasm_values  # noqa: E402

BOOTLOADER_DIR = ROOT / "bootloader"

DEFAULT_RUNS = 9

# ---- The virtual machine ------------------------------------------------------
QEMU_MACHINE = "pc"
QEMU_MEMORY = "64M"          # the large kernel's data ends at 32 MiB
DEBUG_EXIT_PORT = 0xF4       # isa-debug-exit: a write of v makes QEMU exit with (v << 1) | 1
EXIT_VALUE_SUCCESS = 0x10
EXIT_STATUS_SUCCESS = (EXIT_VALUE_SUCCESS << 1) | 1     # 33
BOOT_TIMEOUT_SECONDS = 300.0  # a boot that takes this long is broken, not slow

# ---- The I/O floor sector (io_floor.asm documents the same numbers) -----------
IO_FLOOR_PARAMETERS_OFFSET = 0x1A0
IO_FLOOR_MAGIC = b"IOFL"
IO_FLOOR_SECTORS_OFFSET = IO_FLOOR_PARAMETERS_OFFSET + 4
IO_FLOOR_REPORT = re.compile(rb"io_floor: calls ([0-9a-f]{8}) sectors ([0-9a-f]{8})")
# Sectors per INT 13h AH=42h call, the loader's and the I/O floor's: the
# most many BIOSes move in one call (Phoenix EDD: 127), and 127 * 512 bytes
# fit in the 64 KiB aligned buffer at 0x10000 without crossing 0x20000.
SECTORS_PER_CALL = 127
SECTOR_SIZE = 512

# ---- The kernels ----------------------------------------------------------------
KERNEL_ADDRESS = 0x100000            # 1 MiB, the lowest the boot protocol allows
LARGE_DATA_ADDRESS = 0x1000000       # 16 MiB: far from the code, inside -m 64M
LARGE_DATA_BYTES = 16 << 20
LARGE_DATA_SEED = 0x5EED             # same bytes in every run, so runs compare
# A linker script rather than `ld -Ttext=0x100000`: with that, GNU ld's
# default script (-z separate-code) adds a read-only PT_LOAD for the ELF
# headers at 0xFF000, below 1 MiB, which mkimage rightly refuses.
KERNEL_LINKER_SCRIPT = f"""\
ENTRY(entry)
PHDRS {{ text PT_LOAD FLAGS(5); }}   /* PF_R | PF_X */
SECTIONS
{{
    . = {KERNEL_ADDRESS:#x};
    .text : {{ *(.text) }} :text
    /DISCARD/ : {{ *(.note .note.*) *(.comment) }}
}}
"""
DUMP_BEGIN = b"<<BOOT_INFO"          # exit_kernel.asm frames the block with these
DUMP_END = b"BOOT_INFO>>"
BOOT_INFO_MAGIC = 0x544F4F42         # "BOOT"

# ---- Targets (reported as PASS/MISS, never asserted) --------------------------
LARGE_RATIO_TARGET = 1.15            # (large - firmware) / (io-large - firmware)
SMALL_EXCESS_TARGET_MS = 5.0         # (small - firmware) - (io-small - firmware)
EXTRA_CALLS_ALLOWED = 3              # "within a few" of the fewest possible calls
BUILD_TARGET_SECONDS = 5.0
TEST_TARGET_SECONDS = 180.0

CONFIGURATIONS = ("firmware", "io-small", "io-large", "small", "large")

# ---- Linux ------------------------------------------------------------------------
LINUX_MACHINE = "pc"
LINUX_MEMORY = "256M"
LINUX_CMDLINE = "console=ttyS0 quiet"
DEFAULT_LINUX_RUNS = 3
LINUX_CONFIGURATIONS = ("linux-qemu", "linux-grub", "linux-ours")
# Targets (reported, never asserted): ours no slower than GRUB 2, and
# (ours - QEMU's loader) within 1.10 times the I/O floor of the same sectors
# ((linux-io - linux-firmware): a boot sector that reads them, minus one
# that exits at once).
LINUX_IO_RATIO_TARGET = 1.10
LINUX_POLL_SECONDS = 0.005       # how often the serial log is read for /init's line


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


# ---- Layouts, from the loader's own .inc files through NASM --------------------

@dataclasses.dataclass
class Layout:
    boot_info: dict            # field -> (offset, size)
    boot_info_size: int
    e820_entry: dict
    e820_entry_size: int
    timestamp_names: list      # index -> TIMESTAMP_* name (None for spare slots)
    stage1_dap_offset: int
    dap: dict                  # disk_address_packet field -> offset
    stage2_header: dict        # stage2_header field -> offset


def read_layout(work):
    boot_info_inc = BOOTLOADER_DIR / "boot_info.inc"
    fields_inc = BOOTLOADER_DIR / "loader_fields.inc"
    boot_text = boot_info_inc.read_text()
    fields_text = fields_inc.read_text()

    def struc(inc, text, name):
        fields = nasm_structs(text)[name]
        values = nasm_values([inc], [f"{name}.{f}" for f in fields] + [f"{name}_size"], work)
        ends = values[1:]
        return {f: (values[i], ends[i] - values[i]) for i, f in enumerate(fields)}, values[-1]

    boot_info, boot_info_size = struc(boot_info_inc, boot_text, "boot_info")
    e820, e820_size = struc(boot_info_inc, boot_text, "e820_entry")
    names = [n for n in re.findall(r"^(TIMESTAMP_\w+)\s+equ\b", boot_text, re.M)
             if n != "TIMESTAMP_COUNT"]
    indexes = nasm_values([boot_info_inc], names + ["TIMESTAMP_COUNT"], work)
    timestamp_names = [None] * indexes[-1]
    for name, index in zip(names, indexes):
        timestamp_names[index] = name
    dap, _ = struc(fields_inc, fields_text, "disk_address_packet")
    header, _ = struc(fields_inc, fields_text, "stage2_header")
    (dap_offset,) = nasm_values([fields_inc], ["STAGE1_DAP_OFFSET"], work)
    return Layout(boot_info=boot_info, boot_info_size=boot_info_size,
                  e820_entry=e820, e820_entry_size=e820_size,
                  timestamp_names=timestamp_names, stage1_dap_offset=dap_offset,
                  dap={k: v[0] for k, v in dap.items()},
                  stage2_header={k: v[0] for k, v in header.items()})


@dataclasses.dataclass
class ImageLayout:
    stage2_lba: int
    stage2_sectors: int
    kernel_lba: int
    kernel_sectors: int
    kernel_bytes: int

    @property
    def loader_sectors(self):
        """What the loader reads in all: stage 2 (by stage 1) and the kernel."""
        return self.stage2_sectors + self.kernel_sectors


def image_layout(image, layout):
    """Where stage 2 and the kernel are, from the stage 1 disk address packet
    and the stage 2 header (the fields mkimage fills in)."""
    with open(image, "rb") as f:
        mbr = f.read(SECTOR_SIZE)
        dap = layout.stage1_dap_offset
        (stage2_sectors,) = struct.unpack_from("<H", mbr, dap + layout.dap["sectors"])
        (stage2_lba,) = struct.unpack_from("<Q", mbr, dap + layout.dap["lba"])
        f.seek(stage2_lba * SECTOR_SIZE)
        header = f.read(SECTOR_SIZE)
    h = layout.stage2_header
    (kernel_lba,) = struct.unpack_from("<I", header, h["kernel_lba"])
    (kernel_sectors,) = struct.unpack_from("<I", header, h["kernel_sectors"])
    (kernel_bytes,) = struct.unpack_from("<I", header, h["kernel_size"])
    return ImageLayout(stage2_lba, stage2_sectors, kernel_lba, kernel_sectors, kernel_bytes)


# ---- Building the boot sectors, kernels and images -----------------------------

def run_tool(cmd):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"bench: {' '.join(map(str, cmd))} failed:\n"
                         f"{result.stdout}{result.stderr}")


def assemble_sector(name, work):
    out = work / f"{pathlib.Path(name).stem}.bin"
    run_tool(["nasm", "-f", "bin", "-Wall", f"-I{TESTS_DIR}/", "-o", out, BENCH_DIR / name])
    data = out.read_bytes()
    assert len(data) == SECTOR_SIZE, f"{name} is {len(data)} bytes, not one sector"
    return data


def patch_io_floor(sector, sectors):
    """The I/O floor sector with its sector count set to `sectors`."""
    params = IO_FLOOR_PARAMETERS_OFFSET
    if sector[params:params + len(IO_FLOOR_MAGIC)] != IO_FLOOR_MAGIC:
        raise SystemExit(f"bench: io_floor.bin has no {IO_FLOOR_MAGIC!r} at {params:#x}")
    patched = bytearray(sector)
    struct.pack_into("<I", patched, IO_FLOOR_SECTORS_OFFSET, sectors)
    return bytes(patched)


def build_exit_kernel(work, dump):
    """exit_kernel.asm, assembled and linked at 1 MiB; returns the ELF path."""
    suffix = "-dump" if dump else ""
    obj = work / f"exit_kernel{suffix}.o"
    elf = work / f"exit_kernel{suffix}.elf"
    script = work / "exit_kernel.ld"
    script.write_text(KERNEL_LINKER_SCRIPT)
    defines = ["-DDUMP_BOOT_INFO"] if dump else []
    run_tool(["nasm", "-f", "elf64", "-Wall", *defines, f"-I{BOOTLOADER_DIR}/",
              "-o", obj, BENCH_DIR / "exit_kernel.asm"])
    # -s: no symbols, so the file is about one page of headers plus the code.
    run_tool(["ld", "-s", "-nostdlib", "-static", "-z", "max-page-size=0x1000",
              "-T", script, "-o", elf, obj])
    return elf


def load_segments(elf_bytes):
    """The PT_LOAD segments of a linked ELF64 as elf_factory.Segment."""
    (phoff,) = struct.unpack_from("<Q", elf_bytes, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf_bytes, 0x36)
    segments = []
    for i in range(phnum):
        p_type, flags, offset, vaddr, paddr, filesz, memsz, align = struct.unpack_from(
            "<IIQQQQQQ", elf_bytes, phoff + i * phentsize)
        if p_type == elf_factory.PT_LOAD:
            segments.append(elf_factory.Segment(
                paddr, elf_bytes[offset:offset + filesz], flags=flags, memsz=memsz,
                vaddr=vaddr, align=align))
    return segments


def build_large_kernel(small_elf, out):
    """The small kernel's code plus a 16 MiB RW segment of random bytes (so
    no layer on the way can shortcut it as zeros or compress it)."""
    small = small_elf.read_bytes()
    (entry,) = struct.unpack_from("<Q", small, 0x18)
    data = random.Random(LARGE_DATA_SEED).randbytes(LARGE_DATA_BYTES)
    segments = load_segments(small) + [
        elf_factory.Segment(LARGE_DATA_ADDRESS, data,
                            flags=elf_factory.PF_R | elf_factory.PF_W)]
    out.write_bytes(elf_factory.elf64(segments, entry=entry))
    return out


def make_loader_image(kernel, out):
    run_tool([BUILD / "image" / "mkimage", "build",
              "--stage1", BUILD / "bootloader" / "stage1.bin",
              "--stage2", BUILD / "bootloader" / "stage2.bin",
              "--kernel", kernel, "--cmdline", "", "-o", out])
    return out


def make_sector_image(sector, out, like):
    """A disk with `sector` as its boot sector and, after it, the sectors of
    the image `like` (the loader's image of the same configuration): the
    same size and the same bytes, so the I/O floor reads what the loader
    reads, from a disk of the same size."""
    shutil.copyfile(like, out)
    with open(out, "r+b") as f:
        f.write(sector)
    return out


@dataclasses.dataclass
class Workload:
    name: str
    image: pathlib.Path
    description: str
    io_sectors: int = 0          # for the I/O floors: sectors the sector reads


def prepare(work, layout):
    """Assemble, link and lay out everything; returns (workloads, dumps,
    image layouts)."""
    firmware_sector = assemble_sector("firmware_floor.asm", work)
    io_sector = assemble_sector("io_floor.asm", work)

    small_elf = build_exit_kernel(work, dump=False)
    dump_elf = build_exit_kernel(work, dump=True)
    large_elf = build_large_kernel(small_elf, work / "exit_kernel-large.elf")
    large_dump_elf = build_large_kernel(dump_elf, work / "exit_kernel-large-dump.elf")

    images = {
        "small": make_loader_image(small_elf, work / "small.img"),
        "large": make_loader_image(large_elf, work / "large.img"),
        "small-dump": make_loader_image(dump_elf, work / "small-dump.img"),
        "large-dump": make_loader_image(large_dump_elf, work / "large-dump.img"),
    }
    layouts = {name: image_layout(path, layout) for name, path in images.items()}
    small_n = layouts["small"].loader_sectors
    large_n = layouts["large"].loader_sectors

    workloads = {
        "firmware": Workload("firmware", make_sector_image(
            firmware_sector, work / "firmware.img", like=images["small"]),
            "boot sector that exits at once"),
        "io-small": Workload("io-small", make_sector_image(
            patch_io_floor(io_sector, small_n), work / "io-small.img", like=images["small"]),
            f"reads {small_n} sectors, {SECTORS_PER_CALL} a call", io_sectors=small_n),
        "io-large": Workload("io-large", make_sector_image(
            patch_io_floor(io_sector, large_n), work / "io-large.img", like=images["large"]),
            f"reads {large_n} sectors, {SECTORS_PER_CALL} a call", io_sectors=large_n),
        "small": Workload("small", images["small"],
                          f"our loader, {layouts['small'].kernel_bytes}-byte kernel"),
        "large": Workload("large", images["large"],
                          f"our loader, {layouts['large'].kernel_bytes}-byte kernel"),
    }
    dumps = {"small": images["small-dump"], "large": images["large-dump"]}
    return workloads, dumps, layouts


# ---- Booting -------------------------------------------------------------------

def qemu_command(image, serial_log):
    return [qemu_binary(), "-accel", "tcg", "-machine", QEMU_MACHINE, "-m", QEMU_MEMORY,
            "-display", "none", "-serial", f"file:{serial_log}", "-monitor", "none",
            "-no-reboot",
            # No network card: the default e1000's iPXE option ROM costs the
            # BIOS ~20 ms per boot (and its noise) and nothing here uses it.
            "-nic", "none",
            "-device", f"isa-debug-exit,iobase={DEBUG_EXIT_PORT:#x},iosize=0x04",
            "-drive", f"file={image},format=raw,if=ide"]


@dataclasses.dataclass
class Boot:
    seconds: float
    status: int | None       # QEMU's exit status, None after a timeout
    serial: bytes
    stderr: str = ""


def boot(image, work, timeout=BOOT_TIMEOUT_SECONDS):
    """One boot: wall time from Popen to QEMU's exit, the exit status (None
    after a timeout) and what the machine wrote to COM1."""
    serial_log = work / "serial.log"
    serial_log.unlink(missing_ok=True)
    stderr_log = work / "qemu-stderr.log"
    with open(stderr_log, "wb") as stderr:
        start = time.perf_counter()
        proc = subprocess.Popen(qemu_command(image, serial_log), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=stderr)
        # Not proc.wait(timeout=...): with a timeout CPython polls, sleeping
        # 0.5, 1, 2, ... up to 50 ms between polls, which rounds every boot
        # up to the next poll (113.5, 163.5, 213.5 ms...). A plain wait()
        # blocks in waitpid() and returns as soon as QEMU exits; a timer
        # thread enforces the timeout instead.
        watchdog = threading.Timer(timeout, proc.kill)
        watchdog.start()
        try:
            returncode = proc.wait()
        finally:
            watchdog.cancel()
        seconds = time.perf_counter() - start
        # Killed by the watchdog: -SIGKILL, reported as no status at all.
        status = returncode if returncode >= 0 else None
    serial = serial_log.read_bytes() if serial_log.exists() else b""
    return Boot(seconds, status, serial, stderr_log.read_text(errors="replace"))


def boot_checked(image, work):
    """boot(), stopping the benchmark unless the guest exited with 33: a
    boot that failed is no sample."""
    result = boot(image, work)
    if result.status != EXIT_STATUS_SUCCESS:
        raise SystemExit(f"bench: {image.name}: QEMU exited with {result.status} "
                         f"(expected {EXIT_STATUS_SUCCESS}) after {result.seconds:.1f} s\n"
                         f"stderr: {result.stderr}\n"
                         f"serial: {result.serial.decode('latin-1')}")
    return result


def io_floor_report(serial):
    """(calls, sectors) from the I/O floor's COM1 line, or None."""
    match = IO_FLOOR_REPORT.search(serial)
    return (int(match.group(1), 16), int(match.group(2), 16)) if match else None


def check_io_floor(workload, result):
    expected = (math.ceil(workload.io_sectors / SECTORS_PER_CALL), workload.io_sectors)
    got = io_floor_report(result.serial)
    if got != expected:
        raise SystemExit(f"bench: {workload.name}: read (calls, sectors) = {got}, "
                         f"expected {expected}")


def runnable_threads():
    """Threads on the host ready to run right now, this one included (the
    fourth field of /proc/loadavg). Sampled before each boot: above 1,
    something else wants the CPUs QEMU is about to use, and the figures
    suffer. Under TCG QEMU keeps about one core busy by itself."""
    try:
        return int(pathlib.Path("/proc/loadavg").read_text().split()[3].split("/")[0])
    except (OSError, IndexError, ValueError):
        return None


def measure(workloads, runs, work, warmup=1, busy=None):
    """{name: [seconds, ...]}, the configurations interleaved round by round,
    after `warmup` uncounted rounds. `busy` (a list) collects
    runnable_threads() before every counted boot."""
    samples = {name: [] for name in workloads}
    for _ in range(warmup):
        for workload in workloads.values():
            result = boot_checked(workload.image, work)
            if workload.io_sectors:
                check_io_floor(workload, result)
    for round_number in range(runs):
        for name, workload in workloads.items():
            if busy is not None:
                busy.append(runnable_threads())
            result = boot_checked(workload.image, work)
            if workload.io_sectors:
                check_io_floor(workload, result)
            samples[name].append(result.seconds)
        log(f"round {round_number + 1}/{runs}: " +
            ", ".join(f"{n} {samples[n][-1] * 1000:.0f} ms" for n in workloads))
    return samples


# ---- The boot information block -------------------------------------------------

def extract_boot_info(serial):
    """The raw block exit_kernel.asm -DDUMP_BOOT_INFO sent, or None."""
    start = serial.rfind(DUMP_BEGIN)
    if start < 0:
        return None
    start += len(DUMP_BEGIN)
    (length,) = struct.unpack_from("<I", serial, start)
    block = serial[start + 4:start + 4 + length]
    if len(block) != length or serial[start + 4 + length:].find(DUMP_END) != 0:
        return None
    return block


def parse_boot_info(block, layout):
    """{field: value}: integers for 1-8 byte fields, `timestamps` as a list,
    `cmdline` as text, `e820` as a list of entry dicts."""
    fields = {}
    for name, (offset, size) in layout.boot_info.items():
        raw = block[offset:offset + size]
        if size in (1, 2, 4, 8):
            fields[name] = int.from_bytes(raw, "little")
        elif name == "timestamps":
            fields[name] = list(struct.unpack(f"<{size // 8}Q", raw))
        elif name == "cmdline":
            fields[name] = raw.split(b"\0", 1)[0].decode("latin-1")
        else:
            fields[name] = raw
    entries = []
    raw_map = fields.get("e820", b"")
    for i in range(min(fields.get("e820_count", 0), len(raw_map) // layout.e820_entry_size)):
        base = i * layout.e820_entry_size
        entries.append({name: int.from_bytes(raw_map[base + off:base + off + size], "little")
                        for name, (off, size) in layout.e820_entry.items()})
    fields["e820"] = entries
    return fields


def host_tsc_mhz():
    """The host's "cpu MHz" from /proc/cpuinfo. Under TCG the guest's RDTSC
    returns the host's time stamp counter (QEMU's cpu_get_host_ticks), offset
    to 0 when the VM starts, so guest TSC cycles are host TSC cycles."""
    try:
        text = pathlib.Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    match = re.search(r"^cpu MHz\s*:\s*([\d.]+)", text, re.M)
    return float(match.group(1)) if match else None


def host_cpu():
    try:
        text = pathlib.Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    return match.group(1).strip() if match else "unknown"


def loader_report(name, image, image_info, layout, work, mhz):
    """Boot the dump variant and summarise its boot information."""
    result = boot_checked(image, work)
    block = extract_boot_info(result.serial)
    if block is None:
        raise SystemExit(f"bench: {image.name}: no boot information block on COM1:\n"
                         f"{result.serial.decode('latin-1')}")
    info = parse_boot_info(block, layout)
    calls = info["disk_read_calls"]
    sectors = info["disk_sectors_read"]
    minimum = math.ceil(image_info.kernel_sectors / SECTORS_PER_CALL)
    stamps = []
    previous = None
    for index, value in enumerate(info["timestamps"]):
        label = layout.timestamp_names[index] if index < len(layout.timestamp_names) else None
        if label is None or value == 0:
            continue
        step = None if previous is None else value - previous
        stamps.append({"index": index, "name": label, "tsc": value,
                       "cycles_since_previous": step,
                       "ms_since_previous": None if step is None or not mhz else step / (mhz * 1e3),
                       "ms_since_vm_start": value / (mhz * 1e3) if mhz else None})
        previous = value
    return {
        "configuration": name,
        "magic": info["magic"], "version": info["version"], "size": info["size"],
        "kernel_bytes": image_info.kernel_bytes,
        "kernel_sectors": image_info.kernel_sectors,
        "stage2_sectors": image_info.stage2_sectors,
        "disk_read_calls": calls,
        "disk_sectors_read": sectors,
        "sectors_per_call": sectors / calls if calls else None,
        "disk_retries": info["disk_retries"],
        "minimum_calls": minimum,
        "stage1_calls": 1,           # stage 1 reads stage 2 in one call, not counted in boot info
        "calls_ok": minimum <= calls <= minimum + EXTRA_CALLS_ALLOWED,
        "no_sector_twice": sectors == image_info.kernel_sectors,
        "timestamps": stamps,
        "boot_seconds": result.seconds,
        "boot_info": {k: v for k, v in info.items() if not isinstance(v, bytes)},
    }


# ---- Linux to /init's line ------------------------------------------------------------

@dataclasses.dataclass
class LinuxWorkload:
    name: str
    qemu_args: list          # what boots: -kernel ... or -drive ...
    description: str


@dataclasses.dataclass
class LinuxBoot:
    seconds: float | None    # QEMU start to /init's line; None if it never came
    powered_off: bool        # /init then powered the machine off
    reads: dict              # {"bytes", "operations"} read from disks by then
    serial: bytes


def prepare_linux(work):
    """The kernel, the initramfs and GRUB's disk; returns (workloads, facts)."""
    kernel = linux.linux_kernel()
    initrd = linux.initramfs()
    grub_disk.check_grub()
    disk, grub_cmdline = grub_disk.make_linux_disk(work / "linux-grub.img", kernel.bzimage,
                                                   initrd, LINUX_CMDLINE)
    ours = work / "linux-ours.img"
    linux.make_loader_disk(ours, kernel.bzimage, [initrd], LINUX_CMDLINE)
    workloads = {
        "linux-qemu": LinuxWorkload(
            "linux-qemu", ["-kernel", kernel.bzimage, "-initrd", initrd,
                           "-append", LINUX_CMDLINE],
            "QEMU's own -kernel loader, no disk: the floor"),
        "linux-grub": LinuxWorkload(
            "linux-grub", ["-drive", f"file={disk},format=raw,if=ide"],
            "GRUB 2 from a raw disk, block lists"),
        "linux-ours": LinuxWorkload(
            "linux-ours", ["-drive", f"file={ours},format=raw,if=ide"],
            "our loader from a raw disk (mkimage --initrd)"),
    }
    # What stage 2 reads besides itself: the kernel and the initrd, whole
    # sectors; stage 1 reads stage 2.
    stage2 = BUILD / "bootloader" / "stage2.bin"
    loader_sectors = sum(math.ceil(path.stat().st_size / SECTOR_SIZE)
                         for path in (stage2, kernel.bzimage, initrd))
    facts = {"package": kernel.package, "version": kernel.version,
             "kernel_bytes": kernel.bzimage.stat().st_size,
             "initrd_bytes": initrd.stat().st_size,
             "cmdlines": {"linux-qemu": LINUX_CMDLINE, "linux-grub": grub_cmdline,
                          "linux-ours": LINUX_CMDLINE},
             "loader_sectors": loader_sectors, "ours_image": str(ours)}
    return workloads, facts


def prepare_linux_floors(work, facts):
    """The I/O floor of our Linux image: a boot sector that exits at once
    and one that reads as many sectors as our loader does, each on a copy
    of that image; Workloads for measure()."""
    n = facts["loader_sectors"]
    like = pathlib.Path(facts["ours_image"])
    return {
        "linux-firmware": Workload("linux-firmware", make_sector_image(
            assemble_sector("firmware_floor.asm", work), work / "linux-firmware.img", like=like),
            "boot sector that exits at once"),
        "linux-io": Workload("linux-io", make_sector_image(
            patch_io_floor(assemble_sector("io_floor.asm", work), n), work / "linux-io.img",
            like=like), f"reads {n} sectors, {SECTORS_PER_CALL} a call", io_sectors=n),
    }


def disk_reads(blockstats):
    """Bytes and read operations of every disk, from `info blockstats`."""
    counts = {"bytes": 0, "operations": 0}
    for key, field in (("bytes", "rd_bytes"), ("operations", "rd_operations")):
        counts[key] = sum(int(n) for n in re.findall(rf"\b{field}=(\d+)", blockstats))
    return counts


def boot_linux(workload, work, timeout=BOOT_TIMEOUT_SECONDS):
    """One Linux boot: the time to /init's line, the disk reads by then,
    and whether /init then powered the machine off. With -no-shutdown QEMU
    stops the machine at power-off instead of exiting, so its monitor can
    still be asked (/init powers off right after its line)."""
    serial_log = work / "linux-serial.log"
    serial_log.unlink(missing_ok=True)
    qmp_socket = work / "linux-qmp.sock"
    qmp_socket.unlink(missing_ok=True)
    cmd = [qemu_binary(), "-accel", "tcg", "-machine", LINUX_MACHINE, "-m", LINUX_MEMORY,
           "-display", "none", "-serial", f"file:{serial_log}", "-monitor", "none",
           "-no-reboot", "-no-shutdown", "-nic", "none",
           "-qmp", f"unix:{qmp_socket},server=on,wait=off",
           *[str(a) for a in workload.qemu_args]]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    seconds, reads, powered_off = None, {"bytes": 0, "operations": 0}, False
    try:
        while proc.poll() is None and time.perf_counter() - start < timeout:
            serial = serial_log.read_bytes() if serial_log.exists() else b""
            if seconds is None and linux.INIT_LINE.search(serial.decode("latin-1")):
                seconds = time.perf_counter() - start
                blockstats = ask_monitor(qmp_socket, ["info blockstats"])["info blockstats"]
                reads = disk_reads(blockstats)
            if seconds is not None:
                status = ask_monitor(qmp_socket, ["info status"])["info status"]
                if "shutdown" in status:
                    powered_off = True
                    break
            time.sleep(LINUX_POLL_SECONDS)
    finally:
        proc.kill()
        proc.wait()
    serial = serial_log.read_bytes() if serial_log.exists() else b""
    return LinuxBoot(seconds, powered_off, reads, serial)


def boot_linux_checked(workload, work, cmdline):
    """boot_linux(), stopping the benchmark unless /init reported `cmdline`
    and then powered the machine off."""
    result = boot_linux(workload, work)
    report = linux.init_report(result.serial.decode("latin-1"))
    if result.seconds is None or not result.powered_off or report is None \
            or report[0] != cmdline:
        raise SystemExit(f"bench: {workload.name}: no clean boot to /init's line "
                         f"(powered off: {result.powered_off}, /init saw {report})\n"
                         f"serial: {result.serial.decode('latin-1')}")
    return result


def measure_linux(workloads, facts, runs, work, warmup=1):
    """{name: [LinuxBoot, ...]}, interleaved as measure() does."""
    boots = {name: [] for name in workloads}
    for round_number in range(warmup + runs):
        for name, workload in workloads.items():
            result = boot_linux_checked(workload, work, facts["cmdlines"][name])
            if round_number >= warmup:
                boots[name].append(result)
        if round_number >= warmup:
            log(f"linux round {round_number - warmup + 1}/{runs}: " +
                ", ".join(f"{n} {boots[n][-1].seconds:.2f} s" for n in workloads))
    return boots


def linux_results(workloads, facts, boots, floor_samples=None):
    """The Linux part's figures; `floor_samples` ({name: [seconds]} from
    measure() on prepare_linux_floors()) adds the I/O floor target."""
    configurations = {}
    for name, workload in workloads.items():
        samples = [b.seconds for b in boots[name]]
        configurations[name] = {
            "description": workload.description, "samples": samples,
            "stats": spread(samples),
            # The same every run; the first run's figures stand for all.
            "disk_read_bytes": boots[name][0].reads["bytes"],
            "disk_read_operations": boots[name][0].reads["operations"]}
    floor = configurations["linux-qemu"]["stats"]["median"]
    return {"machine": LINUX_MACHINE, "memory": LINUX_MEMORY, **facts,
            "configurations": configurations,
            "grub_over_floor": configurations["linux-grub"]["stats"]["median"] - floor,
            "ours_over_floor": configurations["linux-ours"]["stats"]["median"] - floor,
            "ours_minus_grub": (configurations["linux-ours"]["stats"]["median"]
                                - configurations["linux-grub"]["stats"]["median"]),
            "io_floor": (statistics.median(floor_samples["linux-io"])
                         - statistics.median(floor_samples["linux-firmware"])
                         if floor_samples else None)}


def format_linux_report(results):
    out = []
    add = out.append
    add(f"Linux to /init's line: Debian {results['package']} {results['version']} "
        f"({results['kernel_bytes']} bytes) with a {results['initrd_bytes']}-byte initramfs;")
    add(f"-machine {results['machine']} -m {results['memory']}; wall time from QEMU start (s)")
    add(f"{'configuration':<12}{'median':>9}{'min':>9}{'max':>9}{'read bytes':>12}"
        f"{'reads':>8}  what")
    for name, c in results["configurations"].items():
        s = c["stats"]
        add(f"{name:<12}{s['median']:9.2f}{s['min']:9.2f}{s['max']:9.2f}"
            f"{c['disk_read_bytes']:>12}{c['disk_read_operations']:>8}  {c['description']}")
    add(f"  GRUB 2 over the floor: {results['grub_over_floor']:.2f} s (median - median);")
    add(f"  ours over the floor: {results['ours_over_floor']:.2f} s; ours - GRUB 2: "
        f"{results['ours_minus_grub']:+.2f} s (target <= 0)  "
        f"{'PASS' if results['ours_minus_grub'] <= 0 else 'MISS'}")
    if results["io_floor"] is not None:
        limit = LINUX_IO_RATIO_TARGET * results["io_floor"]
        add(f"  I/O floor of the same {results['loader_sectors']} sectors (linux-io - "
            f"linux-firmware): {results['io_floor']:.2f} s; ours over the floor "
            f"{results['ours_over_floor']:.2f} s (target <= {limit:.2f} s)  "
            f"{'PASS' if results['ours_over_floor'] <= limit else 'MISS'}")
    add("  reads: bytes and read requests the emulated disk served before /init's line")
    add("  (QEMU's query-blockstats)")
    return "\n".join(out)


# ---- Statistics -------------------------------------------------------------------

def spread(samples):
    """Median, min, max and quartiles (inclusive method) in seconds."""
    ordered = sorted(samples)
    if len(ordered) >= 2:
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        q1 = q3 = ordered[0]
    return {"median": statistics.median(ordered), "min": ordered[0], "max": ordered[-1],
            "q1": q1, "q3": q3, "iqr": q3 - q1, "n": len(ordered)}


def derived(samples):
    med = {name: statistics.median(values) for name, values in samples.items()}
    fw = med["firmware"]

    def paired(a, b):
        """Round-by-round a - b: the rounds are interleaved, so a slow moment
        of the host counts on both sides."""
        return spread([x - y for x, y in zip(samples[a], samples[b])])

    small_over = med["small"] - fw
    large_over = med["large"] - fw
    io_small_over = med["io-small"] - fw
    io_large_over = med["io-large"] - fw
    ratio = large_over / io_large_over if io_large_over > 0 else math.inf
    excess_ms = (small_over - io_small_over) * 1000
    # The same two figures round by round (each round's own floor), as a
    # second opinion that one slow boot in a column cannot move much.
    round_ratios = [(large - fw) / (io - fw) if io > fw else math.inf
                    for large, io, fw in zip(samples["large"], samples["io-large"],
                                             samples["firmware"])]
    return {
        "small_over_firmware": small_over,
        "large_over_firmware": large_over,
        "io_small_over_firmware": io_small_over,
        "io_large_over_firmware": io_large_over,
        "paired": {
            "small-firmware": paired("small", "firmware"),
            "large-firmware": paired("large", "firmware"),
            "io-small-firmware": paired("io-small", "firmware"),
            "io-large-firmware": paired("io-large", "firmware"),
            "small-io-small": paired("small", "io-small"),
            "large-io-large": paired("large", "io-large"),
        },
        "large_ratio": ratio,
        "large_ratio_round_median": statistics.median(round_ratios),
        "large_ratio_target": LARGE_RATIO_TARGET,
        "large_ratio_pass": ratio <= LARGE_RATIO_TARGET,
        "small_excess_ms": excess_ms,
        "small_excess_round_median_ms": statistics.median(
            s - i for s, i in zip(samples["small"], samples["io-small"])) * 1000,
        "small_excess_target_ms": SMALL_EXCESS_TARGET_MS,
        "small_excess_pass": excess_ms <= SMALL_EXCESS_TARGET_MS,
    }


# ---- Build and test times ----------------------------------------------------------

def time_clean_build():
    """`./build.sh build` into an empty directory of its own."""
    with tempfile.TemporaryDirectory(prefix="bench-clean-build-") as tmp:
        env = dict(os.environ, BUILD_DIR=tmp)
        env.pop("KERNEL_CMDLINE", None)
        start = time.perf_counter()
        result = subprocess.run([str(ROOT / "build.sh"), "build"], env=env,
                                capture_output=True, text=True)
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "ok": result.returncode == 0,
            "target_seconds": BUILD_TARGET_SECONDS,
            "pass": result.returncode == 0 and seconds < BUILD_TARGET_SECONDS,
            "output_tail": (result.stdout + result.stderr)[-2000:]}


def time_test_suite():
    """`./build.sh test` on a copy of the build directory, so it neither
    waits for nor disturbs whoever uses the shared one."""
    with tempfile.TemporaryDirectory(prefix="bench-test-") as tmp:
        copy = pathlib.Path(tmp) / "build"
        # copy2 keeps modification times: make sees an up-to-date build.
        shutil.copytree(BUILD, copy, symlinks=True, ignore=shutil.ignore_patterns("bench"))
        env = dict(os.environ, BUILD_DIR=str(copy))
        env.pop("KERNEL_CMDLINE", None)
        start = time.perf_counter()
        result = subprocess.run([str(ROOT / "build.sh"), "test"], env=env,
                                capture_output=True, text=True)
        seconds = time.perf_counter() - start
    summary = [line for line in result.stdout.splitlines()
               if re.search(r"\b(passed|failed|error)", line)]
    return {"seconds": seconds, "ok": result.returncode == 0,
            "summary": summary[-1] if summary else "",
            "target_seconds": TEST_TARGET_SECONDS,
            "pass": seconds < TEST_TARGET_SECONDS,
            "output_tail": (result.stdout + result.stderr)[-4000:]}


# ---- Report ---------------------------------------------------------------------------

def git(*args):
    result = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else None


def qemu_version():
    result = subprocess.run([qemu_binary(), "--version"], capture_output=True, text=True)
    return result.stdout.splitlines()[0] if result.stdout else "unknown"


def ms(seconds):
    return f"{seconds * 1000:8.1f}"


def verdict(ok):
    return "PASS" if ok else "MISS"


def format_report(results):
    out = []
    add = out.append
    add(f"boot benchmark: commit {results['commit_short']}"
        f"{' (uncommitted changes)' if results['dirty'] else ''}, {results['date']}")
    add(f"host: {results['host_cpu']}, {results['host_cpus']} CPUs, "
        f"cpu MHz {results['host_tsc_mhz']}; {results['qemu_version']}")
    add(f"QEMU TCG, -machine {QEMU_MACHINE} -m {QEMU_MEMORY}, IDE disk, no NIC; "
        f"{results['runs']} runs each, interleaved, after {results['warmup_rounds']} "
        f"uncounted warm-up round(s)")
    busy = [b for b in results.get("runnable_threads_before_boots") or [] if b is not None]
    crowded = sum(1 for b in busy if b > 1)
    if crowded:
        add(f"WARNING: other work was running on the host before {crowded} of {len(busy)} "
            f"boots (runnable threads in /proc/loadavg: median {statistics.median(busy):g}, "
            f"max {max(busy)}, on {os.cpu_count()} CPUs);")
        add("the times are noisier than on an idle host: compare commits on a quiet machine")
    add("")
    add("wall time from QEMU start to exit (ms)")
    add(f"{'configuration':<12}{'median':>9}{'min':>9}{'q1':>9}{'q3':>9}{'max':>9}{'IQR':>9}  what")
    for name in CONFIGURATIONS:
        s = results["configurations"][name]["stats"]
        add(f"{name:<12}{ms(s['median'])} {ms(s['min'])} {ms(s['q1'])} {ms(s['q3'])} "
            f"{ms(s['max'])} {ms(s['iqr'])}  {results['configurations'][name]['description']}")
    d = results["derived"]
    p = d["paired"]
    add("")
    add("over the firmware floor (difference of medians; round-by-round min..max)")

    def line(label, value, key):
        add(f"  {label:<40}{ms(value)} ms   ({p[key]['min'] * 1000:.1f}..{p[key]['max'] * 1000:.1f})")
    line("I/O floor, small (io-small - firmware)", d["io_small_over_firmware"], "io-small-firmware")
    line("our loader, small (small - firmware)", d["small_over_firmware"], "small-firmware")
    line("I/O floor, large (io-large - firmware)", d["io_large_over_firmware"], "io-large-firmware")
    line("our loader, large (large - firmware)", d["large_over_firmware"], "large-firmware")
    add("")
    add("targets")
    add(f"  small: (small - fw) - (io-small - fw) = {d['small_excess_ms']:.1f} ms"
        f"  (target <= {SMALL_EXCESS_TARGET_MS:g} ms)  {verdict(d['small_excess_pass'])}"
        f"   [round by round: median {d['small_excess_round_median_ms']:.1f} ms]")
    add(f"  large: (large - fw) / (io-large - fw) = {d['large_ratio']:.3f}"
        f"  (target <= {LARGE_RATIO_TARGET})  {verdict(d['large_ratio_pass'])}"
        f"   [round by round: median {d['large_ratio_round_median']:.3f}]")
    add("  (targets use the medians above; the round-by-round figures pair each boot with")
    add("  the floors of its own round)")
    add("")
    add("disk reads by stage 2 (boot information of a -DDUMP_BOOT_INFO boot; stage 1's one")
    add("call for stage 2 is not counted there)")
    add(f"  {'':<8}{'kernel':>10}{'calls':>7}{'fewest':>8}{'sectors':>9}{'per call':>10}"
        f"{'retries':>9}  calls near fewest / no sector twice")
    for name in ("small", "large"):
        r = results["loader"][name]
        add(f"  {name:<8}{r['kernel_sectors']:>10}{r['disk_read_calls']:>7}{r['minimum_calls']:>8}"
            f"{r['disk_sectors_read']:>9}{r['sectors_per_call']:>10.1f}{r['disk_retries']:>9}"
            f"  {verdict(r['calls_ok'])} / {verdict(r['no_sector_twice'])}")
    add("  (kernel = kernel sectors; fewest = ceil(kernel / 127); sectors read must equal kernel)")
    add("")
    mhz = results["host_tsc_mhz"]
    add(f"loader timestamps (TSC; under TCG the guest reads the host's TSC, counted from VM start;")
    add(f"ms at the host's cpu MHz {mhz})")
    for name in ("small", "large"):
        add(f"  {name}:")
        for stamp in results["loader"][name]["timestamps"]:
            since = stamp["ms_since_previous"]
            at = stamp["ms_since_vm_start"]
            step = "" if since is None else f"+{since:8.2f} ms"
            add(f"    [{stamp['index']}] {stamp['name']:<28}{stamp['tsc']:>14}"
                f"  at {'?' if at is None else f'{at:8.2f}'} ms  {step}")
    add("")
    if results.get("linux"):
        add(format_linux_report(results["linux"]))
        add("")
    build = results.get("build")
    if build:
        add(f"clean build: {build['seconds']:.2f} s (target < {BUILD_TARGET_SECONDS:g} s)  "
            f"{verdict(build['pass'])}{'' if build['ok'] else '  (the build FAILED)'}")
    tests = results.get("tests")
    if tests:
        add(f"./build.sh test: {tests['seconds']:.1f} s (target < {TEST_TARGET_SECONDS:g} s)  "
            f"{verdict(tests['pass'])}; {tests['summary'] or 'no pytest summary'}"
            f"{'' if tests['ok'] else '  (NOT all tests passed)'}")
    elif results.get("tests_skipped"):
        add("./build.sh test: not timed (--no-tests)")
    return "\n".join(out)


def write_json(results, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, indent=2, sort_keys=False) + "\n"
    path.write_text(text)
    written = [path]
    if results.get("commit_short"):
        copy = path.with_name(f"results-{results['commit_short']}.json")
        if copy != path:
            copy.write_text(text)
            written.append(copy)
    return written


# ---- Main ------------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS,
                        help=f"timed boots per configuration (default {DEFAULT_RUNS})")
    parser.add_argument("--warmup", type=int, default=1,
                        help="uncounted rounds before the timed ones (default 1)")
    parser.add_argument("--no-tests", action="store_true",
                        help="do not time ./build.sh test")
    parser.add_argument("--no-build-time", action="store_true",
                        help="do not time a clean build")
    parser.add_argument("--linux-runs", type=int, default=DEFAULT_LINUX_RUNS,
                        help=f"timed Linux boots per configuration (default {DEFAULT_LINUX_RUNS})")
    parser.add_argument("--no-linux", action="store_true",
                        help="do not time Linux boots")
    parser.add_argument("--json", type=pathlib.Path, default=None,
                        help="where to write the results (default $BUILD_DIR/bench/results.json)")
    parser.add_argument("--work-dir", type=pathlib.Path, default=None,
                        help="for the images and kernels (default $BUILD_DIR/bench/work)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.linux_runs < 1:
        parser.error("--linux-runs must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup must be 0 or more")
    return args


def main(argv=None):
    args = parse_args(argv)
    json_path = (args.json or BUILD / "bench" / "results.json").resolve()
    work = (args.work_dir or BUILD / "bench" / "work").resolve()
    work.mkdir(parents=True, exist_ok=True)
    for needed in (BUILD / "image" / "mkimage", BUILD / "bootloader" / "stage1.bin",
                   BUILD / "bootloader" / "stage2.bin"):
        if not needed.exists():
            raise SystemExit(f"bench: {needed} is missing: run ./build.sh build first")

    log(f"preparing images in {work}")
    layout = read_layout(work)
    workloads, dumps, layouts = prepare(work, layout)
    mhz = host_tsc_mhz()

    log(f"booting {len(workloads)} configurations x {args.runs} runs")
    busy = []
    samples = measure(workloads, args.runs, work, warmup=args.warmup, busy=busy)
    loader = {name: loader_report(name, dumps[name], layouts[f"{name}-dump"], layout, work, mhz)
              for name in ("small", "large")}

    linux_part = None
    if not args.no_linux:
        try:
            linux_workloads, facts = prepare_linux(work)
        except (linux.LinuxSetupError, grub_disk.GrubMissing) as error:
            raise SystemExit(f"bench: no Linux boots ({error}); --no-linux leaves them out")
        log(f"booting Linux {len(linux_workloads)} ways x {args.linux_runs} runs")
        boots = measure_linux(linux_workloads, facts, args.linux_runs, work,
                              warmup=min(args.warmup, 1))
        floors = prepare_linux_floors(work, facts)
        floor_samples = measure(floors, args.linux_runs, work, warmup=min(args.warmup, 1))
        linux_part = linux_results(linux_workloads, facts, boots, floor_samples)

    commit = git("rev-parse", "HEAD")
    results = {
        "commit": commit,
        "commit_short": git("rev-parse", "--short", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "qemu_version": qemu_version(),
        "qemu_command": [str(c) for c in qemu_command("IMAGE", "SERIAL_LOG")],
        "host_cpu": host_cpu(),
        "host_cpus": os.cpu_count(),
        "host_tsc_mhz": mhz,
        "host_loadavg_at_end": pathlib.Path("/proc/loadavg").read_text().split()[:3]
        if pathlib.Path("/proc/loadavg").exists() else None,
        "runnable_threads_before_boots": busy,
        "runs": args.runs,
        "warmup_rounds": args.warmup,
        "unit": "seconds",
        "configurations": {
            name: {"description": workloads[name].description,
                   "image_bytes": workloads[name].image.stat().st_size,
                   "io_sectors": workloads[name].io_sectors or None,
                   "samples": samples[name],
                   "stats": spread(samples[name])}
            for name in CONFIGURATIONS},
        "images": {name: dataclasses.asdict(info) for name, info in layouts.items()},
        "derived": derived(samples),
        "loader": loader,
        "tests_skipped": args.no_tests,
        "linux": linux_part,
    }
    if not args.no_build_time:
        log("timing a clean build")
        results["build"] = time_clean_build()
    if not args.no_tests:
        log("timing ./build.sh test")
        results["tests"] = time_test_suite()

    print(format_report(results))
    for path in write_json(results, json_path):
        log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
