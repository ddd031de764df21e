"""Data-driven restoration cases from tests/data/cleaner/examples.json (ftfy's model).

`expect: fail` rows are known failures: they must keep failing until fixed (strict xfail).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scraper.cleaner import restore_fragment

CASES = json.loads((Path(__file__).parent / "data" / "cleaner" / "examples.json").read_text("utf-8"))


def _params() -> list:
    params = []
    for case in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=case["reason"])] if case["expect"] == "fail" else []
        params.append(pytest.param(case, id=case["name"], marks=marks))
    return params


@pytest.mark.parametrize("case", _params())
def test_example_is_restored_as_expected(case: dict) -> None:
    data = bytes.fromhex(case["input_gbk_hex"]) if "input_gbk_hex" in case else case["input"]
    restored, _ = restore_fragment(data)
    assert restored == case["expected"]
