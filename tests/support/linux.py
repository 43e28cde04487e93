"""A real Linux to boot: Debian's cloud kernel and a tiny initramfs.

The kernel is Debian's `linux-image-cloud-amd64`, a metapackage whose one
dependency is the real image package (linux-image-6.1.0-N-cloud-amd64).
It is fetched with `apt-get download` (nothing is installed) and unpacked
with `dpkg -x` into $BUILD_DIR/linux-cache, which later runs reuse, also
without a network. Delete that folder to fetch the newest kernel again.

The initramfs holds one program, /init, built from tests/linux_init/init.c
with the host's C compiler, -static. It prints one line,

    BOOTSTACK-INIT cmdline=<the kernel's command line> memtotal_kib=<N>

and powers the machine off, which ends QEMU. The archive is written here,
in the cpio "newc" format the kernel unpacks (Documentation/driver-api/
early-userspace/buffer-format.rst), and gzip-compressed.

Nothing here imports pytest (tests/bench/bench.py uses it too): what goes
wrong raises LinuxSetupError, whose message says what to do, and the
tests' fixtures turn it into a failure.

Several pytest-xdist workers may ask for these at once; a lock file in the
cache makes one of them do the work and the others wait for it.
"""
import contextlib
import dataclasses
import fcntl
import gzip
import os
import pathlib
import re
import shutil
import subprocess
import tempfile

from support.paths import BUILD, ROOT
from support.qemu import boot

METAPACKAGE = "linux-image-cloud-amd64"
CACHE = BUILD / "linux-cache"
INIT_SOURCE = ROOT / "tests" / "linux_init" / "init.c"

# The line /init prints, as a regex with the command line and MemTotal (KiB).
INIT_MARKER = "BOOTSTACK-INIT"
INIT_LINE = re.compile(INIT_MARKER + r" cmdline=(?P<cmdline>.*) memtotal_kib=(?P<kib>\d+)\r?\n")
INIT_ERROR = INIT_MARKER + " error: "

APT_TIMEOUT_SECONDS = 300
GCC_TIMEOUT_SECONDS = 120


class LinuxSetupError(Exception):
    """The kernel or the initramfs could not be had; the message says why."""


@dataclasses.dataclass(frozen=True)
class LinuxKernel:
    package: str             # linux-image-6.1.0-N-cloud-amd64
    version: str             # the package's version, 6.1.xxx-y
    bzimage: pathlib.Path    # vmlinuz from its /boot


@contextlib.contextmanager
def _cache_lock():
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _run(cmd, what, cwd=None, timeout=APT_TIMEOUT_SECONDS):
    """Run cmd; on failure raise LinuxSetupError with `what` and the tool's words."""
    if shutil.which(cmd[0]) is None:
        raise LinuxSetupError(f"{cmd[0]} is missing; {what} needs it")
    result = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True,
                            text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise LinuxSetupError(f"{what} failed: {' '.join(map(str, cmd))}\n"
                    f"{result.stdout}{result.stderr}")
    return result.stdout


def kernel_package_name():
    """The package linux-image-cloud-amd64 stands for, from apt's lists."""
    output = _run(["apt-cache", "depends", METAPACKAGE],
                  f"finding the package behind {METAPACKAGE} (try apt-get update)")
    names = re.findall(r"Depends: (linux-image-\S+-cloud-amd64)\b", output)
    if not names:
        raise LinuxSetupError(f"apt-cache depends {METAPACKAGE} names no kernel image:\n{output}")
    return names[0]


def _cached_kernel():
    """The kernel a previous run left in the cache, or None."""
    stamp = CACHE / "package"
    if not stamp.exists():
        return None
    package, version = stamp.read_text().split()
    bzimage = CACHE / "vmlinuz"
    return LinuxKernel(package, version, bzimage) if bzimage.exists() else None


