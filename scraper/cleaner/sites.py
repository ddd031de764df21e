"""Find where decoded text is damaged, and the windows around those sites that the lattice repairs.

One regex pass finds readings and suspect characters; everything outside the windows passes
through as it is, so the cost follows the damage, not the page.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

from scraper.cleaner.charmodel import common_chars
from scraper.cleaner.readings import TONE_VOWELS, char_has_reading, is_syllable

READING = re.compile(f"[(（] ?([a-z{TONE_VOWELS}]{{1,7}}) ?[)）]")
# Characters that the decoder could not place (surrogates stand for orphaned bytes of a raw
# page), private-use characters (user-defined GBK pairs) and U+FFFD are always sites.
_ALWAYS_SUSPECT = "\udc80-\udcff\ue000-\uf8ff\ufffd"
# ASCII after which a window may start or end. Below `@` no byte can be a trail, so decoder
# and original are in step after it; from `@` to `~` a byte the decoder read alone ended any
# shifted run ("an ASCII-range trail byte brings the decoder back in step", PORTAL.md).
# `?` and parentheses are damage themselves; lowercase letters may be inside a reading.
_SYNC = frozenset(chr(c) for c in range(0x7F)) - set("?()abcdefghijklmnopqrstuvwxyz")
_SYNC_CHAR = re.compile("[" + "".join(re.escape(ch) for ch in sorted(_SYNC)) + "]")


class Reading(NamedTuple):
    """A `(reading)` in the text; `simple` when it names the whole character just before it."""

    start: int
    end: int
    reading: str
    simple: bool


@dataclass(frozen=True)
class Scan:
    readings: list[Reading]
    sites: list[tuple[int, int]]  # damage to repair in a window: [start, end)


@cache
def _suspect_pattern(server_decoded: bool) -> re.Pattern[str]:
    # Tone vowels are the letters of readings, which are found apart.
    ordinary = sorted(common_chars() | set(TONE_VOWELS))
    escaped = "".join("\\" + ch if ch in "\\]^-[" else ch for ch in ordinary)
    question = "?" if server_decoded else ""
    return re.compile(f"[{_ALWAYS_SUSPECT}{question}]|[^{escaped}\x00-\x7f]")


@cache
def ordinary_pattern() -> re.Pattern[str]:
    """Matches (fullmatch) a string of characters that alone never suggest damage."""
    escaped = "".join("\\" + ch if ch in "\\]^-[" else ch for ch in sorted(common_chars()))
    return re.compile(f"[{escaped}\x00-\x7f]*")


def suspect_spans(text: str, server_decoded: bool) -> list[tuple[int, int]]:
    """The characters of `text` that are sites: lost bytes, private-use, unlikely characters."""
    return [m.span() for m in _suspect_pattern(server_decoded).finditer(text)]


def _is_error(ch: str, server_decoded: bool) -> bool:
    return "\udc80" <= ch <= "\udcff" or ch == "\ufffd" or (server_decoded and ch == "?")


def _names_previous(text: str, start: int, reading: str, server_decoded: bool) -> bool:
    if start == 0:
        return False
    before = text[start - 1]
    return before >= "\u0100" and not _is_error(before, server_decoded) and char_has_reading(before, reading)


def scan(text: str, server_decoded: bool, suspects: list[tuple[int, int]] | None = None) -> Scan:
    """Readings and damage sites of a decoded page (`server_decoded`: `?` may be a lost byte).

    `suspects` are its suspect_spans, when the caller has them already.

    >>> found = scan("產(chǎn)業,規(guī)?;\\ue209鲩L", server_decoded=True)
    >>> [r.simple for r in found.readings], found.sites
    ([True, True], [(15, 16), (17, 18), (18, 19)])
    """
    readings: list[Reading] = []
    sites: list[tuple[int, int]] = []
    for match in READING.finditer(text):
        reading = match.group(1)
        simple = _names_previous(text, match.start(), reading, server_decoded)
        readings.append(Reading(match.start(), match.end(), reading, simple))
        if not simple and is_syllable(reading):
            sites.append((match.start(), match.end()))
    sites.extend(suspect_spans(text, server_decoded) if suspects is None else suspects)
    sites.sort()
    return Scan(readings, sites)


def is_boundary(text: str, position: int, server_decoded: bool) -> bool:
    """True where a window may start or end: after ASCII that no damage can have shifted.

    After a lost byte the ASCII may be half of a swapped pair, so it is no boundary. A swap
    at the very end of a shifted run (`吕\ue40a_@` for `。這`) is found by the lattice, which
    then asks for more (Solution.open_end).
    """
    if position <= 0 or position >= len(text):
        return True
    if text[position - 1] not in _SYNC:
        return False
    return position < 2 or not _is_error(text[position - 2], server_decoded)


def _trail_byte(ch: str) -> int | None:
    try:
        encoded = ch.encode("gb18030")
    except UnicodeEncodeError:
        return None
    return encoded[1] if len(encoded) == 2 else None


def run_start(text: str, site: int, floor: int) -> int:
    """Where a shifted run ending in the odd character at `site` can have started, at the latest.

    Inside a run the decoder pairs one character's trail with the next one's lead, so every
    pair's second byte is a lead (>= 0x81); only the first pair, a lead and the ASCII byte a
    swap left, has a second byte from `@` to `~`. Walking back over lead-ended pairs finds it.
    """
    position = site
    while position > floor:
        trail = _trail_byte(text[position - 1])
        if trail is None or text[position - 1] < "\x80":
            break
        position -= 1
        if trail < 0x80:
            break
    return position


class WindowPlanner:
    """Disjoint windows [start, end) covering every site, cut at boundaries.

    The ends of simple readings are boundaries too: their character was whole.
    """

    def __init__(self, text: str, found: Scan, server_decoded: bool) -> None:
        self.text = text
        self.sites = found.sites
        self.readings = found.readings
        self.reading_starts = [r.start for r in found.readings]
        self.server_decoded = server_decoded
        self.reading_ends = {r.end for r in found.readings if r.simple}
        self.sorted_ends = sorted(self.reading_ends)
        # A space inside a reading (`(huì )`) is ASCII but no place to cut.
        self.inside = {p for r in found.readings if " " in text[r.start : r.end] for p in range(r.start + 1, r.end)}

    def is_boundary(self, position: int) -> bool:
        if position in self.reading_ends:
            return True
        return position not in self.inside and is_boundary(self.text, position, self.server_decoded)

    def _outside_readings(self, position: int) -> int:
        """A start inside a reading moves to its end if it names its character, else to its start."""
        index = bisect_right(self.reading_starts, position) - 1
        if index < 0:
            return position
        reading = self.readings[index]
        if reading.start < position < reading.end:
            return reading.end if reading.simple else reading.start
        return position

    def first_boundary(self, position: int) -> int:
        """The first boundary at or after `position`.

        Only after a sync character or at a simple reading's end can one stand: those are looked up, not walked to.
        """
        text = self.text
        while 0 < position < len(text):
            after_sync = _SYNC_CHAR.search(text, position - 1)
            candidate = after_sync.end() if after_sync else len(text)
            k = bisect_left(self.sorted_ends, position)
            if k < len(self.sorted_ends):
                candidate = min(candidate, self.sorted_ends[k])
            if self.is_boundary(candidate):
                return candidate
            position = candidate + 1
        return position

    def next_boundary(self, position: int) -> int:
        """The first boundary after `position`."""
        return min(self.first_boundary(position + 1), len(self.text))

    def windows(self) -> list[tuple[int, int]]:
        windows: list[tuple[int, int]] = []
        for start, end in self.sites:
            previous_end = windows[-1][1] if windows else 0
            if end <= previous_end:
                continue  # inside the window before, which ends at a boundary already
            if windows and start <= previous_end:
                begin = windows.pop()[0]
            else:
                begin = self._outside_readings(run_start(self.text, start, previous_end))
            finish = self.first_boundary(min(max(end, previous_end), len(self.text)))
            windows.append((begin, finish))
        return windows
