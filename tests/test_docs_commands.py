"""The commands the docs tell a reader to type work, on a machine without
a display.

Every QEMU command line shown in README.md, docs/*.md, the course and its
lab handouts (in a code block, continued lines joined, or in a code span)
must run headless: it asks for no window (`-display none`, or
`-nographic`), and it really starts with no display: run here with
DISPLAY and WAYLAND_DISPLAY unset, it is still running after a few seconds
(a boot on the serial console, a machine stopped by -S), or it ended with
the status the docs expect (0, or the kernel's 33/35 through
isa-debug-exit). A command followed by `(qemu) ...` lines in its block gets
those lines on its monitor, then `quit`.

Every `KERNEL_CMDLINE=X ./build.sh run` the docs show runs as typed, on a
copy of the build directory: it ends QEMU itself with a status (qemu-exit,
the kernel's tests) or reaches the shell's prompt on the terminal.

The inspection commands the course and the README show (grep, xxd, nm,
readelf, objdump, mkimage info) run as shown and must succeed.

Every command runs in a scratch directory where `build` is this build
(with a copy of its image: QEMU locks the image it boots) and the
top-level source directories are links to this tree, so `build/...`
and `kernel/...` mean what they mean to the reader; an image the docs make
first (hello.img, /tmp/nosig.img) is a copy of build/disk.img there, since
these tests are about the command, not about that image (the README's and
chapter 10's own tests build those).
"""
import os
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import time

import pytest

from support.paths import BUILD, ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
        *sorted((ROOT / "docs" / "course").glob("*.md")),
        *sorted((ROOT / "docs" / "course" / "labs").glob("*.md"))]
COURSE = [ROOT / "README.md", *sorted((ROOT / "docs" / "course").glob("*.md")),
          *sorted((ROOT / "docs" / "course" / "labs").glob("*.md"))]
QEMU_SECONDS = 6              # a boot still running after this is fine
QEMU_STATUSES = (0, 33, 35)   # quit; the kernel's success or panic through isa-debug-exit
HEADLESS = ("-display none", "-nographic")
TOOLS = ("grep ", "xxd ", "nm ", "readelf ", "objdump ", "build/image/mkimage info ")


def commands(doc):
    """[(line, command, monitor input lines)]: each command of a code
    block (backslash continuations joined) or a code span."""
    found = []
    lines = doc.read_text().splitlines()
    fence = None
    n = 0
    while n < len(lines):
        line = lines[n]
        stripped = line.strip()
        if re.match(r"^(```|~~~)", stripped):
            fence = None if fence else stripped[:3]
            n += 1
            continue
        if fence:
            start = n
            command = stripped
            while command.endswith("\\") and n + 1 < len(lines):
                n += 1
                command = command[:-1].rstrip() + " " + lines[n].strip()
            monitor = []
            follow = n + 1
            while follow < len(lines) and lines[follow].strip().startswith("(qemu) "):
                monitor.append(lines[follow].strip()[len("(qemu) "):])
                follow += 1
            found.append((start + 1, command, monitor))
        else:
            for span in re.findall(r"`([^`]+)`", line):
                found.append((n + 1, span.strip(), []))
        n += 1
    return found


def qemu_commands(docs):
    return [(doc, line, command, monitor) for doc in docs
            for line, command, monitor in commands(doc)
            if command.startswith("qemu-system-x86_64 ")]


def names_a_file(command):
    """A command line, not a fragment such as `readelf -W -hlS`: it names
    a file to work on."""
    return any("/" in word or re.search(r"\.(img|elf|lst|sym|bin|o)$", word)
               for word in shlex.split(command.split("|")[0])[1:] if not word.startswith("-"))


def tool_commands(docs):
    return [(doc, line, command) for doc in docs for line, command, _ in commands(doc)
            if command.startswith(TOOLS) and names_a_file(command)]


def case_id(doc, line):
    return f"{doc.relative_to(ROOT)}:{line}"


QEMU_CASES = qemu_commands(DOCS)
TOOL_CASES = tool_commands(COURSE)


def test_the_docs_show_commands():
    assert len(QEMU_CASES) >= 8 and len(TOOL_CASES) >= 10, (QEMU_CASES, TOOL_CASES)


