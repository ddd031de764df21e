"""Markers for text that could not be restored: U+FFFD in the text, a reason in the report.

The repair tags each marker with invisible tag characters so its reason survives parsing.
"""

from __future__ import annotations

import re

_TAGGED = re.compile("\ufffd([\U000e0030-\U000e0039]+)\U000e007f")
_TAG_CHARS = re.compile("[\U000e0000-\U000e007f]")


def resolve_markers(text: str, reasons: list[str]) -> tuple[str, list[tuple[int, str]]]:
    """Untag markers; return plain text and (offset, reason) for each marker in it.

    >>> resolve_markers("a\\ufffd\\U000E0030\\U000E007Fb", ["lost lead byte"])
    ('a\\ufffdb', [(1, 'lost lead byte')])
    """
    spots: list[tuple[int, str]] = []
    pieces: list[str] = []
    last = 0
    length = 0
    for match in _TAGGED.finditer(text):
        pieces.append(text[last : match.start()])
        length += match.start() - last
        index = int("".join(chr(ord(c) - 0xE0000) for c in match.group(1)))
        spots.append((length, reasons[index] if index < len(reasons) else "unknown"))
        pieces.append("\ufffd")
        length += 1
        last = match.end()
    pieces.append(text[last:])
    return _TAG_CHARS.sub("", "".join(pieces)), spots


def strip_marker_tags(text: str) -> str:
    """Keep the U+FFFD markers, drop their invisible tags."""
    return _TAG_CHARS.sub("", text)
