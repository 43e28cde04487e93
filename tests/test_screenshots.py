"""The screenshots in docs/pictures/ show this build's screens.

Every screenshot (tests/pictures/screenshots.py) is taken anew from a real
boot into a temporary folder, and the VGA text it shows, read from QEMU's
memory at 0xB8000, must be the NAME.screen.txt committed beside NAME.png:
a change to a message, an address or a checksum that shows on one of these
screens fails here until `./build.sh pictures` has taken them again. The
only rows compared without their digits are the kernel's TSC readings,
which differ from boot to boot (screenshots.comparable() says why). The
committed PNGs must be real, small PNGs of QEMU's text screen, and each
must be shown somewhere in the docs with an alt text.
"""
import difflib
import re
import struct
import subprocess
import sys

import pytest

from pictures import make, screenshots
from support.marks import docs_toolchain_only
from support.paths import ROOT

PICTURES_DIR = ROOT / "docs" / "pictures"
NAMES = list(screenshots.PICTURES)
REFRESH_HINT = "run ./build.sh pictures to take the screenshots of this build"
PNG_LIMIT_BYTES = 30 * 1024
# QEMU draws VGA text mode with a 9x16 character cell.
CELL_WIDTH, CELL_HEIGHT = 9, 16
PNG_PALETTE = 3           # IHDR colour type: indexed colours

quoting_build_only = docs_toolchain_only("the screenshots show")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """Every screenshot taken from this build, two boots at a time (make.py's
    way), in a temporary folder: its path."""
    out = tmp_path_factory.mktemp("screenshots")
    make.make_pictures(screenshots.PICTURES, [], out, report=lambda line: None)
    return out


def png_header(path):
    """(width, height, bit depth, colour type) from a PNG's IHDR chunk."""
    data = path.read_bytes()
    assert data.startswith(screenshots.PNG_SIGNATURE), f"{path.name} is not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13, f"{path.name}: no IHDR chunk first"
    return struct.unpack(">IIBB", data[16:26])


@quoting_build_only
@pytest.mark.parametrize("name", NAMES)
def test_the_committed_screen_is_this_builds(fresh, name):
    committed_path = PICTURES_DIR / f"{name}.screen.txt"
    assert committed_path.exists(), f"docs/pictures/{name}.screen.txt is missing: {REFRESH_HINT}"
    committed = committed_path.read_text()
    taken = (fresh / f"{name}.screen.txt").read_text()
    if screenshots.comparable(committed) != screenshots.comparable(taken):
        diff = "\n".join(difflib.unified_diff(
            committed.splitlines(), taken.splitlines(),
            f"docs/pictures/{name}.screen.txt (committed)", f"{name}: this build's screen",
            lineterm="", n=1))
        note = ""
        if screenshots.tsc_varying_rows(committed):
            note = ("(the loader-timestamps rows differ on every boot; they count only when "
                    "their words or their number of rows differ)\n")
        pytest.fail(f"the screenshot {name} is stale:\n{diff}\n{note}{REFRESH_HINT}",
                    pytrace=False)


@pytest.mark.parametrize("name", NAMES)
def test_the_committed_screen_text_is_a_whole_screen(name):
    lines = (PICTURES_DIR / f"{name}.screen.txt").read_text().split("\n")
    assert lines[-1] == "", f"{name}.screen.txt does not end with a newline"
    rows = lines[:-1]
    assert len(rows) == screenshots.VGA_ROWS, f"{name}.screen.txt has {len(rows)} rows"
    assert all(len(row) <= screenshots.VGA_COLUMNS and row == row.rstrip() for row in rows)


@quoting_build_only
@pytest.mark.parametrize("name", NAMES)
def test_the_committed_png_is_a_small_picture_of_the_screen(fresh, name):
    png = PICTURES_DIR / f"{name}.png"
    assert png.exists(), f"docs/pictures/{name}.png is missing: {REFRESH_HINT}"
    width, height, _, colour_type = png_header(png)
    assert (width, height) == png_header(fresh / f"{name}.png")[:2], \
        f"{name}.png is {width}x{height}, QEMU's screendump is not: {REFRESH_HINT}"
    assert (width, height) == (screenshots.VGA_COLUMNS * CELL_WIDTH,
                               screenshots.VGA_ROWS * CELL_HEIGHT)
    assert colour_type == PNG_PALETTE, f"{name}.png is not a palette PNG"
    size = png.stat().st_size
    assert size < PNG_LIMIT_BYTES, f"{name}.png is {size} bytes, over {PNG_LIMIT_BYTES}"


def picture_references():
    """(document, alt text, resolved path) for every Markdown image in the
    README and the docs."""
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    references = []
    for document in documents:
        for alt, target in re.findall(r"!\[([^\]]*)\]\(([^)\s]+)\)", document.read_text()):
            references.append((document, alt, (document.parent / target).resolve()))
    return references


