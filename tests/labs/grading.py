"""What a lab is, and how its checks are run and scored.

A lab (tests/labs/checks/NAME.py) is a name, a title, its handout and
chapter in docs/course/, and a list of checks. A check is a description,
points, and a function of a Context that returns when the student's build
does what it should and raises Failed, saying what it saw, when not. The
grader (`./build.sh grade`, lab.py) runs every check of a lab, prints one
line per check, like xv6's `make grade`,

    a20: stage 2 reports the gate open, with a machine that starts with it shut ... OK 10/10

and a total; a check that raises anything else counts as failed too, with
the exception in its detail.
"""
import dataclasses
import functools
import pathlib
import re
import tempfile
import traceback

from support import elf_factory
from support.images import build_image
from support.loader_lines import LOADER_HALTED
from support.paths import BUILD, KERNEL_ELF, ROOT
from support.qemu import KERNEL_EXIT_SUCCESS, boot, qemu_binary

# Every boot of a check ends within this: a stub that hangs costs the
# student points, never the grader's patience.
BOOT_TIMEOUT_SECONDS = 30
BOOT_COMPLETE = "boot complete"
# A halted machine is asked questions this long after it said it halted.
MONITOR_SETTLE_SECONDS = 0.3


class Failed(Exception):
    """A check saw something else than it wanted; the message says what."""


@dataclasses.dataclass
class Check:
    description: str
    points: int
    run: object             # function(Context) -> None, raises Failed


@dataclasses.dataclass
class Lab:
    name: str
    title: str
    handout: str            # docs/course/labs/NAME.md
    chapter: str            # the chapter it belongs to, docs/course/NN-*.md
    checks: list

    @property
    def points(self):
        return sum(check.points for check in self.checks)


class Context:
    """What checks share: the build under test, a work directory, and boots
    remembered by their arguments (many checks read one boot's output)."""

    def __init__(self, work_dir):
        self.root = ROOT
        self.build = BUILD
        self.kernel = KERNEL_ELF
        self.work_dir = pathlib.Path(work_dir)
        self._images = {}

    def image(self, cmdline="qemu-exit", kernel=None):
        """A disk image of this build's loader and kernel (or `kernel`)."""
        key = (cmdline, str(kernel))
        if key not in self._images:
            out = self.work_dir / f"image-{len(self._images)}.img"
            self._images[key] = build_image(out, kernel=kernel, cmdline=cmdline)
        return self._images[key]

    @functools.cache
    def boot(self, cmdline="qemu-exit", memory="128M", machine="pc", until=None,
             image=None, extra=(), drive="ide"):
        """Boot this build (or `image`) in QEMU, attached as `drive` (see
        support.qemu.boot); the BootResult. With the default command line
        the kernel ends the machine itself."""
        return boot(image or self.image(cmdline), machine=machine, memory=memory,
                    until=until, timeout=BOOT_TIMEOUT_SECONDS, settle=0.5 if until else 0.0,
                    extra=extra, drive=drive)


def expect(condition, message):
    """Raise Failed(message) unless condition holds."""
    if not condition:
        raise Failed(message)


def expect_in(text, wanted, what):
    """Raise Failed unless `wanted` occurs in `text`; show what was there."""
    if wanted not in text:
        raise Failed(f"{what} does not contain {wanted!r}; it was:\n{last_lines(text)}")


def last_lines(text, count=12):
    lines = text.replace("\r", "").rstrip("\n").split("\n")
    shown = lines[-count:]
    prefix = [f"  ... ({len(lines) - count} lines before)"] if len(lines) > count else []
    return "\n".join(prefix + [f"  | {line}" for line in shown])


@dataclasses.dataclass
class Outcome:
    check: Check
    passed: bool
    detail: str


def run_lab(lab, work_dir=None):
    """Run every check of `lab` on the build; [Outcome] in order."""
    if work_dir is None:
        with tempfile.TemporaryDirectory(prefix=f"grade-{lab.name}-") as tmp:
            return run_lab(lab, tmp)
    context = Context(work_dir)
    outcomes = []
    for check in lab.checks:
        try:
            check.run(context)
            outcomes.append(Outcome(check, True, ""))
        except Failed as failure:
            outcomes.append(Outcome(check, False, str(failure)))
        except Exception:                                     # noqa: BLE001 - a crash is a fail
            outcomes.append(Outcome(check, False, traceback.format_exc(limit=3)))
    return outcomes


def report_lines(lab, outcomes):
    """The grader's lines for one lab: one per check, with details under failures."""
    lines = []
    for outcome in outcomes:
        verdict = "OK" if outcome.passed else "FAIL"
        score = outcome.check.points if outcome.passed else 0
        lines.append(f"{lab.name}: {outcome.check.description} ... "
                     f"{verdict} {score}/{outcome.check.points}")
        if outcome.detail:
            lines += [f"    {line}" for line in outcome.detail.rstrip("\n").split("\n")]
    return lines


def score(outcomes):
    """(points earned, points possible)."""
    return (sum(o.check.points for o in outcomes if o.passed),
            sum(o.check.points for o in outcomes))


# ---- shared by the kernel's labs ----------------------------------------------

# kernel/ktest/ktest.c: one line per test, then the summary.
KTEST_LINE = re.compile(r"^ktest: (PASS|FAIL) (\w+)(?:: (.*))?$", re.M)
KTEST_SUMMARY = re.compile(r"^ktest: (\d+) passed, (\d+) failed$", re.M)