def make_scratch(directory):
    """A directory that looks like the top of the tree after a build."""
    for entry in ROOT.iterdir():
        if entry.name not in ("build", ".git"):
            (directory / entry.name).symlink_to(entry)
    # The build's files, but an image of its own: QEMU locks the image it
    # boots, and the commands here run side by side.
    (directory / "build").mkdir()
    for entry in BUILD.iterdir():
        if entry.name != "disk.img":
            (directory / "build" / entry.name).symlink_to(entry)
    shutil.copyfile(BUILD / "disk.img", directory / "build" / "disk.img")
    return directory


@pytest.fixture
def scratch(tmp_path):
    return make_scratch(tmp_path)


def headless_env():
    env = dict(os.environ)
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return env


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def localised(words, scratch):
    """The command's words with absolute /tmp paths moved into the scratch
    directory, and each drive image it names made there if missing."""
    result = []
    for word in words:
        if word == "-s":
            # -s is GDB's port 1234, which the commands here would all
            # want at once: each gets a free port of its own instead.
            result += ["-gdb", f"tcp:127.0.0.1:{free_port()}"]
            continue
        word = re.sub(r"(?<![\w.])/tmp/", f"{scratch}/tmp-", word)
        drive = re.search(r"(?:^|,)file=([^,]+)", word) if word.startswith("file=") or ",file=" in word else None
        if drive:
            image = scratch / drive.group(1) if not drive.group(1).startswith("/") else None
            path = image if image else type(scratch)(drive.group(1))
            if not path.exists():
                # An image an earlier command of the block would have
                # made (a scratch build, say): this build's stands in.
                path.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(BUILD / "disk.img", path)
        result.append(word)
    return result


@pytest.fixture(scope="module")
def qemu_runs(tmp_path_factory):
    """{case id: (status or None if still running, output)}: every QEMU
    command started at once, each in its own scratch directory, given
    QEMU_SECONDS, then stopped."""
    started = {}
    try:
        yield from _run_all(started, tmp_path_factory)
    finally:
        # However the fixture ends (a scratch directory it could not
        # make, say), no QEMU it started outlives it.
        for process in started.values():
            if process.poll() is None:
                process.kill()
                process.wait()


