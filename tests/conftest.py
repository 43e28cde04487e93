"""Fixtures shared by the test modules. The helpers they share are in
support/ (see support/__init__.py)."""
import pytest

from support.bochs import BochsMissing, find_bochs
from support.grub import GrubMissing, check_grub
from support.images import build_image
from support.linux import LinuxSetupError, initramfs, linux_kernel
from support.paths import BUILD, ROOT


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def build_dir():
    return BUILD


@pytest.fixture(scope="session")
def mkimage():
    tool = BUILD / "image" / "mkimage"
    if not tool.exists():
        pytest.fail(f"{tool} is missing: run ./build.sh build first")
    return tool


@pytest.fixture(scope="session")
def exit_image(tmp_path_factory):
    """Our kernel with the command line `qemu-exit`: it ends the VM when done."""
    return build_image(tmp_path_factory.mktemp("image") / "exit.img")


@pytest.fixture(scope="session")
def bochs_installed():
    """A missing Bochs is a failure, not a skip: ./build.sh test installs it."""
    try:
        return find_bochs()
    except BochsMissing as error:
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def grub():
    """A missing GRUB is a failure, not a skip: ./build.sh test installs it."""
    try:
        check_grub()
    except GrubMissing as error:
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def linux():
    """(Debian's bzImage, our initramfs); a missing one fails the tests
    with the reason (support/linux.py fetches and builds them)."""
    try:
        return linux_kernel().bzimage, initramfs()
    except LinuxSetupError as error:
        pytest.fail(str(error))
