"""docs/course/10-other-kernels-handoffs.md: the lab's commands run as
shown (in a scratch directory: tests/... and build/... point into this
tree and this build), and the lines the chapter quotes from mkimage info
and from the boot appear in what they printed, in the same order."""
import subprocess

from support.paths import ROOT, as_run_here

CHAPTER = ROOT / "docs" / "course" / "10-other-kernels-handoffs.md"
QEMU_TIMEOUT_SECONDS = 60
KERNEL_EXIT_STATUS = 33          # the tutorial kernel writes 0x10 to isa-debug-exit


def lab_blocks():
    """The lab's ```sh block and the two transcripts after it."""
    text = CHAPTER.read_text()
    lab = text[text.index("## Lab:"):text.index("\nQuestions to answer")]
    blocks, current, language = [], None, None
    for line in lab.splitlines():
        if line.startswith("```"):
            if current is None:
                current, language = [], line[3:]
            else:
                blocks.append((language, "\n".join(current)))
                current = None
        elif current is not None:
            current.append(line)
    [commands] = [body for language, body in blocks if language == "sh"]
    transcripts = [body for language, body in blocks if language == ""]
    return [c for c in commands.splitlines() if c.strip()], transcripts


def assert_lines_in_order(expected, output):
    lines = output.splitlines()
    position = 0
    for line in expected.splitlines():
        assert line in lines[position:], f"{line!r} not found (in order) in:\n{output}"
        position = lines.index(line, position) + 1


def test_the_lab_runs_as_shown_and_prints_what_the_chapter_quotes(tmp_path):
    commands, (info_lines, boot_lines) = lab_blocks()
    *build_steps, info, qemu = commands
    assert info.startswith("build/image/mkimage info ") and qemu.startswith("qemu-system-x86_64 ")
    for step in build_steps:
        result = subprocess.run(as_run_here(step), cwd=tmp_path, capture_output=True, text=True)
        assert result.returncode == 0, f"{step}\n{result.stdout}{result.stderr}"
    result = subprocess.run(as_run_here(info), cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert_lines_in_order(info_lines, result.stdout)
    result = subprocess.run(as_run_here(qemu), cwd=tmp_path, capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=QEMU_TIMEOUT_SECONDS)
    assert result.returncode == KERNEL_EXIT_STATUS, result.stdout + result.stderr
    assert_lines_in_order(boot_lines, result.stdout)
