"""A small SVG writer for the docs' diagrams (tests/pictures/diagrams.py).

The diagrams are drawn from this build's numbers and committed; a test
makes them again and compares the text, so the output must depend on
nothing but the calls: elements come out in the order they were drawn,
every number is written the same way (format_number), and nothing like a
date or a tool version goes in.

What GitHub shows: an SVG linked from Markdown is displayed as an image,
scaled down to the page's width (about 880 pixels), without scripts or web
fonts. So the drawings are at most that wide, use font families every
system has one of, and sizes that stay legible (Drawing.SMALL at the
least). The colours are light fills under black text and dark outlines:
they tell regions apart on screen and still print legibly in grey.
"""
from xml.sax.saxutils import escape, quoteattr

SANS = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif"
MONO = "DejaVu Sans Mono, Menlo, Consolas, Courier New, monospace"

# Fills by who owns a region; the legend of each picture names them.
FILL = {
    "firmware": "#e3e3e3",    # BIOS, ROMs, video memory: not ours
    "stage1": "#cfe2f3",
    "stage2": "#d5e8d4",
    "kernel": "#fde3c8",
    "tables": "#fff2b3",      # page tables
    "stack": "#ecd3e3",
    "data": "#e6ddf5",        # boot information, program headers, variables, buffers
    "free": "#ffffff",
    "highlight": "#ffd966",
}
STROKE = "#333333"
TEXT = "#000000"
NOTE = "#404040"
ARROW = "#1f3d7a"

# The text classes Drawing.text() uses.
STYLE = (f"text{{fill:{TEXT};font-size:13px}}"
         f".s{{font-family:{SANS}}}.m{{font-family:{MONO}}}"
         ".small{font-size:11px}.large{font-size:16px}.b{font-weight:bold}.i{font-style:italic}"
         ".mid{text-anchor:middle}.end{text-anchor:end}"
         f".note{{fill:{NOTE}}}.arrow{{fill:{ARROW}}}")

# Average advance of a character, in ems, a little above DejaVu's (the
# widest of the fonts listed): text_width() errs on the long side, so that
# a label checked to fit its box fits in every listed font.
SANS_EM = 0.62
MONO_EM = 0.61


def format_number(value):
    """A coordinate as SVG text: integers without a point, other values
    with at most two decimals, never '-0'."""
    rounded = round(float(value), 2)
    if rounded == int(rounded):
        return str(int(rounded))
    return f"{rounded:.2f}".rstrip("0")


def text_width(text, size, mono=False):
    """An upper estimate of the width of `text` at font size `size`."""
    return len(text) * size * (MONO_EM if mono else SANS_EM)


class TooWide(ValueError):
    """A label that would stick out of its box: the layout needs changing."""


