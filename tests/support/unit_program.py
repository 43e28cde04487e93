"""Run a cmocka unit program from tests/unit/ one test at a time.

Each program (tests/unit/NAME.c, built as $(BUILD)/tests/NAME) lists its
tests with --list and runs a single one when given its name, so each C
test passes or fails on its own in pytest, with the program's output in
the failure report. A test module needs two lines:

    from support.unit_program import unit_tests
    test_memory_map = unit_tests("test_memory_map")
"""
import subprocess

import pytest

from support.paths import BUILD

TIMEOUT_SECONDS = 60


def _list_tests(program):
    """The names of the cmocka tests, or [] when the program is missing."""
    if not program.exists():
        return []
    result = subprocess.run(
        [str(program), "--list"],
        capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{program} --list failed with status {result.returncode}:\n"
            f"{result.stdout}{result.stderr}")
    return result.stdout.split()


def unit_tests(program_name):
    """A pytest test function parametrized over the program's tests (or,
    when the program is missing or lists nothing, one test that fails and
    says so: a missing build must not look like zero tests)."""
    program = BUILD / "tests" / program_name
    names = _list_tests(program)

    if not names:
        def program_exists():
            if not program.exists():
                pytest.fail(f"{program} is missing: run ./build.sh build first")
            pytest.fail(f"{program} --list printed no test names")
        return program_exists

    @pytest.mark.parametrize("name", names)
    def run(name):
        # cmocka reports on both streams; merge them to keep the order.
        result = subprocess.run(
            [str(program), name],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            timeout=TIMEOUT_SECONDS, check=False,
        )
        if result.returncode != 0:
            pytest.fail(f"{name} failed (exit status {result.returncode}):\n"
                        f"{result.stdout}", pytrace=False)
    return run
