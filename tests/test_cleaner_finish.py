"""Every repair is placed where it stands in the finished text: offsets and lengths a reader can trust."""

from __future__ import annotations

from pathlib import Path

import pytest

from scraper.cleaner import clean_page, clean_text
from scraper.cleaner.anchors import resolve, resolve_stripped, wrap
from scraper.cleaner.article import Article
from scraper.cleaner.punctuation import FULLWIDTH
from scraper.cleaner.sites import READING
from scraper.replica.site import Portal

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "000_85f4a512d569b909.txt"
if not SEED.exists():
    SEED = Path(__file__).resolve().parents[1] / "scraper" / "replica" / "data" / "seed.txt"


def check_repairs(article: Article) -> None:
    text = article.text
    repairs = article.cleaning.repairs
    placed = [r for r in repairs if r.kind != "spam"]
    assert placed == sorted(placed, key=lambda r: (r.offset, r.length))
    for repair in repairs:
        assert repair.offset >= 0 and repair.offset + repair.length <= len(text), repair
        restored = text[repair.offset : repair.offset + repair.length]
        if repair.kind == "reading":
            assert repair.length == 0 and READING.fullmatch(repair.original), repair
        elif repair.kind == "punctuation":
            assert FULLWIDTH[repair.original] == restored, repair
        elif repair.kind == "unrecoverable":
            assert "\ufffd" in restored, repair
        elif repair.kind == "spam":
            assert (repair.offset, repair.length) == (0, 0) and repair.original not in text
        else:
            assert repair.kind in ("bytes", "markup"), repair
    marked = {spot.offset for spot in article.cleaning.unrecoverable}
    assert marked == {i for i, ch in enumerate(text) if ch == "\ufffd"}
    covered = {r.offset + k for r in repairs if r.kind == "unrecoverable" for k in range(r.length)}
    assert marked <= covered


def test_the_seed_repairs_stand_where_the_text_says() -> None:
    article = clean_text(SEED.read_text(encoding="utf-8"))
    check_repairs(article)
    kinds = {r.kind for r in article.cleaning.repairs}
    assert kinds == {"reading", "bytes", "punctuation", "unrecoverable", "spam", "markup"}
    assert sum(r.kind == "reading" for r in article.cleaning.repairs) <= article.cleaning.pinyin_removed


@pytest.mark.parametrize("seed", [1, 2])
def test_replica_page_repairs_stand_where_the_text_says(seed: int) -> None:
    portal = Portal(seed=seed, articles=12)
    for article in portal.articles:
        _, headers, body = portal.page(article.path)
        check_repairs(clean_page(body, portal.truth(article.id)["url"], dict(headers)))


def test_an_anchor_split_by_markup_spans_to_the_edge_of_its_block() -> None:
    first = resolve("甲" + wrap(0, "乙丙")[:-1])  # its close went to the next block
    assert (first.text, [(s.start, s.end) for s in first.spans]) == ("甲乙丙", [(1, 3)])


def test_a_repair_in_the_trimmed_whitespace_keeps_its_place_at_the_edge_of_the_block() -> None:
    # Plain text "  甲乙丙   ": repair 0 holds a leading space, 1 `丙 ` runs into the trailing spaces, 2 is one of them.
    block = resolve_stripped(" " + wrap(0, " ") + "甲乙" + wrap(1, "丙 ") + wrap(2, " ") + " ")
    assert block.text == "甲乙丙"
    assert [(s.start, s.end, s.index) for s in block.spans] == [(0, 0, 0), (2, 3, 1), (3, 3, 2)]
