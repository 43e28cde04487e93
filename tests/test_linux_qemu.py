"""A real Linux boots with QEMU's own loader: the pair every Linux test uses.

Debian's cloud kernel and the tests' initramfs (support/linux.py) boot
through QEMU's -kernel/-initrd/-append, with no disk and no bootloader of
ours, on both machine types with little and much memory. /init prints the
command line it got and MemTotal, then powers off. This proves the pair
and the expectations (support.linux.check_init_report); the same checks
then hold GRUB 2 (tests/test_grub.py), and later our loader, to account.
"""
import gzip

import pytest

import support.linux as linux_support
from support.linux import (INIT_MARKER, LINUX_MACHINES, LINUX_MEMORIES, LinuxSetupError, MIB,
                           boot_with_qemu_loader,
                           check_init_report, init_report, linux_kernel,
                           lowest_memtotal)
from support.qemu import BootResult


# Spaces, quotes and an option the kernel does not know, which it passes on
# untouched: /proc/cmdline must give back every byte.
CMDLINE = 'console=ttyS0 quiet bootstack.probe="two  words" loader=qemu-kernel'

# The initramfs stays small: /init is one static program.
INITRAMFS_MAX_BYTES = 400 * 1024



def test_the_initramfs_is_a_small_newc_archive(linux):
    _, archive = linux
    data = gzip.decompress(archive.read_bytes())
    assert data.startswith(b"070701"), "not a cpio newc archive"
    assert b"init\0" in data and b"dev/console\0" in data
    assert data.rstrip(b"\0").endswith(b"TRAILER!!!")
    assert archive.stat().st_size <= INITRAMFS_MAX_BYTES, \
        f"{archive} has {archive.stat().st_size} bytes"


@pytest.mark.parametrize("memory", sorted(LINUX_MEMORIES))
@pytest.mark.parametrize("machine", LINUX_MACHINES)
def test_linux_boots_with_qemus_loader(linux, machine, memory):
    kernel, archive = linux
    result = boot_with_qemu_loader(kernel, archive, CMDLINE, machine=machine, memory=memory)
    check_init_report(result, CMDLINE, LINUX_MEMORIES[memory])
    # /init powered off through ACPI: QEMU left by itself, with status 0.
    assert result.exit_code == 0, result.describe()


def test_the_checks_see_a_wrong_command_line_or_lost_memory():
    """check_init_report on made-up output: the expectations can fail."""
    def printed(cmdline, kib):
        return BootResult(serial=f"{INIT_MARKER} cmdline={cmdline} memtotal_kib={kib}\r\n",
                          exit_code=0, still_running=False, seconds=1.0)
    ram = LINUX_MEMORIES["4G"]
    good_kib = (ram - 168 * MIB) // 1024
    check_init_report(printed(CMDLINE, good_kib), CMDLINE, ram)
    assert init_report(printed(CMDLINE, good_kib).serial) == (CMDLINE, good_kib)
    for cmdline, kib in ((CMDLINE.replace("  ", " "), good_kib),          # a byte lost
                         ("BOOT_IMAGE=/vmlinuz " + CMDLINE, good_kib),     # one added
                         (CMDLINE, (ram - 1024 * MIB) // 1024),            # RAM above 4 GiB lost
                         (CMDLINE, lowest_memtotal(ram) // 1024 - 1),
                         (CMDLINE, ram // 1024 + 1)):                      # more than there is
        with pytest.raises(AssertionError):
            check_init_report(printed(cmdline, kib), CMDLINE, ram)
    with pytest.raises(AssertionError):
        check_init_report(BootResult("Kernel panic", None, True, 1.0), CMDLINE, ram)


def fake_tools(monkeypatch, tmp_path, apt_get_body):
    """Point support.linux at an empty cache and at stub apt tools."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (("apt-cache", "echo '  Depends: linux-image-6.1.0-99-cloud-amd64'"),
                       ("apt-get", apt_get_body)):
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setattr(linux_support, "CACHE", tmp_path / "linux-cache")


def test_an_unreachable_mirror_is_said_so(monkeypatch, tmp_path):
    fake_tools(monkeypatch, tmp_path,
               "echo 'E: Failed to fetch http://deb.debian.org/...' >&2; exit 100")
    with pytest.raises(LinuxSetupError, match=r"could not download "
                       r"linux-image-6\.1\.0-99-cloud-amd64: is the Debian mirror reachable\?"):
        linux_kernel()


def test_a_cached_kernel_needs_no_mirror(monkeypatch, tmp_path):
    fake_tools(monkeypatch, tmp_path, "echo 'apt-get must not run' >&2; exit 100")
    cache = tmp_path / "linux-cache"
    cache.mkdir()
    (cache / "vmlinuz").write_bytes(b"bzImage")
    (cache / "package").write_text("linux-image-6.1.0-99-cloud-amd64 6.1.999-1\n")
    kernel = linux_kernel()
    assert (kernel.package, kernel.version) == ("linux-image-6.1.0-99-cloud-amd64", "6.1.999-1")
    assert kernel.bzimage == cache / "vmlinuz"
