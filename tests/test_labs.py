"""The labs: markers in the real sources (tests/labs/markers.py), the
starting points `./build.sh lab NAME` makes, and the grader.

For every lab: its starting point builds and the grader gives it less than
full marks (the checks are not vacuous), and the finished code in this tree
gets full marks. Broken markers are clear errors. `lab start` is run in a
clone of this tree, as a student would.
"""
import os
import re
import shutil
import subprocess
import sys

import pytest

from labs import markers
from labs.catalog import all_labs
from support.paths import BUILD, ROOT

LAB_PY = ROOT / "tests" / "labs" / "lab.py"
LABS = all_labs()
LAB_NAMES = [lab.name for lab in LABS]
BUILD_TIMEOUT_SECONDS = 300
GRADE_TIMEOUT_SECONDS = 600


def lab_py(*args, cwd=ROOT, build=BUILD, root=ROOT):
    """Run tests/labs/lab.py of the tree at `root`; the CompletedProcess."""
    return subprocess.run([sys.executable, str(root / "tests" / "labs" / "lab.py"), *args],
                          cwd=cwd, capture_output=True, text=True, timeout=GRADE_TIMEOUT_SECONDS,
                          env=dict(os.environ, BUILD_DIR=str(build)))


def copy_tree(destination):
    """The files of this tree that git knows or would know (tracked, or new
    and not ignored), as they are now, into `destination`."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def toolchain_env(build):
    """The environment for building a copy with this build's toolchain."""
    env = dict(os.environ, BUILD_DIR=str(build))
    recorded = BUILD / "toolchain.txt"
    if recorded.exists():
        env["TOOLCHAIN"] = recorded.read_text().strip()
    return env


# ---- markers ------------------------------------------------------------------

SAMPLE = """\
before
    ; LAB demo BEGIN
    ; TODO: do the thing
    ; HINT: like this
    ; STUB: stc
    ; STUB: ret
    mov ax, 1
    ret
    ; LAB demo END
after
"""


def test_a_starting_point_keeps_the_todo_and_hints_and_puts_the_stub_in_place():
    text, count = markers.starting_point(SAMPLE, "demo", "sample.asm")
    assert count == 1
    assert text == ("before\n    ; LAB demo BEGIN\n    ; TODO: do the thing\n"
                    "    ; HINT: like this\n    stc\n    ret\n    ; LAB demo END\nafter\n")


def test_other_labs_blocks_are_left_alone():
    assert markers.starting_point(SAMPLE, "other", "sample.asm") == (SAMPLE, 0)


