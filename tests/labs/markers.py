"""Lab markers: the blocks of the real sources that a student writes.

The shipped code is the solution. A lab marks what the student writes with
comment lines, in NASM (`;`) or C (`//`):

        ; LAB a20 BEGIN
        ; TODO: what to write, in one or more TODO lines
        ; HINT: a hint (any number of HINT lines)
        ; STUB: stc       ; code that replaces the block so it still builds
        ; STUB: ret
        ...the solution...
        ; LAB a20 END

The TODO, HINT and STUB lines come first, right after BEGIN. The student's
starting point (`./build.sh lab NAME`) keeps the BEGIN and END lines, the
TODO and HINT lines, turns each STUB line into the code it carries, and
drops the solution. Nothing else in the file changes.

This module only reads and rewrites text; lab.py does the files and git.
"""
import dataclasses
import re

COMMENT_PREFIXES = {".asm": ";", ".inc": ";", ".c": "//", ".h": "//"}
MARKER = re.compile(r"^(?P<indent>\s*)(?P<comment>;|//)\s*LAB\s+(?P<name>\S+)\s+(?P<edge>BEGIN|END)\s*$")
# A line that looks like a marker but is not one (a typo, a missing name):
# refused rather than silently treated as code.
MARKER_LIKE = re.compile(r"^\s*(;|//)\s*LAB\b(?!\s*(TODO|HINT|STUB):)")
DIRECTIVE = re.compile(r"^(?P<indent>\s*)(?P<comment>;|//) ?(?P<kind>TODO|HINT|STUB):(?P<text>.*)$")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class MarkerError(Exception):
    """A marked block that cannot be understood; the message names the
    file and line and says what to fix."""


@dataclasses.dataclass
class Block:
    """One marked block: its lab, where it is, and what replaces it."""
    lab: str
    path: str               # as given to parse(), for messages
    begin_line: int         # 1-based line numbers of the BEGIN and END lines
    end_line: int
    todo: list              # the TODO texts, in order
    hints: list             # the HINT texts
    stub: list              # the STUB code lines, without the comment prefix
    header_lines: list      # the BEGIN line and the directive lines, verbatim
    solution: list          # the lines between the directives and END, verbatim
    end_text: str = ""      # the END line, verbatim


def parse(text, path="<text>"):
    """The marked blocks of one file's text, in order. Raises MarkerError."""
    blocks = []
    lines = text.splitlines(keepends=True)
    open_block = None
    in_header = False
    for number, line in enumerate(lines, start=1):
        marker = MARKER.match(line.rstrip("\n"))
        if marker is None:
            if MARKER_LIKE.match(line):
                raise MarkerError(f"{path}:{number}: this line looks like a lab marker but is "
                                  f"not one; write `LAB name BEGIN` or `LAB name END`")
            if open_block is None:
                continue
            directive = DIRECTIVE.match(line.rstrip("\n"))
            if in_header and directive:
                open_block.header_lines.append(line)
                kind, content = directive["kind"], directive["text"]
                if kind == "TODO":
                    open_block.todo.append(content.strip())
                elif kind == "HINT":
                    open_block.hints.append(content.strip())
                else:
                    open_block.stub.append(content[1:] if content.startswith(" ") else content)
                continue
            if directive:
                raise MarkerError(f"{path}:{number}: a {directive['kind']} line of lab "
                                  f"{open_block.lab} after its code; TODO, HINT and STUB "
                                  f"lines go right after `LAB {open_block.lab} BEGIN`")
            in_header = False
            open_block.solution.append(line)
            continue

        name, edge = marker["name"], marker["edge"]
        if not NAME.match(name):
            raise MarkerError(f"{path}:{number}: lab name {name!r} must be lower case "
                              f"letters, digits and _, starting with a letter")
        if edge == "BEGIN":
            if open_block is not None:
                raise MarkerError(f"{path}:{number}: `LAB {name} BEGIN` inside lab "
                                  f"{open_block.lab} (begun at line {open_block.begin_line}): "
                                  f"lab blocks cannot nest; end one before the next begins")
            open_block = Block(name, path, number, 0, [], [], [], [line], [])
            in_header = True
            continue
        if open_block is None:
            raise MarkerError(f"{path}:{number}: `LAB {name} END` without a "
                              f"`LAB {name} BEGIN` before it")
        if name != open_block.lab:
            raise MarkerError(f"{path}:{number}: `LAB {name} END` closes lab "
                              f"{open_block.lab} (begun at line {open_block.begin_line}); "
                              f"write `LAB {open_block.lab} END`")
        if not open_block.todo:
            raise MarkerError(f"{path}:{open_block.begin_line}: lab {name}'s block has no "
                              f"TODO line: say what the student writes")
        open_block.end_line = number
        open_block.end_text = line
        blocks.append(open_block)
        open_block = None
    if open_block is not None:
        raise MarkerError(f"{path}:{open_block.begin_line}: `LAB {open_block.lab} BEGIN` has "
                          f"no `LAB {open_block.lab} END` before the end of the file")
    return blocks


def starting_point(text, lab, path="<text>"):
    """The text with every block of `lab` replaced by its stub: (new text,
    number of blocks replaced). Other labs' blocks stay as they are."""
    blocks = [block for block in parse(text, path) if block.lab == lab]
    if not blocks:
        return text, 0
    lines = text.splitlines(keepends=True)
    for block in reversed(blocks):
        indent = MARKER.match(block.header_lines[0].rstrip("\n"))["indent"]
        stub = [f"{indent}{code}\n" if code.strip() else "\n" for code in block.stub]
        comments = [line for line in block.header_lines if not is_stub_line(line)]
        lines[block.begin_line - 1:block.end_line] = comments + stub + [block.end_text]
    return "".join(lines), len(blocks)


def is_stub_line(line):
    directive = DIRECTIVE.match(line.rstrip("\n"))
    return directive is not None and directive["kind"] == "STUB"


def comment_prefix(path):
    """The line comment of a source file's language, or None for files that
    cannot hold lab blocks."""
    for suffix, prefix in COMMENT_PREFIXES.items():
        if str(path).endswith(suffix):
            return prefix
    return None
