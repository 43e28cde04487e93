#!/usr/bin/env python3
"""The labs from the command line; `./build.sh lab` and `./build.sh grade`
run this.

    lab.py list                 every lab, one line each
    lab.py start NAME           a git branch lab/NAME with the student's
                                starting point of NAME, committed
    lab.py stub NAME DIR        write that starting point over the copy of
                                the sources in DIR (tests, instructors)
    lab.py check                check every marker in the sources
    lab.py grade [NAME]         grade the build (BUILD_DIR) on lab NAME; without
                                NAME the lab of the current lab/NAME branch,
                                else every lab

grade exits 0 with full marks and 1 below them; every other error exits 2
with a message that says what to do.
"""
import argparse
import os
import pathlib
import subprocess
import sys

TESTS_DIR = pathlib.Path(__file__).resolve().parents[1]
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from labs import markers  # noqa: E402
from labs.catalog import all_labs, find_lab  # noqa: E402

ROOT = TESTS_DIR.parent
# Where lab blocks may be: the code a student writes. The tests and the
# image builder's tests are never stubbed.
SOURCE_DIRS = ("bootloader", "kernel", "libk", "image")
BRANCH_PREFIX = "lab/"
# Used for the starting point's commit only when git knows no one yet (a
# fresh machine): the student's own commits then ask for a name as usual.
FALLBACK_IDENTITY = {"GIT_AUTHOR_NAME": "bootstack lab", "GIT_AUTHOR_EMAIL": "lab@bootstack.invalid",
                     "GIT_COMMITTER_NAME": "bootstack lab",
                     "GIT_COMMITTER_EMAIL": "lab@bootstack.invalid"}


class LabError(Exception):
    """A user error: the message says what is wrong and what to do."""


def source_files(root):
    """Every file under SOURCE_DIRS that could hold a lab block, sorted."""
    files = []
    for directory in SOURCE_DIRS:
        for path in sorted((root / directory).rglob("*")):
            if path.is_file() and markers.comment_prefix(path):
                files.append(path)
    return files


def blocks_by_file(root):
    """{path: [Block]} for every source file with lab blocks. Raises
    MarkerError for a broken marker, LabError for a block in the wrong
    comment style or of a lab the catalog does not know."""
    known = {lab.name for lab in all_labs()}
    found = {}
    for path in source_files(root):
        text = path.read_text()
        if "LAB" not in text:
            continue
        relative = path.relative_to(root)
        blocks = markers.parse(text, str(relative))
        for block in blocks:
            prefix = markers.comment_prefix(path)
            if not block.header_lines[0].lstrip().startswith(prefix):
                raise LabError(f"{relative}:{block.begin_line}: lab markers in this file "
                               f"are `{prefix}` comments")
            if block.lab not in known:
                raise LabError(f"{relative}:{block.begin_line}: lab {block.lab!r} is not in "
                               f"tests/labs/catalog.py; add it there or fix the name")
        if blocks:
            found[path] = blocks
    return found


def check_sources(root):
    """Every lab of the catalog has a block, and every block is sound."""
    found = blocks_by_file(root)
    labs_with_blocks = {block.lab for blocks in found.values() for block in blocks}
    for lab in all_labs():
        if lab.name not in labs_with_blocks:
            raise LabError(f"lab {lab.name} has no `LAB {lab.name} BEGIN` block in "
                           f"{', '.join(SOURCE_DIRS)}")
    return found


def write_starting_point(root, name):
    """Replace lab `name`'s blocks in the tree at `root`; the files changed."""
    changed = []
    for path, blocks in blocks_by_file(root).items():
        if not any(block.lab == name for block in blocks):
            continue
        text, count = markers.starting_point(path.read_text(), name, str(path.relative_to(root)))
        temporary = path.with_name(path.name + ".lab-tmp")
        temporary.write_text(text)
        os.replace(temporary, path)
        changed.append(path)
    return changed


def git(*args, env=None, check=True):
    result = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                            env=env)
    if check and result.returncode != 0:
        raise LabError(f"git {' '.join(args)} failed:\n{result.stderr.strip()}")
    return result.stdout.strip()


