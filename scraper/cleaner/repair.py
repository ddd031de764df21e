"""Undo the portal's byte-level damage site by site: readings, full-width swaps, lost bytes.

Readings that name the whole character before them go at once; every other site gets a
window, which the lattice solves; all other text passes through unchanged. Each change is
wrapped in anchors (anchors.py) and logged, so the finished text can say where it stands.
"""

from __future__ import annotations

import difflib
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scraper.cleaner.anchors import NONCHARACTERS, strip_anchors, wrap
from scraper.cleaner.article import CleanError
from scraper.cleaner.greedy import solve_greedy
from scraper.cleaner.lattice import Marker, RepairCounts, Token, solve, tokens_from_bytes, tokens_from_text
from scraper.cleaner.sites import READING, Reading, WindowPlanner, ordinary_pattern, scan, suspect_spans

MARKER = "\ufffd"
# Random bytes decode to about 84% suspect characters. Over any 500 non-ASCII characters of the replica's pages,
# the dev set and the seed, at most 11.4% are suspect (at most 25% over 100): 500 leaves a wide margin either side.
JUNK_MIN_CHARS = 500
JUNK_SHARE = 0.3
MAX_GROWTHS = 8  # a window grows to later boundaries this often at most: damage runs are short


@dataclass(slots=True)
class RepairEntry:
    """One change, before its place in the finished text is known (anchors carry its index)."""

    kind: str  # reading | bytes | markup | unrecoverable
    original: str
    candidates: list[str] | None = None
    reasons: list[str] = field(default_factory=list)  # one per marker the change holds


@dataclass
class RepairReport(RepairCounts):
    """The page's counts, and every change logged, its index named by the anchors around it."""

    entries: list[RepairEntry] = field(default_factory=list)

    def log(self, entry: RepairEntry) -> int:
        self.entries.append(entry)
        return len(self.entries) - 1


@dataclass
class RepairResult:
    text: str  # the page with every change wrapped in anchors naming its entry
    report: RepairReport


def _shown(original: str) -> str:
    """What a reader of the page saw: an orphaned byte shows as U+FFFD."""
    return _ORPHANS.sub(MARKER, original)


_ORPHANS = re.compile("[\udc80-\udcff]")


class _Builder:
    """Assembles the repaired page from unchanged stretches, fast-path readings and solved windows."""

    def __init__(self, text: str, tokens_of: Callable[[str], list[Token]]) -> None:
        self.text = text
        self.tokens_of = tokens_of
        self.pieces: list[str] = []
        self.report = RepairReport()
        self._next_reading = 0  # calls come in text order, so readings are walked once

    def plain(self, start: int, end: int, readings: list[Reading]) -> None:
        """Copy text[start:end], dropping the simple readings inside it."""
        position = start
        text, pieces, entries = self.text, self.pieces, self.report.entries
        k, count = self._next_reading, len(readings)
        while k < count and readings[k].start < end:
            reading = readings[k]
            k += 1
            if reading.start < position or reading.end > end:
                continue
            pieces.append(text[position : reading.start])
            entries.append(RepairEntry("reading", text[reading.start : reading.end]))
            pieces.append(wrap(len(entries) - 1, ""))  # what report.log returns
            self.report.pinyin_removed += 1
            position = reading.end
        self._next_reading = k
        pieces.append(text[position:end])

    def window(self, start: int, end: int, grow: Callable[[int], int], planned: deque[tuple[int, int]]) -> int:
        """Solve text[start:end] with the lattice, wrap each changed stretch; returns where it ended.

        A window whose best reading leaves a lead byte waiting grows to the next boundary (`grow`),
        taking in the planned windows it reaches.
        """
        original = self.text[start:end]
        before = self._restored_tail()
        tokens = self.tokens_of(original)
        solution = solve_greedy(tokens, before, ordinary_pattern()) or solve(tokens, before)
        growths = 0
        while solution.open_end and end < len(self.text) and growths < MAX_GROWTHS:
            end, growths = grow(end), growths + 1
            while planned and planned[0][0] < end:
                end = max(end, planned.popleft()[1])
            original = self.text[start:end]
            solution = solve(self.tokens_of(original), before)
        self.report.add(solution.report)
        restored, markers = _flatten(solution.pieces)
        reasons = iter(solution.report.markers)
        choices = solution.report.model_choices
        for tag, i1, i2, j1, j2 in _opcodes(original, restored):
            inside = [m for m in markers if j1 <= m < j2]
            if tag == "equal":
                self._equal(restored[j1:j2], j1, inside, reasons)
            else:
                entry = _entry(original[i1:i2], restored[j1:j2], [next(reasons) for _ in inside], choices)
                self._changed(entry, restored[j1:j2])
        return end

    def _restored_tail(self) -> str:
        """The last character restored so far, anchors left out: context for the next window."""
        for piece in reversed(self.pieces):
            shown = strip_anchors(piece)
            if shown:
                return shown[-1]
        return ""

    def _equal(self, same: str, offset: int, markers: list[int], reasons: Any) -> None:
        """Unchanged text; a U+FFFD the page already held is still an unrecoverable spot."""
        position = 0
        for marker in markers:
            self.pieces.append(same[position : marker - offset])
            index = self.report.log(RepairEntry("unrecoverable", MARKER, reasons=[next(reasons)]))
            self.pieces.append(wrap(index, MARKER))
            position = marker - offset + 1
        self.pieces.append(same[position:])

    def _changed(self, entry: RepairEntry, restored: str) -> None:
        index = self.report.log(entry)
        # Anchors never go inside markup: a restored `<` stays outside, opening its tag.
        cut = restored.find("<")
        if cut < 0:
            self.pieces.append(wrap(index, restored))
        else:
            self.pieces.append(wrap(index, restored[:cut]) + restored[cut:])

    def result(self) -> RepairResult:
        return RepairResult("".join(self.pieces), self.report)


