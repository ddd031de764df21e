"""Build the cleaner's character model (frequencies, two-character words) from jieba and OpenCC.

Run `python tools/build_charmodel.py` to regenerate scraper/cleaner/data/.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import jieba
import opencc

DATA = Path(__file__).resolve().parent.parent / "scraper" / "cleaner" / "data"
OUT = DATA / "charfreq.tsv"
WORDS_OUT = DATA / "words2.txt"
MIN_WORD_FREQ = 20  # below this jieba's two-character entries are mostly names and noise

# jieba's list has no punctuation; these shares of all characters are typical of
# news prose (a full stop every ~30 characters, a comma every ~15).
PUNCTUATION_SHARE = {
    "，": 1 / 15, "。": 1 / 32, "、": 1 / 90, "“": 1 / 120, "”": 1 / 120,
    "：": 1 / 300, "；": 1 / 500, "？": 1 / 600, "！": 1 / 900, "（": 1 / 700,
    "）": 1 / 700, "《": 1 / 500, "》": 1 / 500, "—": 1 / 600, "…": 1 / 2000,
    "‘": 1 / 2000, "’": 1 / 2000, "·": 1 / 2000, "％": 1 / 5000, "①": 1 / 20000,
}


def simplified_counts() -> Counter[str]:
    counts: Counter[str] = Counter()
    dict_path = Path(jieba.__file__).parent / "dict.txt"
    with dict_path.open(encoding="utf-8") as lines:
        for line in lines:
            word, freq, *_ = line.split(" ")
            for ch in word:
                counts[ch] += int(freq)
    return counts


def two_character_words(converters: list[opencc.OpenCC]) -> set[str]:
    words: set[str] = set()
    dict_path = Path(jieba.__file__).parent / "dict.txt"
    with dict_path.open(encoding="utf-8") as lines:
        for line in lines:
            word, freq, *_ = line.split(" ")
            if len(word) == 2 and int(freq) >= MIN_WORD_FREQ:
                words.add(word)
                words.update(conv.convert(word) for conv in converters)
    return words


def main() -> None:
    # OpenCC's standards differ (为 -> 爲 in s2t, 為 in s2tw/s2hk): credit every form.
    converters = [opencc.OpenCC(name) for name in ("s2t", "s2tw", "s2hk")]
    simplified = simplified_counts()
    counts: Counter[str] = Counter()
    for ch, n in simplified.items():
        forms = {conv.convert(ch) for conv in converters}
        for form in forms:
            counts[form] += n
        if forms != {ch}:
            # The portal's conversion leaves some characters Simplified.
            counts[ch] += n // 20 + 1
    total = sum(counts.values())
    for ch, share in PUNCTUATION_SHARE.items():
        counts[ch] = int(total * share)
    total = sum(counts.values())
    with OUT.open("w", encoding="utf-8") as out:
        for ch, n in counts.most_common():
            if len(ch) == 1 and n > 0:
                out.write(f"{ch}\t{-math.log(n / total):.3f}\n")
    words = two_character_words(converters)
    WORDS_OUT.write_text("".join(f"{w}\n" for w in sorted(words)), encoding="utf-8")


if __name__ == "__main__":
    main()