@pytest.mark.parametrize("name", NAMES)
def test_every_screenshot_is_shown_with_an_alt_text(name):
    png = (PICTURES_DIR / f"{name}.png").resolve()
    shown = [(document, alt) for document, alt, target in picture_references() if target == png]
    assert shown, f"no document shows docs/pictures/{name}.png"
    for document, alt in shown:
        words = alt.split()
        # An alt text says what the picture shows: a sentence, not its name.
        assert len(words) >= 4 and alt.strip().lower() != name, \
            f"{document.relative_to(ROOT)}: the alt text of {name}.png says too little: {alt!r}"


def test_make_refuses_an_unknown_name_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, str(ROOT / "tests" / "pictures" / "make.py"),
                             "--out", str(out), "boot", "NOPE"], capture_output=True, text=True)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "no picture named NOPE" in result.stderr and "boot" in result.stderr, result.stderr
    assert not out.exists(), "make.py wrote something before refusing a name"


def test_a_failed_picture_leaves_the_old_files_and_no_half_of_the_new(tmp_path):
    """A generator that dies half-way (one file written, not the other)
    leaves the folder as it was; a picture that works still lands."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "broken.png").write_text("the old picture")

    def broken(folder):
        (folder / "broken.png").write_text("half of a new picture")
        raise RuntimeError("QEMU went away")

    def working(folder):
        path = folder / "working.txt"
        path.write_text("whole")
        return [path]

    reported = []
    with pytest.raises(RuntimeError, match="these pictures failed: broken"):
        make.make_pictures({"broken": broken, "working": working}, [], out,
                           report=reported.append)
    assert sorted(path.name for path in out.iterdir()) == ["broken.png", "working.txt"]
    assert (out / "broken.png").read_text() == "the old picture"
    assert any("broken: failed: QEMU went away" in line for line in reported), reported
    with pytest.raises(make.UnknownPicture):
        make.make_pictures({"working": working}, ["working", "nope"], tmp_path / "never")
    assert not (tmp_path / "never").exists()


def test_the_tsc_rows_are_the_only_rows_compared_without_digits():
    """The masking covers the loader-timestamps line and nothing else: a
    changed number anywhere outside it is still a difference."""
    text = (PICTURES_DIR / "boot.screen.txt").read_text()
    assert screenshots.TSC_LINE_START in text
    varying = screenshots.tsc_varying_rows(text)
    rows = text.split("\n")
    assert len(varying) <= 3 and rows[min(varying)].startswith(screenshots.TSC_LINE_START)
    # Other readings of the same width, as another boot shows them.
    other_boot = "\n".join(re.sub(r"[0-9]", "7", row) if index in varying else row
                           for index, row in enumerate(rows))
    assert other_boot != text
    assert screenshots.comparable(other_boot) == screenshots.comparable(text)
    changed_elsewhere = text.replace("boot drive: 0x80", "boot drive: 0x81")
    assert changed_elsewhere != text
    assert screenshots.comparable(changed_elsewhere) != screenshots.comparable(text)


@quoting_build_only
def test_a_screen_that_did_not_change_keeps_its_files(tmp_path):
    """make.py keeps a screenshot whose screen is the same as before (its
    PNG bytes would differ by the cursor's blink alone, a change in git for
    nothing), and replaces one whose screen changed."""
    name = "stage1-disk-error"
    for suffix in (".png", ".screen.txt"):
        (tmp_path / f"{name}{suffix}").write_bytes((PICTURES_DIR / f"{name}{suffix}").read_bytes())
    stale_png = b"\x89PNG\r\n\x1a\n not the real picture"
    (tmp_path / f"{name}.png").write_bytes(stale_png)
    lines = []
    make.make_pictures(screenshots.PICTURES, [name], tmp_path, report=lines.append)
    assert (tmp_path / f"{name}.png").read_bytes() == stale_png, lines
    assert all("unchanged" in line for line in lines), lines

    (tmp_path / f"{name}.screen.txt").write_text("an older screen\n")
    lines.clear()
    make.make_pictures(screenshots.PICTURES, [name], tmp_path, report=lines.append)
    assert (tmp_path / f"{name}.png").read_bytes() != stale_png, lines
    assert (tmp_path / f"{name}.screen.txt").read_text() == \
        (PICTURES_DIR / f"{name}.screen.txt").read_text()
    assert not any("unchanged" in line for line in lines), lines


def test_only_the_firmware_version_is_left_out_of_the_banner():
    """Another distribution's QEMU comes with another SeaBIOS: the banner's
    version does not make a screenshot stale, anything else on that row
    and every other row does."""
    text = (PICTURES_DIR / "stage1-disk-error.screen.txt").read_text()
    banner = next(row for row in text.split("\n") if row.startswith("SeaBIOS (version "))
    other_firmware = text.replace(banner, "SeaBIOS (version 1.15.0-1)")
    assert screenshots.comparable(other_firmware) == screenshots.comparable(text)
    assert screenshots.comparable(text.replace(banner, "SeaBIOS 1.15.0")) != \
        screenshots.comparable(text)
    assert screenshots.comparable(text.replace("disk error", "disk eror")) != \
        screenshots.comparable(text)
