"""The damage model reproduces every example of PORTAL.md's damage table, and the replica's pages carry it."""

from __future__ import annotations

import pytest

from scraper.replica.damage import SEED_READINGS, damage_bytes, reading_table, server_decode
from scraper.replica.site import Portal
from scraper.replica.variants import damage_page

TABLE = reading_table(SEED_READINGS)

# (what the page reads as, what the seed page shows), from PORTAL.md.
PORTAL_TABLE = [
    ("治療。”李翔將目光集中在帕金森病與漸凍癥", "治療?!崩钕鑼⒛抗饧\ue20b性谂两鹕\ue12b∨c漸凍癥"),
    ("認可。”蘇州", "認可?!碧K州"),
    ("創新。“我在硅谷感受過的", "創(chuàng)新?!拔以诠韫雀惺苓^的"),
    ("規模化增長階段", "規(guī)?;\ue209鲩L階段"),
    ("領域專利數均", "領域?qū)@麛?shù)均"),
    ("我們為被投企業", "我們?yōu)楸煌镀髽I(yè)"),
    ("潛力。”10年后", "潛力?!?0年后"),
    ("有限。”</p>", "有限?!?/p>"),
    pytest.param(
        "細胞治療中心，提升",
        "細胞治療???,提升",
        marks=pytest.mark.xfail(
            strict=True,
            reason="the original of `細胞治療???,` is unknown (two or three characters lost): "
            "no clean string is known to damage into it, so this guess cannot match",
        ),
    ),
]


def seed_damage(clean: str) -> str:
    return server_decode(damage_bytes(clean.encode("gbk"), TABLE))


@pytest.mark.parametrize(("clean", "on_page"), PORTAL_TABLE)
def test_damage_model_reproduces_portal_table_row(clean: str, on_page: str) -> None:
    assert seed_damage(clean) == on_page


def test_markup_alone_is_never_damaged() -> None:
    html = '<p style="text-align: center"><a href="./202508/t20250826_254967.html">x</a></p>'
    assert damage_page(html) == html.encode("ascii")


def test_raw_gbk_page_carries_pinyin_readings_as_gbk_bytes() -> None:
    portal = Portal(seed=2, articles=30)
    article = next(a for a in portal.articles if a.charset_variant == "gb2312" and "產" in a.blocks[0].text)
    body = portal.page(article.path)[2]
    assert "產(chǎn)".encode("gbk") in body
    assert "，".encode("gbk") not in body  # full-width commas all became ASCII


def test_decoded_page_shows_question_marks_where_quotes_followed_a_full_stop() -> None:
    portal = Portal(seed=2, articles=60)
    article = next(
        a for a in portal.articles if a.charset_variant == "utf8-decoded" and any("。”" in b.text for b in a.blocks)
    )
    text = portal.page(article.path)[2].decode("utf-8")
    assert "?!" in text
    assert "。”" not in text