def linux_kernel():
    """Debian's cloud kernel, from the cache or downloaded into it."""
    with _cache_lock():
        cached = _cached_kernel()
        if cached:
            return cached
        package = kernel_package_name()
        with tempfile.TemporaryDirectory(dir=CACHE, prefix="download-") as tmp:
            tmp = pathlib.Path(tmp)
            result = subprocess.run(["apt-get", "download", package], cwd=tmp,
                                    capture_output=True, text=True,
                                    timeout=APT_TIMEOUT_SECONDS, check=False)
            debs = list(tmp.glob("*.deb"))
            if result.returncode != 0 or not debs:
                raise LinuxSetupError(
                    f"could not download {package}: is the Debian mirror reachable? "
                    f"(a kernel already in {CACHE} is used without it)\n"
                    f"{result.stdout}{result.stderr}")
            version = _run(["dpkg-deb", "--field", debs[0], "Version"],
                           "reading the package's version").strip()
            _run(["dpkg-deb", "-x", debs[0], tmp / "root"], "unpacking the kernel package")
            images = sorted((tmp / "root" / "boot").glob("vmlinuz-*"))
            if not images:
                raise LinuxSetupError(f"{debs[0].name} has no /boot/vmlinuz-*")
            shutil.copyfile(images[0], CACHE / "vmlinuz")
        (CACHE / "package").write_text(f"{package} {version}\n")
        return _cached_kernel()


# ---- The initramfs ----------------------------------------------------------------

# Mode bits of the entries (st_mode, as cpio records them).
S_IFDIR = 0o040000
S_IFREG = 0o100000
S_IFCHR = 0o020000
CONSOLE_MAJOR, CONSOLE_MINOR = 5, 1      # /dev/console
NEWC_MAGIC = b"070701"
NEWC_TRAILER = "TRAILER!!!"


def _pad4(data):
    return data + b"\0" * (-len(data) % 4)


def newc_entry(inode, name, mode, data=b"", rdev=(0, 0)):
    """One member of a "newc" cpio archive: a 110-byte header of ASCII hex
    fields, the NUL-terminated name and the data, each padded to 4 bytes
    (the header plus the name together)."""
    name_bytes = name.encode() + b"\0"
    fields = (inode, mode, 0, 0,                 # inode, mode, uid, gid
              2 if mode & S_IFDIR else 1,        # links
              0, len(data),                      # mtime, file size
              0, 0, rdev[0], rdev[1],            # device holding it, device it is
              len(name_bytes), 0)                # name size with the NUL, checksum
    header = NEWC_MAGIC + b"".join(b"%08X" % field for field in fields)
    return _pad4(header + name_bytes) + _pad4(data)


def newc_archive(entries):
    """entries: (name, mode, data, rdev) tuples; the archive with its trailer."""
    members = [newc_entry(inode, name, mode, data, rdev)
               for inode, (name, mode, data, rdev) in enumerate(entries, start=1)]
    members.append(newc_entry(0, NEWC_TRAILER, 0))
    return b"".join(members)


def build_init(output):
    """tests/linux_init/init.c as a static, stripped x86-64 program (the
    C library's libc.a comes with libc6-dev, which the build needs)."""
    # -Os, -s and --gc-sections keep it small; even without stdio the
    # static C library is most of its 660 KiB (290 KiB once compressed).
    _run(["cc", "-static", "-Os", "-s", "-Wl,--gc-sections", "-Wall", "-Wextra", "-Werror",
          "-o", output, INIT_SOURCE], "building the initramfs's /init",
         timeout=GCC_TIMEOUT_SECONDS)
    return output


def initramfs():
    """$BUILD_DIR/linux-cache/initramfs.cpio.gz, rebuilt when init.c or this
    file (which lays the archive out) changed."""
    archive = CACHE / "initramfs.cpio.gz"
    sources = (INIT_SOURCE, pathlib.Path(__file__))
    with _cache_lock():
        if archive.exists() and \
                all(archive.stat().st_mtime >= source.stat().st_mtime for source in sources):
            return archive
        init = build_init(CACHE / "init")
        cpio = newc_archive([
            ("dev", S_IFDIR | 0o755, b"", (0, 0)),
            ("dev/console", S_IFCHR | 0o600, b"", (CONSOLE_MAJOR, CONSOLE_MINOR)),
            ("proc", S_IFDIR | 0o755, b"", (0, 0)),
            ("init", S_IFREG | 0o755, init.read_bytes(), (0, 0)),
        ])
        partial = archive.with_suffix(".partial")
        partial.write_bytes(gzip.compress(cpio, compresslevel=9, mtime=0))
        os.replace(partial, archive)
        return archive


