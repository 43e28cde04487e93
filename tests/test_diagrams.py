"""The docs' diagrams are this build's (issue 14).

tests/pictures/diagrams.py draws each diagram from the loader's constants,
the assembled loader, `mkimage info`, the kernel's program headers and a
boot in QEMU; the drawings are committed in docs/pictures/. Here every one
is drawn again into a temporary directory and must equal the committed
file to the byte: a change that moves memory, grows stage 2 or reorders the
GDT fails until `./build.sh pictures` has drawn the pictures again. Each
picture must also be shown by some document, with an alt text, and be a
well-formed SVG that carries its key numbers as text.
"""
import difflib
import re
import xml.etree.ElementTree as ElementTree

import pytest

from docs import refresh
from pictures import diagrams
from support.marks import docs_toolchain_only
from support.paths import ROOT

quoting_build_only = docs_toolchain_only("the pictures show")

COMMITTED = ROOT / "docs" / "pictures"
NAMES = sorted(diagrams.PICTURES)
REFRESH_HINT = "run ./build.sh pictures to draw them again from this build"
SVG = "{http://www.w3.org/2000/svg}"
SIZE_LIMIT = 20 * 1024          # bytes: a diagram is text; this one should stay small
IMAGE_LINK = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<target>[^)\s]+)\)")


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """{name: the text of the picture as this build draws it}."""
    out = tmp_path_factory.mktemp("diagrams")
    texts = {}
    for name in NAMES:
        paths = diagrams.PICTURES[name](out)
        assert paths == [out / f"{name}.svg"], paths
        texts[name] = paths[0].read_text()
    return texts


def staleness(name, committed, drawn_text):
    """The failure message for a committed picture that is not this build's."""
    diff = list(difflib.unified_diff(committed.splitlines(), drawn_text.splitlines(),
                                     f"docs/pictures/{name}.svg (committed)",
                                     "as this build draws it", lineterm="", n=0))
    shown = "\n".join(diff[:24] + (["..."] if len(diff) > 24 else []))
    return f"docs/pictures/{name}.svg is out of date ({REFRESH_HINT}):\n{shown}"


@quoting_build_only
@pytest.mark.parametrize("name", NAMES)
def test_committed_picture_is_this_builds(name, drawn):
    committed = COMMITTED / f"{name}.svg"
    assert committed.exists(), f"docs/pictures/{name}.svg is not committed ({REFRESH_HINT})"
    text = committed.read_text()
    assert text == drawn[name], staleness(name, text, drawn[name])


def test_staleness_message_shows_the_difference():
    """What a stale picture's failure says: the picture, the changed line, the command."""
    message = staleness("page-walk", '<svg>\n<text>0x20000</text>\n</svg>\n',
                        '<svg>\n<text>0x30000</text>\n</svg>\n')
    assert "docs/pictures/page-walk.svg is out of date" in message
    assert "-<text>0x20000</text>" in message and "+<text>0x30000</text>" in message
    assert "./build.sh pictures" in message


@pytest.mark.parametrize("name", NAMES)
def test_picture_is_small_wellformed_svg(name, drawn):
    """An SVG that browsers (and GitHub) display: well-formed XML, an <svg>
    root with its size, a title and a description for screen readers, no
    wider than the page, and small."""
    text = drawn[name]
    root = ElementTree.fromstring(text.encode())
    assert root.tag == f"{SVG}svg"
    assert float(root.get("width")) <= 880 and float(root.get("height")) > 0
    assert root.find(f"{SVG}title").text and root.find(f"{SVG}desc").text
    assert len(text.encode()) < SIZE_LIMIT, f"{name}.svg is {len(text.encode())} bytes"


def texts_of(svg_text):
    return [element.text for element in ElementTree.fromstring(svg_text.encode()).iter(f"{SVG}text")]


def test_disk_layout_shows_this_images_places(drawn):
    """The kernel's LBA and size, stage 2's sectors, and the image's size,
    as `mkimage info` reports them."""
    info = refresh.mkimage_info()
    kernel_lba, kernel_sectors, kernel_bytes = re.search(
        r"^kernel: LBA (\d+), (\d+) sectors, (\d+) bytes", info, re.M).groups()
    stage2_sectors = re.search(r"^stage 2: LBA 1, (\d+) sectors", info, re.M)[1]
    image_bytes = re.search(r"^image: .*, (\d+) bytes", info, re.M)[1]
    texts = texts_of(drawn["disk-layout"])
    last = int(kernel_lba) + int(kernel_sectors) - 1
    assert f"{kernel_lba}-{last}" in texts
    assert f"{kernel_bytes} bytes in {kernel_sectors} sectors" in texts
    assert f"1-{stage2_sectors}" in texts
    assert any(image_bytes in text for text in texts)
    assert "boot signature 0x55 0xAA" in texts


def test_page_walk_shows_cr3_and_the_tables(drawn):
    """CR3 and every table address of the walk the kernel's shell printed."""
    cr3, levels = diagrams.page_walk(0x100000)
    texts = texts_of(drawn["page-walk"])
    assert f"0x{cr3:X}" in texts
    for _, index, entry, _, _, target in levels:
        assert f"0x{entry:X}" in texts
        assert f"[{index}]" in texts
    tables = [f"at 0x{target:X}" for *_, kind, target in levels[:-1]]
    assert all(table in texts for table in tables), (tables, texts)


def test_mode_switch_shows_the_selectors_and_msr(drawn):
    texts = " ".join(texts_of(drawn["mode-switch"]))
    for expected in ("jmp 0x08:in_protected_mode", "jmp 0x10:in_long_mode", "MSR 0xC0000080",
                     "CR4 |= 0x20 (PAE)", "CR3 = 0x20000", "enter_unreal_mode",
                     "enter_long_mode"):
        assert expected in texts, expected


def test_memory_and_segments_show_the_kernels_segments(drawn):
    """Every PT_LOAD segment's physical start is in both pictures that draw them."""
    for segment in diagrams.kernel().loads:
        assert f"0x{segment.paddr:X}" in texts_of(drawn["memory-during-boot"])
        assert any(text.startswith(f"0x{segment.paddr:X}-")
                   for text in texts_of(drawn["kernel-segments"]))


def test_every_picture_is_shown_with_alt_text():
    """Each picture appears in some document as ![alt](...NAME.svg), with an
    alt text that says what it shows (more than a word or two)."""
    shown = {}
    for doc in refresh.documents():
        for link in IMAGE_LINK.finditer(doc.read_text()):
            target = (doc.parent / link["target"]).resolve()
            if target.parent == COMMITTED.resolve() and target.suffix == ".svg":
                shown.setdefault(target.stem, []).append((doc.relative_to(ROOT), link["alt"]))
    for name in NAMES:
        assert name in shown, f"no document shows docs/pictures/{name}.svg"
        for doc, alt in shown[name]:
            assert len(alt.split()) >= 5, f"{doc}: the alt text of {name}.svg says little: {alt!r}"
