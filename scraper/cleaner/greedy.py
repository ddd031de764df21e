"""The obvious repair of a window, tried before the lattice: one path, no model, checked after.

Readings that name the bytes before them go; a lead byte left without a trail (or paired into a
private-use character) takes back the full-width pair an ASCII byte stood for. The result is taken only if every character it yields is
an ordinary one; anything else (a lost byte, a choice to weigh) goes to the lattice.
"""

from __future__ import annotations

import re

from scraper.cleaner.charmodel import common_chars
from scraper.cleaner.gbk import (
    ASCII_END,
    ASCII_TO_FULLWIDTH,
    LEAD_FIRST,
    LEAD_LAST,
    SWAPPABLE_FIRST,
    SWAPPABLE_LAST,
    TRAIL_ASCII_FIRST,
    TRAIL_ASCII_LAST,
    TRAIL_HIGH_FIRST,
    TRAIL_HIGH_LAST,
    decode_pair,
    is_private_use,
)
from scraper.cleaner.lattice import (
    FULLWIDTH_ROW,
    LEFT_PAREN,
    LatticeReport,
    Solution,
    Token,
    gbk_pair,
    match_reading,
)
from scraper.cleaner.readings import char_has_reading


def solve_greedy(tokens: list[Token], before: str, ordinary: re.Pattern[str]) -> Solution | None:
    """The one-path repair of `tokens` (bytes, no lost ones), or None when it is not clean.

    `ordinary` matches a string made only of characters that alone never suggest damage.
    """
    report = LatticeReport()
    common = common_chars()  # a single character is ordinary when common or ASCII
    out: list[str] = []
    last = gbk_pair(before[-1:]) if before else None  # bytes of the last character, for readings
    pending: int | None = None
    swaps = 0
    i, n = 0, len(tokens)
    while i < n:
        t = tokens[i]
        if not isinstance(t, int):
            return None  # a lost byte or a whole character: the lattice's work
        if t in (LEFT_PAREN, FULLWIDTH_ROW):
            found = match_reading(tokens, i)
            if found is not None and _names(found[0], last, pending):
                report.pinyin_removed += 1
                if pending is not None:
                    report.mojibake_runs += 1  # a straddling reading shifted what follows
                i = found[1]
                continue
        if pending is None:
            if t < ASCII_END:
                if swaps and TRAIL_ASCII_FIRST <= t <= TRAIL_ASCII_LAST:
                    return None  # a letter after a swap: perhaps a trail the swap misplaced; let the model weigh it
                out.append(chr(t))
                last = None
            elif LEAD_FIRST <= t <= LEAD_LAST:  # gbk.is_lead
                pending = t
            else:
                return None
            i += 1
            continue
        literal = (
            decode_pair(pending, t)
            if TRAIL_ASCII_FIRST <= t <= TRAIL_ASCII_LAST or TRAIL_HIGH_FIRST <= t <= TRAIL_HIGH_LAST
            else None
        )  # gbk.is_trail
        swapped = (
            decode_pair(pending, FULLWIDTH_ROW) if SWAPPABLE_FIRST <= t <= SWAPPABLE_LAST else None
        )  # t in ASCII_TO_FULLWIDTH
        if literal is not None and literal not in common and not is_private_use(literal) and literal >= "\x80":
            return None  # a rare but real character (癥 is B0 59): whether it is a swap, the model weighs
        if swapped is not None and (literal is None or is_private_use(literal)):
            out.append(swapped)
            last = bytes((pending, FULLWIDTH_ROW))
            report.mojibake_runs += 1
            report.bytes_restored += 2
            swaps += 1
            pending = ASCII_TO_FULLWIDTH[t][1]
        elif literal is not None:
            out.append(literal)
            last = bytes((pending, t))
            pending = None
        else:
            return None
        i += 1
    text = "".join(out)
    if pending is not None or not ordinary.fullmatch(text):
        return None
    return Solution([text] if text else [], report)


def _names(reading: str, last: bytes | None, pending: int | None) -> bool:
    """True when the reading names the two bytes before it: the last character, or last byte + waiting lead."""
    if last is None:
        return False
    pair = (last[0], last[1]) if pending is None else (last[-1], pending)
    return char_has_reading(decode_pair(*pair), reading)
