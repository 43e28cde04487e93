"""Reading what a boot printed on COM1.

A serial console ends every line with \\r\\n; these helpers drop the \\r, so
that ^ and $ in a pattern work on lines.
"""
import re

# One entry of the kernel's memory map listing:
#   "  [00] base 0x0000000000000000 length 0x000000000009fc00 type 1 usable"
MEMORY_MAP_LINE = re.compile(
    r"^  \[\d+\] base 0x([0-9a-f]{16}) length 0x([0-9a-f]{16}) type (\d+) ", re.M)


def assert_in_order(serial, patterns, context=None):
    """Match each regex in `patterns` after the match of the one before;
    return the named groups of all of them. A failure shows `context`
    (by default the serial output)."""
    serial = serial.replace("\r", "")
    if context is None:
        context = "--- serial ---\n" + serial
    found = {}
    position = 0
    for pattern in patterns:
        match = re.compile(pattern, re.M).search(serial, position)
        assert match, f"missing (in order): {pattern}\n{context}"
        found.update(match.groupdict())
        position = match.end()
    return found


def memory_map(serial):
    """The kernel's memory map as (base, length, type) tuples."""
    return [(int(base, 16), int(length, 16), int(kind))
            for base, length, kind in MEMORY_MAP_LINE.findall(serial.replace("\r", ""))]
