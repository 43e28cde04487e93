"""Every stage 2 file says what it provides and what it uses from elsewhere.

NASM puts all of stage 2 (bootloader/stage2.asm and the bootloader/stage2/
files it includes) in one namespace, so nothing stops one file from quietly
reading another's variable or constant. Each file therefore opens with a
header:

    ; Provides:
    ;   routine_name: what it does.
    ;       in: ...   out: ...   clobbers: ...   failure: ...
    ; Provides data:
    ;   variable_or_constant, ANOTHER_ONE
    ; Uses:
    ;   other_file.inc: name, name,
    ;       name
    ;   (nothing)

and these tests read the code itself (labels `name:`, `equ`, `%define`,
`%assign`, `%macro`, `struc`) to check the headers against it: every name a
file uses but does not define is listed under "Uses" with the file that
defines it, every listed name is really used, and a stage 2 file provides
(in its header) everything other files take from it. The shared protocol
files outside stage2/ (boot_info.inc, loader_fields.inc, magic_break.inc)
are nothing but definitions: everything in them is theirs to provide.
"""
import re

import pytest

from support.paths import ROOT

BOOTLOADER = ROOT / "bootloader"
STAGE2_FILES = ["stage2.asm"] + sorted(
    f"stage2/{p.name}" for p in (BOOTLOADER / "stage2").glob("*.inc"))
SHARED_FILES = ["boot_info.inc", "loader_fields.inc", "magic_break.inc"]

