"""The kernel's structure, read from its #include lines.

kernel/ is divided into folders with one role each (README.md, "Repository
layout"). Two rules keep the division honest:

  - Production code does not call test code. A production file (anything
    but *_test.c, *_selftest.[ch] and ktest/) includes no ktest/ header and
    no self-test header. The one exception is main.c, which decides what a
    boot runs: the shell, or the tests the command line asks for
    (kernel/ktest/ktest.h says why the tests live in the shipped kernel).

  - Dependencies between folders run one way. If a file in folder A
    includes a header of folder B, A depends on B; the folders' graph has
    no cycle. The *_test.c files are left out: a test is included by
    nothing, so its includes cannot lead back to it. The files at the top
    of kernel/ (console, panic, io.h, boot_info.h, ..., and main.c) are no
    folder of their own: they are the base every folder may use, so their
    headers must include no folder's header.

The rules are checked on the real tree, and each rule's checker is shown a
small made-up tree that breaks it, so that it cannot pass by accident.
"""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
KERNEL = ROOT / "kernel"

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

# main.c is the composition root: it may start the tests and self-tests.
COMPOSITION_ROOT = "main.c"


def kernel_includes(kernel=KERNEL):
    """{file path relative to kernel/: [quoted include paths]} for every .c
    and .h file of the kernel."""
    includes = {}
    for path in sorted(kernel.rglob("*")):
        if path.suffix in (".c", ".h") and path.is_file():
            name = path.relative_to(kernel).as_posix()
            includes[name] = INCLUDE.findall(path.read_text())
    return includes


def is_test_file(name):
    """Test code: *_test.c, the memory self-tests, and the ktest/ folder."""
    stem = pathlib.PurePosixPath(name).stem
    return (name.startswith("ktest/") or name.endswith("_test.c")
            or stem.endswith("_selftest"))


def production_includes_of_test_code(includes):
    """[(production file, test header)] for every include that breaks the
    first rule."""
    return [(name, header)
            for name, headers in includes.items()
            if not is_test_file(name) and name != COMPOSITION_ROOT
            for header in headers if is_test_file(header)]


def folder_of(name):
    """The folder a kernel file is in ("cpu" for cpu/idt.c), None for the
    files at the top of kernel/."""
    parts = pathlib.PurePosixPath(name).parts
    return parts[0] if len(parts) > 1 else None


def base_headers_including_folders(includes):
    """[(top-level header, folder header)]: the base must not depend on a
    folder."""
    return [(name, header)
            for name, headers in includes.items()
            if name.endswith(".h") and folder_of(name) is None
            for header in headers if folder_of(header) is not None]


def folder_graph(includes):
    """{folder: {folders it includes headers of}}, from the files in folders
    except the *_test.c files."""
    graph = {}
    for name, headers in includes.items():
        folder = folder_of(name)
        if folder is None or name.endswith("_test.c"):
            continue
        targets = graph.setdefault(folder, set())
        for header in headers:
            target = folder_of(header)
            if target is not None and target != folder:
                targets.add(target)
    return graph


def folder_cycles(graph):
    """Every cycle of the folder graph, as a list of folders from the
    smallest name round to it again; [] when the dependencies run one
    way. (Depth-first search; the graph has a handful of nodes.)"""
    cycles = set()

    def visit(path):
        for target in sorted(graph.get(path[-1], ())):
            if target == path[0]:
                cycles.add(tuple(path + [target]))
            elif target not in path and target > path[0]:
                visit(path + [target])

    for start in sorted(graph):
        visit([start])
    return sorted(list(cycle) for cycle in cycles)


def test_production_code_does_not_include_test_code():
    includes = kernel_includes()
    assert "ktest/ktest.h" in includes["main.c"], "main.c should start the tests"
    assert production_includes_of_test_code(includes) == []


def test_base_headers_include_no_folder():
    assert base_headers_including_folders(kernel_includes()) == []


def test_folder_dependencies_run_one_way():
    graph = folder_graph(kernel_includes())
    # The folders the README's layout table names, so that a renamed or
    # new folder is noticed here too.
    assert sorted(graph) == ["cpu", "drivers", "interrupts", "ktest", "mm", "shell"]
    assert "cpu" in graph["interrupts"], "the IRQ layer registers with the IDT"
    assert folder_cycles(graph) == [], graph


def test_the_checkers_see_a_broken_tree(tmp_path):
    """A made-up kernel that breaks both rules."""
    files = {
        "cpu/exceptions.c": '#include "ktest/ktest.h"\n#include "console.h"\n',
        "cpu/idt.c": '#include "interrupts/irq.h"\n',
        "interrupts/irq.c": '#include "cpu/idt.h"\n',
        "drivers/timer.c": '#include "interrupts/irq.h"\n',
        "mm/paging_test.c": '#include "drivers/timer.h"\n',
        "mm/memory.c": '#include "mm/memory_selftest.h"\n',
        "console.h": '#include "cpu/control_registers.h"\n',
        "ktest/ktest.h": "",
        "ktest/ktest.c": '#include "cpu/exceptions.h"\n',
        "mm/memory_selftest.h": "",
        "mm/frames_test.c": '#include "ktest/ktest.h"\n',
        "main.c": '#include "ktest/ktest.h"\n',
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    includes = kernel_includes(tmp_path)
    assert production_includes_of_test_code(includes) == [
        ("cpu/exceptions.c", "ktest/ktest.h"),
        ("mm/memory.c", "mm/memory_selftest.h"),
    ]
    assert base_headers_including_folders(includes) == [
        ("console.h", "cpu/control_registers.h")]
    graph = folder_graph(includes)
    assert graph["drivers"] == {"interrupts"}
    assert graph["mm"] == set(), "a test file's includes are no dependency"
    assert folder_cycles(graph) == [["cpu", "interrupts", "cpu"],
                                    ["cpu", "ktest", "cpu"]]
    assert folder_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [
        ["a", "b", "c", "a"]]
