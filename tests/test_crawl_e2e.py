"""End to end: `newsarchive crawl` in a subprocess against a replica portal, then the archive against the truth.
The Twisted reactor cannot restart in one process, so each crawl is its own process."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scraper.replica.testing import Replica, start_replica

REPO = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
ARTICLES = 40
CRAWL_TIMEOUT = 300  # seconds; a 40-article loopback crawl takes a few


@pytest.fixture(scope="module")
def replica() -> Iterator[Replica]:
    with start_replica(articles=ARTICLES, seed=7) as server:
        yield server


def crawl(replica: Replica, out: Path, cwd: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run the crawl CLI from `cwd` (not the repo root) into `out`."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), str(REPO)]))
    command = [
        sys.executable,
        "-m",
        "scraper",
        "crawl",
        "--start-url",
        replica.url,
        "--out",
        str(out),
        "--loglevel",
        "WARNING",
        *extra,
    ]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=CRAWL_TIMEOUT)


def read_jsonl(directory: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            records += [json.loads(line) for line in handle]
    return records


def test_crawl_finds_every_article_and_stays_polite(replica: Replica, tmp_path: Path) -> None:
    """Discovery and archiving, with a stand-in cleaner so only the crawl is under test."""
    out = tmp_path / "archive"
    fake = ("-s", "CLEAN_FUNCTION=test_pipelines.fake_clean")
    result = crawl(replica, out, tmp_path, *fake, "--crawl-id", "e2e-1")
    assert result.returncode == 0, result.stderr
    assert "archived" in result.stdout
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
    again = crawl(replica, out, tmp_path, *fake, "--crawl-id", "e2e-2", "--refresh")
    assert again.returncode == 0, again.stderr
    manifest = json.loads((out / "manifests" / "e2e-2.json").read_text(encoding="utf-8"))
    assert manifest["summary"]["unchanged"] == ARTICLES
    assert manifest["summary"]["archived"] == 0

    verify = subprocess.run(
        [sys.executable, "-m", "scraper", "verify", str(out)], capture_output=True, text=True, timeout=120
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


@pytest.mark.skipif(
    not (REPO / "scraper" / "cleaner" / "__init__.py").exists(),
    reason="the cleaner (scraper.cleaner.clean_page) has not landed yet",
)
def test_crawl_matches_the_truth(replica: Replica, tmp_path: Path) -> None:
    """The whole pipeline with the real cleaner: ids, titles, publication times and sections."""
    out = tmp_path / "archive"
    result = crawl(replica, out, tmp_path)
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
