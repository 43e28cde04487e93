"""Every value the docs quote from the build matches this build.

The docs mark such values (sizes, addresses, checksums, line numbers,
listing excerpts, debugger and serial transcripts) with
`<!-- build: NAME -->...<!-- /build -->`; tests/docs/refresh.py computes
each NAME from the build, by the commands the docs show, and
`./build.sh docs` writes them in. Here the same computation runs and every
marked value must be what the docs say; a failure names the document, the
line, both texts, and the command that brings the docs up to date.
"""
import difflib
import os
import re
import subprocess
import sys

import pytest

from docs import refresh
from support.marks import docs_toolchain_only
from support.paths import ROOT

quoting_build_only = docs_toolchain_only("the docs quote")

DOCS = refresh.documents()
DOC_IDS = [str(doc.relative_to(ROOT)) for doc in DOCS]
REFRESH_HINT = "run ./build.sh docs to write this build's values into the docs"


@quoting_build_only
@pytest.mark.parametrize("doc", DOCS, ids=DOC_IDS)
def test_quoted_build_values_match_this_build(doc):
    differences, problems = refresh.check(doc)
    name = doc.relative_to(ROOT)
    report = [f"{name}:{line}: {problem}" for line, problem in problems]
    for line, value, quoted, actual in differences:
        diff = "\n".join(difflib.unified_diff(quoted.splitlines(), actual.splitlines(),
                                              "the doc says", "this build gives", lineterm=""))
        report.append(f"{name}:{line}: build value {value!r} is out of date ({REFRESH_HINT}):\n"
                      f"{diff}")
    assert not report, "\n".join(report)


def test_the_course_marks_its_values():
    """Each course chapter that quotes the build marks what it quotes, so
    that the check above covers it."""
    course = sorted((ROOT / "docs" / "course").glob("[0-9][0-9]-*.md"))
    unmarked = [str(path.relative_to(ROOT)) for path in course[:9]
                if not refresh.MARKER.search(path.read_text())]
    assert not unmarked, f"chapters with no marked build value: {unmarked}"


def test_every_value_is_used():
    """A value no document marks any more is dead code in refresh.py."""
    used = {name for doc in DOCS for _, name, _, _ in refresh.markers(doc.read_text())}
    assert not set(refresh.VALUES) - used, sorted(set(refresh.VALUES) - used)


def test_the_check_sees_a_stale_value(tmp_path):
    """A document with a wrong value fails the check; refresh() repairs it."""
    doc = tmp_path / "doc.md"
    doc.write_text("The kernel is <!-- build: kernel-bytes -->12345<!-- /build --> bytes.\n"
                   "<!-- build: stage2-sectors -->\n```\nold\n```\n<!-- /build -->\n")
    differences, problems = refresh.check(doc)
    assert not problems
    assert [(line, name, quoted) for line, name, quoted, _ in differences] == \
        [(1, "kernel-bytes", "12345"), (2, "stage2-sectors", "```\nold\n```")]
    assert refresh.refresh(doc)
    assert refresh.check(doc) == ([], [])
    assert re.search(r"build: kernel-bytes -->\d+<!-- /build --> bytes", doc.read_text())


def test_broken_markers_are_reported(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("<!-- build: no-such-value -->1<!-- /build -->\n"
                   "<!-- build: kernel-bytes -->2\n")
    _, problems = refresh.check(doc)
    assert any("unknown build value 'no-such-value'" in problem for _, problem in problems)
    assert any("complete" in problem for _, problem in problems)


def test_markers_shown_in_code_spans_are_not_markers():
    """The README shows the comments in code spans to explain them; a
    marker between two code spans is still one."""
    text = ("Mark with `<!-- build: NAME -->` and `<!-- /build -->`.\n"
            "`mkimage info` and <!-- build: pt-rodata -->`pt 0x1`<!-- /build --> show it.\n")
    assert [(line, name, body) for line, name, body, _ in refresh.markers(text)] == \
        [(2, "pt-rodata", "`pt 0x1`")]


def test_refresh_refuses_another_toolchains_build(tmp_path):
    """The docs quote the gnu build: refreshing them from another
    toolchain's build would write its addresses in, so it is refused."""
    (tmp_path / "toolchain.txt").write_text("llvm\n")
    result = subprocess.run([sys.executable, str(ROOT / "tests" / "docs" / "refresh.py")],
                            capture_output=True, text=True,
                            env=dict(os.environ, BUILD_DIR=str(tmp_path)))
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"the docs quote the TOOLCHAIN=gnu build, and {tmp_path} was built with " \
           "TOOLCHAIN=llvm: run TOOLCHAIN=gnu ./build.sh docs" in result.stderr
