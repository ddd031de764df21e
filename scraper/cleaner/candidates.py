"""The characters a lost byte can complete, cheapest first, without scoring all of them.

A lost trail leaves up to 190 candidates and a lost lead 126. Among Han characters that never
follow the previous one in a word, the unigram order decides, so only the few cheapest of them,
the previous character's word successors and the punctuation (whose class costs vary) are scored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from functools import cache, lru_cache

from scraper.cleaner.charmodel import HAN, char_class, char_cost, word_successors
from scraper.cleaner.gbk import (
    LEAD_FIRST,
    LEAD_LAST,
    TRAIL_ASCII_FIRST,
    TRAIL_ASCII_LAST,
    TRAIL_HIGH_FIRST,
    TRAIL_HIGH_LAST,
)

Pair = tuple[str, int, int]  # character, first byte, second byte
# Every byte that ends a pair (gbk.is_trail).
TRAILS = bytes([*range(TRAIL_ASCII_FIRST, TRAIL_ASCII_LAST + 1), *range(TRAIL_HIGH_FIRST, TRAIL_HIGH_LAST + 1)])
UNIGRAM_SPARES = 4  # the cheapest plain characters kept: the choices kept plus one rival


@cache
def _tables() -> tuple[dict[int, list[Pair]], dict[int, list[Pair]], dict[str, Pair]]:
    """Every GBK pair by lead and by trail, cheapest first (ties as a full sort would break them)."""
    by_lead: dict[int, list[tuple[float, Pair]]] = defaultdict(list)
    by_trail: dict[int, list[tuple[float, Pair]]] = defaultdict(list)
    pair_of: dict[str, Pair] = {}
    for lead in range(LEAD_FIRST, LEAD_LAST + 1):
        # Every lead/trail pair decodes to one character, so a row decodes in one call.
        row = b"".join(bytes((lead, trail)) for trail in TRAILS).decode("gb18030")
        for trail, ch in zip(TRAILS, row, strict=True):
            entry = (ch, lead, trail)
            pair_of.setdefault(ch, entry)
            cost = char_cost(ch)
            by_lead[lead].append((cost, entry))
            by_trail[trail].append((cost, entry))

    def ranked(table: dict[int, list[tuple[float, Pair]]]) -> dict[int, list[Pair]]:
        return {key: [entry for _, entry in sorted(rows, key=lambda r: (r[0], r[1]))] for key, rows in table.items()}

    return ranked(by_lead), ranked(by_trail), pair_of


def _worth_scoring(pairs: list[Pair], prev: str | None, keep: Callable[[Pair], bool]) -> list[Pair]:
    """The pairs whose exact cost can put them among the cheapest: see the module docstring."""
    chosen: list[Pair] = []
    plain = 0
    for entry in pairs:
        if not keep(entry):
            continue
        if char_class(entry[0]) not in (HAN, None):
            chosen.append(entry)
        elif plain < UNIGRAM_SPARES:
            chosen.append(entry)
            plain += 1
    if prev is not None:
        pair_of = _tables()[2]
        seen = {entry[0] for entry in chosen}
        for successor in word_successors(prev[-1]):
            found = pair_of.get(successor)
            if found is not None and successor not in seen and keep(found):
                chosen.append(found)
    return chosen


@lru_cache(maxsize=1 << 14)
def trails_of(lead: int, prev: str | None) -> list[Pair]:
    """Characters whose lead is `lead` that may be the cheapest after `prev`."""
    return _worth_scoring(_tables()[0].get(lead, []), prev, lambda entry: entry[1] == lead)


@lru_cache(maxsize=1 << 14)
def leads_of(trail: int, prev: str | None) -> list[Pair]:
    """Characters whose trail is `trail` that may be the cheapest after `prev`."""
    return _worth_scoring(_tables()[1].get(trail, []), prev, lambda entry: entry[2] == trail)
