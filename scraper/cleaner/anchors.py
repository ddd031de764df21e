"""Invisible anchors that carry each repair's place through HTML parsing to the finished text.

The repair wraps what it restored in noncharacters, which lxml keeps as text;
after extraction `resolve` turns them into spans, which the finishing steps keep in step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

# Unicode noncharacters, "permanently reserved for internal use": no page can hold them as text
# (the repair turns any it finds into U+FFFD first), and lxml keeps them.
OPEN = "\ufdd0"
INDEX_END = "\ufdd1"
CLOSE = "\ufdd2"
_DIGIT_BASE = 0xFDE0  # U+FDE0-U+FDE9 spell the repair's index
NONCHARACTERS = re.compile("[\ufdd0-\ufdef]")
_NONCHARACTER_RUNS = re.compile("[\ufdd0-\ufdef]+")  # removed a run at a time: fewer matches
# An opening anchor (its index captured, and its close when nothing stands between), or a close.
_ANCHOR = re.compile("\ufdd0([\ufde0-\ufde9]+)\ufdd1(\ufdd2)?|\ufdd2")
_DIGITS = str.maketrans({chr(_DIGIT_BASE + d): str(d) for d in range(10)})


def wrap(index: int, restored: str) -> str:
    """`restored` between anchors naming repair `index`.

    >>> resolve("a" + wrap(7, "bc") + "d")
    Spanned(text='abcd', spans=[Span(start=1, end=3, index=7)])
    """
    return _opening(index) + restored + CLOSE


@lru_cache(maxsize=4096)
def _opening(index: int) -> str:
    return OPEN + "".join(chr(_DIGIT_BASE + int(d)) for d in str(index)) + INDEX_END


def strip_anchors(text: str) -> str:
    """The text as a reader sees it: anchors removed, nothing else touched."""
    return _NONCHARACTER_RUNS.sub("", text) if OPEN in text or CLOSE in text else text


@dataclass(slots=True)
class Span:
    """Where repair `index` stands in a text: [start, end)."""

    start: int
    end: int
    index: int


@dataclass
class Spanned:
    """Text with the spans of the repairs inside it; edits keep the spans in step."""

    text: str
    spans: list[Span] = field(default_factory=list)

    def delete(self, start: int, end: int) -> None:
        """Remove text[start:end]; spans after it move left, spans over it shrink."""
        width = end - start
        for span in self.spans:
            span.start = _shift(span.start, start, end, width)
            span.end = _shift(span.end, start, end, width)
        self.text = self.text[:start] + self.text[end:]


def _shift(position: int, start: int, end: int, width: int) -> int:
    if position <= start:
        return position
    if position >= end:
        return position - width
    return start


def resolve(text: str) -> Spanned:
    """Strip the anchors from `text`; return it with a span per repair found in it.

    An anchor cut off by parsing (its other half in another block) spans to the text's edge.
    """
    if OPEN not in text and CLOSE not in text:
        return Spanned(text)
    parts = _ANCHOR.split(text)
    plain = "".join(parts[0::3])
    return Spanned(plain, _anchor_spans(parts, 0, len(plain)))


def resolve_stripped(text: str) -> Spanned:
    """`resolve(text)` with the text's leading and trailing whitespace trimmed, as a block's text is.

    The spans are counted from the trimmed text's start as they are found.

    >>> resolve_stripped("  a" + wrap(3, "b ") + " ")
    Spanned(text='ab', spans=[Span(start=1, end=2, index=3)])
    """
    if OPEN not in text and CLOSE not in text:
        return Spanned(text.strip())
    parts = _ANCHOR.split(text)
    plain = "".join(parts[0::3])
    head = len(plain) - len(plain.lstrip())
    tail = len(plain.rstrip())
    return Spanned(plain[head:tail], _anchor_spans(parts, head, tail))


def _anchor_spans(parts: list[str | Any], head: int, tail: int) -> list[Span]:
    """The spans in `_ANCHOR.split`'s parts (text, index-or-None, close-or-None, text, ...), placed in
    the plain text's [head, tail): counted from `head`, a span over a trimmed edge clamped to it."""
    spans: list[Span] = []
    open_spans: list[Span] = []
    position = len(parts[0]) - head
    for k in range(1, len(parts), 3):
        digits = parts[k]
        if digits is not None:
            span = Span(position, position, int(digits.translate(_DIGITS)))
            spans.append(span)
            if parts[k + 1] is None:
                open_spans.append(span)
        elif open_spans:
            open_spans.pop().end = position
        position += len(parts[k + 2])
    for span in open_spans:
        span.end = position
    width = tail - head
    # Positions only grow, so the first and the last bound them all: clamp only when an anchor stood in the trimmed edges.
    if spans and (spans[0].start < 0 or position > width):
        for span in spans:
            span.start = max(min(span.start, width), 0)
            span.end = max(min(span.end, width), 0)
    return spans
