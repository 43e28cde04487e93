"""The labs, in the order of the boot (the order `./build.sh lab` lists
them). Each lives in checks/NAME.py; its blocks are marked in the sources
(markers.py) and its handout is docs/course/labs/NAME.md."""
import importlib

LAB_MODULES = [
    "frames",
]


def all_labs():
    return [importlib.import_module(f"labs.checks.{name}").LAB for name in LAB_MODULES]


def find_lab(name):
    """The lab called `name`, or None."""
    for lab in all_labs():
        if lab.name == name:
            return lab
    return None
