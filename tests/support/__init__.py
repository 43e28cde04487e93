"""What the tests share: the emulators, the build, the sources they read.

The test modules import these as `support.NAME` (tests/pytest.ini puts
tests/ on Python's path), so no helper is copied from one test file to
another; bochs.py also runs as a program, for `./build.sh bochs`.

    paths.py          where the source tree and the build output are
    images.py         disk images made with mkimage from the build
    qemu.py           boot an image in QEMU and read COM1
    bochs.py          the same in Bochs, with its own BIOS
    serial.py         reading what a boot printed: lines in order, the memory map
    loader_lines.py   the lines stage 2 prints, as patterns
    sources.py        values the loader's NASM sources define, through NASM
    elf_reader.py     the program and section headers of an ELF file
    elf_factory.py    small ELF files, good and deliberately broken
    symbols.py        the symbols of kernel.elf, as nm lists them
    foreign_kernel.py the kernel in tests/foreign_kernel/, built and imaged
    multiboot.py      Multiboot kernels: tests/multiboot/ assembled, headers made
                      up byte by byte, the information structure read back
    tools.py          running a build tool and failing clearly
    linux.py          Debian's cloud kernel, fetched into the build; the
                      tests' initramfs; what its /init must report
    grub.py           GRUB 2 on a raw disk, booting Linux or a Multiboot
                      kernel from block lists, as the reference loader
    unit_program.py   the cmocka programs of tests/unit/, one pytest test each
"""
