"""The instructor kit's "common mistakes" are real: make each one again and
check that the symptom docs/course/instructor.md quotes still shows.

Each test copies bootloader/ into a temporary directory, makes one mistake
there (a line taken out or changed, as a student would), assembles that
copy with its own BUILD, puts the result in an image with the kernel of
this build and boots it, in QEMU (TCG) and, where the kit quotes Bochs, in
Bochs. Then it checks two things: the emulator printed the symptom, and
instructor.md quotes that same symptom, so the kit cannot drift from what
the mistake really does. The tree itself is never touched.
"""
import re
import shutil
import subprocess

import pytest

from support.bochs import boot_bochs
from support.elf_reader import read_elf
from support.images import build_image
from support.paths import BUILD, DOCS_TOOLCHAIN, KERNEL_ELF, ROOT, build_toolchain
from support.mistakes import LONG_MODE_INC, far_jump_mistake, make_mistake
from support.qemu import boot

KIT = ROOT / "docs" / "course" / "instructor.md"
KERNEL_LOAD_INC = "bootloader/stage2/kernel_load.inc"
MEMORY_MAP_INC = "bootloader/stage2/memory_map.inc"
DESCRIPTOR_TABLE_INC = "bootloader/stage2/descriptor_table.inc"
BOOT_TIMEOUT_SECONDS = 30
ENTERING_LONG_MODE = "stage2: entering long mode, jumping to the kernel at 0x0000000000100000"


def last_line(lines):
    return [line for line in lines if line.strip()][-1]


def kit_quotes(text):
    kit = KIT.read_text()
    assert text in kit, f"{KIT.relative_to(ROOT)} does not quote {text!r}"


def test_forgetting_the_far_jump_after_cr0_pe_triple_faults(tmp_path, bochs_installed):
    result, sequence, bochs, complaints = far_jump_mistake(tmp_path)
    # -no-reboot: the triple fault's reset ends QEMU instead of rebooting.
    assert not result.still_running, result.describe()
    assert last_line(result.lines()) == ENTERING_LONG_MODE, result.describe()
    assert sequence and sequence[-1] == "Triple fault", sequence
    # Every fault is taken with CS still 0, the real-mode value: the far jump
    # that would have loaded a protected-mode selector never ran.
    assert all("cpl=0 IP=0000: ..." in line for line in sequence[1:-1:2]), sequence
    # Which exception comes first depends on the bytes that happen to run as
    # 16-bit code: the kit quotes this build's sequence (a build value that
    # ./build.sh docs writes in), and here it must still be that sequence.
    kit_quotes("\n".join(sequence))
    kit_quotes(ENTERING_LONG_MODE)

    panic = ">>PANIC<< exception(): 3rd (13) exception with no resolution"
    assert complaints and complaints[-1] == panic, bochs.describe()
    kit_quotes("\n".join(complaints))


def test_data_descriptor_without_the_g_bit_faults_only_in_bochs(tmp_path, bochs_installed):
    image = make_mistake(
        tmp_path, DESCRIPTOR_TABLE_INC,
        "    flat_segment DATA_ACCESS, FLAG_4K_GRANULARITY | FLAG_32_BIT\n",
        "    flat_segment DATA_ACCESS, FLAG_32_BIT\n")
    done = "Kernel: boot complete, starting the shell"
    result = boot(image, memory="128M", until=re.escape(done), timeout=BOOT_TIMEOUT_SECONDS)
    assert done in result.serial, result.describe()      # QEMU does not check limits
    kit_quotes(done)

    bochs = boot_bochs(image, until=re.escape(done), timeout=BOOT_TIMEOUT_SECONDS)
    assert done not in bochs.serial, bochs.describe()
    assert last_line(bochs.lines()).startswith("stage2: kernel ELF ok: "), bochs.describe()
    kit_quotes("stage2: kernel ELF ok: ...")
    beyond = "write_virtual_checks(): write beyond limit, r/w"
    assert beyond in bochs.log, bochs.describe()
    kit_quotes(beyond)


E801_FALLBACK = "stage2: memory map: 3 entries from INT 15h E801h"


