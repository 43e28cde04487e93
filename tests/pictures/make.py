#!/usr/bin/env python3
"""The docs' pictures, made from this build: `./build.sh pictures [NAME ...]`.

    make.py [--out DIR] [NAME ...]

makes the named pictures (default: all of them) into DIR (default
docs/pictures) and prints one line per file written, with its size. The
pictures come from the generator modules in this folder, each with a
PICTURES dict {NAME: make(out_dir) -> [files written]}: screenshots.py
(real boots in QEMU) and diagrams.py (SVG from the sources' constants).

A picture is made in a temporary folder beside DIR and its files are
renamed into DIR only once all of them are there, so an interrupted or
failed run leaves every picture either as it was or wholly new. Names are
checked before anything is made: a misspelt one changes nothing.
"""
import argparse
import concurrent.futures
import importlib
import os
import pathlib
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))   # tests/, for support.*
sys.path.insert(0, str(HERE))          # the generator modules

from support.paths import BUILD, DOCS_TOOLCHAIN, ROOT, build_toolchain  # noqa: E402

DEFAULT_OUT = ROOT / "docs" / "pictures"
# The generator modules, each with its PICTURES. diagrams.py comes from a
# branch of its own: until it is there, the screenshots alone are made.
GENERATORS = ["screenshots", "diagrams"]
# Two pictures at a time: a screenshot is a QEMU boot, mostly waiting, and
# two keep a two-core machine busy without starving the boots.
PARALLEL = 2


class UnknownPicture(Exception):
    pass


def all_pictures():
    """{NAME: make} from every generator module there is. A module may also
    define unchanged(name, new_dir, out_dir) -> bool: True when the picture
    just made in new_dir shows what the one in out_dir already shows, so
    that out_dir's files are kept (a screenshot's PNG bytes differ on every
    boot, with the cursor's blink and the TSC's digits, and rewriting them
    would make every run a change in git)."""
    pictures = {}
    for module_name in GENERATORS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as missing:
            if missing.name != module_name:
                raise              # the module is there, something it imports is not
            continue
        for name, make in module.PICTURES.items():
            if name in pictures:
                raise RuntimeError(f"two generators make a picture named {name}")
            pictures[name] = make
    return pictures


def chosen(pictures, names):
    """The pictures to make, in order; every name must be one of them."""
    unknown = [name for name in names if name not in pictures]
    if unknown:
        raise UnknownPicture(f"no picture named {', '.join(unknown)}; "
                             f"the pictures are: {', '.join(sorted(pictures))}")
    return {name: pictures[name] for name in (names or pictures)}


def make_one(name, make, out_dir):
    """Make one picture into a temporary folder in out_dir, then rename its
    files into out_dir; returns the files' final paths and whether they were
    kept as they were (the generator module's unchanged() said so)."""
    unchanged = getattr(sys.modules[make.__module__], "unchanged", None)
    with tempfile.TemporaryDirectory(prefix=f".{name}-", dir=out_dir) as tmp:
        written = make(pathlib.Path(tmp))
        if unchanged and unchanged(name, pathlib.Path(tmp), out_dir):
            return [out_dir / pathlib.Path(path).name for path in written], True
        final = []
        for path in written:
            path = pathlib.Path(path)
            if path.parent != pathlib.Path(tmp) or not path.is_file():
                raise RuntimeError(f"{name}: the generator says it wrote {path}, "
                                   f"which is not a file in the folder it was given")
            final.append(out_dir / path.name)
        for path, target in zip(written, final):
            os.replace(path, target)     # atomic on one file system
        return final, False


def make_pictures(pictures, names, out_dir, report=print):
    """Make `names` (all when empty) of `pictures` into out_dir, PARALLEL at
    a time; report one line per file. Raises UnknownPicture before making
    anything when a name is not one of them."""
    selected = chosen(pictures, names)
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        futures = {name: pool.submit(make_one, name, make, out_dir)
                   for name, make in selected.items()}
        failed = []
        for name, future in futures.items():
            try:
                files, kept = future.result()
            except Exception as error:    # report every picture, then fail
                failed.append(name)
                report(f"make.py: {name}: failed: {error}")
                continue
            for path in files:
                note = " (unchanged: the same screen as before, kept)" if kept else ""
                report(f"{display(path)}  {path.stat().st_size} bytes{note}")
    if failed:
        raise RuntimeError(f"these pictures failed: {', '.join(failed)}")


def display(path):
    try:
        return path.resolve().relative_to(pathlib.Path.cwd())
    except ValueError:
        return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT,
                        help="where the pictures go (default: docs/pictures)")
    parser.add_argument("--check-names", action="store_true",
                        help="only check that every NAME is a picture (./build.sh pictures "
                             "does, before it builds)")
    parser.add_argument("names", nargs="*", metavar="NAME", help="pictures to make (default: all)")
    arguments = parser.parse_args(argv)
    pictures = all_pictures()
    try:
        chosen(pictures, arguments.names)
    except UnknownPicture as error:
        print(f"make.py: {error}", file=sys.stderr)
        return 2
    if arguments.check_names:
        return 0
    if build_toolchain() != DOCS_TOOLCHAIN:
        # Addresses and sizes on the screens differ from one toolchain to
        # another by design; the docs quote one.
        print(f"make.py: the docs show the TOOLCHAIN={DOCS_TOOLCHAIN} build, and {BUILD} was "
              f"built with TOOLCHAIN={build_toolchain()}: run TOOLCHAIN={DOCS_TOOLCHAIN} "
              f"./build.sh pictures", file=sys.stderr)
        return 2
    try:
        make_pictures(pictures, arguments.names, arguments.out)
    except RuntimeError as error:
        print(f"make.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