def init_report(serial):
    """(cmdline, MemTotal in KiB) from /init's line, or None."""
    match = INIT_LINE.search(serial)
    return (match["cmdline"], int(match["kib"])) if match else None


# ---- What Linux must have seen ------------------------------------------------------

MIB = 1024 * 1024
# The machines and memory sizes every Linux boot test covers, by every
# loader (QEMU's -kernel, GRUB 2, ours).
LINUX_MACHINES = ["pc", "q35"]
LINUX_MEMORIES = {"256M": 256 * MIB, "4G": 4096 * MIB}
LINUX_BOOT_TIMEOUT_SECONDS = 180     # about 5 s under TCG; a loaded host is slower

# MemTotal is the RAM the kernel was told about minus what it keeps for
# itself: its own image and the initramfs's pages (a fixed part), one
# 64-byte struct page per 4 KiB page (1/64), and once RAM reaches above
# 4 GiB a 64 MiB bounce buffer (swiotlb; QEMU moves the RAM that would
# overlap the PCI hole there, so from 3 GiB on the bound allows for it). The cloud kernel keeps 38 MiB of 256 MiB
# and 168 MiB of 4 GiB on QEMU 7.2; a loader that lost a memory range
# (the RAM QEMU moves above 4 GiB, say) falls far below these bounds.
KERNEL_FIXED_RESERVE = 64 * MIB
SWIOTLB_BYTES = 64 * MIB
FOUR_GIB = 4096 * MIB


def lowest_memtotal(ram_bytes):
    """The least MemTotal (bytes) a kernel that saw all `ram_bytes` reports."""
    reserve = KERNEL_FIXED_RESERVE + ram_bytes // 64
    if ram_bytes >= FOUR_GIB - 1024 * MIB:     # part of the RAM then lies above 4 GiB
        reserve += SWIOTLB_BYTES
    return ram_bytes - reserve


def check_init_report(result, cmdline, ram_bytes):
    """Assert that a boot (a support.qemu.BootResult) reached /init, which
    saw `cmdline` byte for byte and MemTotal fitting `ram_bytes` of RAM."""
    assert INIT_ERROR not in result.serial, result.describe()
    report = init_report(result.serial)
    assert report is not None, f"no {INIT_MARKER} line: " + result.describe()
    seen_cmdline, memtotal_kib = report
    assert seen_cmdline == cmdline, result.describe()
    assert lowest_memtotal(ram_bytes) <= memtotal_kib * 1024 <= ram_bytes, \
        (f"MemTotal {memtotal_kib} KiB for {ram_bytes // MIB} MiB of RAM "
         f"(at least {lowest_memtotal(ram_bytes) // 1024} KiB expected)\n" + result.describe())


def boot_with_qemu_loader(kernel, initrd, cmdline, *, machine="pc", memory="256M",
                          timeout=LINUX_BOOT_TIMEOUT_SECONDS):
    """Boot a bzImage with QEMU's own loader (-kernel, -initrd, -append),
    no disk at all, until /init powers the machine off."""
    return boot(None, machine=machine, memory=memory, drive="none", debug_exit=False,
                timeout=timeout,
                extra=["-kernel", kernel, "-initrd", initrd, "-append", cmdline])


def make_loader_disk(image, kernel, initrds, cmdline, mkimage=None):
    """A disk image of our loader holding the bzImage `kernel`, the
    `initrds` (concatenated by stage 2) and `cmdline`; mkimage's output
    or LinuxSetupError."""
    mkimage = mkimage or BUILD / "image" / "mkimage"
    command = [str(mkimage), "build", "--stage1", str(BUILD / "bootloader" / "stage1.bin"),
               "--stage2", str(BUILD / "bootloader" / "stage2.bin"), "--kernel", str(kernel),
               "--cmdline", cmdline, "-o", str(image)]
    for initrd in initrds:
        command += ["--initrd", str(initrd)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise LinuxSetupError(f"mkimage failed: {done.stderr}")
    return done.stdout


def boot_with_our_loader(image, *, machine="pc", memory="256M",
                         timeout=LINUX_BOOT_TIMEOUT_SECONDS):
    """Boot a disk from make_loader_disk() until /init powers the machine off."""
    return boot(image, machine=machine, memory=memory, debug_exit=False, timeout=timeout)