def current_branch():
    result = subprocess.run(["git", "-C", str(ROOT), "symbolic-ref", "--short", "-q", "HEAD"],
                            capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else ""


def lab_or_error(name):
    lab = find_lab(name)
    if lab is None:
        names = ", ".join(lab.name for lab in all_labs())
        raise LabError(f"there is no lab called {name!r}; the labs are: {names} "
                       f"(`./build.sh lab` lists them)")
    return lab


def command_list(_args):
    labs = all_labs()
    width = max(len(lab.name) for lab in labs)
    for lab in labs:
        print(f"{lab.name:<{width}}  {lab.title}  ({lab.points} points, {lab.handout})")
    print("\n./build.sh lab NAME starts one; ./build.sh grade [NAME] grades it.")
    return 0


def command_start(args):
    lab = lab_or_error(args.name)
    check_sources(ROOT)
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--git-dir"],
                      capture_output=True).returncode != 0:
        raise LabError(f"{ROOT} is not a git checkout: clone the repository with git to "
                       f"start a lab (or use `lab.py stub {lab.name} DIR` on a copy)")
    if git("status", "--porcelain", "--untracked-files=no"):
        raise LabError("your working tree has changes: commit them (or `git stash` them) "
                       "before you start a lab, so nothing of yours is mixed into it")
    branch = BRANCH_PREFIX + lab.name
    if git("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False):
        raise LabError(f"the branch {branch} exists already: `git checkout {branch}` to go on "
                       f"with it, or `git branch -D {branch}` to start over")
    git("checkout", "-q", "-b", branch)
    changed = write_starting_point(ROOT, lab.name)
    git("add", *[str(path) for path in changed])
    env = dict(os.environ)
    if not git("config", "user.email", check=False):
        env.update(FALLBACK_IDENTITY)
    git("commit", "-q", "-m", f"lab {lab.name}: the starting point\n\n"
        f"Made by ./build.sh lab {lab.name}: each `LAB {lab.name}` block is replaced "
        f"by its TODO.", env=env)
    print(f"lab {lab.name}: {lab.title}")
    print(f"You are on the new branch {branch}. Your part is marked `LAB {lab.name} BEGIN` "
          f"... `LAB {lab.name} END` in:")
    for path in changed:
        print(f"  {path.relative_to(ROOT)}")
    print(f"Read {lab.handout}, write the code, then ./build.sh grade to see your score.")
    print("git checkout main takes you back to the finished code.")
    return 0


def command_stub(args):
    lab = lab_or_error(args.name)
    root = pathlib.Path(args.dir).resolve()
    if not (root / "bootloader").is_dir():
        raise LabError(f"{root} holds no copy of the sources (no bootloader/ in it)")
    changed = write_starting_point(root, lab.name)
    for path in changed:
        print(path.relative_to(root))
    return 0


def command_check(_args):
    found = check_sources(ROOT)
    count = sum(len(blocks) for blocks in found.values())
    print(f"lab markers ok: {count} blocks of {len(all_labs())} labs in {len(found)} files")
    return 0


def command_grade(args):
    from labs.grading import report_lines, run_lab, score
    if args.name:
        labs = [lab_or_error(args.name)]
    else:
        branch = current_branch()
        on_lab = branch.startswith(BRANCH_PREFIX) and find_lab(branch[len(BRANCH_PREFIX):])
        labs = [on_lab] if on_lab else all_labs()
    earned = possible = 0
    for lab in labs:
        outcomes = run_lab(lab)
        for line in report_lines(lab, outcomes):
            print(line, flush=True)
        lab_earned, lab_possible = score(outcomes)
        earned += lab_earned
        possible += lab_possible
        if len(labs) > 1:
            print(f"{lab.name}: {lab_earned}/{lab_possible}", flush=True)
    print(f"Score: {earned}/{possible}")
    return 0 if earned == possible else 1


def main(argv=None):
    parser = argparse.ArgumentParser(prog="./build.sh lab", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list").set_defaults(run=command_list)
    start = commands.add_parser("start")
    start.add_argument("name")
    start.set_defaults(run=command_start)
    stub = commands.add_parser("stub")
    stub.add_argument("name")
    stub.add_argument("dir")
    stub.set_defaults(run=command_stub)
    commands.add_parser("check").set_defaults(run=command_check)
    grade = commands.add_parser("grade")
    grade.add_argument("name", nargs="?")
    grade.set_defaults(run=command_grade)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (LabError, markers.MarkerError) as error:
        print(f"lab: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
