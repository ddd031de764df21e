"""A crawl cleans in worker processes: a page over its time budget or one that kills its worker is quarantined
with its raw capture kept, and every other page of the crawl is archived."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scraper.replica.testing import Replica

POOL = ("-s", "CLEAN_FUNCTION=crawling.slow_or_crashing", "-s", "CLEAN_POOL_SIZE=2", "-s", "CLEAN_TIME_BUDGET=3")


def quarantine_lines(out: Path, read_jsonl: Callable[[Path], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return read_jsonl(out / "quarantine")


@pytest.mark.parametrize(
    ("variable", "reason"), [("NEWSARCHIVE_TEST_SLOW", "clean_timeout"), ("NEWSARCHIVE_TEST_CRASH", "clean_crash")]
)
def test_a_page_the_cleaner_cannot_finish_is_quarantined_and_the_rest_archived(
    replica: Replica,
    tmp_path: Path,
    crawl: Callable[..., subprocess.CompletedProcess[str]],
    read_jsonl: Callable[[Path], list[dict[str, Any]]],
    verify_cli: Callable[..., subprocess.CompletedProcess[str]],
    variable: str,
    reason: str,
) -> None:
    articles = {entry["id"] for entry in replica.index()}
    stuck = sorted(articles)[3]
    out = tmp_path / "archive"
    result = crawl(replica.url, out, *POOL, "--crawl-id", "pool-1", env={variable: stuck})
    assert result.returncode == 0, result.stdout + result.stderr
    archived = {record["id"] for record in read_jsonl(out / "articles")}
    assert archived == articles - {stuck}
    (entry,) = [line for line in quarantine_lines(out, read_jsonl) if line["outcome"] == "quarantined"]
    assert (entry["id"], entry["reason"]) == (stuck, reason)
    assert entry["warc_file"] and entry["warc_offset"] is not None  # the raw page is kept
    manifest = json.loads((out / "manifests" / "pool-1.json").read_text(encoding="utf-8"))
    assert manifest["summary"]["quarantined"] == 1 and manifest["summary"]["archived"] == len(articles) - 1
    assert manifest["summary"]["quarantined_by_reason"] == {reason: 1}
    verified = verify_cli(out)
    assert verified.returncode == 0, verified.stdout + verified.stderr
