"""./build.sh test on a machine without pseudo-terminals.

A bare chroot made by debootstrap, with /dev bind-mounted without
/dev/pts, has none; the tests need them (pexpect, Bochs's terminal
display). There, as root, `./build.sh test` runs the suite through
tests/with_private_mounts.sh, which gives it a devpts instance of its own
in a private mount namespace. Here such a machine is made by hiding
/dev/pts under a tmpfs, itself inside a private mount namespace.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from support.paths import ROOT

SCRIPT = ROOT / "tests" / "with_private_mounts.sh"
BUILD_SH = ROOT / "build.sh"
OPEN_A_PTY = f"{sys.executable} -c 'import os; m, s = os.openpty(); print(\"pty\", os.ttyname(s))'"

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("unshare") or not os.path.ismount("/dev"),
    reason="needs root, unshare and /dev a mount point, to make a machine without "
           "pseudo-terminals")


def without_ptys(command, env=None, timeout=120):
    """Run the shell `command` where /dev/pts is hidden, as in a bare chroot:
    in a mount namespace of its own, /dev made private there (not /, which
    is no mount point in a chroot), a tmpfs over /dev/pts."""
    return subprocess.run(["unshare", "--mount", "--propagation", "unchanged", "bash", "-c",
                           "mount --make-rprivate /dev && mount -t tmpfs none /dev/pts && "
                           + command],
                          capture_output=True, text=True, env=env, timeout=timeout)


def pty_mounts():
    return [line for line in open("/proc/self/mounts").read().splitlines()
            if line.split()[1] in ("/dev/pts", "/dev/ptmx", "/sys")]


def test_without_ptys_the_script_gives_some():
    result = without_ptys(f"{OPEN_A_PTY}; echo status $?; {SCRIPT} {OPEN_A_PTY}")
    # Opening /dev/ptmx fails: ENODEV here, ENOENT in a bare chroot.
    assert "Error" in result.stderr and "status 1" in result.stdout, result
    assert "pty /dev/pts/0" in result.stdout, result


def test_the_hosts_mounts_are_untouched():
    before = pty_mounts()
    result = subprocess.run([str(SCRIPT), "true"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert pty_mounts() == before


def test_it_refuses_to_run_without_root():
    # A copy that user nobody can read (the checkout may be under /root).
    with tempfile.TemporaryDirectory() as directory:
        os.chmod(directory, 0o755)
        script = shutil.copy(SCRIPT, directory)
        os.chmod(script, 0o755)
        result = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                 script, "true"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "with_private_mounts.sh: needs root" in result.stderr


def test_build_sh_test_runs_a_pty_test_where_there_are_none():
    env = dict(os.environ, PYTEST_ARGS="-k test_headings_are_bold_only_on_a_terminal")
    result = without_ptys(f"{BUILD_SH} test", env=env, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "build.sh: no pseudo-terminals here" in output
    assert "1 passed" in output, output[-3000:]
