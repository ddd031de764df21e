"""A character model built from clean text: the cost of reading a character after another.

Unigram shares interpolated with within-word pair counts (jieba's word list in
Traditional forms, built by tools/build_charmodel.py); costs are negative logs.
"""

from __future__ import annotations

import math
from functools import lru_cache
from importlib import resources

from scraper.cleaner.gbk import is_private_use

ASCII_COST = 1.0
UNSEEN_COST = 18.0  # rarer than anything in the table: a character no clean text uses
PRIVATE_USE_COST = 25.0  # user-defined GBK pairs never occur in real text
PAIR_WEIGHT = 0.5  # share of the pair estimate when the previous character is known


def _rows(name: str) -> list[tuple[str, int]]:
    text = resources.files("scraper.cleaner").joinpath(f"data/{name}").read_text("utf-8")
    # Keys hold no tab or newline: one split of the whole file reads key, count, key, count...
    fields = text.replace("\t", "\n").split("\n")
    if fields and not fields[-1]:
        fields.pop()
    if len(fields) % 2:
        raise ValueError(f"{name}: a line without its count")
    return list(zip(fields[0::2], map(int, fields[1::2]), strict=True))


@lru_cache(maxsize=1)
def _unigrams() -> tuple[dict[str, float], int]:
    rows = _rows("charfreq.tsv")
    total = sum(n for _, n in rows)
    return {ch: n / total for ch, n in rows}, total


@lru_cache(maxsize=1)
def _pairs() -> tuple[dict[str, int], dict[str, int]]:
    pairs = dict(_rows("pairfreq.tsv"))
    left: dict[str, int] = {}
    seen = left.get
    for pair, n in pairs.items():
        first = pair[0]
        left[first] = seen(first, 0) + n
    return pairs, left


COMMON_RANK = 5000  # the commonest characters cover 99.4% of clean text; shifted runs rarely stay inside them
COMMON_MARKS = "，。、；：？！“”‘’（）《》〈〉「」『』【】…—·～％\xa0\u3000"


@lru_cache(maxsize=1)
def common_chars() -> frozenset[str]:
    """Characters that alone never suggest damage: the COMMON_RANK commonest and Chinese punctuation."""
    shares = _unigrams()[0]
    ranked = sorted(shares, key=shares.__getitem__, reverse=True)
    return frozenset(ranked[:COMMON_RANK]) | frozenset(COMMON_MARKS)


@lru_cache(maxsize=1)
def _successors() -> dict[str, tuple[str, ...]]:
    following: dict[str, list[str]] = {}
    for pair in _pairs()[0]:
        following.setdefault(pair[0], []).append(pair[1])
    return {first: tuple(chars) for first, chars in following.items()}


def word_successors(ch: str) -> tuple[str, ...]:
    """Characters seen right after `ch` inside a word: the only ones its pair estimate favours."""
    return _successors().get(ch, ())


def char_cost(ch: str) -> float:
    """Cost of one character in clean text: common characters are cheap.

    >>> char_cost("。") < char_cost("李") < char_cost("钕")
    True
    """
    if ch < "\x80":
        return ASCII_COST
    if is_private_use(ch):
        return PRIVATE_USE_COST
    share = _unigrams()[0].get(ch)
    return -math.log(share) if share else UNSEEN_COST


SENTENCE_END, CLAUSE_MARK, OPENING, CLOSING, HAN, SYMBOL = range(6)
_CLASS_OF = {
    **dict.fromkeys("。？！", SENTENCE_END),
    **dict.fromkeys("，、；：", CLAUSE_MARK),
    **dict.fromkeys("“‘《（「『", OPENING),
    **dict.fromkeys("”’》）」』", CLOSING),
}
# Extra cost of one class following another in prose: two stops in a row or a
# stop right after an opening quote almost never occur; `。”` is common.
_CLASS_FOLLOW_COST = {
    (SENTENCE_END, CLOSING): -1.5,
    (SENTENCE_END, OPENING): -0.5,
    (SENTENCE_END, SENTENCE_END): 8.0,
    (SENTENCE_END, CLAUSE_MARK): 8.0,
    (CLAUSE_MARK, SENTENCE_END): 8.0,
    (CLAUSE_MARK, CLAUSE_MARK): 8.0,
    (CLAUSE_MARK, CLOSING): 4.0,
    (OPENING, SENTENCE_END): 8.0,
    (OPENING, CLAUSE_MARK): 8.0,
    (OPENING, CLOSING): 8.0,
    (SENTENCE_END, SYMBOL): -2.0,
}


def char_class(ch: str | None) -> int | None:
    if ch is None:
        return None
    if ch in _CLASS_OF:
        return _CLASS_OF[ch]
    return HAN if "\u3400" <= ch <= "\u9fff" else None


def follow_cost(first: int | None, second: int | None) -> float:
    """Extra cost of a character class following another (see _CLASS_FOLLOW_COST)."""
    if first is None or second is None:
        return 0.0
    return _CLASS_FOLLOW_COST.get((first, second), 0.0)


@lru_cache(maxsize=1 << 17)
def pair_cost(prev: str | None, ch: str) -> float:
    """Cost of `ch` after `prev`: the unigram interpolated with the within-word pair estimate.

    >>> pair_cost("規", "模") < pair_cost("規", "。")
    True
    >>> pair_cost("。", "”") < pair_cost("。", "。")
    True
    >>> pair_cost("空白", "。"[-1]) < pair_cost("白", "海")
    True
    """
    base = char_cost(ch)
    extra = follow_cost(char_class(prev), char_class(ch))
    if prev is None or ch < "\x80" or base >= UNSEEN_COST:
        return base + extra
    pairs, left = _pairs()
    seen_after = left.get(prev[-1], 0)
    if not seen_after:
        return base + extra
    conditional = pairs.get(prev[-1] + ch, 0) / seen_after
    return -math.log(PAIR_WEIGHT * conditional + (1 - PAIR_WEIGHT) * math.exp(-base)) + extra