class Drawing:
    """An SVG picture built element by element; str() gives the file's text."""

    SMALL = 11          # notes and legends
    NORMAL = 13         # labels
    LARGE = 16          # the title

    def __init__(self, width, height, title, description):
        self.width = width
        self.height = height
        self.title = title
        self.description = description
        self.elements = []
        self.depth = 1

    # ---- Elements -------------------------------------------------------------------------

    def _add(self, tag, attributes, content=None):
        attrs = "".join(f" {name.replace('_', '-')}={quoteattr(str(value))}"
                        for name, value in attributes.items() if value is not None)
        indent = "  " * self.depth
        if content is None:
            self.elements.append(f"{indent}<{tag}{attrs}/>")
        else:
            self.elements.append(f"{indent}<{tag}{attrs}>{escape(content)}</{tag}>")

    def rect(self, x, y, width, height, fill="free", dashed=False, stroke_width=1, hatch=False):
        """A box; `fill` is a key of FILL (or a colour); `hatch` lays
        diagonal lines over it (memory the loader fills with zeros)."""
        n = format_number
        self._add("rect", {"x": n(x), "y": n(y), "width": n(width), "height": n(height),
                           "fill": FILL.get(fill, fill), "stroke": STROKE,
                           "stroke_width": n(stroke_width),
                           "stroke_dasharray": "5 3" if dashed else None})
        if hatch:
            self._add("rect", {"x": n(x), "y": n(y), "width": n(width), "height": n(height),
                               "fill": "url(#hatch)", "stroke": "none"})

    def text(self, x, y, content, size=None, anchor="start", bold=False, mono=False,
             italic=False, colour=TEXT):
        """One line of text whose baseline is at y. The font families and
        the usual sizes are classes of the file's style sheet (STYLE), which
        keeps a picture with hundreds of labels small."""
        size = size or self.NORMAL
        sizes = {self.SMALL: ["small"], self.NORMAL: [], self.LARGE: ["large"]}
        if size not in sizes:
            raise ValueError(f"text size {size}: the style sheet has {sorted(sizes)}")
        classes = ["m" if mono else "s"] + sizes[size]
        classes += ["b"] if bold else []
        classes += ["i"] if italic else []
        classes += [{"middle": "mid", "end": "end"}[anchor]] if anchor != "start" else []
        classes += [{NOTE: "note", ARROW: "arrow"}[colour]] if colour != TEXT else []
        self._add("text", {"x": format_number(x), "y": format_number(y),
                           "class": " ".join(classes)}, content)

    def label_box(self, x, y, width, height, fill, title, detail=None, mono_title=False,
                  mono_detail=False, dashed=False, hatch=False, bold=False):
        """A box with a line of text centred in it, and under that a smaller
        line of detail; raises TooWide when either does not fit."""
        self.rect(x, y, width, height, fill=fill, dashed=dashed, hatch=hatch)
        room = width - 12
        self.check_fits(title, self.NORMAL, room, mono_title)
        if detail is None:
            self.text(x + width / 2, y + height / 2 + self.NORMAL * 0.36, title,
                      anchor="middle", mono=mono_title, bold=bold)
            return
        self.check_fits(detail, self.SMALL, room, mono_detail)
        middle = y + height / 2
        self.text(x + width / 2, middle - 2, title, anchor="middle", mono=mono_title, bold=bold)
        self.text(x + width / 2, middle + self.SMALL + 1, detail, size=self.SMALL,
                  anchor="middle", mono=mono_detail, colour=NOTE)

    @staticmethod
    def check_fits(content, size, room, mono=False):
        if text_width(content, size, mono) > room:
            raise TooWide(f"{content!r} at {size} px needs about "
                          f"{text_width(content, size, mono):.0f} px, the box has {room:.0f}")

    def line(self, x1, y1, x2, y2, arrow=False, dashed=False, colour=None, width=1):
        """A straight line; arrow=True puts an arrowhead at (x2, y2) and
        draws it in the arrows' colour."""
        n = format_number
        colour = colour or (ARROW if arrow else STROKE)
        self._add("line", {"x1": n(x1), "y1": n(y1), "x2": n(x2), "y2": n(y2),
                           "stroke": colour, "stroke_width": n(width),
                           "stroke_dasharray": "4 3" if dashed else None,
                           "marker_end": "url(#arrow)" if arrow else None})

    def path(self, points, arrow=False, dashed=False, colour=None, width=1):
        """A polyline through (x, y) points, with an arrowhead at the last
        when arrow=True."""
        colour = colour or (ARROW if arrow else STROKE)
        d = "M " + " L ".join(f"{format_number(x)} {format_number(y)}" for x, y in points)
        self._add("path", {"d": d, "fill": "none", "stroke": colour,
                           "stroke_width": format_number(width),
                           "stroke_dasharray": "4 3" if dashed else None,
                           "marker_end": "url(#arrow)" if arrow else None})

    def group_start(self, label):
        """Open a <g>; `label` names what it holds (an id, for a reader of
        the file and for tests)."""
        self.elements.append(f"{'  ' * self.depth}<g id={quoteattr(label)}>")
        self.depth += 1

    def group_end(self):
        self.depth -= 1
        self.elements.append(f"{'  ' * self.depth}</g>")

    def legend(self, x, y, entries, size=None):
        """A row of small filled squares, each followed by its name;
        `entries` are (fill, name); fill "zeroed" is the hatched white of
        rect(hatch=True). Returns the x after the last one."""
        size = size or self.SMALL
        for fill, name in entries:
            hatch = fill == "zeroed"
            self.rect(x, y - size + 1, size, size, fill="free" if hatch else fill, hatch=hatch)
            self.text(x + size + 5, y, name, size=size)
            x += size + 5 + text_width(name, size) + 14
        return x

    # ---- The file -------------------------------------------------------------------------

    def __str__(self):
        n = format_number
        head = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{n(self.width)}" '
            f'height="{n(self.height)}" viewBox="0 0 {n(self.width)} {n(self.height)}" '
            'role="img" aria-labelledby="title desc">',
            f'  <title id="title">{escape(self.title)}</title>',
            f'  <desc id="desc">{escape(self.description)}</desc>',
            "  <defs>",
            '    <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
            f'markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
            f'fill="{ARROW}"/></marker>',
            '    <pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="8" '
            'stroke="#c4c4c4" stroke-width="1"/></pattern>',
            f"    <style>{STYLE}</style>",
            "  </defs>",
            f'  <rect x="0" y="0" width="{n(self.width)}" height="{n(self.height)}" '
            'fill="#ffffff"/>',
        ]
        return "\n".join(head + self.elements + ["</svg>", ""])