# A name, possibly with struc fields after it (boot_info.kernel_entry); not
# a local label (.next), a NASM special ($$, %1) or part of a number (0x7E00).
IDENTIFIER = re.compile(r"(?<![\w.$@%])[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
DEFINITIONS = [
    (re.compile(r"^\s*([A-Za-z_]\w*):"), False),                     # label:
    (re.compile(r"^\s*([A-Za-z_]\w*)\s+equ\b", re.I), False),        # NAME equ value
    (re.compile(r"^\s*%[ix]?(?:define|assign)\s+([A-Za-z_]\w*)"), False),
    (re.compile(r"^\s*%i?macro\s+([A-Za-z_]\w*)"), False),
    (re.compile(r"^\s*struc\s+([A-Za-z_]\w*)"), True),               # also NAME_size
]
HEADINGS = {"Provides:": "provides", "Provides data:": "data", "Uses:": "uses"}


def code_lines(text):
    """The source lines without strings and comments."""
    for line in text.splitlines():
        kept, quote = [], None
        for char in line:
            if quote:
                quote = None if char == quote else quote
            elif char in "'\"`":
                quote = char
            elif char == ";":
                break
            else:
                kept.append(char)
        yield "".join(kept)


def definitions(text):
    names = set()
    for line in code_lines(text):
        for pattern, is_struc in DEFINITIONS:
            match = pattern.match(line)
            if match:
                names.add(match.group(1))
                if is_struc:
                    names.add(match.group(1) + "_size")
    return names


def mentions(text):
    """Every name the code mentions (a struc field counts as its struc)."""
    return {token.split(".")[0]
            for line in code_lines(text) for token in IDENTIFIER.findall(line)}


def names_in(text):
    return [name for name in re.split(r"[,\s]+", text.strip()) if name]


def parse_header(text):
    """{"provides": {routine: [contract lines]}, "data": set(),
    "uses": {file name: set(names)}} from the leading comment block."""
    header = {"provides": {}, "data": set(), "uses": {}}
    section = current = None
    for line in text.splitlines():
        if not line.startswith(";"):
            break
        body = line[1:]
        if body.strip() in HEADINGS:
            section, current = HEADINGS[body.strip()], None
            continue
        if not body.startswith("   "):              # ";" or prose: the list has ended
            section = None
            continue
        if section is None:
            continue
        entry = body.strip()
        if entry.startswith("("):                    # "(nothing)", "(no routines)"
            continue
        top_level = not body.startswith("    ")
        if section == "provides":
            if top_level:
                current = re.match(r"\w+", entry).group(0)
                header["provides"][current] = []
            else:
                header["provides"][current].append(entry)
        elif section == "data":
            header["data"].update(names_in(entry))
        elif section == "uses":
            match = re.match(r"([\w.]+\.(?:inc|asm)):(.*)", entry)
            if top_level and match:
                current = match.group(1)
                header["uses"].setdefault(current, set()).update(names_in(match.group(2)))
            else:
                header["uses"][current].update(names_in(entry))
    return header


def load(names):
    """{file name as headers write it: (path, text)} for the given files."""
    return {name.split("/")[-1]: (name, (BOOTLOADER / name).read_text()) for name in names}


FILES = load(STAGE2_FILES + SHARED_FILES)
DEFINED = {name: definitions(text) for name, (_, text) in FILES.items()}
OWNER = {}
for _file, _names in DEFINED.items():
    for _name in _names:
        OWNER.setdefault(_name, set()).add(_file)


def problems(file_name, text, defined=DEFINED, owner=OWNER):
    """What is wrong with one file's "Uses" list, as readable lines."""
    header = parse_header(text)
    used_elsewhere = {name: owner[name] for name in mentions(text) - definitions(text)
                      if name in owner}
    declared = {name: source for source, names in header["uses"].items() for name in names}
    found = []
    for name, owners in sorted(used_elsewhere.items()):
        if name not in declared:
            found.append(f"{file_name} uses {name} from {'/'.join(sorted(owners))} "
                         f"but its header does not list it under Uses")
    for name, source in sorted(declared.items()):
        if name not in defined.get(source, set()):
            found.append(f"{file_name} lists {name} under {source}, which does not define it")
        elif name not in used_elsewhere:
            found.append(f"{file_name} lists {name} ({source}) under Uses but does not use it")
    return found


@pytest.mark.parametrize("file_name", [name.split("/")[-1] for name in STAGE2_FILES])
def test_header_lists_every_name_used_from_another_file(file_name):
    _, text = FILES[file_name]
    assert problems(file_name, text) == []


@pytest.mark.parametrize("file_name", [name.split("/")[-1] for name in STAGE2_FILES])
def test_header_names_what_the_file_provides(file_name):
    """Every routine and name in Provides exists in the file, every routine
    has a register contract, and everything other files take from this
    file is in its Provides."""
    _, text = FILES[file_name]
    header = parse_header(text)
    assert re.search(r"^; Provides:$", text, re.M) and re.search(r"^; Uses:$", text, re.M), \
        f"{file_name} has no Provides/Uses header"
    provided = set(header["provides"]) | header["data"]
    assert provided - DEFINED[file_name] == set(), f"{file_name} provides names it does not define"
    for routine, contract in header["provides"].items():
        words = " ".join(contract)
        assert all(part in words for part in ("in:", "out:", "clobbers:")), \
            f"{file_name}: {routine} has no in:/out:/clobbers: contract line"
    taken = set()
    for other, (_, other_text) in FILES.items():
        if other != file_name:
            taken |= parse_header(other_text)["uses"].get(file_name, set())
    assert taken - provided == set(), \
        f"other files use these names of {file_name} that its header does not provide"


def test_stage2_includes_every_file_once():
    """A file left out of stage2.asm would escape the checks above."""
    _, text = FILES["stage2.asm"]
    included = re.findall(r'^%include "([^"]+)"', text, re.M)
    assert sorted(included) == sorted(STAGE2_FILES[1:] + SHARED_FILES)


def test_the_parser_finds_known_cross_file_uses():
    """The facts these tests rest on: long_mode.inc takes use_nx from
    page_tables.inc and BIOS_SYSTEM from hardware.inc, and uses the
    record_timestamp macro instead of writing it out."""
    _, text = FILES["long_mode.inc"]
    used = mentions(text) - definitions(text)
    assert {"use_nx", "BIOS_SYSTEM", "record_timestamp", "boot_info"} <= used
    assert OWNER["use_nx"] == {"page_tables.inc"}
    assert OWNER["record_timestamp"] == {"timestamps.inc"}
    assert OWNER["boot_info_size"] == {"boot_info.inc"}
    assert "rdtsc" not in mentions(text)


def test_an_undeclared_or_stale_use_is_reported():
    """The check fails when a header leaves a name out, or lists one the
    code does not use or its file does not define."""
    source = ("; Provides:\n;   (no routines)\n; Uses:\n"
              ";   a.inc: helper, unused_name\n;   b.inc: NOT_IN_B\n\n"
              "    call helper\n    mov al, [shared_variable]\n")
    defined = {"a.inc": {"helper", "unused_name"}, "b.inc": {"shared_variable"}}
    owner = {"helper": {"a.inc"}, "unused_name": {"a.inc"}, "shared_variable": {"b.inc"}}
    found = problems("demo.inc", source, defined, owner)
    assert any("uses shared_variable" in line for line in found), found
    assert any("does not use it" in line and "unused_name" in line for line in found), found
    assert any("NOT_IN_B" in line and "does not define it" in line for line in found), found
    assert not any("helper" in line for line in found), found
