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


# The two builds of mkimage (image/Makefile): the plain one, and the same
# code under AddressSanitizer and UBSan. A test marked sanitized_mkimage
# (or in a module whose pytestmark has it) runs once with each.
MKIMAGE_BUILDS = ("mkimage", "mkimage-asan")
SANITIZED_MKIMAGE_MARK = "sanitized_mkimage"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", f"{SANITIZED_MKIMAGE_MARK}: run the test with each of {', '.join(MKIMAGE_BUILDS)}")


def pytest_generate_tests(metafunc):
    if "mkimage" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
            SANITIZED_MKIMAGE_MARK):
        metafunc.parametrize("mkimage", MKIMAGE_BUILDS, indirect=True, scope="session")


@pytest.fixture(scope="session")
def sanitizer_report_dir(tmp_path_factory):
    """Where the sanitized programs write their reports: ASan and UBSan add
    .PID to log_path. A report printed on stderr could go unnoticed by a
    test that expects mkimage to fail anyway; a file cannot (see
    no_sanitizer_reports)."""
    directory = tmp_path_factory.mktemp("sanitizer-reports")
    log = f"log_path={directory / 'report'}"
    # UBSan's print_stacktrace: where the undefined behaviour happened.
    mp = pytest.MonkeyPatch()
    mp.setenv("ASAN_OPTIONS", log)
    mp.setenv("UBSAN_OPTIONS", f"{log}:print_stacktrace=1")
    yield directory
    mp.undo()


def sanitizer_reports(directory):
    """The reports in `directory`, each as (file name, text); removes them."""
    reports = []
    for path in sorted(directory.iterdir()):
        reports.append((path.name, path.read_text(errors="replace")))
        path.unlink()
    return reports


@pytest.fixture(scope="session")
def mkimage(request, sanitizer_report_dir):
    name = getattr(request, "param", MKIMAGE_BUILDS[0])
    tool = BUILD / "image" / name
    if not tool.exists():
        # ./build.sh build makes the plain mkimage; ./build.sh test also the
        # sanitizer build, through tests/Makefile.
        how = "./build.sh build" if name == MKIMAGE_BUILDS[0] else "./build.sh test (or make -C tests)"
        pytest.fail(f"{tool} is missing: run {how} first")
    return tool


@pytest.fixture(autouse=True)
def no_sanitizer_reports(request):
    """Fails a test during which a sanitized program wrote a report, even if
    the program's exit status was what the test expected."""
    yield
    if "sanitizer_report_dir" not in request.fixturenames:
        return
    reports = sanitizer_reports(request.getfixturevalue("sanitizer_report_dir"))
    if reports:
        pytest.fail("sanitizer report(s):\n" + "\n".join(f"{name}:\n{text}" for name, text in reports),
                    pytrace=False)


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
