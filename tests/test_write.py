"""`./build.sh write` and image/write-disk.sh: writing the image to a stick.

Most tests let a plain file stand in for the device
(BOOTSTACK_WRITE_ALLOW_FILE=1). The rest use real loop devices when this
machine allows them (root, and losetup works), and are skipped otherwise.

Safety: every test that expects a refusal runs the script with a fake `dd`
first on PATH that writes nothing and leaves a mark, so even a broken check
could not write anywhere; the test then asserts the fake was never reached.
The only real disk these tests name is the one holding `/`, and only
without --yes, without a terminal, and with that fake `dd`.
"""
import os
import pathlib
import shutil
import stat
import struct
import subprocess
import time

import pexpect
import pytest

from support.paths import BUILD, ROOT

SCRIPT = ROOT / "image" / "write-disk.sh"
BUILD_SH = ROOT / "build.sh"
MIB = 1 << 20
IMAGE_BYTES = MIB               # like build/disk.img
FILL = b"\xaa"                  # what a stand-in device holds before writing
FAKE_DD_MARK = "FAKE-DD-REACHED"


# ---- Helpers ----------------------------------------------------------------

@pytest.fixture
def image(tmp_path):
    path = tmp_path / "disk.img"
    path.write_bytes(os.urandom(IMAGE_BYTES))
    return path


@pytest.fixture(scope="session")
def no_dd(tmp_path_factory):
    """A directory whose `dd` writes nothing and leaves a mark on stderr."""
    bin_dir = tmp_path_factory.mktemp("fake-dd")
    fake = bin_dir / "dd"
    fake.write_text(f"#!/bin/sh\necho {FAKE_DD_MARK} >&2\nexit 99\n")
    fake.chmod(0o755)
    return bin_dir


def env_with(*, allow_file=True, path_first=None):
    env = dict(os.environ)
    env.pop("BOOTSTACK_WRITE_ALLOW_FILE", None)
    if allow_file:
        env["BOOTSTACK_WRITE_ALLOW_FILE"] = "1"
    if path_first:
        env["PATH"] = f"{path_first}:{env.get('PATH', '/usr/bin:/bin')}"
    return env


def write(image, *args, env=None, stdin=subprocess.DEVNULL, cmd=None):
    """Run the writer; stdin is not a terminal unless the caller passes one."""
    return subprocess.run([*(cmd or [str(SCRIPT)]), str(image), *map(str, args)],
                          env=env if env is not None else env_with(),
                          stdin=stdin, capture_output=True, text=True, timeout=120)


def refused(result, *phrases):
    """Assert a refusal before any writing, naming the problem."""
    text = result.stdout + result.stderr
    assert result.returncode == 1, text
    assert "Nothing was written." in result.stderr, text
    assert FAKE_DD_MARK not in text, "the script reached dd:\n" + text
    for phrase in phrases:
        assert phrase in text, f"{phrase!r} missing from:\n{text}"


def stand_in(tmp_path, size=2 * MIB, name="stick.img"):
    path = tmp_path / name
    path.write_bytes(FILL * size)
    return path


def assert_untouched(path, size=2 * MIB):
    assert path.read_bytes() == FILL * size, f"{path} was changed"


def assert_holds_image(data, image, size):
    assert len(data) == size, "the target changed size"
    assert data[:IMAGE_BYTES] == image.read_bytes(), "the image was not written"
    assert data[IMAGE_BYTES:] == FILL * (size - IMAGE_BYTES), "bytes after the image changed"


# ---- A plain file standing in for the device ---------------------------------

