"""Charset decisions: BOM, header, meta and the bytes themselves, in that order; every replica variant."""

from __future__ import annotations

import codecs

import pytest

from scraper.cleaner.decoding import decode_body
from scraper.replica.site import Portal

GBK_PAGE = '<html><head><meta charset="gb2312"></head><body><p>治療。</p></body></html>'.encode("gbk")
UTF8_PAGE = '<html><head><meta charset="utf-8"></head><body><p>治療。</p></body></html>'.encode()


def test_gbk_pages_stay_bytes_for_the_repair() -> None:
    decoded = decode_body(GBK_PAGE, {"Content-Type": "text/html; charset=gb2312"})
    assert decoded.charset == "gbk" and decoded.gbk_bytes == GBK_PAGE and decoded.text is None


def test_a_utf8_header_contradicted_by_the_bytes_gives_way_to_the_meta() -> None:
    decoded = decode_body(GBK_PAGE, {"Content-Type": "text/html; charset=utf-8"})
    assert (decoded.charset, decoded.source) == ("gbk", "meta")


def test_the_bom_wins_over_a_wrong_header() -> None:
    decoded = decode_body(codecs.BOM_UTF8 + UTF8_PAGE, {"Content-Type": "text/html; charset=gb2312"})
    assert (decoded.charset, decoded.source) == ("utf-8", "bom")
    assert decoded.text is not None and decoded.text.startswith("<html>")


@pytest.mark.parametrize(
    ("body", "charset"),
    [(UTF8_PAGE.replace(b' charset="utf-8"', b""), "utf-8"), (GBK_PAGE.replace(b' charset="gb2312"', b""), "gbk")],
)
def test_without_any_declaration_the_bytes_decide(body: bytes, charset: str) -> None:
    decoded = decode_body(body, {})
    assert (decoded.charset, decoded.source) == (charset, "detected")


def test_every_replica_charset_variant_is_read_in_its_real_charset() -> None:
    portal = Portal(seed=5, articles=24)
    seen = {}
    for article in portal.articles:
        _, headers, body = portal.page(article.path)
        variant = portal.truth(article.id)["charset_variant"]
        decoded = decode_body(body, dict(headers))
        seen[variant] = decoded.charset
    assert seen == {
        "gb2312": "gbk",
        "gbk-meta-only": "gbk",
        "header-meta-disagree": "gbk",
        "no-charset": "gbk",
        "utf8-decoded": "utf-8",
        "utf8-bom-decoded": "utf-8",
    }
