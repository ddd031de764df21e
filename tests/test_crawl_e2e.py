"""End to end: `newsarchive crawl` in a subprocess against a replica portal, then the archive against the truth.
The Twisted reactor cannot restart in one process, so each crawl is its own process."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scraper.replica.testing import Replica, start_replica

ARTICLES = 40


@pytest.fixture(scope="module")
def replica() -> Iterator[Replica]:
    with start_replica(articles=ARTICLES, seed=7) as server:
        yield server


def test_crawl_finds_every_article_and_stays_polite(
    replica: Replica,
    tmp_path: Path,
    crawl: Callable[..., subprocess.CompletedProcess[str]],
    fake_clean: tuple[str, ...],
    read_jsonl: Callable[[Path], list[dict[str, Any]]],
    verify_cli: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    """Discovery and archiving, with a stand-in cleaner so only the crawl is under test."""
    out = tmp_path / "archive"
    result = crawl(replica.url, out, *fake_clean, "--crawl-id", "e2e-1")
    assert result.returncode == 0, result.stderr
    assert re.search(rf"^  archived +{ARTICLES}$", result.stdout, re.M), result.stdout
    served = [entry["path"] for entry in replica.log()]  # before this test asks /_truth/ itself
    assert not [p for p in served if p.startswith(("/_truth/", "/search/"))]
    assert served.count("/robots.txt") >= 1
    records = read_jsonl(out / "articles")
    truth_ids = {entry["id"] for entry in replica.index()}
    assert len(truth_ids) == ARTICLES
    assert sorted(r["id"] for r in records) == sorted(truth_ids)
    assert all(r["warc_file"] and r["crawl_id"] == "e2e-1" for r in records)
    assert (out / "manifests" / "e2e-1.json").is_file()

    # --refresh: fetch the archived articles again, so that the pipeline's dedupe is under test.
    again = crawl(replica.url, out, *fake_clean, "--crawl-id", "e2e-2", "--refresh")
    assert again.returncode == 0, again.stderr
    manifest = json.loads((out / "manifests" / "e2e-2.json").read_text(encoding="utf-8"))
    assert manifest["summary"]["unchanged"] == ARTICLES
    assert manifest["summary"]["archived"] == 0

    verified = verify_cli(out)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_crawl_matches_the_truth(
    replica: Replica,
    tmp_path: Path,
    crawl: Callable[..., subprocess.CompletedProcess[str]],
    read_jsonl: Callable[[Path], list[dict[str, Any]]],
) -> None:
    """The whole pipeline with the real cleaner: ids, titles, publication times and sections."""
    out = tmp_path / "archive"
    result = crawl(replica.url, out)
    assert result.returncode == 0, result.stdout + result.stderr
    records = {r["id"]: r for r in read_jsonl(out / "articles")}
    quarantined = read_jsonl(out / "quarantine")
    assert quarantined == [], [q["reason"] + ": " + str(q["detail"]) for q in quarantined]
    assert set(records) == {entry["id"] for entry in replica.index()}
    marked = 0
    for article_id, record in records.items():
        truth = replica.truth(article_id)
        assert record["published_at"] == truth["published_at"], article_id
        assert record["section"] == truth["section"], article_id
        if "\ufffd" in record["title"]:  # an unrecoverable spot, marked rather than guessed
            marked += 1
        else:
            assert record["title"] == truth["title"], article_id
    assert marked <= ARTICLES // 10
