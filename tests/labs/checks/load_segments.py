"""Lab load_segments: copying the kernel's PT_LOAD segments to p_paddr as
the file comes in chunk by chunk (copy_chunk_to_segments), and zeroing
their BSS (zero_segment_tails), in bootloader/stage2/kernel_load.inc.

Graded by our kernel's boot, by the foreign kernel (tests/foreign_kernel/:
four segments with gaps, a 72 KiB data pattern larger than a read chunk,
2 MiB of BSS and a guard segment right behind it, which it checks itself)
in both of its file layouts, and by a made-up kernel whose program headers
are not in address order, read back with QEMU's monitor. RAM is zero when
QEMU starts, so where the BSS lies QEMU's generic loader device fills it
with a pattern before the machine runs: only the loader can zero it."""
from labs.grading import (BOOT_COMPLETE, UNTIL_LOADER_DONE, UNTIL_LOADER_HALTED, Check,
                          Failed, Lab, boot_and_ask_monitor, expect, expect_in, last_lines,
                          monitor_answer)
from support import elf_factory
from support.elf_reader import PF_W, read_elf
from support.qemu import KERNEL_EXIT_SUCCESS

GARBAGE_BYTE = b"\xa5"
PAGE = 4096
# The made-up kernel: its data segment (with BSS) comes first in the
# program header table, above the code that follows it.
SHUFFLED_DATA = 0x300000
SHUFFLED_DATA_BYTES = 0x1234            # not a whole page: the copy ends mid-page
SHUFFLED_BSS_BYTES = 0x3000
SHUFFLED_CODE = 0x100000


def garbage_over(context, address, size):
    """QEMU arguments that fill [address, address + size) with GARBAGE_BYTE
    before the machine starts (the generic loader device, QEMU docs
    "Generic Loader")."""
    path = context.work_dir / f"garbage-{address:x}-{size:x}.bin"
    if not path.exists():
        path.write_bytes(GARBAGE_BYTE * size)
    return ("-device", f"loader,file={path},addr={address:#x},force-raw=on")


def bss_of(elf_path):
    """(start, size) of the one segment with both file bytes and BSS."""
    [segment] = [s for s in read_elf(elf_path).loads if s.flags & PF_W and 0 < s.filesz < s.memsz]
    return segment.paddr + segment.filesz, segment.memsz - segment.filesz


def foreign_boot(context, layout, garbage=False):
    """The foreign kernel's lines, booted with `layout`, its BSS full of
    garbage first when asked."""
    # Imported here: support.foreign_kernel builds through pytest's helpers,
    # and `./build.sh lab` lists the labs with a Python that may lack pytest.
    from support.foreign_kernel import build_foreign_kernel, kernel_lines, make_image
    out = context.work_dir / f"foreign-{layout}"
    elf = out / "foreign.elf"
    if not elf.exists():
        build_foreign_kernel(out, layout)
    image = out / "foreign.img"
    if not image.exists():
        make_image(context.build / "image" / "mkimage", elf, image)
    extra = garbage_over(context, *bss_of(elf)) if garbage else ()
    result = context.boot(image=image, until=UNTIL_LOADER_HALTED, extra=extra)
    lines = kernel_lines(result)
    if not lines:
        raise Failed(f"the foreign kernel printed nothing; the boot printed:\n"
                     f"{last_lines(result.serial)}")
    return lines


def foreign_line(layout, wanted, garbage=False):
    def run(context):
        lines = foreign_boot(context, layout, garbage)
        if not any(line.startswith(wanted) for line in lines):
            raise Failed(f"the foreign kernel ({layout} layout) did not say {wanted!r}; "
                         f"it said:\n" + "\n".join(f"  | {line}" for line in lines))
    return run


def kernel_boots(context):
    result = context.boot(until=UNTIL_LOADER_HALTED)
    expect_in(result.serial, "stage2: kernel checksum ok", "the boot's output")
    expect_in(result.serial, BOOT_COMPLETE, "the boot's output")
    expect(result.exit_code == KERNEL_EXIT_SUCCESS,
           f"the kernel did not end the machine with success (QEMU exit code "
           f"{result.exit_code})")


def shuffled_kernel(context):
    """A kernel whose data segment comes first in the program headers; the
    data bytes it carries."""
    data = elf_factory.data(SHUFFLED_DATA, SHUFFLED_DATA_BYTES, bss=SHUFFLED_BSS_BYTES)
    path = context.work_dir / "shuffled.elf"
    if not path.exists():
        elf_factory.write(path, elf_factory.elf64([data, elf_factory.text(SHUFFLED_CODE)],
                                                  entry=SHUFFLED_CODE))
    return path, data.data


def read_bytes(dump):
    """`xp /Nbx ADDR` output as bytes."""
    return bytes(int(value, 16) for line in dump.replace("\r", "").splitlines()
                 for value in line.partition(":")[2].split())


def segments_out_of_order(context):
    kernel, data = shuffled_kernel(context)
    image = context.image(cmdline="", kernel=kernel)
    total = SHUFFLED_DATA_BYTES + SHUFFLED_BSS_BYTES
    dump = f"xp /{total + PAGE}bx {SHUFFLED_DATA:#x}"
    result = boot_and_ask_monitor(str(image), UNTIL_LOADER_DONE, (dump,),
                                  extra=garbage_over(context, SHUFFLED_DATA, total + PAGE))
    memory = read_bytes(monitor_answer(result, dump))
    expect(len(memory) == total + PAGE, f"QEMU's monitor showed {len(memory)} bytes, "
                                        f"not {total + PAGE}")
    if memory[:SHUFFLED_DATA_BYTES] != data:
        first = next(i for i in range(SHUFFLED_DATA_BYTES) if memory[i] != data[i])
        raise Failed(f"the data segment (listed before the code segment) differs from the "
                     f"file at 0x{SHUFFLED_DATA + first:x}: 0x{memory[first]:02x}, "
                     f"the file has 0x{data[first]:02x}")
    bss = memory[SHUFFLED_DATA_BYTES:total]
    expect(bss == bytes(len(bss)), f"its BSS at 0x{SHUFFLED_DATA + SHUFFLED_DATA_BYTES:x} "
                                   f"is not all zero")
    after = memory[total:]
    expect(after == GARBAGE_BYTE * len(after),
           f"the bytes after p_memsz, at 0x{SHUFFLED_DATA + total:x}, were changed: the "
           f"segment ends there")


PAGED, PACKED = "paged", "packed"
DATA_OK = "foreign kernel: data ok"
BSS_OK = "foreign kernel: bss ok ("    # then its size: "(2097152 bytes zero)"
GUARD_OK = "foreign kernel: guard ok"

LAB = Lab(
    name="load_segments",
    title="copying the PT_LOAD segments to p_paddr and zeroing their BSS",
    handout="docs/course/labs/load_segments.md",
    chapter="docs/course/06-loading-an-elf.md",
    checks=[
        Check("our kernel boots to the end", 10, kernel_boots),
        Check("the foreign kernel's 72 KiB data arrives intact (4 segments with gaps)", 10,
              foreign_line(PAGED, DATA_OK)),
        Check("the same with its segments packed in the file (mid-sector offsets)", 10,
              foreign_line(PACKED, DATA_OK)),
        Check("the foreign kernel's 2 MiB BSS is zero though RAM held a pattern", 10,
              foreign_line(PAGED, BSS_OK, garbage=True)),
        Check("the segment right after that BSS keeps its bytes", 5,
              foreign_line(PAGED, GUARD_OK, garbage=True)),
        Check("program headers out of address order: data, BSS and what follows are right",
              10, segments_out_of_order),
    ])
