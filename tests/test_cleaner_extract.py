"""Extraction from HTML: the article's parts found in one walk, however deep the page nests."""

from __future__ import annotations

from scraper.cleaner import clean_page
from scraper.cleaner.extract import extract_html

DEPTH = 20_000


def nested_page(depth: int) -> bytes:
    body = '<div class="TRS_Editor"><p>第一段。</p><p>第二段。</p></div>'
    return (
        '<html><head><meta charset="utf-8"></head><body><div class="position">首頁 &gt; 要聞</div>'
        '<h1 class="title">標題</h1>' + "<div>" * depth + body + "</div>" * depth + "</body></html>"
    ).encode()


def test_a_page_nested_twenty_thousand_deep_is_cleaned() -> None:
    # Linear walks only: before, the breadcrumb search read the text of every div (quadratic).
    article = clean_page(nested_page(DEPTH), strict=False)
    assert article.title == "標題"
    assert article.paragraphs == ["第一段。", "第二段。"]
    assert article.breadcrumb == ["首頁", "要聞"]


def test_the_body_is_the_classed_div_with_most_paragraphs_even_when_nested() -> None:
    html = (
        '<body><div class="content"><div class="content"><p>甲。</p><p>乙。</p></div>'
        "<p>丙。</p></div><div class='text'><p>丁。</p></div></body>"
    )
    assert [b.text for b in extract_html(html).blocks] == ["甲。", "乙。", "丙。"]


def test_injected_junk_is_dropped_with_everything_inside_it() -> None:
    html = (
        "<body><div style='display:none'><div><a href='x'>亚洲无码</a></div></div>"
        "<script>location.href='http://spam.example/'</script>"
        "<div class='content'><p>正文一。</p><p>正文二。</p></div></body>"
    )
    found = extract_html(html)
    assert [b.text for b in found.blocks] == ["正文一。", "正文二。"]
    assert found.spam == ["亚洲无码", "location.href='http://spam.example/'"]