def kernel_tests(pattern, *names):
    """A check that the kernel's tests `names` pass, in one boot with the
    command line `test=PATTERN` (the tests whose names contain it). With
    no names: every test that boot ran passes, and the summary says so."""
    def run(context):
        serial = context.boot(cmdline=f"test={pattern} qemu-exit").serial.replace("\r", "")
        results = {m[2]: (m[1], m[3]) for m in KTEST_LINE.finditer(serial)}
        wanted = names or sorted(results)
        expect(wanted, f"the kernel reported none of its tests matching {pattern!r}; it printed:\n"
               f"{last_lines(serial)}")
        for name in wanted:
            if name not in results:
                raise Failed(f"the kernel did not report its test {name}; it printed:\n"
                             f"{last_lines(serial)}")
            verdict, reason = results[name]
            expect(verdict == "PASS", f"ktest {name} failed: {reason}")
        if not names:
            summary = KTEST_SUMMARY.search(serial)
            expect(summary is not None and summary[2] == "0",
                   f"the kernel's tests matching {pattern!r} did not all run to a clean "
                   f"summary; it printed:\n{last_lines(serial)}")
    return run


def boots_to_the_end(context):
    """A check that the kernel boots to its last line and ends QEMU with
    the success status."""
    result = context.boot()
    expect_in(result.serial, BOOT_COMPLETE, "the boot's output")
    expect(result.exit_code == KERNEL_EXIT_SUCCESS,
           f"the kernel did not end the machine with success; {result.describe()}")


def c_address(context, path, name):
    """The value of `#define NAME 0x...ull` in the C source `path`: the
    checks compare with the sources' addresses, never with copies."""
    source = (context.root / path).read_text()
    found = re.search(rf"^#define {name} (0x[0-9A-Fa-f]+)ull\b", source, re.M)
    expect(found is not None, f"{path} no longer defines {name} as an address")
    return int(found[1], 16)


SHELL_PROMPT = "bootstack> "    # kernel/shell/shell.c


def shell_session(context, *commands, memory="128M"):
    """Boot without a command line, so the kernel ends in its shell, type
    each command on COM1 and return what each printed, in order. Raises
    Failed when the prompt does not come back within the boot timeout."""
    import pexpect      # here, not at the top: listing the labs needs no terminal library
    image = context.image(cmdline="")
    argv = ["-accel", "tcg", "-m", memory, "-display", "none", "-no-reboot", "-nic", "none",
            "-monitor", "none", "-chardev", "stdio,id=console,signal=off",
            "-serial", "chardev:console", "-snapshot", "-drive", f"file={image},format=raw,if=ide"]
    child = pexpect.spawn(qemu_binary(), argv, encoding="latin-1", timeout=BOOT_TIMEOUT_SECONDS)
    # The prompt, or a panic's whole line: the kernel then halts, and
    # waiting longer would only cost time.
    patterns = [re.escape(SHELL_PROMPT), r"PANIC: [^\r\n]*[\r\n]"]
    outputs = []
    try:
        waiting_for = "the shell's prompt"
        for command in (None, *commands):
            if command is not None:
                waiting_for = f"the prompt after `{command}`"
                child.send(command + "\r")
            if child.expect(patterns) == 1:
                raise Failed(f"the kernel panicked before {waiting_for}:\n"
                             f"{last_lines((child.before + child.after).replace(chr(13), ''))}")
            if command is not None:
                outputs.append(child.before.replace("\r", "")[len(command):])
    except (pexpect.TIMEOUT, pexpect.EOF):
        raise Failed(f"no {waiting_for}; the kernel printed:\n"
                     f"{last_lines((child.before or '').replace(chr(13), ''))}") from None
    finally:
        child.close(force=True)
    return outputs

# ---- shared by several labs' checks --------------------------------------------------

# A boot can stop once the loader has given up (its last words), or, for a
# kernel that prints nothing, once it has said it enters long mode.
UNTIL_LOADER_HALTED = re.escape(LOADER_HALTED)
LOADER_LAST_LINE = "stage2: entering long mode, jumping to the kernel at"
UNTIL_LOADER_DONE = f"{re.escape(LOADER_LAST_LINE)}|{UNTIL_LOADER_HALTED}"


def hlt_kernel_image(context):
    """An image of a made-up kernel that is only HLT instructions
    (elf_factory.good_kernel): entered with interrupts off, it stops at its
    first instruction, so QEMU's monitor sees the machine as the loader
    left it."""
    kernel = context.work_dir / "hlt-kernel.elf"
    if not kernel.exists():
        elf_factory.write(kernel, elf_factory.good_kernel())
    return context.image(cmdline="", kernel=kernel)


@functools.cache
def boot_and_ask_monitor(image, until, commands, memory="128M", machine="pc", extra=()):
    """Boot `image` (a path) until the regex `until` shows on COM1, let the
    machine settle, then run QEMU monitor `commands` (a tuple) on it; the
    BootResult, with each answer in result.monitor[command] (empty when the
    machine stopped or never said `until`). Remembered by the arguments."""
    return boot(image, machine=machine, memory=memory, until=until, extra=extra,
                timeout=BOOT_TIMEOUT_SECONDS, settle=MONITOR_SETTLE_SECONDS,
                monitor_commands=commands)


def monitor_answer(result, command):
    """The monitor's answer to `command`, or Failed when the machine did not
    stay up to be asked, or when the loader gave up before the kernel."""
    if LOADER_HALTED in result.serial:
        raise Failed(f"the loader stopped with an error; it printed:\n"
                     f"{last_lines(result.serial)}")
    if command not in result.monitor:
        # QEMU runs with -no-reboot: a CPU reset (a triple fault, an exception
        # without a handler) ends it with status 0.
        how = ("the CPU reset (a triple fault) and QEMU stopped" if result.exit_code == 0
               else f"QEMU exit code {result.exit_code}")
        raise Failed(f"the machine did not stop where the check could ask QEMU's monitor "
                     f"`{command}` ({how}); it printed:\n{last_lines(result.serial)}")
    return result.monitor[command]
