"""The documentation names only things that exist.

README.md, docs/*.md, the course (docs/course/*.md) and its lab handouts
(docs/course/labs/*.md) quote commands, files and labels for a reader to
type or look up; each rename in the code can silently strand one of them.
These tests read the Markdown and check, against the source tree and a
finished build:
  - every `./build.sh X` is a command build.sh's `case` dispatches;
  - every path under bootloader/, kernel/, tests/, image/, libk/, docs/ in
    code spans, code blocks and links exists (build/ paths after a build,
    or are written by the command the docs name);
  - every source file cited by its bare name (`a20.inc`) exists;
  - every `label` cited "in `file`" is defined in that file, and every label
    in the Where column of docs/firmware-quirks.md is defined in the file
    that row names, or else in the files of that section's heading;
  - every function cited as `name()` is defined, every snake_case or
    CONSTANT_CASE name in a code span and every --option still occurs in
    the source tree;
  - every relative Markdown link leads to a file, and its #anchor to a
    heading there.
A failure names the document, the line and what is missing.
"""
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from support.paths import BUILD, ROOT

# The README, the reference documents, the course's chapters and its lab
# handouts (any handout added to docs/course/labs/ is checked too).
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
        *sorted((ROOT / "docs" / "course").glob("*.md")),
        *sorted((ROOT / "docs" / "course" / "labs").glob("*.md"))]
DOC_IDS = [str(doc.relative_to(ROOT)) for doc in DOCS]

# Top-level directories whose paths the docs quote.
SOURCE_DIRS = ("bootloader", "kernel", "tests", "image", "libk", "docs")
PATH = re.compile(r"(?<![\w.$/-])((?:%s|build)(?:/[\w.*-]*)+)" % "|".join(SOURCE_DIRS))

# Files under build/ that `./build.sh build` does not make: the docs say
# which command writes them, and that command's source must name them.
WRITTEN_BY_OTHER_COMMANDS = {
    "build/bochs-serial.txt": "tests/support/bochs.py",  # ./build.sh bochs
    "build/bochs.log": "tests/support/bochs.py",
    "build/bench/results.json": "tests/bench/bench.py",  # ./build.sh bench
    "build/bench/work": "tests/bench/bench.py",
    "build/breaks": "build.sh",                          # DEBUG_BREAKS=1 ./build.sh build
    "build/debug": "tests/debug/gdb_session.py",         # ./build.sh debug
    "build/linux-cache": "tests/support/linux.py",       # the Linux tests
}

# A bare file name cited in a code span (`disk.inc`): source files only;
# build products (.bin, .elf, .img) are often placeholders like my-disk.img.
BARE_SOURCE_FILE = re.compile(r"^[\w-]+\.(?:asm|inc|c|h|py|sh|ld|md)$")
IDENTIFIER = re.compile(r"^\.?[A-Za-z_]\w*$")


@dataclass
class Doc:
    """One Markdown file split into what the checks read, with line numbers."""
    path: Path
    code_spans: list = field(default_factory=list)    # (line, text) inline `code`
    code_lines: list = field(default_factory=list)    # (line, text) inside ``` blocks
    links: list = field(default_factory=list)         # (line, target)
    headings: list = field(default_factory=list)      # (line, level, text)
    prose: list = field(default_factory=list)         # (line, text) outside code blocks

    @property
    def name(self):
        return str(self.path.relative_to(ROOT))


def parse(path):
    doc = Doc(path)
    fence = None
    for number, line in enumerate(path.read_text().splitlines(), 1):
        opening = re.match(r"^\s*(```+|~~~+)", line)
        if fence:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = None
            else:
                doc.code_lines.append((number, line))
            continue
        if opening:
            fence = opening.group(1)
            continue
        doc.prose.append((number, line))
        for match in re.finditer(r"`([^`]+)`", line):
            doc.code_spans.append((number, match.group(1)))
        # Links in code spans are code, not links.
        for match in re.finditer(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)",
                                 re.sub(r"`[^`]+`", "", line)):
            doc.links.append((number, match.group(1)))
        heading = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if heading:
            doc.headings.append((number, len(heading.group(1)), heading.group(2)))
    return doc


