"""Clean material taken from the seed page, for generating replica articles.

Only seed sentences free of damage are kept, so generated text has the seed's statistics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

# 1-based line numbers of the seed text, from PORTAL.md's layout table.
SPAM_LINE = 1
TITLE_LINE = 5
BODY_LINES = range(11, 82)
SUBHEADING_LINES = (21, 39, 49, 65)
CAPTION_LINES = (37, 63)

SOURCES: tuple[str, ...] = ("交匯點新聞", "新華日報", "人民網", "新華網", "揚子晚報")
# The outlet each source's byline names (the seed: 交匯點新聞 -> 新華日報·交匯點).
BYLINE_OUTLETS: dict[str, str] = {
    "交匯點新聞": "新華日報·交匯點",
    "新華日報": "新華日報",
    "人民網": "人民網",
    "新華網": "新華網",
    "揚子晚報": "揚子晚報",
}
REPORTERS: tuple[str, ...] = (
    "許愿",
    "柏麗娟",
    "王靜",
    "張建國",
    "李曉明",
    "陳思遠",
    "劉暢",
    "周雯",
    "吳昊",
    "孫璐",
)

_PINYIN_VOWELS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü"
PINYIN_READING = re.compile(rf"\([a-z{_PINYIN_VOWELS}]+\)")
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
_ASCII_TO_FULLWIDTH = str.maketrans(",:;!?()", "，：；！？（）")
# ASCII punctuation with a non-ASCII neighbour was full-width before the portal's step 3.
_PUNCT_NEXT_TO_CJK = re.compile(r"(?<=[^\x00-\x7f])[,:;!?()]|[,:;!?()](?=[^\x00-\x7f])")
_SENTENCE = re.compile(r"[^。]*。”?|[^。]+$")
NBSP = "\xa0"


@dataclass(frozen=True)
class Corpus:
    """What the replica generates from: clean sentences and the seed's other parts."""

    sentences: tuple[str, ...]
    subheadings: tuple[str, ...]
    captions: tuple[str, ...]
    title: str
    spam_keywords: tuple[str, ...]
    sources: tuple[str, ...] = SOURCES
    reporters: tuple[str, ...] = REPORTERS


def strip_readings(text: str) -> str:
    """Remove the portal's inserted pinyin readings.

    >>> strip_readings("產(chǎn)業(yè)")
    '產業'
    """
    return PINYIN_READING.sub("", text)


def is_damaged(text: str) -> bool:
    """True for text that still shows mojibake: a `?` or a private-use character."""
    return "?" in text or bool(_PRIVATE_USE.search(text))


def restore_fullwidth(text: str) -> str:
    """Turn ASCII punctuation touching a CJK character back into full-width.

    >>> restore_fullwidth("去年8月,2024年(試行)中,DECIPHER-Omnia 1.5萬")
    '去年8月，2024年（試行）中，DECIPHER-Omnia 1.5萬'
    """
    return _PUNCT_NEXT_TO_CJK.sub(lambda m: m.group().translate(_ASCII_TO_FULLWIDTH), text)


def split_sentences(text: str) -> list[str]:
    """Split at `。`, keeping a closing `”` with its sentence.

    >>> split_sentences("他說。“好。”然后")
    ['他說。', '“好。”', '然后']
    """
    return [s for s in _SENTENCE.findall(text) if s]


def _clean_line(line: str) -> str:
    return strip_readings(line).strip(" " + NBSP)


def clean_sentences(body_lines: list[str]) -> list[str]:
    """Undamaged sentences of the body lines, with full-width punctuation restored."""
    out: list[str] = []
    for line in body_lines:
        for sentence in split_sentences(_clean_line(line)):
            if is_damaged(sentence) or NBSP in sentence:
                continue
            out.append(restore_fullwidth(sentence))
    return out


def _heading(line: str) -> str:
    # Headings and the title end in a question mark that step 3 made ASCII.
    text = _clean_line(line)
    return restore_fullwidth(text[:-1] + "？") if text.endswith("?") else restore_fullwidth(text)


def parse_seed(text: str) -> Corpus:
    """Build the corpus from the seed page's text."""
    lines = text.split("\n")

    def line(n: int) -> str:
        return lines[n - 1]

    skip = set(SUBHEADING_LINES) | set(CAPTION_LINES)
    body = [line(n) for n in BODY_LINES if n not in skip and line(n).strip()]
    return Corpus(
        sentences=tuple(clean_sentences(body)),
        subheadings=tuple(_heading(line(n)) for n in SUBHEADING_LINES),
        captions=tuple(_clean_line(line(n)) for n in CAPTION_LINES),
        title=_heading(line(TITLE_LINE)),
        spam_keywords=tuple(k for k in line(SPAM_LINE).split(",") if k),
    )


@cache
def load_corpus() -> Corpus:
    """The corpus of the seed shipped as package data (parsed once)."""
    seed = resources.files("scraper.replica").joinpath("data/seed.txt").read_text(encoding="utf-8")
    return parse_seed(seed)
