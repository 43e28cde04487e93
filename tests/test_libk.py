"""libk's host unit tests (tests/unit/test_libk.c), one pytest test each.

The cmocka program lists its tests with --list and runs a single one when
given its name, so each C test passes or fails on its own here, with the
program's output in the failure report.
"""
import subprocess

import pytest

from conftest import BUILD

PROGRAM = BUILD / "tests" / "test_libk"
TIMEOUT_SECONDS = 60


def _list_tests():
    """The names of the cmocka tests, or [] when the program is missing."""
    if not PROGRAM.exists():
        return []
    result = subprocess.run(
        [str(PROGRAM), "--list"],
        capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{PROGRAM} --list failed with status {result.returncode}:\n"
            f"{result.stdout}{result.stderr}")
    return result.stdout.split()


TEST_NAMES = _list_tests()


if TEST_NAMES:
    @pytest.mark.parametrize("name", TEST_NAMES)
    def test_libk(name):
        # cmocka reports on both streams; merge them to keep the order.
        result = subprocess.run(
            [str(PROGRAM), name],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            timeout=TIMEOUT_SECONDS, check=False,
        )
        if result.returncode != 0:
            pytest.fail(f"{name} failed (exit status {result.returncode}):\n"
                        f"{result.stdout}", pytrace=False)
else:
    # Without the program there is nothing to parametrize over; a missing
    # build must still show up as a failure rather than as zero tests.
    def test_libk_program_exists():
        if not PROGRAM.exists():
            pytest.fail(f"{PROGRAM} is missing: run ./build.sh build first")
        pytest.fail(f"{PROGRAM} --list printed no test names")