BROKEN = {
    "no END": ("    ; LAB demo BEGIN\n    ; TODO: t\n    nop\n",
               "sample.asm:1: `LAB demo BEGIN` has no `LAB demo END` before the end of the file"),
    "nested": ("; LAB demo BEGIN\n; TODO: t\n; LAB inner BEGIN\n; TODO: u\n; LAB inner END\n"
               "; LAB demo END\n",
               "sample.asm:3: `LAB inner BEGIN` inside lab demo (begun at line 1): lab blocks "
               "cannot nest"),
    "END alone": ("nop\n; LAB demo END\n",
                  "sample.asm:2: `LAB demo END` without a `LAB demo BEGIN` before it"),
    "END of another lab": ("; LAB demo BEGIN\n; TODO: t\n; LAB other END\n",
                           "sample.asm:3: `LAB other END` closes lab demo (begun at line 1); "
                           "write `LAB demo END`"),
    "no TODO": ("; LAB demo BEGIN\nnop\n; LAB demo END\n",
                "sample.asm:1: lab demo's block has no TODO line"),
    "TODO after code": ("; LAB demo BEGIN\n; TODO: t\nnop\n; HINT: h\n; LAB demo END\n",
                        "sample.asm:4: a HINT line of lab demo after its code"),
    "a typo": ("; LAB demo BEGINN\n", "sample.asm:1: this line looks like a lab marker but is "
               "not one"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_broken_markers_are_clear_errors(case):
    text, message = BROKEN[case]
    with pytest.raises(markers.MarkerError) as error:
        markers.parse(text, "sample.asm")
    assert message in str(error.value)


def test_the_command_refuses_a_tree_with_a_removed_end(tmp_path):
    """The real tool on a copy whose first lab block lost its END line."""
    tree = copy_tree(tmp_path / "tree")
    lab = LABS[0]
    path = next(path for path in sorted(tree.rglob("*"))
                if path.is_file() and path.relative_to(tree).parts[0] != "tests"
                and f"LAB {lab.name} END" in path.read_text(errors="replace"))
    lines = path.read_text().splitlines(keepends=True)
    end = next(i for i, line in enumerate(lines) if f"LAB {lab.name} END" in line)
    path.write_text("".join(lines[:end] + lines[end + 1:]))
    result = lab_py("stub", lab.name, str(tree), root=tree, cwd=tree)
    assert result.returncode == 2, result.stdout + result.stderr
    # The block's BEGIN now runs into the next block of the lab, or to the
    # end of the file: either way the message names the file and the line.
    assert f"lab: {path.relative_to(tree)}:" in result.stderr, result.stderr
    assert f"`LAB {lab.name} BEGIN` inside lab {lab.name}" in result.stderr \
        or f"`LAB {lab.name} BEGIN` has no `LAB {lab.name} END`" in result.stderr, result.stderr


# ---- the catalog against the sources and the course ------------------------------

def test_the_course_has_at_least_ten_labs_in_the_order_of_the_boot():
    """Issue 12: at least ten labs, from stage 1 to the kernel's memory."""
    from labs.catalog import LAB_ORDER
    assert len(LABS) >= 10, LAB_NAMES
    assert LAB_NAMES == [name for name in LAB_ORDER if name in LAB_NAMES], LAB_NAMES


def test_every_marker_in_the_sources_is_sound_and_every_lab_has_one():
    result = lab_py("check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"of {len(LABS)} labs" in result.stdout


def test_every_lab_has_a_handout_linked_from_its_chapter():
    for lab in LABS:
        handout = ROOT / lab.handout
        assert handout.is_file(), f"lab {lab.name}: {lab.handout} is missing"
        chapter = (ROOT / lab.chapter).read_text()
        link = os.path.relpath(handout, (ROOT / lab.chapter).parent)
        assert f"({link})" in chapter, f"{lab.chapter} does not link to {link}"
        assert f"./build.sh lab {lab.name}" in handout.read_text()
        assert f"./build.sh grade {lab.name}" in handout.read_text()



# "stage2: error: ... (lab NAME: ...)": what a stub that stops the loader
# prints, as a handout quotes it (in a code block or in backticks).
STUB_ERROR = re.compile(r"stage2: error: ([^`\n]*\(lab [a-z0-9_]+[^`\n]*)")


def test_the_stub_errors_a_handout_quotes_are_the_stubs_own():
    stub_lines = {}
    for path in sorted((ROOT / "bootloader").rglob("*")):
        if path.is_file() and markers.comment_prefix(path):
            for block in markers.parse(path.read_text(), str(path)):
                stub_lines.setdefault(block.lab, []).extend(block.stub)
    for lab in LABS:
        for message in STUB_ERROR.findall((ROOT / lab.handout).read_text()):
            assert any(message in line for line in stub_lines.get(lab.name, [])), \
                f"{lab.handout} quotes {message!r}, which no STUB line of lab {lab.name} prints"

def test_the_lab_list_shows_every_lab_with_its_points():
    result = subprocess.run([str(ROOT / "build.sh"), "lab"], capture_output=True, text=True,
                            env=dict(os.environ, BUILD_DIR=str(BUILD)))
    assert result.returncode == 0, result.stderr
    for lab in LABS:
        assert f"{lab.name}  " in result.stdout and f"({lab.points} points, " in result.stdout


def test_an_unknown_lab_is_named_with_the_list():
    result = lab_py("grade", "no_such_lab")
    assert result.returncode == 2
    assert "there is no lab called 'no_such_lab'; the labs are: " + ", ".join(LAB_NAMES) \
        in result.stderr


# ---- each lab: the solution gets full marks, the starting point does not -----------

@pytest.mark.parametrize("name", LAB_NAMES)
def test_the_finished_code_gets_full_marks(name):
    result = lab_py("grade", name)
    lab = next(lab for lab in LABS if lab.name == name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Score: {lab.points}/{lab.points}" in result.stdout
    assert result.stdout.count(" ... OK ") == len(lab.checks), result.stdout


@pytest.mark.parametrize("name", LAB_NAMES)
def test_the_starting_point_builds_and_scores_below_full_marks(name, tmp_path):
    tree = copy_tree(tmp_path / "tree")
    stubbed = lab_py("stub", name, str(tree), root=tree, cwd=tree)
    assert stubbed.returncode == 0 and stubbed.stdout.strip(), stubbed.stdout + stubbed.stderr
    build = tmp_path / "build"
    built = subprocess.run([str(tree / "build.sh"), "build"], cwd=tree, capture_output=True,
                           text=True, env=toolchain_env(build), timeout=BUILD_TIMEOUT_SECONDS)
    assert built.returncode == 0, f"the starting point of lab {name} does not build:\n" \
        f"{built.stdout[-3000:]}{built.stderr[-3000:]}"
    graded = lab_py("grade", name, root=tree, cwd=tree, build=build)
    lab = next(lab for lab in LABS if lab.name == name)
    assert graded.returncode == 1, graded.stdout + graded.stderr
    assert f"Score: {lab.points}/{lab.points}" not in graded.stdout
    assert " ... FAIL 0/" in graded.stdout, graded.stdout


# ---- ./build.sh lab NAME in a clone, as a student runs it ----------------------------

@pytest.fixture
def clone(tmp_path):
    """A git clone of this tree's files, committed as they are now."""
    tree = copy_tree(tmp_path / "clone")
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")
    for command in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "all"]):
        subprocess.run(["git", "-C", str(tree), *command], check=True, env=env,
                       capture_output=True)
    return tree


def run_lab_command(tree, *args):
    return subprocess.run([str(tree / "build.sh"), "lab", *args], cwd=tree, capture_output=True,
                          text=True, env=dict(os.environ, BUILD_DIR=str(tree / "build")))


def git_in(tree, *args):
    return subprocess.run(["git", "-C", str(tree), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_starting_a_lab_makes_a_branch_with_the_starting_point(clone):
    lab = LABS[0]
    result = run_lab_command(clone, lab.name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert git_in(clone, "symbolic-ref", "--short", "HEAD") == f"lab/{lab.name}"
    assert git_in(clone, "status", "--porcelain", "--untracked-files=no") == ""
    changed = git_in(clone, "diff", "--name-only", "main", "HEAD").split()
    assert changed, "the starting point changed nothing"
    for name in changed:
        text = (clone / name).read_text()
        assert f"LAB {lab.name} BEGIN" in text and "STUB:" not in "".join(
            line for line in text.splitlines(keepends=True) if f"LAB {lab.name}" in line)
    assert f"Read {lab.handout}" in result.stdout


def test_starting_a_lab_twice_or_on_a_changed_tree_is_refused(clone):
    lab = LABS[0]
    assert run_lab_command(clone, lab.name).returncode == 0
    git_in(clone, "checkout", "-q", "main")
    again = run_lab_command(clone, lab.name)
    assert again.returncode == 2
    assert f"the branch lab/{lab.name} exists already: `git checkout lab/{lab.name}`" \
        in again.stderr
    (clone / "README.md").write_text("changed\n")
    dirty = run_lab_command(clone, LABS[-1].name)
    assert dirty.returncode == 2
    assert "your working tree has changes: commit them" in dirty.stderr


def test_the_course_readme_lists_every_lab_as_the_catalog_has_it():
    """docs/course/README.md's table of labs: the catalog's names, order,
    chapters, titles and points, so a new lab or changed points show."""
    text = (ROOT / "docs" / "course" / "README.md").read_text()
    rows = re.findall(r"^\| \[(\w+)\]\(labs/\w+\.md\) \| \[\d+\]\(([\w.-]+)\) \| (.+) \| (\d+) \|$",
                      text, re.M)
    assert rows == [(lab.name, lab.chapter.split("/")[-1], lab.title, str(lab.points))
                    for lab in LABS]
