"""Spam removal: the keyword header in every shape, hidden link farms, redirects; real titles stay."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from scraper.cleaner.extract import extract_html
from scraper.cleaner.spam import is_spam_line, remove_injected, strip_title_spam

KEYWORDS = ["中文字幕欧美日韩va免费视频", "亚洲aⅴ在线无码播放毛片一线天", "亚洲无码一区二区三区"]


@pytest.mark.parametrize(
    "line",
    [
        ",".join(KEYWORDS),
        "，".join(KEYWORDS),
        "丨".join(KEYWORDS),
        ",".join(KEYWORDS) + " ?",
        "|".join(KEYWORDS),
    ],
)
def test_keyword_header_is_spam_in_every_shape(line: str) -> None:
    assert is_spam_line(line)


def test_a_lone_question_mark_at_the_top_is_spam_but_not_elsewhere() -> None:
    assert is_spam_line("?", at_top=True) and is_spam_line("？", at_top=True)
    assert not is_spam_line("?")


@pytest.mark.parametrize(
    "title",
    [
        "江蘇TOP級未來產業觀察①|江蘇細胞和基因技術產業緣何成果頻頻？",
        "高清視頻技術助力醫療診斷",  # holds a keyword-like word, but is one headline
        "國產大飛機、精品旅游、自拍設備：三個產業的新機會",  # a list, but of real sentences' clauses with `：`
    ],
)
def test_real_titles_with_keyword_like_words_are_kept(title: str) -> None:
    assert not is_spam_line(title)
    assert strip_title_spam(title) == title


def test_title_tag_loses_its_keyword_prefix() -> None:
    assert strip_title_spam(",".join(KEYWORDS) + "_江蘇細胞產業") == "江蘇細胞產業"


def test_hidden_link_farms_and_redirect_scripts_are_removed_and_counted() -> None:
    soup = BeautifulSoup(
        '<html><head><script>if(/baidu/.test(document.referrer)){location.href="http://x.example/";}</script>'
        "<script>var analytics = 1;</script></head><body>"
        '<div style="display: none"><a href="http://spam.example/">亚洲无码</a></div>'
        '<div hidden><a href="http://spam2.example/">视频</a></div><p>正文</p></body></html>',
        "lxml",
    )
    removed = remove_injected(soup)  # one redirect script, two link farms; the plain script is not spam
    assert len(removed) == 3 and "亚洲无码" in removed[1] and "location.href" in removed[0]
    assert soup.find("a") is None and soup.find("script") is None
    assert soup.get_text() == "正文"


def test_body_spam_header_never_reaches_the_text_of_a_page_in_another_layout() -> None:
    html = (
        f"<html><body><div>{'丨'.join(KEYWORDS)} ?</div><div class='x'><h2>標題</h2>"
        "<span>第一行。</span><br><span>第二行。</span></div></body></html>"
    )
    found = extract_html(html)
    assert found.layout == "generic"
    assert [b.text for b in found.blocks] == ["標題", "第一行。", "第二行。"]
    assert found.spam == ["丨".join(KEYWORDS) + " ?"]