@pytest.mark.parametrize("line, in_bochs", [
    ("    mov edx, E820_SMAP                  ; some BIOSes trash EDX, so reload it every call\n",
     E801_FALLBACK),
    ("    mov ecx, e820_entry_size\n", "stage2: memory map: 6 entries from INT 15h E820h"),
], ids=["no-smap-in-edx", "no-ecx-24"])
def test_e820_call_without_its_inputs_falls_back_to_e801_in_seabios(tmp_path, line, in_bochs,
                                                                     bochs_installed):
    image = make_mistake(tmp_path, MEMORY_MAP_INC, line)
    done = "Kernel: boot complete, starting the shell"
    result = boot(image, memory="128M", until=re.escape(done), timeout=BOOT_TIMEOUT_SECONDS)
    assert E801_FALLBACK in result.lines(), result.describe()
    assert "memory map (E801, 3 entries):" in result.serial, result.describe()
    kit_quotes(E801_FALLBACK)
    kit_quotes("memory map (E801, 3 entries):")
    # Bochs's BIOS refuses a call without the signature too, but not one
    # without ECX = 24.
    bochs = boot_bochs(image, until=re.escape(done), timeout=BOOT_TIMEOUT_SECONDS)
    assert in_bochs in bochs.lines(), bochs.describe()
    kit_quotes(in_bochs)


def test_e820_continuation_reset_on_every_call_hangs(tmp_path):
    image = make_mistake(
        tmp_path, MEMORY_MAP_INC,
        "    xor ebx, ebx                        ; continuation value: 0 = first entry\n"
        ".next_entry:\n",
        ".next_entry:\n    xor ebx, ebx\n")
    a20 = "stage2: A20 enabled (it was already on)"
    result = boot(image, memory="128M", until=re.escape(a20), settle=3.0,
                  timeout=BOOT_TIMEOUT_SECONDS)
    assert result.still_running, result.describe()
    assert last_line(result.lines()) == a20, result.describe()
    kit_quotes(a20)


def test_paging_on_without_pae_is_named_by_bochs_and_ignored_by_qemu(tmp_path, bochs_installed):
    image = make_mistake(tmp_path, LONG_MODE_INC, "    or eax, CR4_PAE\n")
    # QEMU drops the write to CR0: no exception there; the CPU runs the
    # 64-bit code after the far jump as 16-bit code into low memory, where
    # it may fault and triple-fault (how far it gets depends on the bytes
    # of in_long_mode). -no-shutdown keeps QEMU, paused, for the monitor.
    result = boot(image, memory="128M", until=re.escape(ENTERING_LONG_MODE), settle=2.0,
                  timeout=BOOT_TIMEOUT_SECONDS, monitor_commands=["info registers"],
                  extra=["-no-shutdown"])
    assert result.still_running, result.describe()
    registers = result.monitor["info registers"]
    for field in ["CR0=00000011", "EFER=0000000000000900"]:
        assert field in registers, registers
        kit_quotes(field)

    bochs = boot_bochs(image, until=None, timeout=BOOT_TIMEOUT_SECONDS)
    for line in ["SetCR0: attempt to enter x86-64 long mode without enabling CR4.PAE !",
                 ">>PANIC<< exception(): 3rd (13) exception with no resolution"]:
        assert line in bochs.log, bochs.describe()
        kit_quotes(line)


def test_cr3_at_the_pdpt_page_faults_on_the_first_fetch(tmp_path, bochs_installed):
    image = make_mistake(
        tmp_path, LONG_MODE_INC,
        "    mov eax, PAGE_TABLES_ADDRESS         ; the PML4 is the first table there\n",
        "    mov eax, PAGE_TABLES_ADDRESS + 0x1000\n")
    log = tmp_path / "qemu.log"
    result = boot(image, memory="128M", timeout=BOOT_TIMEOUT_SECONDS,
                  extra=["-d", "int,cpu_reset", "-D", str(log)])
    assert not result.still_running, result.describe()
    qemu_log = log.read_text()
    assert "v=0e e=0018 i=0 cpl=0 IP=0008:" in qemu_log, qemu_log[-3000:]
    kit_quotes("v=0e e=0018 i=0 cpl=0 IP=0008:")
    for line in ["check_exception old: 0x8 new 0xe", "Triple fault"]:
        assert line in qemu_log.splitlines(), qemu_log[-3000:]
        kit_quotes(line)

    bochs = boot_bochs(image, until=None, timeout=BOOT_TIMEOUT_SECONDS)
    for text in [">>PANIC<< exception(): 3rd (14) exception with no resolution",
                 "CR3=0x0000000000021000"]:
        assert text in bochs.log, bochs.describe()
        kit_quotes(text)


