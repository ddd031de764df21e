"""The dev set of real pages: the cleaner fails on none, leaves at most 5 damage signals, and beats a regex strip.

Figures as `../shared/devset/score.py` counts them: pinyin letters, `?` between Chinese characters and
private-use characters left in `clean --format text` output; the error rate on the pages with a clean copy.
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from functools import cache
from pathlib import Path

import opencc
import pytest
from rapidfuzz.distance import Levenshtein

from scraper.cleaner.cli import as_text, clean_bytes

DEVSET = Path(__file__).resolve().parents[2] / "shared" / "devset" / "pages.jsonl"
if not DEVSET.exists():  # CI clones the repo with shared/ beside it; a copy ships as test data
    DEVSET = Path(__file__).resolve().parent / "data" / "devset" / "pages.jsonl"
MAX_SIGNALS = 5
TONE_MARKED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
READING = re.compile(rf"\((?:[a-zü]*[{TONE_MARKED}][a-zü]*) ?\)")
SIGNALS = re.compile(
    rf"[a-zü]*[{TONE_MARKED}][a-zü]*"  # pinyin letters
    r"|(?<=[\u4e00-\u9fff])\?+(?=[\u4e00-\u9fff])"  # `?` between Chinese characters
    r"|[\ue000-\uf8ff]"  # private-use characters
)
T2S = opencc.OpenCC("t2s")


@cache
def pages() -> list[dict]:
    return [json.loads(line) for line in DEVSET.read_text(encoding="utf-8").splitlines()]


@cache
def restored() -> dict[str, str]:
    """Each page through the `clean --format text` path, as a user gives it a saved text file."""
    return {page["id"]: as_text(clean_bytes(page["text"].encode("utf-8"), page["url"])) for page in pages()}


def letters(text: str) -> str:
    """Both sides to Simplified, letters and digits only: page furniture differs between mirrors."""
    simplified = unicodedata.normalize("NFKC", T2S.convert(text)).replace("著", "着")
    return "".join(ch for ch in simplified if unicodedata.category(ch)[0] in "LN")


def error_rate(clean: str, output: str) -> tuple[int, int]:
    """Edits and length over the stretch of the clean copy that the output covers too."""
    reference, candidate = letters(clean), letters(output)
    blocks = [
        b
        for b in difflib.SequenceMatcher(None, reference, candidate, autojunk=False).get_matching_blocks()
        if b.size >= 4
    ]
    if not blocks:
        return len(reference), len(reference)
    ref = reference[blocks[0].a : blocks[-1].a + blocks[-1].size]
    out = candidate[blocks[0].b : blocks[-1].b + blocks[-1].size]
    return Levenshtein.distance(ref, out), len(ref)


def test_the_dev_set_is_the_34_pages_with_4_clean_copies() -> None:
    assert len(pages()) == 34
    assert sum(1 for page in pages() if page.get("clean_text")) == 4


@pytest.mark.parametrize("page_id", [f"d{n:02d}" for n in range(1, 35)])
def test_every_real_page_is_restored_to_text(page_id: str) -> None:
    # clean_bytes raising would fail here: no page of any layout may fail.
    output = restored()[page_id]
    assert output.strip()


def test_at_most_five_damage_signals_are_left_in_all_34_pages() -> None:
    left = {pid: SIGNALS.findall(text) for pid, text in restored().items()}
    regex_left = sum(len(SIGNALS.findall(READING.sub("", page["text"]))) for page in pages())
    total = sum(len(found) for found in left.values())
    assert total <= MAX_SIGNALS, {pid: found for pid, found in left.items() if found}
    assert total < regex_left  # the regex strip leaves 26


def test_error_rate_on_clean_copies_is_below_a_regex_strip() -> None:
    ours = regex = length_ours = length_regex = 0
    for page in pages():
        if not page.get("clean_text"):
            continue
        edits, length = error_rate(page["clean_text"], restored()[page["id"]])
        ours, length_ours = ours + edits, length_ours + length
        edits, length = error_rate(page["clean_text"], READING.sub("", page["text"]))
        regex, length_regex = regex + edits, length_regex + length
    assert ours / length_ours < regex / length_regex
