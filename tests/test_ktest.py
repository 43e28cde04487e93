"""The kernel's own tests (kernel/ktest/ktest.h), run inside the real
kernel in QEMU and reported here one pytest result per kernel test.

The kernel lists its tests in the linker section .ktests; each one's
descriptor is a static symbol `ktest_<name>` in .rodata, which is how we
know, from the ELF alone, which results to expect. One boot with the
command line `test` runs them all; each pytest test below reads its line.
"""
import os
import re
import subprocess

import pytest

from support.images import build_image
from support.paths import BUILD, ROOT
from support.qemu import KERNEL_EXIT_FAILURE, KERNEL_EXIT_SUCCESS, boot

KERNEL_ELF = BUILD / "kernel" / "kernel.elf"
RESULT_LINE = re.compile(r"^ktest: (PASS|FAIL) (\w+)(?:: (.*))?$", re.M)
SUMMARY_LINE = re.compile(r"^ktest: (\d+) passed, (\d+) failed$", re.M)
# A hung test is caught here: the whole run must end well within this.
RUN_TIMEOUT_SECONDS = 120


def kernel_test_names(elf=KERNEL_ELF):
    """Names of the tests compiled into the kernel, from its symbol table."""
    if not elf.exists():
        return []
    output = subprocess.run(["nm", str(elf)], capture_output=True, text=True, check=True).stdout
    names = []
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "rR" and parts[2].startswith("ktest_") \
                and not parts[2].startswith("ktest_body_"):
            names.append(parts[2][len("ktest_"):])
    return sorted(names)


def run_kernel_tests(image, memory="128M"):
    result = boot(image, memory=memory, timeout=RUN_TIMEOUT_SECONDS)
    results = {}
    for match in RESULT_LINE.finditer(result.serial.replace("\r", "")):
        results[match[2]] = (match[1], match[3] or "")
    return result, results


@pytest.fixture(scope="session")
def kernel_run(tmp_path_factory):
    image = build_image(tmp_path_factory.mktemp("ktest") / "ktest.img", cmdline="test")
    return run_kernel_tests(image)


NAMES = kernel_test_names()


def test_kernel_has_tests():
    assert KERNEL_ELF.exists(), f"{KERNEL_ELF} is missing: run ./build.sh build"
    assert NAMES, "no ktest descriptors found in the kernel's symbol table"


@pytest.mark.parametrize("name", NAMES)
def test_in_kernel(kernel_run, name):
    result, results = kernel_run
    assert name in results, f"kernel test {name} printed no result (hung or crashed?)\n{result.serial}"
    outcome, detail = results[name]
    assert outcome == "PASS", f"{name}: {detail}\n--- serial ---\n{result.serial}"


def test_run_ends_with_summary_and_status(kernel_run):
    result, results = kernel_run
    summary = SUMMARY_LINE.search(result.serial.replace("\r", ""))
    assert summary, result.serial
    passed, failed = int(summary[1]), int(summary[2])
    assert passed + failed == len(NAMES) == len(results), result.serial
    expected = KERNEL_EXIT_SUCCESS if failed == 0 else KERNEL_EXIT_FAILURE
    assert result.exit_code == expected, result.serial


def test_pattern_selects_tests(tmp_path):
    image = build_image(tmp_path / "pattern.img", cmdline="test=assertions_that_hold")
    result, results = run_kernel_tests(image)
    assert list(results) == ["ktest_assertions_that_hold_pass"], result.serial
    assert "ktest: start 1 tests matching assertions_that_hold" in result.serial
    assert result.exit_code == KERNEL_EXIT_SUCCESS


def test_a_failing_assertion_is_reported(tmp_path):
    """A kernel built with a test that must fail: its line names the file,
    line, expression and both values, and the VM ends with the failure status."""
    build = tmp_path / "build"
    env = dict(os.environ)
    make = ["make", "--no-print-directory", f"BUILD={build}"]
    subprocess.run(make + ["-C", str(ROOT / "libk"), "kernel"], check=True, capture_output=True)
    subprocess.run(make + ["-C", str(ROOT / "kernel"),
                           "KERNEL_EXTRA_CFLAGS=-DKTEST_DEMONSTRATE_FAILURE"],
                   check=True, capture_output=True, env=env)
    kernel = build / "kernel" / "kernel-stripped.elf"
    image = build_image(tmp_path / "fail.img", kernel=kernel, cmdline="test=ktest_")
    result, results = run_kernel_tests(image)
    outcome, detail = results["ktest_demonstrate_failure"]
    assert outcome == "FAIL", result.serial
    assert re.fullmatch(r"ktest/ktest_selftest\.c:\d+: 2 \+ 2 == 5 \(left 4 = 0x4, right 5 = 0x5\)",
                        detail), detail
    assert results["ktest_assertions_that_hold_pass"][0] == "PASS"
    assert "ktest: 1 passed, 1 failed" in result.serial
    assert result.exit_code == KERNEL_EXIT_FAILURE
