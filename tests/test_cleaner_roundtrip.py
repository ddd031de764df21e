"""Damage then clean gives the clean text back: exactly from raw bytes, and from
server-decoded text except at marked spots and recorded model choices."""

from __future__ import annotations

import os
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypinyin import Style, pinyin

from scraper.cleaner import clean_page, restore_fragment
from scraper.cleaner.metrics import char_error_rate, errors_outside_markers
from scraper.replica.corpus import load_corpus
from scraper.replica.damage import SEED_READINGS, damage_bytes, reading_table, server_decode
from scraper.replica.site import Portal

PARENTHETICALS = ("（2024）", "（iPS）", "（FDA）", "（試行）")
RAW_VARIANTS = {"gb2312", "gbk-meta-only", "header-meta-disagree", "no-charset"}
EXAMPLES = int(os.environ.get("ROUNDTRIP_EXAMPLES", "150"))  # raise for a long run
FIELDS = ("title", "published_at", "source", "section", "breadcrumb", "reporters", "subheadings")


@cache
def dense_readings(style: Style) -> dict[str, str]:
    """A reading for every Han character of the corpus: the densest annotation a site could use."""
    chars = {ch for sentence in load_corpus().sentences for ch in sentence if "\u4e00" <= ch <= "\u9fff"}
    return {ch: pinyin(ch, style=style)[0][0] for ch in sorted(chars)}


TABLES = {
    "seed": reading_table(SEED_READINGS),
    "dense-toned": reading_table(dense_readings(Style.TONE)),
    "dense-toneless": reading_table(dense_readings(Style.NORMAL)),
}


@st.composite
def clean_texts(draw: st.DrawFn) -> str:
    sentences = draw(st.lists(st.sampled_from(load_corpus().sentences), min_size=1, max_size=5))
    text = "".join(sentences)
    if draw(st.booleans()):
        cut = draw(st.integers(min_value=1, max_value=len(text) - 1))
        if "\u4e00" <= text[cut - 1] <= "\u9fff":
            text = text[:cut] + draw(st.sampled_from(PARENTHETICALS)) + text[cut:]
    return text


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=clean_texts(), table=st.sampled_from(sorted(TABLES)))
def test_raw_bytes_round_trip_exactly_at_any_reading_density(text: str, table: str) -> None:
    damaged = damage_bytes(text.encode("gbk"), TABLES[table])
    restored, _ = restore_fragment(damaged)
    assert restored == text


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=clean_texts())
def test_decoded_text_differs_only_at_markers_and_recorded_choices(text: str) -> None:
    damaged = server_decode(damage_bytes(text.encode("gbk"), TABLES["seed"]))
    restored, repaired = restore_fragment(damaged)
    decisions = len(repaired.report.model_choices) + restored.count("\ufffd")
    # Every error sits at a recorded choice or a marked spot; one may sway the punctuation
    # decided beside it (`停（` read as `。）`, a `)` whose `(` was lost), hence twice.
    assert errors_outside_markers(text, restored) <= 2 * decisions


@pytest.fixture(scope="module")
def portal() -> Portal:
    return Portal(seed=3, articles=60)


def test_replica_pages_in_raw_charsets_restore_exactly(portal: Portal) -> None:
    checked = 0
    for article in portal.articles:
        truth = portal.truth(article.id)
        if truth["charset_variant"] not in RAW_VARIANTS:
            continue
        _, headers, body = portal.page(article.path)
        cleaned = clean_page(body, truth["url"], dict(headers))
        assert {f: getattr(cleaned, f) for f in FIELDS} == {f: truth[f] for f in FIELDS}
        assert cleaned.paragraphs == truth["paragraphs"]
        assert cleaned.text == truth["text"]
        assert [(i.url, i.caption) for i in cleaned.images] == [(i["url"], i["caption"]) for i in truth["images"]]
        checked += 1
    assert checked >= 30


def test_replica_pages_decoded_on_the_server_keep_fields_and_low_error_rate(portal: Portal) -> None:
    rates = []
    for article in portal.articles:
        truth = portal.truth(article.id)
        if truth["charset_variant"] in RAW_VARIANTS:
            continue
        _, headers, body = portal.page(article.path)
        cleaned = clean_page(body, truth["url"], dict(headers))
        assert cleaned.published_at == truth["published_at"]
        assert cleaned.breadcrumb == truth["breadcrumb"]
        assert len(cleaned.paragraphs) == len(truth["paragraphs"])
        assert len(cleaned.cleaning.unrecoverable) == cleaned.text.count("\ufffd")
        rates.append(char_error_rate(truth["text"], cleaned.text))
    assert rates and max(rates) < 0.01
