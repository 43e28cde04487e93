"""What a picture's alt text says is what the picture shows.

An alt text stands in for its picture (a screen reader, a text browser,
a broken link), so the addresses and values it quotes must be the ones the
committed picture holds: every hexadecimal number in the alt text of a
picture in docs/pictures/ must be in that picture's text (an SVG's text
elements, a screenshot's NAME.screen.txt). The pictures themselves are
held to this build by tests/test_diagrams.py and tests/test_screenshots.py,
so an alt text cannot quote a stale value either.
"""
import re
import xml.etree.ElementTree as ElementTree

import pytest

from support.paths import ROOT

PICTURES = ROOT / "docs" / "pictures"
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
PICTURE_LINK = re.compile(r"!\[([^\]]*)\]\(((?:\.\./)*(?:docs/)?pictures/([\w.-]+))\)")
HEX_NUMBER = re.compile(r"\b0x[0-9A-Fa-f]+\b")


def picture_links():
    for document in DOCUMENTS:
        for match in PICTURE_LINK.finditer(document.read_text()):
            yield document.relative_to(ROOT), match.group(1), match.group(3)


def picture_text(name):
    """The text a picture shows, lower case."""
    path = PICTURES / name
    if path.suffix == ".svg":
        return " ".join("".join(element.itertext())
                        for element in ElementTree.parse(path).getroot().iter()
                        if element.tag.endswith("}text") or element.tag == "text").lower()
    return (PICTURES / f"{path.stem}.screen.txt").read_text().lower()


def test_the_docs_show_pictures():
    assert len(list(picture_links())) >= 10


@pytest.mark.parametrize("document, alt, name", list(picture_links()),
                         ids=lambda value: str(value)[:40])
def test_the_numbers_of_an_alt_text_are_in_its_picture(document, alt, name):
    assert (PICTURES / name).is_file(), f"{document}: {name} is not in docs/pictures"
    shown = picture_text(name)
    missing = [number for number in HEX_NUMBER.findall(alt)
               if not re.search(rf"\b{re.escape(number.lower())}\b", shown)]
    assert not missing, (f"{document}: the alt text of {name} quotes {', '.join(missing)}, "
                         "which the picture does not show: say what the picture shows")