def test_writes_and_verifies(tmp_path, image):
    target = stand_in(tmp_path)
    result = write(image, target, "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"verified: {IMAGE_BYTES} bytes match" in result.stdout
    assert_holds_image(target.read_bytes(), image, 2 * MIB)


def test_refuses_without_a_terminal_to_confirm_on(tmp_path, image, no_dd):
    target = stand_in(tmp_path)
    result = write(image, target, env=env_with(path_first=no_dd))
    refused(result, "no terminal to confirm on", "--yes")
    assert_untouched(target)


def confirm_on_terminal(image, target, answer):
    """Run the writer on a pseudo-terminal and type `answer` at the prompt."""
    child = pexpect.spawn(str(SCRIPT), [str(image), str(target)], env=env_with(),
                          encoding="utf-8", timeout=60)
    try:
        child.expect(f"type the device name, {target.name}, and press Enter")
        child.sendline(answer)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    return child.exitstatus, child.before


def test_typed_device_name_confirms(tmp_path, image):
    target = stand_in(tmp_path)
    status, output = confirm_on_terminal(image, target, target.name)
    assert status == 0, output
    assert f"verified: {IMAGE_BYTES} bytes match" in output
    assert_holds_image(target.read_bytes(), image, 2 * MIB)


@pytest.mark.parametrize("answer", ["y", "yes", "", "stick"])
def test_other_answers_cancel(tmp_path, image, answer):
    target = stand_in(tmp_path)
    status, output = confirm_on_terminal(image, target, answer)
    assert status == 1, output
    assert f"you typed '{answer}', not 'stick.img'" in output
    assert "Nothing was written." in output
    assert_untouched(target)


def test_refuses_a_target_smaller_than_the_image(tmp_path, image, no_dd):
    target = stand_in(tmp_path, size=IMAGE_BYTES - 512)
    result = write(image, target, "--yes", env=env_with(path_first=no_dd))
    refused(result, "too small", f"{IMAGE_BYTES} bytes")
    assert_untouched(target, IMAGE_BYTES - 512)


def test_refuses_a_path_that_does_not_exist(tmp_path, image, no_dd):
    missing = tmp_path / "sdz"
    result = write(image, missing, "--yes", env=env_with(path_first=no_dd))
    refused(result, f"{missing} does not exist")
    assert not missing.exists()


def test_a_bare_device_name_gets_a_hint(tmp_path, image, no_dd):
    """`sdb` instead of `/dev/sdb`: relative to the current directory it does
    not exist; the message points at /dev. (`zero` stands in for `sdb`.)"""
    result = subprocess.run([str(SCRIPT), str(image), "zero", "--yes"], cwd=tmp_path,
                            env=env_with(path_first=no_dd), stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=60)
    refused(result, "zero does not exist", "Did you mean /dev/zero?")


def test_refuses_a_regular_file_without_the_test_switch(tmp_path, image, no_dd):
    target = stand_in(tmp_path)
    result = write(image, target, "--yes", env=env_with(allow_file=False, path_first=no_dd))
    refused(result, "is a regular file, not a disk device")
    assert_untouched(target)


def test_refuses_a_directory(tmp_path, image, no_dd):
    result = write(image, tmp_path, "--yes", env=env_with(path_first=no_dd))
    refused(result, "is a directory, not a disk")


def test_refuses_a_character_device(image, no_dd):
    # /dev/null first; some sandboxes have replaced it with a plain file.
    for candidate in ("/dev/null", "/dev/zero", "/dev/full"):
        if stat.S_ISCHR(os.stat(candidate).st_mode):
            break
    else:
        pytest.skip("no character device among /dev/null, /dev/zero, /dev/full")
    result = write(image, candidate, "--yes", env=env_with(path_first=no_dd))
    refused(result, "is a character device, not a block device")


def test_refuses_the_image_itself(image, no_dd):
    before = image.read_bytes()
    result = write(image, image, "--yes", env=env_with(path_first=no_dd))
    refused(result, "is the image itself")
    assert image.read_bytes() == before


def test_a_failed_verify_is_loud(tmp_path, image):
    """A `dd` that claims success but writes nothing, like a fake stick."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "dd").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "dd").chmod(0o755)
    target = stand_in(tmp_path)
    result = write(image, target, "--yes", env=env_with(path_first=bin_dir))
    assert result.returncode == 3, result.stdout + result.stderr
    assert "VERIFY FAILED" in result.stderr
    assert "verified:" not in result.stdout


def test_no_device_prints_usage_and_candidates(image):
    result = write(image)
    assert result.returncode == 2
    assert "name the DEVICE" in result.stderr
    assert "./build.sh write DEVICE [--yes] [--force]" in result.stderr
    assert "Removable disks found now" in result.stderr or "No removable disk found" in result.stderr


def test_unknown_option_is_a_usage_error(tmp_path, image, no_dd):
    target = stand_in(tmp_path)
    result = write(image, target, "--yse", env=env_with(path_first=no_dd))
    assert result.returncode == 2
    assert "unknown option: --yse" in result.stderr
    assert_untouched(target)


def test_a_missing_tool_is_named_with_its_package(tmp_path, image):
    """PATH holds everything but lsblk."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for directory in ("/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"):
        if not os.path.isdir(directory):
            continue
        for name in os.listdir(directory):
            if name != "lsblk" and not (bin_dir / name).exists():
                (bin_dir / name).symlink_to(os.path.join(directory, name))
    env = dict(env_with(), PATH=str(bin_dir))
    target = stand_in(tmp_path)
    result = write(image, target, "--yes", env=env, cmd=[shutil.which("bash"), str(SCRIPT)])
    assert result.returncode == 1, result.stdout + result.stderr
    assert "lsblk (Debian package util-linux)" in result.stderr
    assert_untouched(target)


def test_a_target_we_may_not_write_suggests_sudo(image, no_dd):
    """As an ordinary user (root drops to `nobody` for this test)."""
    work = pathlib.Path(subprocess.check_output(["mktemp", "-d"], text=True).strip())
    try:
        work.chmod(0o755)
        shutil.copy(image, work / "disk.img")
        (work / "disk.img").chmod(0o644)
        target = stand_in(work)
        target.chmod(0o444)
        prefix = []
        if os.geteuid() == 0:
            setpriv = shutil.which("setpriv")
            if not setpriv:
                pytest.skip("running as root and setpriv is missing, so cannot act as a user")
            prefix = [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        result = write(work / "disk.img", target, "--yes", env=env_with(path_first=no_dd),
                       cmd=[*prefix, str(SCRIPT)])
        if result.returncode == 126 or "Permission denied" in result.stderr and "refusing" not in result.stderr:
            pytest.skip(f"user nobody cannot run {SCRIPT}: {result.stderr.strip()}")
        refused(result, "you may not write to", "sudo ")
        assert_untouched(target)
    finally:
        shutil.rmtree(work)


# ---- Through build.sh ----------------------------------------------------------

def test_build_sh_write_without_device_is_a_usage_error():
    result = subprocess.run([str(BUILD_SH), "write"], capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=600)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "./build.sh write DEVICE" in result.stderr


def test_build_sh_write_writes_the_built_image(tmp_path):
    target = stand_in(tmp_path)
    result = subprocess.run([str(BUILD_SH), "write", str(target), "--yes"],
                            capture_output=True, text=True, env=env_with(),
                            stdin=subprocess.DEVNULL, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    built = (BUILD / "disk.img").read_bytes()
    assert f"verified: {len(built)} bytes match" in result.stdout
    assert target.read_bytes()[:len(built)] == built


# ---- Real block devices: loop devices ------------------------------------------

def run_tool(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


class Loops:
    """Loop devices for one test, detached (and unmounted) afterwards."""

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.devices = []
        self.mounts = []

    def attach(self, backing, *options):
        result = run_tool("losetup", "-f", "--show", *options, str(backing))
        if result.returncode != 0:
            pytest.skip(f"loop devices do not work here: losetup: {result.stderr.strip()}")
        device = result.stdout.strip()
        self.devices.append(device)
        return device

    def mount(self, device):
        point = self.tmp_path / f"mnt{len(self.mounts)}"
        point.mkdir()
        result = run_tool("mount", device, str(point))
        if result.returncode != 0:
            pytest.skip(f"cannot mount a loop device here: {result.stderr.strip()}")
        self.mounts.append(point)
        return point

    def cleanup(self):
        for point in reversed(self.mounts):
            if run_tool("umount", str(point)).returncode != 0:
                run_tool("umount", "-l", str(point))
        for device in reversed(self.devices):
            run_tool("partx", "-d", device)
            run_tool("losetup", "-d", device)


@pytest.fixture
def loops(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("loop devices need root")
    if not shutil.which("losetup"):
        pytest.skip("losetup is not installed")
    if not os.path.isdir("/sys/block"):
        pytest.skip("no /sys on this machine (a bare chroot?): write-disk.sh cannot check a "
                    "disk without it and refuses it, which test_without_sys_a_disk_is_refused "
                    "checks")
    manager = Loops(tmp_path)
    try:
        yield manager
    finally:
        manager.cleanup()


def backing_file(tmp_path, size=4 * MIB, name="loop.img"):
    path = tmp_path / name
    path.write_bytes(FILL * size)
    return path


def write_partition_table(path):
    """One Linux partition from sector 2048 to the end of the first 3 MiB:
    with sfdisk when it is installed, else the same MBR entry by hand."""
    if shutil.which("sfdisk"):
        result = subprocess.run(["sfdisk", "-q", str(path)], input="2048,4096,83\n",
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return
    mbr = bytearray(512)            # the other three entries must be empty
    mbr[446:462] = struct.pack("<B3sB3sII", 0, bytes(3), 0x83, bytes(3), 2048, 4096)
    mbr[510:512] = b"\x55\xaa"
    with open(path, "r+b") as disk:
        disk.write(mbr)


def partition_of(device):
    """The first partition of a loop device attached with -P. Kernels built
    without the MBR parser do not find it; partx then reads the table itself
    and adds the partition explicitly."""
    part = f"{device}p1"
    for attempt in range(2):
        for _ in range(20):
            if os.path.exists(part) and stat.S_ISBLK(os.stat(part).st_mode):
                return part
            time.sleep(0.1)
        if attempt == 0 and shutil.which("partx"):
            run_tool("partx", "-a", device)
    pytest.skip(f"no partition device {part} appeared (kernel without partition support?)")


def test_a_whole_loop_device_is_written(tmp_path, loops, image):
    backing = backing_file(tmp_path)
    device = loops.attach(backing)
    result = write(image, device, "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"verified: {IMAGE_BYTES} bytes match" in result.stdout
    assert "loop file:" in result.stdout and str(backing) in result.stdout
    with open(device, "rb") as disk:
        assert_holds_image(disk.read(), image, 4 * MIB)


def test_a_partition_is_refused(tmp_path, loops, image, no_dd):
    backing = backing_file(tmp_path)
    write_partition_table(backing)
    device = loops.attach(backing, "-P")
    part = partition_of(device)
    before = backing.read_bytes()
    result = write(image, part, "--yes", env=env_with(path_first=no_dd))
    refused(result, f"write to the whole disk {device}, not to a partition")
    assert backing.read_bytes() == before


def test_a_mounted_loop_device_is_refused(tmp_path, loops, image, no_dd):
    if not shutil.which("mkfs.ext2"):
        pytest.skip("mkfs.ext2 (e2fsprogs) is not installed")
    backing = backing_file(tmp_path)
    assert run_tool("mkfs.ext2", "-q", "-F", str(backing)).returncode == 0
    device = loops.attach(backing)
    point = loops.mount(device)
    result = write(image, device, "--yes", env=env_with(path_first=no_dd))
    refused(result, f"is mounted on {point}", "umount")
    assert os.path.ismount(point)


def test_a_disk_with_a_mounted_partition_is_refused(tmp_path, loops, image, no_dd):
    if not shutil.which("mkfs.ext2"):
        pytest.skip("mkfs.ext2 (e2fsprogs) is not installed")
    backing = backing_file(tmp_path)
    write_partition_table(backing)
    device = loops.attach(backing, "-P")
    part = partition_of(device)
    assert run_tool("mkfs.ext2", "-q", "-F", part).returncode == 0
    point = loops.mount(part)
    result = write(image, device, "--yes", env=env_with(path_first=no_dd))
    refused(result, f"{part} is mounted on {point}")


def test_a_read_only_loop_device_is_refused(tmp_path, loops, image, no_dd):
    backing = backing_file(tmp_path)
    device = loops.attach(backing, "-r")
    result = write(image, device, "--yes", env=env_with(path_first=no_dd))
    refused(result, "is read-only")
    assert_untouched(backing, 4 * MIB)


def test_a_disk_larger_than_the_limit_needs_force(tmp_path, loops, image, no_dd):
    backing = tmp_path / "big.img"
    try:
        with open(backing, "wb") as big:
            big.truncate(300 << 30)         # sparse: takes no space
    except OSError as error:
        pytest.skip(f"cannot make a 300 GiB sparse file here: {error}")
    device = loops.attach(backing)

    result = write(image, device, "--yes", env=env_with(path_first=no_dd))
    refused(result, "larger than 256 GiB", "--force")

    result = write(image, device, "--yes", "--force")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"verified: {IMAGE_BYTES} bytes match" in result.stdout
    with open(device, "rb") as disk:
        assert disk.read(IMAGE_BYTES) == image.read_bytes()
    # Only the image went out: a few MiB allocated at most, not 300 GiB.
    assert backing.stat().st_blocks * 512 < 16 * MIB


def test_the_disk_holding_root_is_refused_before_asking(image, no_dd):
    """Names this machine's own system disk: no --yes, no terminal, and a
    fake dd, so that even a broken check cannot write to it."""
    source = run_tool("findmnt", "-n", "-o", "SOURCE", "--mountpoint", "/").stdout.strip()
    source = source.split("[")[0]           # btrfs: /dev/sda2[/@]
    if not source.startswith("/dev/") or not stat.S_ISBLK(os.stat(source).st_mode):
        pytest.skip(f"/ is not mounted from a block device here ({source or 'unknown'})")
    # The whole disk(s) under / (through partitions, LVM, encryption).
    lines = run_tool("lsblk", "-nslp", "-o", "NAME,TYPE", source).stdout.split()
    disks = [name for name, kind in zip(lines[::2], lines[1::2]) if kind == "disk"]
    if not disks:
        pytest.skip(f"cannot find the disk under {source}")
    for disk in disks:
        result = write(image, disk, env=env_with(path_first=no_dd))
        refused(result, f"{disk} holds the running system", "/ is mounted from")
        assert "type the device name" not in result.stdout


def test_without_sys_a_disk_is_refused(tmp_path, image, no_dd):
    """On a machine without /sys (a bare chroot) write-disk.sh cannot tell
    a disk's size, partitions or mounts: it refuses, saying why. Where /sys
    is there, a private mount namespace hides it under a tmpfs."""
    if os.geteuid() != 0 or not shutil.which("losetup"):
        pytest.skip("loop devices need root and losetup")
    loops = Loops(tmp_path)
    try:
        device = loops.attach(backing_file(tmp_path))
        command = [str(SCRIPT)]
        if os.path.isdir("/sys/block"):
            if not shutil.which("unshare"):
                pytest.skip("unshare is not installed")
            # Private: /sys itself (/ is no mount point in a chroot).
            command = ["unshare", "--mount", "--propagation", "unchanged", "bash", "-c",
                       'mount --make-rprivate /sys && mount -t tmpfs none /sys && exec "$0" "$@"',
                       str(SCRIPT)]
        result = write(image, device, "--yes", env=env_with(path_first=no_dd), cmd=command)
        refused(result, f"{device} is a block device the kernel does not list in /sys; "
                        "cannot check it.")
    finally:
        loops.cleanup()
