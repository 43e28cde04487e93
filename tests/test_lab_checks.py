"""The kernel labs' checks (tests/labs/checks/) fail for the right reason
and say what they saw.

test_labs.py shows that every starting point loses points and that the
finished code gets them all. Here each way a check of the exceptions,
paging and heap labs can fail is provoked on its own, and its message
read: most by handing the real check function a context whose boot
returns output changed in one place from what the finished kernel
prints (the symbol table and the sources stay the real ones), the shell
session by really booting a kernel that panics before its prompt.
"""
import re

import pytest

from labs import grading
from labs.checks import exceptions, heap, paging
from support.images import build_image
from support.paths import BUILD, ROOT
from support.qemu import KERNEL_EXIT_FAILURE, BootResult
from support.symbols import symbol

PAGE_FAULT_REPORT = """\
Kernel: provoking fault "pf"

EXCEPTION: Page fault (#PF), vector 14, error code 0x0000000000000002
  page fault at CR2=0x00007ffffffff000: not present, write, kernel mode
  RIP=0x{rip:016x} <fault_page+0x4>
PANIC: unhandled CPU exception: Page fault (#PF) at RIP 0x{rip:016x}
"""


class CannedContext(grading.Context):
    """The real build and sources; every boot prints `serial` and ends
    with `exit_code`."""

    def __init__(self, tmp_path, serial, exit_code=KERNEL_EXIT_FAILURE, root=ROOT):
        super().__init__(tmp_path)
        self.root = root
        self.serial = serial
        self.exit_code = exit_code

    def boot(self, cmdline="qemu-exit", **_):
        return BootResult(serial=self.serial, exit_code=self.exit_code, still_running=False,
                          seconds=0.0)


def failure(check, context):
    with pytest.raises(grading.Failed) as failed:
        check(context)
    return str(failed.value)


def fault_page_inside():
    """An address inside fault_page, from kernel.elf's symbol table."""
    return symbol(BUILD / exceptions.SYMBOLS_ELF, "fault_page").address + 4


def test_the_canned_page_fault_report_passes(tmp_path):
    """The report the checks below change: as it is, it passes."""
    exceptions.page_fault_is_reported(
        CannedContext(tmp_path, PAGE_FAULT_REPORT.format(rip=fault_page_inside())))


def test_no_report_after_a_reset_says_triple_fault(tmp_path):
    context = CannedContext(tmp_path, 'Kernel: provoking fault "df"\n', exit_code=0)
    message = failure(exceptions.double_faults_are_reported_on_their_own_stack, context)
    assert "fault=df: no `EXCEPTION: NAME, vector N, error code 0x...` line; QEMU ended with " \
        "status 0: the CPU reset, as a triple fault does" in message, message


def test_a_wrong_vector_is_named(tmp_path):
    serial = PAGE_FAULT_REPORT.format(rip=fault_page_inside()).replace("vector 14", "vector 13")
    message = failure(exceptions.page_fault_is_reported, CannedContext(tmp_path, serial))
    assert "fault=pf: the report says vector 13, the CPU raises 14" in message, message


def test_a_rip_outside_the_faulting_function_is_refused(tmp_path):
    fault_page = symbol(BUILD / exceptions.SYMBOLS_ELF, "fault_page")
    outside = fault_page.address + fault_page.size      # the first byte after it
    serial = PAGE_FAULT_REPORT.format(rip=outside)
    message = failure(exceptions.page_fault_is_reported, CannedContext(tmp_path, serial))
    assert f"fault=pf: RIP=0x{outside:016x} is not inside fault_page" in message, message


def test_a_wrong_cr2_is_refused(tmp_path):
    serial = PAGE_FAULT_REPORT.format(rip=fault_page_inside()).replace(
        "CR2=0x00007ffffffff000", "CR2=0x0000000000000000")
    message = failure(exceptions.page_fault_is_reported, CannedContext(tmp_path, serial))
    assert "fault=pf: CR2=0x0000000000000000, but fault_page wrote to 0x00007ffffffff000" \
        in message, message


def test_a_report_without_the_panic_is_refused(tmp_path):
    serial = PAGE_FAULT_REPORT.format(rip=fault_page_inside()).split("PANIC")[0]
    message = failure(exceptions.page_fault_is_reported, CannedContext(tmp_path, serial))
    assert "fault=pf: after the report the kernel must panic" in message, message


def test_a_source_without_the_address_is_named(tmp_path):
    root = tmp_path / "root"
    (root / "kernel" / "cpu").mkdir(parents=True)
    (root / exceptions.FAULT_DEMO).write_text("/* nothing defined */\n")
    context = CannedContext(tmp_path, PAGE_FAULT_REPORT.format(rip=fault_page_inside()),
                            root=root)
    message = failure(exceptions.page_fault_is_reported, context)
    assert "kernel/cpu/fault_demo.c no longer defines UNMAPPED_ADDRESS as an address" in message


