"""A higher-half kernel in our own boot protocol: linked at
0xFFFFFFFF80100000, loaded at 0x100000 (AT() in its linker script).

tests/higher_half_kernel/higher_half.asm checks at run time that it runs at
its virtual addresses, that the boot info pointer is physical and the
identity map still holds, and that the page tables give its segments their
ELF permissions. Here we build it, make sure the ELF really is a higher-half
one, boot it on two machine types, and show that a check can fail.
"""
import re

import pytest

from support.elf_reader import PF_W, PF_X, read_elf
from support.foreign_kernel import make_image
from support.higher_half_kernel import (EXPECTED_LINES, KERNEL_VIRTUAL_BASE,
                                        build_higher_half_kernel, kernel_lines)
from support.loader_lines import LOADER_HALTED
from support.qemu import KERNEL_EXIT_FAILURE, KERNEL_EXIT_SUCCESS, boot

MACHINES = ["pc", "q35"]


def boot_kernel(image, machine="pc"):
    return boot(image, machine=machine, until=re.escape(LOADER_HALTED), settle=0.5, timeout=60)


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    return build_higher_half_kernel(tmp_path_factory.mktemp("higher-half"))


def test_elf_is_higher_half(kernel):
    elf = read_elf(kernel)
    assert len(elf.loads) == 3, elf.loads
    for s in elf.loads:
        assert s.vaddr == s.paddr + KERNEL_VIRTUAL_BASE, s
    assert {s.flags & (PF_W | PF_X) for s in elf.loads} == {PF_X, 0, PF_W}
    assert elf.entry >= KERNEL_VIRTUAL_BASE


@pytest.mark.parametrize("machine", MACHINES)
def test_higher_half_kernel_boots(kernel, mkimage, tmp_path, machine):
    result = boot_kernel(make_image(mkimage, kernel, tmp_path / "hh.img"), machine)
    assert result.exit_code == KERNEL_EXIT_SUCCESS, result.describe()
    entry = read_elf(kernel).entry
    assert f"entry 0x{entry:016x}" in result.serial, result.describe()
    assert kernel_lines(result) == EXPECTED_LINES, result.describe()


def test_permission_check_can_fail(mkimage, tmp_path):
    """Built to expect a writable .rodata, the kernel must see that the
    loader mapped it read-only."""
    elf = build_higher_half_kernel(tmp_path / "wrong", defines=["EXPECT_WRITABLE_RODATA"])
    result = boot_kernel(make_image(mkimage, elf, tmp_path / "wrong.img"))
    assert result.exit_code == KERNEL_EXIT_FAILURE, result.describe()
    lines = kernel_lines(result)
    assert "permissions rodata FAILED" in lines, result.describe()
    assert [line for line in lines if "FAILED" in line] == [
        "permissions rodata FAILED", "some checks FAILED"], result.describe()
