"""The real page (PORTAL.md's seed) restored as the finished record must hold it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "000_85f4a512d569b909.txt"
if not SEED.exists():  # CI clones the repo with shared/ beside it; a copy ships as replica data
    SEED = Path(__file__).resolve().parents[1] / "scraper" / "replica" / "data" / "seed.txt"
SEED_URL = "http://www.zhaoenyun.cn/news/yw/202508/t20250826_254967.html"
SPAM_WORDS = ("字幕", "无码", "亚洲", "自拍", "人妻", "视频", "毛片")
READING = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]{1,7}\)")
PORTAL_TABLE_ROWS = [
    "治療。”李翔將目光集中在帕金森病與漸凍癥",
    "認可。”蘇州",
    "創新。“我在硅谷感受過的創業",
    "規模化增長階段",
    "領域專利數均居",
    "我們為被投企業定制",
    "潛力。”\ufffd0年后",
    "融資渠道有限。”",
    "創新迭代的速度。”",
]


@pytest.fixture(scope="module")
def record() -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "scraper", "clean", str(SEED), "--url", SEED_URL, "--format", "json"],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def test_seed_header_fields_are_extracted(record: dict) -> None:
    # PORTAL.md gives the title with ASCII `?`; issue 3 restores `？` inside Chinese text.
    assert record["title"] == "江蘇TOP級未來產業觀察①|江蘇細胞和基因技術產業緣何成果頻頻？"
    assert record["title_hans"] == "江苏TOP级未来产业观察①|江苏细胞和基因技术产业缘何成果频频？"
    assert record["id"] == "254967"
    assert record["source"] == "交匯點新聞"
    assert record["published_at"] == "2025-08-26T08:21:00+08:00"
    assert record["section"] == "要聞"
    assert record["breadcrumb"] == ["首頁", "新聞中心", "要聞"]
    assert record["reporters"] == ["許愿", "柏麗娟"]


def test_seed_body_has_30_paragraphs_4_subheadings_2_captions(record: dict) -> None:
    assert len(record["paragraphs"]) == 30
    assert record["subheadings"] == [
        "從“跟隨”到“領航”，眾多企業嶄露頭角",
        "從點狀創新到集群成勢，產業生態蔚然成形",
        "江蘇細胞和基因技術產業緣何能成果頻頻？",
        "從突破瓶頸到布局未來，發展根基不斷夯實",
    ]
    assert [image["caption"] for image in record["images"]] == [
        "南京江北新區生物醫藥谷",
        "世和基因腫瘤早篩學術成果發布",
    ]
    assert all(image["url"] is None for image in record["images"])


@pytest.mark.parametrize("restored", PORTAL_TABLE_ROWS)
def test_seed_restores_each_row_of_the_portal_table(record: dict, restored: str) -> None:
    assert restored in record["text"]


def test_seed_text_holds_no_spam_pinyin_private_use_or_leaked_markup(record: dict) -> None:
    text = record["title"] + "\n" + record["text"]
    assert not any(word in text for word in SPAM_WORDS)
    assert READING.search(text) is None
    assert not any("\ue000" <= ch <= "\uf8ff" for ch in text)
    assert "/p>" not in text and "<" not in text


def test_seed_marks_and_counts_its_two_unrecoverable_spots(record: dict) -> None:
    spots = record["cleaning"]["unrecoverable"]
    assert len(spots) == 2 == record["text"].count("\ufffd")
    assert [record["text"][spot["offset"]] for spot in spots] == ["\ufffd", "\ufffd"]
    assert "細胞治療\ufffd，提升臨床研究轉化能力" in record["text"]


def test_seed_report_counts_every_step(record: dict) -> None:
    cleaning = record["cleaning"]
    steps = ("pinyin_removed", "spam_blocks", "mojibake_runs", "punctuation_restored")
    # 294 readings: 291 with their `(`, three more whose `(` was swallowed by the damage.
    assert {step: cleaning[step] for step in steps} == {
        "pinyin_removed": 294,
        "spam_blocks": 1,
        "mojibake_runs": 16,
        "punctuation_restored": 121,
    }
    assert record["text_hans"].startswith("编者按 去年8月，2024未来产业创新发展交流大会在南京举行。")
