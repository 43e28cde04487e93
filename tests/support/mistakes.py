"""The instructor kit's common mistakes, made again on a copy of the loader.

docs/course/instructor.md describes mistakes students make and the symptom
each one shows; tests/test_instructor_kit.py makes them again and checks
the symptoms, and tests/docs/refresh.py writes into the kit the symptoms
whose details move with the loader's code (which exception comes first
when 32-bit code runs as 16-bit code depends on the bytes that follow).
"""
import re
import shutil
import subprocess

from support.bochs import boot_bochs
from support.paths import BUILD, KERNEL_ELF, ROOT
from support.qemu import boot

LONG_MODE_INC = "bootloader/stage2/long_mode.inc"
# Mistake 1: CR0.PE set, but no far jump to load CS.
FAR_JUMP_LINE = ("    jmp GDT_CODE32:in_protected_mode    ; the far jump loads CS: "
                 "now we run 32-bit code\n")
BOOT_TIMEOUT_SECONDS = 30


def make_mistake(work_dir, source, old, new=""):
    """Assemble a copy of the loader with `old` replaced by `new` in `source`
    (a path under the repository) and return an image of it with this
    build's kernel, in work_dir."""
    copy = work_dir / "tree"
    shutil.copytree(ROOT / "bootloader", copy / "bootloader")
    path = copy / source
    text = path.read_text()
    assert text.count(old) == 1, (
        f"{source} no longer contains exactly one {old!r}: update the mistake here "
        "and in docs/course/instructor.md")
    path.write_text(text.replace(old, new))
    build = work_dir / "build"
    subprocess.run(["make", "-s", "-C", str(copy / "bootloader"), f"BUILD={build}"],
                   check=True, capture_output=True)
    image = work_dir / "mistake.img"
    subprocess.run([str(BUILD / "image" / "mkimage"), "build",
                    "--stage1", str(build / "bootloader" / "stage1.bin"),
                    "--stage2", str(build / "bootloader" / "stage2.bin"),
                    "--kernel", str(KERNEL_ELF), "--cmdline", "", "-o", str(image)],
                   check=True, capture_output=True)
    return image


def exception_sequence(qemu_log):
    """The lines of QEMU's `-d int` log that tell the story of a triple fault:
    each check_exception line, each exception it raised (cut after the CS:IP
    selector, as the kit quotes them) and the final "Triple fault"."""
    sequence = []
    for line in qemu_log.splitlines():
        if line.startswith("check_exception") or line == "Triple fault":
            sequence.append(line)
        elif re.match(r" +\d+: v=", line) and sequence and sequence[-1].startswith("check_exception"):
            sequence.append(line.split("IP=")[0] + "IP=0000: ..."
                            if "IP=0000:" in line else line.split(" pc=")[0])
    return sequence


def bochs_complaints(log):
    """The CPU's error and panic messages in a Bochs log, in order, without
    the time stamp and the `e[CPU0  ]` prefix (as the kit quotes them)."""
    return [match.group(1) for match in
            re.finditer(r"^\d+[ep]\[CPU0 *\] (.*)$", log, re.MULTILINE)]


def far_jump_mistake(work_dir):
    """Make mistake 1 and boot it in QEMU (-d int,cpu_reset logged) and in
    Bochs: (QEMU's BootResult, its exception sequence, Bochs's result,
    Bochs's complaints)."""
    image = make_mistake(work_dir, LONG_MODE_INC, FAR_JUMP_LINE)
    log = work_dir / "qemu.log"
    result = boot(image, memory="128M", timeout=BOOT_TIMEOUT_SECONDS,
                  extra=["-d", "int,cpu_reset", "-D", str(log)])
    bochs = boot_bochs(image, until=None, timeout=BOOT_TIMEOUT_SECONDS)
    return result, exception_sequence(log.read_text()), bochs, bochs_complaints(bochs.log)