def _run_all(started, tmp_path_factory):
    for doc, line, command, monitor in QEMU_CASES:
        where = make_scratch(tmp_path_factory.mktemp("qemu"))
        words = localised(shlex.split(command), where)
        process = subprocess.Popen(words, cwd=where, env=headless_env(), text=True,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        if "-monitor stdio" in command:
            process.stdin.write("".join(f"{entry}\n" for entry in [*monitor, "quit"]))
        process.stdin.close()
        started[case_id(doc, line)] = process
    deadline = time.monotonic() + QEMU_SECONDS
    results = {}
    for name, process in started.items():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
            status = process.returncode
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            status = None
        results[name] = (status, process.stdout.read())
    yield results


@pytest.mark.parametrize("doc, line, command, monitor", QEMU_CASES,
                         ids=[case_id(doc, line) for doc, line, _, _ in QEMU_CASES])
def test_qemu_commands_run_without_a_display(doc, line, command, monitor, qemu_runs):
    where = f"{case_id(doc, line)}: {command}"
    assert any(option in command for option in HEADLESS), \
        f"{where}\nopens a window: add -display none (and say why in one line)"
    status, out = qemu_runs[case_id(doc, line)]
    if "-monitor stdio" in command:
        # The monitor answered each command with a new prompt, then quit.
        assert status == 0 and out.count("(qemu) ") >= len(monitor) + 1, \
            f"{where}\nstatus {status}, the monitor did not answer and quit:\n{out}"
    else:
        # Still running (booting, or stopped by -S), or ended as the docs say.
        assert status is None or status in QEMU_STATUSES, \
            f"{where}\nexited with status {status}:\n{out}"


@pytest.mark.parametrize("doc, line, command", TOOL_CASES,
                         ids=[case_id(doc, line) for doc, line, _ in TOOL_CASES])
def test_inspection_commands_run_as_shown(doc, line, command, scratch):
    missing = [word for word in shlex.split(command.split("|")[0])[1:]
               if ("/" in word or re.search(r"\.(img|elf|lst|sym|bin)$", word))
               and not word.startswith("-") and not (scratch / word).exists()]
    if missing:
        pytest.skip(f"{missing}: made by an earlier step the docs show (tested with it)")
    result = subprocess.run(["bash", "-c", f"set -o pipefail; {command}"], cwd=scratch,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip(), \
        f"{case_id(doc, line)}: {command}\nstatus {result.returncode}\n{result.stdout}{result.stderr}"


def test_chapter_01_exercise_shows_the_bios_message(scratch):
    """Chapter 01, exercise 1: a copy of the image without its boot
    signature, booted headless, makes SeaBIOS refuse the disk."""
    text = (ROOT / "docs" / "course" / "01-power-on-and-bios.md").read_text()
    exercises = text[text.index("## Exercises"):]
    [script] = re.findall(r"```sh\n(.*?)\n\s*```", exercises, re.S)
    *steps, qemu = [line.strip() for line in script.splitlines() if line.strip()]
    for step in steps:
        step = re.sub(r"(?<![\w.])/tmp/", f"{scratch}/tmp-", step)
        result = subprocess.run(["bash", "-c", step], cwd=scratch, capture_output=True, text=True)
        assert result.returncode == 0, f"{step}\n{result.stderr}"
    words = localised(shlex.split(qemu), scratch)
    process = subprocess.Popen(words, cwd=scratch, env=headless_env(), text=True,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = process.communicate(timeout=4)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    assert "Boot failed: not a bootable disk" in out, out + err


# ---- `KERNEL_CMDLINE=... ./build.sh run` ------------------------------------------

RUN_LINE = re.compile(r"KERNEL_CMDLINE=(\"[^\"]*\"|\S+)\s+\./build\.sh run\b")
# What a run must print: the kernel got as far as its own first line.
KERNEL_STARTED = "Kernel: running in 64-bit long mode"
SHELL_PROMPT = "bootstack> "
RUN_SECONDS = 90
# The build's parts a run of build.sh needs to find up to date: copies,
# with their times, so that make rebuilds only the image.
BUILD_PARTS = ("bootloader", "libk", "kernel", "image", "host", "toolchain.txt")


def run_lines(docs):
    """(doc, line, command line) for each `KERNEL_CMDLINE=X ./build.sh run`
    the docs show, in code spans (even over two lines) and code blocks."""
    found = []
    for doc in docs:
        text = doc.read_text()
        for match in RUN_LINE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append((doc, line, shlex.split(match.group(1))[0]))
    return found


RUN_CASES = run_lines(DOCS)


def test_the_docs_show_build_sh_run_lines():
    assert len(RUN_CASES) >= 10, RUN_CASES


@pytest.mark.parametrize("doc, line, cmdline", RUN_CASES,
                         ids=[case_id(doc, line) for doc, line, _ in RUN_CASES])
def test_build_sh_run_with_a_command_line_works_without_a_display(doc, line, cmdline, tmp_path):
    """The reader's `KERNEL_CMDLINE=X ./build.sh run`, as typed, on a
    machine without a display: with qemu-exit (or the kernel's tests) the
    kernel ends QEMU itself
    (33 when all went well, 35 after a panic or a reported fault, which
    several lines are there to show); without it the boot reaches the
    shell's prompt on the terminal. A copy of the build directory keeps
    the build of the other tests as it is."""
    build = tmp_path / "build"
    build.mkdir()
    for part in BUILD_PARTS:
        source = BUILD / part
        if source.is_dir():
            shutil.copytree(source, build / part, symlinks=True)
        elif source.exists():
            shutil.copy2(source, build / part)
    env = dict(headless_env(), BUILD_DIR=str(build), KERNEL_CMDLINE=cmdline)
    process = subprocess.Popen([str(ROOT / "build.sh"), "run"], cwd=ROOT, env=env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True)
    where = f"{case_id(doc, line)}: KERNEL_CMDLINE={shlex.quote(cmdline)} ./build.sh run"
    # qemu-exit, and the kernel's tests (test, test=NAME), end QEMU when done.
    if any(word in ("qemu-exit", "test") or word.startswith("test=") for word in cmdline.split()):
        out, _ = process.communicate(timeout=RUN_SECONDS)
        out = out.decode(errors="replace")
        assert process.returncode in (33, 35), f"{where}\nexit {process.returncode}:\n{out}"
        assert KERNEL_STARTED in out, f"{where}\n{out}"
        return
    output = b""
    deadline = time.monotonic() + RUN_SECONDS
    try:
        while SHELL_PROMPT.encode() not in output and time.monotonic() < deadline:
            ready, _, _ = select.select([process.stdout], [], [], 0.2)
            if ready:
                chunk = os.read(process.stdout.fileno(), 65536)
                if not chunk:
                    break                       # QEMU ended
                output += chunk
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    text = output.decode(errors="replace")
    assert SHELL_PROMPT in text, f"{where}\nno shell prompt:\n{text}"
