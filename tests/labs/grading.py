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
import tempfile
import traceback

from support.images import build_image
from support.paths import BUILD, KERNEL_ELF, ROOT
from support.qemu import boot

# Every boot of a check ends within this: a stub that hangs costs the
# student points, never the grader's patience.
BOOT_TIMEOUT_SECONDS = 30
BOOT_COMPLETE = "boot complete"


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
