"""Build the cleaner's character model (character and within-word pair counts) from jieba and OpenCC.

Run `.venv/bin/pip install -e ".[build]"` (jieba is needed only here), then
`.venv/bin/python tools/build_charmodel.py` to regenerate scraper/cleaner/data/.
"""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import jieba
import opencc

DATA = Path(__file__).resolve().parent.parent / "scraper" / "cleaner" / "data"
CHARS_OUT = DATA / "charfreq.tsv"
PAIRS_OUT = DATA / "pairfreq.tsv"
MIN_PAIR_COUNT = 30  # rarer pairs are mostly names; the unigram covers them
CJK_RANGE = range(0x3400, 0xA000)

# jieba's list has no punctuation; these shares of all characters are typical of
# news prose (a full stop every ~30 characters, a comma every ~15).
PUNCTUATION_SHARE = {
    "，": 1 / 15,
    "。": 1 / 32,
    "、": 1 / 90,
    "“": 1 / 120,
    "”": 1 / 120,
    "：": 1 / 300,
    "；": 1 / 500,
    "？": 1 / 600,
    "！": 1 / 900,
    "（": 1 / 700,
    "）": 1 / 700,
    "《": 1 / 500,
    "》": 1 / 500,
    "—": 1 / 600,
    "…": 1 / 2000,
    "‘": 1 / 2000,
    "’": 1 / 2000,
    "·": 1 / 2000,
    "％": 1 / 5000,
    "①": 1 / 20000,
}


def jieba_words() -> list[tuple[str, int]]:
    dict_path = Path(jieba.__file__).parent / "dict.txt"
    with dict_path.open(encoding="utf-8") as lines:
        return [(word, int(freq)) for word, freq, *_ in (line.split(" ") for line in lines)]


def traditional_forms(words: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Each word in its Simplified form and every Traditional form OpenCC knows."""
    # OpenCC's standards differ (为 -> 爲 in s2t, 為 in s2tw/s2hk): keep every form.
    converters = [opencc.OpenCC(name) for name in ("s2t", "s2tw", "s2hk")]
    out = []
    for word, freq in words:
        for form in {word, *(conv.convert(word) for conv in converters)}:
            out.append((form, freq))
    return out


def main() -> None:
    words = traditional_forms(jieba_words())
    chars: Counter[str] = Counter()
    pairs: Counter[str] = Counter()
    for word, freq in words:
        for ch in word:
            chars[ch] += freq
        for a, b in itertools.pairwise(word):
            pairs[a + b] += freq
    # Variants the converters never produce (癥 for 症) get a share of their Simplified form.
    t2s = opencc.OpenCC("t2s")
    for code in CJK_RANGE:
        ch = chr(code)
        simple = t2s.convert(ch)
        if simple != ch and chars[ch] == 0 and chars[simple]:
            chars[ch] = chars[simple] // 10
    total = sum(chars.values())
    for ch, share in PUNCTUATION_SHARE.items():
        chars[ch] = int(total * share)
    with CHARS_OUT.open("w", encoding="utf-8") as out:
        for ch, n in chars.most_common():
            if len(ch) == 1 and n > 0:
                out.write(f"{ch}\t{n}\n")
    with PAIRS_OUT.open("w", encoding="utf-8") as out:
        for pair, n in sorted(pairs.items()):
            if n >= MIN_PAIR_COUNT:
                out.write(f"{pair}\t{n}\n")


if __name__ == "__main__":
    main()
