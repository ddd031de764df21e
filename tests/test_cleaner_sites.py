"""Damage sites in every form annotators use, found and repaired locally; everything else left as it was."""

from __future__ import annotations

import pytest

from scraper.cleaner import restore_fragment
from scraper.cleaner.anchors import strip_anchors
from scraper.cleaner.repair import repair_gbk_bytes, repair_text
from scraper.cleaner.sites import WindowPlanner, scan

TONED = set("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ")


@pytest.mark.parametrize(
    ("damaged", "restored"),
    [
        ("社會(huì )公平", "社會公平"),  # a space before `)`
        ("社會( huì)公平", "社會公平"),  # a space after `(`
        ("基礎（chǔ）教育", "基礎教育"),  # full-width parentheses
        ("產(chan)業(ye)發展", "產業發展"),  # toneless
        ("領(lǐng)域", "領域"),
    ],
)
def test_readings_in_every_form_are_removed(damaged: str, restored: str) -> None:
    assert restore_fragment(damaged)[0] == restored


def test_a_reading_after_an_ascii_byte_names_the_character_that_byte_ends() -> None:
    # 礎 is B5 41: the server lost B5 and the `A` left is its trail, named by the reading.
    text, repaired = restore_fragment("重要基礎(chǔ)?;A(chǔ)教育")
    assert "礎教育" in text and "A" not in text
    assert not TONED & set(text)
    assert repaired.report.pinyin_removed == 2


@pytest.mark.parametrize("damaged", ["有一支?duì)伍驍勇善戰", "當地政府迅速員?dòng)應急預案"])
def test_a_reading_inside_a_server_decoded_run_keeps_no_letters(damaged: str) -> None:
    text, repaired = restore_fragment(damaged)
    assert not TONED & set(text) and "duì" not in text and "dòng" not in text
    assert repaired.report.pinyin_removed == 1


def test_a_lost_character_known_by_its_reading_is_a_recorded_model_choice() -> None:
    text, repaired = restore_fragment("有一支?duì)伍")
    assert text[3] in {"隊", "队", "對", "对"}
    choice = repaired.report.model_choices[0]
    assert choice["chosen"] == text[3] and choice["alternatives"]


def test_real_parentheses_and_glosses_stay() -> None:
    for kept in ("在2024年(試行)啟動", "美國(FDA)批准", "干細胞(iPS)技術", "「長」(cháng)字"):
        assert strip_anchors(repair_text(kept).text) == kept


def test_text_outside_the_damage_passes_through_untouched() -> None:
    clean = "<p>江蘇細胞和基因技術產業緣何成果頻頻</p>" * 20
    damaged = clean + "<p>規(guī)?;\ue209鲩L階段</p>" + clean
    repaired = strip_anchors(repair_text(damaged).text)
    assert repaired == clean + "<p>規模化增長階段</p>" + clean


def test_windows_cover_only_the_damage() -> None:
    clean = "江蘇細胞和基因技術產業緣何成果頻頻，" * 50
    text = clean + "規(guī)?;\ue209鲩L階段。" + clean
    found = scan(text, server_decoded=True)
    windows = WindowPlanner(text, found, server_decoded=True).windows()
    assert len(windows) == 1
    start, end = windows[0]
    assert start >= len(clean) and end - start < 20


def test_raw_bytes_repair_the_portal_table_rows_with_every_byte_known() -> None:
    # PORTAL.md: `治療。”李` is D6CE AF9F A1A3 A1B1 C0EE; the portal swapped A3 A1 for `!`.
    assert strip_anchors(repair_gbk_bytes(bytes.fromhex("d6ceaf9fa121b1c0ee")).text) == "治療。”李"


def test_each_change_is_logged_with_what_the_page_showed() -> None:
    repaired = repair_text("產(chǎn)業,規(guī)?;\ue209鲩L階段")
    kinds = [(entry.kind, entry.original) for entry in repaired.report.entries]
    assert kinds == [("reading", "(chǎn)"), ("reading", "(guī)"), ("bytes", "?;\ue209鲩L")]
