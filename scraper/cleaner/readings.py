"""Pinyin readings the portal inserted: recognise `(reading)` and check whom it names.

A reading names the character whose two bytes stand just before it (PORTAL.md, layer 2).
"""

from __future__ import annotations

import importlib.util
import json
import unicodedata
from functools import cache, lru_cache
from pathlib import Path

from scraper.cleaner.gbk import decode_pair, is_lead, is_trail

# Tone-marked vowels as the portal writes them (GBK row A8); ü and ê carry no tone.
TONE_VOWELS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüêńňǹḿ"
TONE_MARKED = frozenset(TONE_VOWELS) - {"ü", "ê"}
MAX_READING_LETTERS = 7  # "zhuang" plus one spare


@cache
def _strip_tone(reading: str) -> frozenset[str]:
    """Toneless spellings: `lüè` is written `lve` (pypinyin) or `lue`."""
    plain_u = "".join(c for c in unicodedata.normalize("NFD", reading) if not unicodedata.combining(c))
    with_v = "".join(
        c for c in unicodedata.normalize("NFD", reading.translate(_U_UMLAUT)) if not unicodedata.combining(c)
    )
    return frozenset({plain_u, with_v})


_U_UMLAUT = str.maketrans({c: "v" for c in "ǖǘǚǜü"})


@cache
def character_readings() -> dict[int, str]:
    """pypinyin's readings of every character: code point -> "reading,reading".

    Read from the package's data file without importing the package: importing it loads its
    phrase dictionary too, 40 MB in every process that cleans, which the cleaner never uses.
    """
    spec = importlib.util.find_spec("pypinyin")
    data = Path(spec.origin).parent / "pinyin_dict.json" if spec and spec.origin else None
    if data is None or not data.is_file():  # a pypinyin laid out otherwise: take the module
        from pypinyin.pinyin_dict import pinyin_dict

        return dict(pinyin_dict)
    return {int(code): joined for code, joined in json.loads(data.read_text(encoding="utf-8")).items()}


@cache
def readings_of(ch: str) -> frozenset[str]:
    """Every reading of a character, toned and toneless.

    >>> sorted(readings_of("數"))[:3]
    ['shu', 'shuo', 'shuò']
    """
    joined = character_readings().get(ord(ch), "")
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


def is_toned(reading: str) -> bool:
    """True for a reading with a tone mark: toned pinyin is never ordinary prose.

    >>> is_toned("chǎn"), is_toned("lüe"), is_toned("fa")
    (True, False, False)
    """
    return any(ch in TONE_MARKED for ch in reading)


@lru_cache(maxsize=1)
def _gbk_chars_by_reading() -> dict[str, tuple[tuple[str, bytes], ...]]:
    index: dict[str, list[tuple[str, bytes]]] = {}
    for code, joined in character_readings().items():
        pair = chr(code).encode("gbk", "replace")  # outside GBK: b"?", one byte like ASCII
        if len(pair) != 2:
            continue
        entry = (chr(code), pair)
        for form in _forms(joined):
            index.setdefault(form, []).append(entry)
    return {reading: tuple(chars) for reading, chars in index.items()}


@cache
def _forms(joined: str) -> tuple[str, ...]:
    """Each spelling of each reading in "reading,reading", once per reading that has it."""
    return tuple(form for toned in {r for r in joined.split(",") if r} for form in {toned, *_strip_tone(toned)})


def chars_with_reading(reading: str) -> tuple[tuple[str, bytes], ...]:
    """Every GBK character read `reading`, with its two bytes: what a reading alone can stand for.

    >>> ("隊", b"\\xea\\xa0") in chars_with_reading("duì")
    True
    """
    return _gbk_chars_by_reading().get(reading, ())


def is_syllable(letters: str) -> bool:
    """True when `letters` spell a reading of some character (toned or not): `(app)` is no reading.

    >>> is_syllable("chǎn"), is_syllable("fa"), is_syllable("app")
    (True, True, False)
    """
    return letters in _gbk_chars_by_reading()