def test_a_failed_or_missing_kernel_test_is_named(tmp_path):
    serial = ("ktest: start 2 tests matching heap_\n"
              "ktest: FAIL heap_edge_cases: mm/heap_test.c:70: kmalloc(0) == NULL\n")
    context = CannedContext(tmp_path, serial)
    message = failure(grading.kernel_tests("heap_", "heap_edge_cases"), context)
    assert message == "ktest heap_edge_cases failed: mm/heap_test.c:70: kmalloc(0) == NULL"
    message = failure(grading.kernel_tests("heap_", "heap_kcalloc_zeroes"), context)
    assert "the kernel did not report its test heap_kcalloc_zeroes" in message, message


def test_all_kernel_tests_need_the_clean_summary(tmp_path):
    serial = "ktest: start 1 tests matching exception_\nktest: PASS exception_ud2\n"
    message = failure(grading.kernel_tests("exception_"), CannedContext(tmp_path, serial))
    assert "the kernel's tests matching 'exception_' did not all run to a clean summary" \
        in message, message
    message = failure(grading.kernel_tests("exception_"), CannedContext(tmp_path, "PANIC: x\n"))
    assert "the kernel reported none of its tests matching 'exception_'" in message, message


def test_a_mapped_guard_page_is_named(tmp_path):
    walks = ("page walk for 0xffffc00000000000 (CR3 0x0000000000020000):\n"
             "  PML4E [384] 0x0000000000125023 P W S X A -> table 0x0000000000125000\n"
             "  PTE   [  0] 0x8000000000124063 P W S NX A D -> 4 KiB page 0x0000000000124000\n"
             "  => physical 0x0000000000124000, writable, supervisor, no-execute\n"
             "page walk for 0x0000000000113000 (CR3 0x0000000000020000):\n"
             "  PTE   [275] 0x8000000000113003 P W S NX -> 4 KiB page 0x0000000000113000\n"
             "  => physical 0x0000000000113000, writable, supervisor, no-execute\n")
    context = CannedContext(tmp_path, walks)
    message = failure(paging.the_heap_and_the_guard_page_walk_as_they_should, context)
    assert "the boot stack's guard page is still mapped: its walk is" in message, message
    user = walks.replace("[384] 0x0000000000125023 P W S", "[384] 0x0000000000125027 P W U")
    message = failure(paging.the_heap_and_the_guard_page_walk_as_they_should,
                      CannedContext(tmp_path, user))
    assert "the heap's PML4 entry is not present, writable and supervisor-only" in message


def test_a_heap_mistake_without_its_panic_is_named(tmp_path):
    serial = ("memory-selftest: writing past the 24-byte block at 0xffffc00000000020\n"
              "memory-selftest: heap-overrun finished without a panic\n")
    message = failure(heap.selftest_panics("heap-overrun"), CannedContext(tmp_path, serial))
    assert "but no 'PANIC: heap: kfree(0xffffc00000000020): heap overrun: the 24-byte block " \
        "was written past its end' followed" in message, message
    message = failure(heap.selftest_panics("heap-overrun"), CannedContext(tmp_path, "PANIC: x\n"))
    assert "memory-selftest=heap-overrun did not get to its mistake" in message, message


MEM_LINE = ("\nframes: 32444 total, 32425 free, 19 used (4 KiB each: 126 MiB, 126 MiB free)\n"
            "heap at 0xffffc00000000000: {mapped} bytes mapped, {used} in {blocks} blocks in use "
            "(0 requested), {free} in {free_blocks} free blocks, largest free 65480\n")


@pytest.mark.parametrize("numbers,wanted", [
    (dict(mapped=131072, used=0, blocks=0, free=131072, free_blocks=1),
     "`mem`: 131072 bytes mapped, expected the first 65536 (HEAP_INITIAL_PAGES pages)"),
    (dict(mapped=65536, used=64, blocks=0, free=65536, free_blocks=1),
     "`mem`: used 64 + free 65536 bytes is not the 65536 mapped"),
    (dict(mapped=65536, used=0, blocks=0, free=65536, free_blocks=2),
     "`mem`: the untouched heap is not one free block"),
], ids=["mapped", "sum", "blocks"])
def test_mem_numbers_that_do_not_add_up_are_named(tmp_path, monkeypatch, numbers, wanted):
    monkeypatch.setattr(heap, "shell_session", lambda context, *commands: [
        MEM_LINE.format(**numbers)])
    message = failure(heap.mem_adds_up, CannedContext(tmp_path, ""))
    assert wanted in message, message


class PanickingShellContext(grading.Context):
    """The real build, but its shell image's command line panics at once."""

    def image(self, cmdline="qemu-exit", kernel=None):
        return build_image(self.work_dir / "panics.img", cmdline="panic-test")


def test_the_shell_session_stops_at_a_panic(tmp_path):
    context = PanickingShellContext(tmp_path)
    message = failure(lambda c: grading.shell_session(c, "mem"), context)
    assert "the kernel panicked before the shell's prompt:" in message, message
    assert re.search(r"PANIC: panic-test requested on the command line", message), message