def test_unzeroed_bss_shows_once_ram_is_not_zero(tmp_path):
    """Emulators start with zeroed RAM: fill the BSS's memory with 0xFF
    first (QEMU's loader device), as a warm reboot might leave it."""
    bss = [segment for segment in read_elf(KERNEL_ELF).loads if segment.memsz > segment.filesz]
    assert len(bss) == 1, bss
    segment = bss[0]
    if build_toolchain() == DOCS_TOOLCHAIN:       # the kit quotes that build's address
        kit_quotes(f"{segment.paddr:#x} on this tree")
    poison_bytes = 53248
    assert segment.memsz <= poison_bytes
    kit_quotes(f"head -c {poison_bytes} /dev/zero")
    poison = tmp_path / "ff.bin"
    poison.write_bytes(b"\xff" * poison_bytes)
    loader = ["-device", f"loader,file={poison},addr={segment.paddr:#x},force-raw=on"]
    done = "Kernel: boot complete, starting the shell"
    notice = "[console: input buffer full, 18446744073709551615 characters dropped]"
    kit_quotes(notice)

    correct = build_image(tmp_path / "correct.img", cmdline="")
    result = boot(correct, memory="128M", until=re.escape(done), settle=1.0,
                  timeout=BOOT_TIMEOUT_SECONDS, extra=loader)
    assert done in result.serial and notice not in result.serial, result.describe()

    image = make_mistake(tmp_path, KERNEL_LOAD_INC, "    call zero_segment_tails\n")
    result = boot(image, memory="128M", until=re.escape(done), settle=1.0,
                  timeout=BOOT_TIMEOUT_SECONDS)
    assert notice not in result.serial, result.describe()     # zeroed RAM hides it
    result = boot(image, memory="128M", until=re.escape(notice), timeout=BOOT_TIMEOUT_SECONDS,
                  extra=loader)
    assert notice in result.serial, result.describe()


def test_chapter_10_answers_module_and_protocol(tmp_path):
    """The answers to chapter 10's exercises: the refusal of
    --protocol bootstack, and where the module goes."""
    kernel = tmp_path / "tutorial.bin"
    subprocess.run(["nasm", "-f", "bin", str(ROOT / "tests" / "multiboot" / "tutorial.asm"),
                    "-o", str(kernel)], check=True, capture_output=True)
    mkimage = [str(BUILD / "image" / "mkimage"), "build",
               "--stage1", str(BUILD / "bootloader" / "stage1.bin"),
               "--stage2", str(BUILD / "bootloader" / "stage2.bin"),
               "--kernel", "tutorial.bin", "--cmdline", "hello multiboot"]
    refused = subprocess.run(mkimage + ["--protocol", "bootstack", "-o", "refused.img"],
                             cwd=tmp_path, capture_output=True, text=True)
    assert refused.returncode == 1, refused
    first_error = refused.stderr.splitlines()[0]
    kit_quotes(first_error)

    module = tmp_path / "tutorial.asm"
    shutil.copy(ROOT / "tests" / "multiboot" / "tutorial.asm", module)
    subprocess.run(mkimage + ["--module", "tutorial.asm,source", "-o", "module.img"],
                   cwd=tmp_path, check=True, capture_output=True)
    result = boot(tmp_path / "module.img", memory="128M", timeout=BOOT_TIMEOUT_SECONDS)
    lines = [line for line in result.lines() if line.startswith("stage2: module 0")
             or line.startswith("stage2: Multiboot2 information")]
    assert len(lines) == 2, result.describe()
    for line in lines:
        kit_quotes(line)