PARSED = {doc: parse(doc) for doc in DOCS}


def slug(heading):
    """The anchor GitHub gives a heading: the text without Markdown
    formatting, lower case, only letters, digits, '_', '-' and spaces, and
    the spaces as '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)     # links keep their text
    text = text.replace("`", "").replace("*", "")
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(doc):
    seen = {}
    result = set()
    for _, _, text in doc.headings:
        base = slug(text)
        count = seen.get(base, 0)
        result.add(base if count == 0 else f"{base}-{count}")
        seen[base] = count + 1
    return result


def build_sh_commands():
    """The words build.sh's final `case "$command" in` dispatches."""
    text = (ROOT / "build.sh").read_text()
    block = re.search(r'^ *case "\$command" in\n(.*?)^ *esac', text, re.M | re.S).group(1)
    commands = set()
    for patterns in re.findall(r"^ +([^\s(][^)]*)\)", block, re.M):
        commands.update(word.strip() for word in patterns.split("|"))
    commands.discard("*")
    return commands


def repository_files():
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / name for name in out.split("\0") if name and (ROOT / name).exists()]


FILES = repository_files()


def files_named(name):
    return [path for path in FILES if path.name == name]


def built_files_named(name):
    """Files the build generates (kernel/obj/ksymtab.asm) may be cited too."""
    return list(BUILD.rglob(name)) if BUILD.is_dir() else []


def code_texts(doc):
    """Every piece of code the doc quotes: code spans, code block lines and
    link targets (without their #anchor), with line numbers."""
    yield from doc.code_spans
    yield from doc.code_lines
    for number, target in doc.links:
        if not re.match(r"^[a-z]+:", target):
            yield number, target.split("#")[0]


# ---- Commands -------------------------------------------------------------------------

def test_build_sh_commands_are_parsed():
    commands = build_sh_commands()
    assert {"build", "run", "test", "clean", "help"} <= commands, commands


@pytest.mark.parametrize("doc", DOCS, ids=DOC_IDS)
def test_build_sh_commands_exist(doc):
    known = build_sh_commands()
    doc = PARSED[doc]
    problems = []
    for number, text in [*doc.code_spans, *doc.code_lines, *doc.prose]:
        for command in re.findall(r"\./build\.sh\s+([a-z][\w-]*)", text):
            if command not in known:
                problems.append(f"{doc.name}:{number}: ./build.sh {command}: build.sh has no "
                                f"such command (it knows {', '.join(sorted(known))})")
    assert not problems, "\n".join(sorted(set(problems)))


# ---- Paths ------------------------------------------------------------------------------

def path_problem(path):
    """Why a quoted path does not exist, or None when it does."""
    path = path.rstrip(".,:;")
    if path.startswith("build"):
        relative = path.split("/", 1)[1] if "/" in path else ""
        if (BUILD / relative).exists():
            return None
        # A file another command writes, or one inside a directory it
        # writes (build/debug/serial.txt): its writer must still name it.
        # Whether it exists now depends on which tests ran first.
        key = path.rstrip("/")
        writer = next((writer for written, writer in WRITTEN_BY_OTHER_COMMANDS.items()
                       if key == written or key.startswith(written + "/")), None)
        if writer:
            name = path.rstrip("/").rsplit("/", 1)[-1]
            if re.search(rf"\b{re.escape(name)}\b", (ROOT / writer).read_text()):
                return None
            return f"{path}: {writer} (which writes it) no longer names {name}"
        return f"{path}: not in the build directory after ./build.sh build"
    if "*" in path:
        return None if list(ROOT.glob(path)) else f"{path}: matches no file"
    return None if (ROOT / path).exists() else f"{path}: no such file or directory"


