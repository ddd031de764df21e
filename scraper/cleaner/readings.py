"""Pinyin readings the portal inserted: recognise `(reading)` and check whom it names.

A reading names the character whose two bytes stand just before it (PORTAL.md, layer 2).
"""

from __future__ import annotations

import unicodedata
from functools import cache, lru_cache

from pypinyin.pinyin_dict import pinyin_dict

from scraper.cleaner.gbk import decode_pair, is_lead, is_trail

# Tone-marked vowels as the portal writes them (GBK row A8).
TONE_VOWELS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüêńňǹḿ"
MAX_READING_LETTERS = 7  # "zhuang" plus one spare


def _strip_tone(reading: str) -> frozenset[str]:
    """Toneless spellings: `lüè` is written `lve` (pypinyin) or `lue`."""
    plain_u = "".join(c for c in unicodedata.normalize("NFD", reading) if not unicodedata.combining(c))
    with_v = "".join(
        c for c in unicodedata.normalize("NFD", reading.translate(_U_UMLAUT)) if not unicodedata.combining(c)
    )
    return frozenset({plain_u, with_v})


_U_UMLAUT = str.maketrans({c: "v" for c in "ǖǘǚǜü"})


@cache
def readings_of(ch: str) -> frozenset[str]:
    """Every reading of a character, toned and toneless.

    >>> sorted(readings_of("數"))[:3]
    ['shu', 'shuo', 'shuò']
    """
    joined = pinyin_dict.get(ord(ch), "")
    toned = {r for r in joined.split(",") if r}
    return frozenset(toned.union(*(_strip_tone(r) for r in toned)))


def char_has_reading(ch: str | None, reading: str) -> bool:
    return ch is not None and reading in readings_of(ch)


@lru_cache(maxsize=4096)
def second_bytes_with_reading(first: int, reading: str) -> tuple[int, ...]:
    """Bytes b such that the pair (first, b) encodes a character read `reading`.

    Pins down a lost byte from its pinyin clue (PORTAL.md: `?yōu)` after 們).
    """
    if not is_lead(first):
        return ()
    return tuple(b for b in range(0x40, 0xFF) if is_trail(b) and char_has_reading(decode_pair(first, b), reading))
