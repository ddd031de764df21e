"""A character-frequency model built from clean text: the cost of reading a character.

Used to choose between candidate restorations; the table is built by tools/build_charmodel.py.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from scraper.cleaner.gbk import is_private_use

# Costs are negative natural logs of a character's share of clean text.
ASCII_COST = 1.0
UNSEEN_COST = 18.0  # rarer than anything in the table: a character no clean text uses
PRIVATE_USE_COST = 25.0  # user-defined GBK pairs never occur in real text


@lru_cache(maxsize=1)
def _table() -> dict[str, float]:
    text = resources.files("scraper.cleaner").joinpath("data/charfreq.tsv").read_text("utf-8")
    table: dict[str, float] = {}
    for line in text.splitlines():
        ch, cost = line.split("\t")
        table[ch] = float(cost)
    return table


def char_cost(ch: str) -> float:
    """Cost of one character in clean text: common characters are cheap.

    >>> char_cost("。") < char_cost("李") < char_cost("钕")
    True
    """
    if ch < "\x80":
        return ASCII_COST
    if is_private_use(ch):
        return PRIVATE_USE_COST
    return _table().get(ch, UNSEEN_COST)


# A character that makes a known two-character word with its neighbour is far
# likelier in clean text than its own share says; mojibake rarely forms words.
WORD_BONUS = 5.0


@lru_cache(maxsize=1)
def _words() -> frozenset[str]:
    text = resources.files("scraper.cleaner").joinpath("data/words2.txt").read_text("utf-8")
    return frozenset(text.split())


SENTENCE_END, CLAUSE_MARK, OPENING, CLOSING, HAN, SYMBOL = range(6)
_CLASS_OF = {**dict.fromkeys("。？！", SENTENCE_END), **dict.fromkeys("，、；：", CLAUSE_MARK),
             **dict.fromkeys("“‘《（「『", OPENING), **dict.fromkeys("”’》）」』", CLOSING)}
# Extra cost of one class following another in prose: two stops in a row or a
# stop right after an opening quote almost never occur; `。”` is common.
_CLASS_FOLLOW_COST = {
    (SENTENCE_END, CLOSING): -1.5, (SENTENCE_END, OPENING): -0.5,
    (SENTENCE_END, SENTENCE_END): 8.0, (SENTENCE_END, CLAUSE_MARK): 8.0,
    (CLAUSE_MARK, SENTENCE_END): 8.0, (CLAUSE_MARK, CLAUSE_MARK): 8.0, (CLAUSE_MARK, CLOSING): 4.0,
    (OPENING, SENTENCE_END): 8.0, (OPENING, CLAUSE_MARK): 8.0, (OPENING, CLOSING): 8.0,
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
    return _CLASS_FOLLOW_COST.get((first, second), 0.0) if first is not None else 0.0


def pair_cost(prev: str | None, ch: str) -> float:
    """Cost of `ch` after `prev`: its own cost, less a bonus when the two form a word.

    >>> pair_cost("規", "模") < pair_cost("規", "。")
    True
    >>> pair_cost("。", "”") < pair_cost("。", "。")
    True
    """
    cost = char_cost(ch) + follow_cost(char_class(prev), char_class(ch))
    if prev is not None and prev + ch in _words():
        cost -= WORD_BONUS
    return cost