def _opcodes(original: str, restored: str) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes, computed on the middle that differs: windows change little, locally."""
    limit = min(len(original), len(restored))
    head = _longest(lambda k: original[:k] == restored[:k], limit)
    tail = _longest(lambda k: original[len(original) - k :] == restored[len(restored) - k :], limit - head)
    codes = [("equal", 0, head, 0, head)] if head else []
    codes += [
        (tag, i1 + head, i2 + head, j1 + head, j2 + head)
        for tag, i1, i2, j1, j2 in _middle_opcodes(
            original[head : len(original) - tail], restored[head : len(restored) - tail]
        )
    ]
    if tail:
        codes.append(("equal", len(original) - tail, len(original), len(restored) - tail, len(restored)))
    return codes


def _longest(holds: Callable[[int], bool], limit: int) -> int:
    """The largest k <= limit for which `holds(k)`, a property true up to some k and false after."""
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if holds(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _middle_opcodes(a: str, b: str) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes of a against b, without difflib where its answer is plain.

    With one side empty or no character shared, difflib finds no match: one insert, delete or replace.
    """
    if not a or not b or set(a).isdisjoint(b):
        if not a and not b:
            return []
        return [("insert" if not a else "delete" if not b else "replace", 0, len(a), 0, len(b))]
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return [(str(tag), i1, i2, j1, j2) for tag, i1, i2, j1, j2 in matcher.get_opcodes()]


def _flatten(pieces: list[str | Marker]) -> tuple[str, list[int]]:
    """The lattice's pieces as text, with U+FFFD for each marker, and the markers' offsets."""
    out: list[str] = []
    markers: list[int] = []
    length = 0
    for piece in pieces:
        if isinstance(piece, Marker):
            markers.append(length)
            piece = MARKER
        out.append(piece)
        length += len(piece)
    return "".join(out), markers


def _entry(original: str, restored: str, reasons: list[str], choices: list[dict[str, Any]]) -> RepairEntry:
    """Name a changed stretch by what it holds: a lost spot, a reading, restored markup, or bytes."""
    shown = _shown(original)
    if reasons:
        return RepairEntry("unrecoverable", shown, reasons=reasons)
    if not restored and READING.fullmatch(original):
        return RepairEntry("reading", shown)
    if restored == "<":
        return RepairEntry("markup", shown)
    weighed = [[c["chosen"], *c["alternatives"]] for c in choices if c["chosen"] in restored]
    return RepairEntry("bytes", shown, candidates=weighed[0] if weighed else None)


def check_not_junk(text: str, suspect: int) -> None:
    """Refuse input that is mostly damage: random bytes are no page, and repairing them costs without end.

    `suspect` counts its non-ASCII sites: lost bytes, private-use and unlikely characters.

    >>> check_not_junk("產業發展" * 1000, 0)
    """
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    if non_ascii >= JUNK_MIN_CHARS and suspect > JUNK_SHARE * non_ascii:
        raise CleanError(
            f"not a page of Chinese text: {suspect:,} of its {non_ascii:,} non-ASCII characters are "
            "lost bytes, unlikely or private-use characters"
        )


def _repair(text: str, server_decoded: bool, tokens_of: Callable[[str], list[Token]]) -> RepairResult:
    # Noncharacters are never text; the anchors are made of them, so none may come from the page.
    text = NONCHARACTERS.sub(MARKER, text)
    suspects = suspect_spans(text, server_decoded)
    # One pass finds the sites for both: every `?` of a server-decoded page is one, and none is non-ASCII.
    check_not_junk(text, len(suspects) - (text.count("?") if server_decoded else 0))
    found = scan(text, server_decoded, suspects)
    simple = [r for r in found.readings if r.simple]
    planner = WindowPlanner(text, found, server_decoded)
    planned = deque(planner.windows())
    builder = _Builder(text, tokens_of)
    position = 0
    while planned:
        start, end = planned.popleft()
        builder.plain(position, start, simple)
        position = builder.window(start, end, planner.next_boundary, planned)
    builder.plain(position, len(text), simple)
    return builder.result()


def _raw_tokens(window: str) -> list[Token]:
    return tokens_from_bytes(window.encode("gb18030", "surrogateescape"))


def repair_gbk_bytes(data: bytes) -> RepairResult:
    """Restore raw GBK bytes as served (every byte known); orphaned bytes decode as surrogates first.

    >>> from scraper.cleaner.anchors import strip_anchors
    >>> strip_anchors(repair_gbk_bytes(bytes.fromhex("d6ceaf9fa121b1c0ee")).text)
    '治療。”李'
    """
    return _repair(data.decode("gb18030", "surrogateescape"), False, _raw_tokens)


def repair_text(text: str) -> RepairResult:
    """Restore text the server already decoded (`?` where it lost a byte).

    >>> from scraper.cleaner.anchors import strip_anchors
    >>> strip_anchors(repair_text("我們?yōu)楸煌镀髽I(yè)定制").text)
    '我們為被投企業定制'
    """
    return _repair(text, True, tokens_from_text)
