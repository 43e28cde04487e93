"""The fuzzing machinery (tests/fuzz/, `./build.sh fuzz`) finds what it must.

A fuzzer that cannot fail looks exactly like one that finds nothing, so:
the `selftest` target has a planted bug, and `./build.sh fuzz selftest`
must find it, keep the input that triggers it and exit non-zero; each real
harness must pass on its own seed corpus (the inputs CI starts from), and
each harness's own checks (not only the sanitizers) must fire on an input
that breaks them.
"""
import os
import subprocess

import pytest

from support.paths import BUILD, ROOT

TARGETS = ("mkimage_build", "mkimage_info", "vsnprintf", "memory_map", "line_editor")
FUZZ_BIN = BUILD / "fuzz" / "bin"
CORPUS = ROOT / "tests" / "fuzz" / "corpus"
# How long the planted bug may take to find: libFuzzer's comparison tracing
# finds "BUG" in a few hundred executions, well under a second.
SELFTEST_SECONDS = 30


@pytest.fixture(scope="module")
def harnesses():
    subprocess.run(["make", "--no-print-directory", "-C", str(ROOT / "tests" / "fuzz"),
                    f"BUILD={BUILD}"], check=True, capture_output=True)
    return FUZZ_BIN


def harness_environment():
    """The environment without the suite's sanitizer log files (conftest's
    sanitizer_report_dir): these tests provoke reports on purpose and read
    them on stderr, where libFuzzer and ./build.sh fuzz expect them; in the
    shared report directory they would fail whichever test ran next."""
    return {name: value for name, value in os.environ.items()
            if name not in ("ASAN_OPTIONS", "UBSAN_OPTIONS")}


def run_harness(harnesses, target, *inputs):
    return subprocess.run([str(harnesses / f"fuzz_{target}"), *map(str, inputs)],
                          capture_output=True, text=True, timeout=120,
                          env=harness_environment())


def test_build_sh_fuzz_finds_the_planted_bug_and_fails():
    kept = BUILD / "fuzz" / "selftest"
    for old in kept.glob("crash-*"):
        old.unlink()
    result = subprocess.run([str(ROOT / "build.sh"), "fuzz", "selftest", str(SELFTEST_SECONDS)],
                            capture_output=True, text=True, timeout=SELFTEST_SECONDS + 300,
                            env={**harness_environment(), "BUILD_DIR": str(BUILD)})
    assert result.returncode != 0, result.stdout + result.stderr
    assert "build.sh: fuzz: selftest: " in result.stdout
    assert "1 findings" in result.stdout, result.stdout
    assert "findings in selftest" in result.stderr, result.stderr
    crashes = list(kept.glob("crash-*"))
    assert len(crashes) == 1, crashes
    assert crashes[0].read_bytes().startswith(b"BUG")
    assert "reproduce: " in result.stdout + result.stderr


def test_a_kept_crash_input_reproduces(harnesses, tmp_path):
    crash = tmp_path / "crash-input"
    crash.write_bytes(b"BUG!")
    result = run_harness(harnesses, "selftest", crash)
    assert result.returncode != 0
    assert "fuzz_selftest.c" in result.stderr and "SUMMARY:" in result.stderr, result.stderr


@pytest.mark.parametrize("target", TARGETS)
def test_harness_passes_its_seed_corpus(harnesses, target):
    seeds = sorted((CORPUS / target).iterdir())
    assert seeds, f"tests/fuzz/corpus/{target}/ is empty"
    result = run_harness(harnesses, target, *seeds)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Executed {seeds[-1]}" in result.stderr


# Stand-ins for libk that get one thing wrong, linked into the real
# harnesses: the harness's own checks must report each.
BROKEN_SANITISER = r"""
#include <stddef.h>
#include "libk/memory_map.h"
size_t libk_memory_map_sanitise(const struct memory_range *in, size_t in_count,
                                struct memory_range *out, size_t out_capacity)
{
    (void)in;
    (void)in_count;
    if (out_capacity >= 2) { /* two overlapping usable ranges */
        out[0] = (struct memory_range){0x1000, 0x2000, MEMORY_TYPE_USABLE};
        out[1] = (struct memory_range){0x2000, 0x2000, MEMORY_TYPE_USABLE};
    }
    return 2;
}
"""

BROKEN_SNPRINTF = r"""
#include <stdarg.h>
#include <stdio.h>
int libk_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (size > 1 && n > 0)
        buf[0] ^= 1; /* one bit off in the first character */
    return n;
}
"""


def harness_with(tmp_path, target, stand_in, *include_dirs):
    source = tmp_path / "stand_in.c"
    source.write_text(stand_in)
    binary = tmp_path / f"fuzz_{target}_broken"
    subprocess.run(["clang", "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-g",
                    "-fsanitize=fuzzer,address,undefined",
                    *(f"-I{d}" for d in include_dirs), "-I", str(ROOT / "tests" / "fuzz"),
                    "-o", str(binary), str(ROOT / "tests" / "fuzz" / f"fuzz_{target}.c"),
                    str(source)], check=True, capture_output=True)
    return binary


def test_memory_map_harness_reports_a_wrong_map(tmp_path):
    binary = harness_with(tmp_path, "memory_map", BROKEN_SANITISER, ROOT / "libk" / "include")
    seeds = sorted((CORPUS / "memory_map").iterdir())
    result = subprocess.run([str(binary), str(seeds[0])], capture_output=True, text=True,
                            timeout=60, env=harness_environment())
    assert result.returncode != 0
    assert "fuzz_memory_map: output range 1: overlaps" in result.stderr, result.stderr[-2000:]


def test_vsnprintf_harness_reports_a_difference(tmp_path):
    binary = harness_with(tmp_path, "vsnprintf", BROKEN_SNPRINTF, ROOT / "tests" / "unit",
                          ROOT / "libk" / "include")
    seeds = sorted((CORPUS / "vsnprintf").iterdir())
    result = subprocess.run([str(binary), str(seeds[0])], capture_output=True, text=True,
                            timeout=60, env=harness_environment())
    assert result.returncode != 0
    assert "fuzz_vsnprintf: format" in result.stderr, result.stderr[-2000:]
    assert "libk returned" in result.stderr
