"""The corpus holds only undamaged seed text, with full-width punctuation restored."""

from __future__ import annotations

import re

from scraper.replica.corpus import (
    is_damaged,
    load_corpus,
    restore_fullwidth,
    split_sentences,
    strip_readings,
)

CORPUS = load_corpus()


def test_sentences_hold_no_damage_no_pinyin_and_no_nbsp() -> None:
    assert len(CORPUS.sentences) == 39  # the seed body sentences that no damage touched
    for sentence in CORPUS.sentences:
        assert not is_damaged(sentence)
        assert strip_readings(sentence) == sentence
        assert "\xa0" not in sentence


def test_ascii_punctuation_next_to_cjk_is_full_width_but_latin_and_numbers_keep_theirs() -> None:
    text = "".join(CORPUS.sentences)
    assert not re.search(r"[^\x00-\x7f][,:;!?()]|[,:;!?()][^\x00-\x7f]", text)
    for kept in ("1.5萬", "約20%", "DECIPHER-Omnia", "10+X", "CAR-T"):
        assert kept in text


def test_restore_fullwidth_leaves_latin_parentheses_alone() -> None:
    assert restore_fullwidth("a (b) c,d 產業,發展(試行)") == "a (b) c,d 產業，發展（試行）"


def test_split_keeps_closing_quote_with_its_sentence() -> None:
    assert split_sentences("“好。”他說。尾") == ["“好。”", "他說。", "尾"]


def test_seed_parts_are_exposed_clean() -> None:
    assert CORPUS.title == "江蘇TOP級未來產業觀察①|江蘇細胞和基因技術產業緣何成果頻頻？"
    assert len(CORPUS.subheadings) == 4 and CORPUS.subheadings[2].endswith("頻頻？")
    assert CORPUS.captions == ("南京江北新區生物醫藥谷", "世和基因腫瘤早篩學術成果發布")
    assert len(CORPUS.spam_keywords) == 5 and "交匯點新聞" in CORPUS.sources
    assert {"許愿", "柏麗娟"} <= set(CORPUS.reporters)
