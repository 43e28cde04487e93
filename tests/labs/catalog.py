"""The labs, in the order of the boot (the order `./build.sh lab` lists
them). Each lives in checks/NAME.py, defining LAB; its blocks are marked in
the sources (markers.py) and its handout is docs/course/labs/NAME.md."""
import importlib
import pathlib

CHECKS_DIR = pathlib.Path(__file__).resolve().parent / "checks"
# The order of the boot; a lab module not named here comes after these.
LAB_ORDER = [
    "stage1_read",      # chapter 02: stage 1 reads stage 2 with INT 13h extensions
    "e820",             # chapter 03: the E820 loop and its quirks
    "a20",              # chapter 03: the A20 gate
    "protected_mode",   # chapter 04: the GDT and the switch to protected mode
    "page_tables",      # chapter 05: the identity-mapping page tables
    "long_mode",        # chapter 05: PAE, EFER.LME, paging on, the far jump
    "load_segments",    # chapter 06: copying PT_LOAD segments and zeroing BSS
    "exceptions",       # chapter 08: the IDT and an exception handler that reports CR2
    "frames",           # chapter 09: the physical frame allocator
    "paging",           # chapter 09: map and unmap in the paging API
    "heap",             # chapter 09: the kernel heap
]


def lab_module_names():
    present = sorted(path.stem for path in CHECKS_DIR.glob("*.py") if path.stem != "__init__")
    rank = {name: index for index, name in enumerate(LAB_ORDER)}
    return sorted(present, key=lambda name: (rank.get(name, len(LAB_ORDER)), name))


def all_labs():
    return [importlib.import_module(f"labs.checks.{name}").LAB for name in lab_module_names()]


def find_lab(name):
    """The lab called `name`, or None."""
    for lab in all_labs():
        if lab.name == name:
            return lab
    return None