@pytest.mark.parametrize("doc", DOCS, ids=DOC_IDS)
def test_quoted_paths_exist(doc):
    doc = PARSED[doc]
    problems = []
    for number, text in code_texts(doc):
        for path in PATH.findall(text):
            problem = path_problem(path)
            if problem:
                problems.append(f"{doc.name}:{number}: {problem}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("doc", DOCS, ids=DOC_IDS)
def test_bare_source_file_names_exist(doc):
    doc = PARSED[doc]
    problems = [f"{doc.name}:{number}: `{text}`: no file of that name in the repository"
                for number, text in doc.code_spans
                if BARE_SOURCE_FILE.match(text) and not files_named(text)
                and not (ROOT / text).exists() and not built_files_named(text)]
    assert not problems, "\n".join(problems)


# ---- Labels --------------------------------------------------------------------------------

def resolve(name, scope=()):
    """The file a doc means by `name`: a path from the top of the tree, or a
    bare name, looked up first among the scope's files, then everywhere."""
    if "/" in name or (ROOT / name).is_file():
        path = ROOT / name
        return [path] if path.is_file() else []
    in_scope = [path for path in scope if path.name == name]
    return in_scope or files_named(name)


def nasm_definition(label):
    name = re.escape(label)
    return re.compile(
        rf"^\s*{name}:"                                                  # a label
        rf"|^\s*{name}\s+(?:equ|db|dw|dd|dq|dt|times|resb|resw|resd|resq)\b"  # data, constants
        rf"|^\s*%(?:define|xdefine|assign|macro|imacro)\s+{name}\b"     # macros
        rf"|^\s*struc\s+{name}\b", re.M)


def defined_in(label, path):
    """Is `label` defined in the file? In NASM source, as a label, constant,
    macro or struc; elsewhere (C, shell), as a whole word."""
    text = path.read_text()
    if path.suffix in (".asm", ".inc"):
        return bool(nasm_definition(label).search(text))
    return bool(re.search(rf"(?<![\w.]){re.escape(label)}\b", text))


def local_label_in_body(local, parent, path):
    """Is the NASM local label `.x` defined in the body of `parent`, i.e.
    after `parent:` and before the next non-local label?"""
    text = path.read_text()
    start = nasm_definition(parent).search(text)
    if not start:
        return False
    end = re.compile(r"^[A-Za-z_]\w*:", re.M).search(text, start.end())
    body = text[start.end():end.start() if end else len(text)]
    return bool(nasm_definition(local).search(body))


def check_label(label, file_name, scope, parent=None, parent_file=None):
    """Why `label` is not where the docs say, or None. With a file named,
    it must be defined there; with a parent label, in the parent's file
    (a local label: in the parent's body); otherwise in one of the scope's
    files."""
    label = label.removesuffix("()")
    if parent_file is not None:
        candidates = [parent_file]
    elif file_name:
        candidates = resolve(file_name, scope)
        if not candidates:
            return f"`{file_name}`: no such file"
    else:
        candidates = list(scope)
    for path in candidates:
        if label.startswith(".") and parent:
            if local_label_in_body(label, parent, path):
                return None
        elif defined_in(label, path):
            return None
    where = ", ".join(str(path.relative_to(ROOT)) for path in candidates)
    inside = f" inside `{parent}`" if label.startswith(".") and parent else ""
    return f"`{label}` is not defined{inside} in {where}"


def file_defining(label, file_name, scope):
    for path in (resolve(file_name, scope) if file_name else scope):
        if defined_in(label, path):
            return path
    return None


@pytest.mark.parametrize("doc", DOCS, ids=DOC_IDS)
def test_labels_cited_in_a_file_are_defined_there(doc):
    """Prose like "`serial_init` in `serial.inc`" or "`a`, `b` and `c` in
    `file.inc`": each identifier before "in" is defined in that file."""
    doc = PARSED[doc]
    problems = []
    listing = re.compile(r"((?:`[^`]+`(?:,\s*|\s+and\s+))*`[^`]+`)\s+in\s+`([^`]+)`")
    for number, line in doc.prose:
        for names, file_name in listing.findall(line):
            if not re.search(r"[./]", file_name):      # "in `kernel_main`": not a file
                continue
            for label in re.findall(r"`([^`]+)`", names):
                label = label.removesuffix("()")
                if not IDENTIFIER.match(label):
                    continue
                problem = check_label(label, file_name, ())
                if problem:
                    problems.append(f"{doc.name}:{number}: {problem}")
    assert not problems, "\n".join(problems)


def section_scope(heading, doc):
    """The files a section heading names, e.g. "Stage 2 (`bootloader/stage2.asm`
    and `bootloader/stage2/`)": directories stand for the source files in them."""
    scope = []
    for name in re.findall(r"`([^`]+)`", heading):
        path = ROOT / name.rstrip("/")
        if path.is_dir():
            scope += sorted(p for p in path.iterdir() if p.suffix in (".asm", ".inc", ".c", ".h"))
        elif path.is_file():
            scope.append(path)
        else:
            pytest.fail(f"{doc.name}: heading {heading!r} names {name}, which does not exist")
    return scope


def where_citations(cell):
    """The (label, file, parent) triples of one Where cell, e.g.
    "`disk_init`, `read_sectors` (`.read_chs`, `.failed`) in `disk.inc`;
    `x` in `y.inc`". A file applies to every label before it back to the
    previous file or ';'; a name in parentheses belongs to the label
    before them. file is None when the row names none."""
    token = re.compile(r"\bin\s+`(?P<file>[^`]+)`|`(?P<name>[^`]+)`|(?P<open>\()|(?P<close>\))")
    for segment in cell.split(";"):
        pending, depth, parent = [], 0, None
        for match in token.finditer(segment):
            if match.group("open"):
                depth += 1
            elif match.group("close"):
                depth -= 1
            elif match.group("name"):
                name = match.group("name")
                if depth == 0:
                    parent = name
                    pending.append((name, None))
                else:
                    pending.append((name, parent))
            else:
                for name, owner in pending:
                    yield name, match.group("file"), owner
                pending = []
        for name, owner in pending:
            yield name, None, owner


def test_firmware_quirks_where_column():
    doc = PARSED[ROOT / "docs" / "firmware-quirks.md"]
    problems, checked = [], 0
    scope, where_column = [], None
    for number, line in doc.prose:
        if line.startswith("## "):
            scope, where_column = section_scope(line, doc), None
            continue
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if where_column is None:
            where_column = cells.index("Where") if "Where" in cells else None
            continue
        if where_column is None or set(cells[0]) <= set("-: "):
            continue
        citations = list(where_citations(cells[where_column]))
        assert citations, f"{doc.name}:{number}: the Where cell names nothing"
        for name, file_name, parent in citations:
            checked += 1
            if "/" in name or BARE_SOURCE_FILE.match(name):
                if not resolve(name):
                    problems.append(f"{doc.name}:{number}: `{name}`: no such file")
                continue
            if not IDENTIFIER.match(name):
                problems.append(f"{doc.name}:{number}: `{name}` is neither a label nor a file")
                continue
            parent_file = None
            if parent:
                parent_file = file_defining(parent, file_name, scope)
                if parent_file is None:
                    continue        # the parent's own check reports it
            problem = check_label(name, file_name, scope, parent, parent_file)
            if problem:
                problems.append(f"{doc.name}:{number}: {problem}")
    assert checked > 40, f"only {checked} citations found: has the table's format changed?"
    assert not problems, "\n".join(problems)


# Names the docs take from specifications, not from our code.
EXTERNAL_NAMES = {
    "e_phnum", "e_phoff",       # ELF header fields (System V ABI)
    "multiboot_info",           # the Multiboot specification's information structure
    "type_of_loader", "vid_mode",   # Linux boot protocol header fields
    "Opteron_G1",               # a QEMU CPU model (-cpu)
}


def source_texts():
    return {path: path.read_text(errors="replace") for path in FILES
            if path.suffix != ".md" and path.is_file()}


SOURCES = source_texts()


def function_defined(name):
    """Is there a definition of function `name` in the tree: a C function
    (a line naming it with a parameter list that does not end in ';', so
    not a prototype or a call statement), a macro, or a NASM label?"""
    c_definition = re.compile(rf"^[A-Za-z_][^;=(]*\b{re.escape(name)}\([^;]*$"
                              rf"|^#\s*define\s+{re.escape(name)}\(", re.M)
    for path, text in SOURCES.items():
        if path.suffix in (".c", ".h") and c_definition.search(text):
            return True
        if path.suffix in (".asm", ".inc") and nasm_definition(name).search(text):
            return True
    return False


@pytest.mark.parametrize("doc", DOCS, ids=DOC_IDS)
def test_functions_cited_exist(doc):
    """`name()` in a code span is a function of ours, defined somewhere."""
    doc = PARSED[doc]
    problems = [f"{doc.name}:{number}: `{text}`: no such function in the source tree"
                for number, text in doc.code_spans
                if re.fullmatch(r"[A-Za-z_]\w*\(\)", text) and not function_defined(text[:-2])]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("doc", DOCS, ids=DOC_IDS)
def test_identifiers_cited_exist(doc):
    """Every snake_case or CONSTANT_CASE name in a code span (labels,
    functions, constants, variables, not file names) still occurs in the
    source tree: renamed code leaves no name behind in the docs."""
    doc = PARSED[doc]
    corpus = "\n".join(SOURCES.values())
    problems = []
    for number, text in doc.code_spans:
        for name in re.findall(r"(?<![\w./$-])\.?([A-Za-z_]\w*_\w*)(?![\w/-]|\.\w)", text):
            if name in EXTERNAL_NAMES:
                continue
            if not re.search(rf"(?<!\w){re.escape(name)}(?!\w)", corpus):
                problems.append(f"{doc.name}:{number}: `{name}` (in `{text}`) occurs nowhere "
                                f"in the source tree")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("doc", DOCS, ids=DOC_IDS)
def test_long_options_cited_exist(doc):
    """Every --option the docs quote (of build.sh, mkimage, bench.py,
    write-disk.sh, bochs.py, or a compiler flag build.sh passes) occurs in
    the source tree. `--option=value` is the docs' own placeholder."""
    doc = PARSED[doc]
    corpus = "\n".join(SOURCES.values())
    problems = []
    for number, text in [*doc.code_spans, *doc.code_lines]:
        for option in re.findall(r"(?<![\w-])(--[a-z][\w-]*)", text):
            if option == "--option":
                continue
            if not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", corpus):
                problems.append(f"{doc.name}:{number}: {option}: no tool of ours takes it")
    assert not problems, "\n".join(sorted(set(problems)))


# ---- Links -------------------------------------------------------------------------------------

@pytest.mark.parametrize("doc", DOCS, ids=DOC_IDS)
def test_relative_links_and_anchors_exist(doc):
    doc = PARSED[doc]
    problems = []
    for number, target in doc.links:
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):     # http:, https:, mailto:
            continue
        path_part, _, anchor = target.partition("#")
        linked = (doc.path.parent / path_part).resolve() if path_part else doc.path
        if not linked.exists():
            problems.append(f"{doc.name}:{number}: link to {target}: {path_part} does not exist")
            continue
        if anchor and linked.suffix == ".md":
            known = anchors(PARSED.get(linked) or parse(linked))
            if anchor not in known:
                problems.append(f"{doc.name}:{number}: link to {target}: no heading "
                                f"#{anchor} in {linked.relative_to(ROOT)}")
    assert not problems, "\n".join(problems)


def test_slugs_follow_github():
    assert slug("3. Stage 2 (`bootloader/stage2.asm` and `bootloader/stage2/*.inc`)") == \
        "3-stage-2-bootloaderstage2asm-and-bootloaderstage2inc"
    assert slug("QEMU's isa-debug-exit device") == "qemus-isa-debug-exit-device"
    assert slug("Step 6: page tables (`page_tables.inc`)") == "step-6-page-tables-page_tablesinc"
