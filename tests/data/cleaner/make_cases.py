"""Regenerate examples.json: clean strings damaged by the replica's model, with what they must become.

Run `python tests/data/cleaner/make_cases.py`; hand-written rows (the seed's) stay as listed here.
"""

from __future__ import annotations

import json
from pathlib import Path

from scraper.replica.damage import SEED_READINGS, damage_bytes, reading_table, server_decode

TABLE = reading_table(SEED_READINGS)
HERE = Path(__file__).resolve().parent

# (name, clean text, expected restoration or None for "the clean text", expect, reason)
DAMAGED = [
    ("full stop and closing quote", "治療。”李翔將目光集中在帕金森病與漸凍癥", None, "pass", ""),
    ("closing quote realigned by K", "認可。”蘇州工業園區", None, "pass", ""),
    ("opening quote", "創新。“我在硅谷感受過的創業", None, "pass", ""),
    ("semicolon pair inside a word", "規模化增長階段", None, "pass", ""),
    ("straddling reading and @ pair", "領域專利數均居全國前列", None, "pass", ""),
    ("straddling reading after 們", "我們為被投企業定制", None, "pass", ""),
    ("real parentheses stay", "大會（2024）在南京舉行，iPS細胞（FDA）認證", None, "pass", ""),
    ("numbers and Latin keep ASCII", "占全國12.8%、居全國第三；DECIPHER-Omnia萬例", None, "pass", ""),
    (
        "digit swallowed after a lost byte",
        "“讓我看到它的巨大潛力。”10年后",
        "“讓我看到它的巨大潛力。”\ufffd0年后",
        "pass",
        "",
    ),
    ("closing tag swallowed", "“企業融資渠道有限。”</p>", "“企業融資渠道有限。”", "pass", ""),
    (
        "word the model cannot see",
        "威斯康星大學麥迪遜分校博士后李翔",
        None,
        "fail",
        "server-decoded: 校 (D0 A3) lost its lead; the pair model prefers 。 (A1 A3) because 分校 is rare in jieba's word list",
    ),
    (
        "verb the model cannot see",
        "國家隊。記者了解到，我省",
        None,
        "fail",
        "server-decoded: the trail of 到 (B5 BD) was lost; 地 (B5 D8) is as likely to the unigram model and 解到 is not a dictionary pair",
    ),
]


def main() -> None:
    cases = []
    for name, clean, expected, expect, reason in DAMAGED:
        damaged = damage_bytes(clean.encode("gbk"), TABLE)
        raw_expected = clean  # raw bytes lose nothing: every case restores exactly
        cases.append(
            {
                "name": f"{name} (raw bytes)",
                "input_gbk_hex": damaged.hex(),
                "expected": raw_expected.replace("</p>", ""),
                "expect": "pass",
                "reason": "",
            }
        )
        cases.append(
            {
                "name": f"{name} (server-decoded)",
                "input": server_decode(damaged),
                "expected": expected or clean,
                "expect": expect,
                "reason": reason,
            }
        )
    cases += [
        {
            "name": "seed: run of lost bytes is one marker",
            "input": "資質的醫院建設細胞治療???,提升臨床研究轉(zhuǎn)化能力",
            "expected": "資質的醫院建設細胞治療\ufffd，提升臨床研究轉化能力",
            "expect": "pass",
            "reason": "",
        },
        {
            "name": "undamaged rare character whose trail byte is a letter (raw bytes)",
            "input_gbk_hex": "癌癥篩CanScan查".encode("gbk").hex(),
            "expected": "癌癥篩CanScan查",
            "expect": "pass",
            "reason": "",
        },
        {
            "name": "undamaged rare character whose trail byte is a letter (text)",
            "input": "癌癥篩CanScan查",
            "expected": "癌癥篩CanScan查",
            "expect": "pass",
            "reason": "",
        },
        {
            "name": "Latin question marks stay, doubled or not",
            "input": "what?? Really?! Yes?2",
            "expected": "what?? Really?! Yes?2",
            "expect": "pass",
            "reason": "",
        },
        {
            "name": "a lost lead that took the ( after it is marked",
            "input": "項目宮?2024)中",
            "expected": "項目宮\ufffd2024)中",
            "expect": "pass",
            "reason": "",
        },
        {
            "name": "toneless readings",
            "input": "產(chan)業(ye)發(fa)展",
            "expected": "產業發展",
            "expect": "pass",
            "reason": "",
        },
        {
            "name": "a reading that names another character stays",
            "input": "中(chǎn)國",
            "expected": "中（chǎn）國",
            "expect": "pass",
            "reason": "",
        },
        {
            "name": "Latin enumerations stay",
            "input": "see (a) and (b), then (FDA)",
            "expected": "see (a) and (b), then (FDA)",
            "expect": "pass",
            "reason": "",
        },
        {
            "name": "Latin question stays",
            "input": "世和鷹眼CanScan?,不僅",
            "expected": "世和鷹眼CanScan?，不僅",
            "expect": "pass",
            "reason": "",
        },
    ]
    (HERE / "examples.json").write_text(json.dumps(cases, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
