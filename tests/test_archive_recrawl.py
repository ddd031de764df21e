"""Crawling the replica again into the same archive: unchanged articles cost a revisit, changed ones a new version.
Real crawls (`newsarchive crawl` subprocesses, real cleaner) against loopback replicas; the WARC is checked with warcio."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.reader import iter_records
from archive.verify import verify_archive
from archive.warc import cdxj_lookup, read_response_body
from scraper.replica.testing import Replica, start_replica

REPO = Path(__file__).resolve().parents[1]
ARTICLES = 40
SEED = 7
CHANGED = 10
CRAWL_TIMEOUT = 300  # seconds; a 40-article loopback crawl takes about five


def crawl(url: str, out: Path, crawl_id: str, *extra: str) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    command = [
        sys.executable,
        "-m",
        "scraper",
        "crawl",
        "--start-url",
        url,
        "--out",
        str(out),
        "--crawl-id",
        crawl_id,
        "--loglevel",
        "WARNING",
        *extra,
    ]
    done = subprocess.run(command, cwd=out.parent, env=env, capture_output=True, text=True, timeout=CRAWL_TIMEOUT)
    assert done.returncode == 0, done.stdout + done.stderr


def warcio_check(warcs: list[Path]) -> None:
    command = Path(sys.executable).with_name("warcio")
    found = str(command) if command.exists() else shutil.which("warcio")
    assert found, "the warcio console script is missing; install warcio into the venv"
    check = subprocess.run([found, "check", "-v", *map(str, warcs)], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest pass" in check.stdout


def manifest(root: Path, crawl_id: str) -> dict[str, Any]:
    return json.loads((root / "manifests" / f"{crawl_id}.json").read_text(encoding="utf-8"))


def warc_records(root: Path, crawl_id: str) -> list[tuple[str, str]]:
    """(WARC-Type, target URI) of every record the crawl wrote, in file order."""
    found = []
    for path in sorted((root / "warc").glob(f"{crawl_id}-*.warc.gz")):
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                found.append((record.rec_type, record.rec_headers.get_header("WARC-Target-URI") or ""))
    return found


@pytest.fixture(scope="module")
def replica() -> Iterator[Replica]:
    with start_replica(articles=ARTICLES, seed=SEED) as server:
        yield server


@pytest.fixture(scope="module")
def first_crawl(replica: Replica, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive holding one finished crawl ("first") of the unchanged replica; tests copy it before changing it."""
    root = tmp_path_factory.mktemp("recrawl") / "archive"
    crawl(replica.url, root, "first")
    return root


def copy_of(archive: Path, tmp_path: Path) -> Path:
    target = tmp_path / "archive"
    shutil.copytree(archive, target)
    return target


def test_every_response_of_a_real_crawl_is_in_a_warc_that_passes_warcio_check(
    first_crawl: Path, replica: Replica
) -> None:
    warcio_check(sorted((first_crawl / "warc").glob("*.warc.gz")))
    responses = Counter(uri for kind, uri in warc_records(first_crawl, "first") if kind == "response")
    requests = Counter(uri for kind, uri in warc_records(first_crawl, "first") if kind == "request")
    assert responses == requests
    # robots.txt twice: once by RobotsTxtMiddleware, once by the spider looking for sitemaps.
    assert responses[replica.url + "robots.txt"] == 2
    assert responses[replica.url + "sitemap.xml"] == 1 and responses[replica.url] == 1
    for entry in replica.index():
        assert responses[entry["url"]] == 1, entry["url"]
    assert manifest(first_crawl, "first")["summary"]["warc_responses"] == sum(responses.values())


def test_cdxj_lookup_of_an_article_returns_the_response_its_record_points_to(first_crawl: Path) -> None:
    record = next(iter_records(first_crawl))
    (entry,) = cdxj_lookup(first_crawl / "warc", record["url"])
    assert entry["record_id"] == record["warc_record_id"]
    assert (entry["filename"], entry["offset"]) == (record["warc_file"], record["warc_offset"])
    body = read_response_body(first_crawl / "warc" / entry["filename"], entry["offset"])
    assert hashlib.sha256(body).hexdigest() == record["content_sha256"]


def test_first_crawl_summary_adds_up_and_verifies(first_crawl: Path) -> None:
    summary = manifest(first_crawl, "first")["summary"]
    assert summary["archived"] == ARTICLES
    assert summary["unchanged"] == summary["new_version"] == summary["quarantined"] == summary["skipped"] == 0
    assert summary["items"] == ARTICLES
    report = verify_archive(first_crawl)
    assert report.problems == [], [p.format() for p in report.problems]


def test_second_incremental_crawl_counts_every_article_unchanged_and_writes_none(
    first_crawl: Path, replica: Replica, tmp_path: Path
) -> None:
    root = copy_of(first_crawl, tmp_path)
    crawl(replica.url, root, "second")
    summary = manifest(root, "second")["summary"]
    assert summary["unchanged"] == summary["known_not_fetched"] == summary["items"] == ARTICLES
    assert summary["archived"] == summary["new_version"] == summary["quarantined"] == 0
    assert not list((root / "articles").glob("second-*"))
    assert summary["warc_revisits"] == 0  # nothing fetched, nothing to revisit
    report = verify_archive(root)
    assert report.problems == [], [p.format() for p in report.problems]


def test_refreshed_crawl_of_an_unchanged_replica_writes_no_article_record_and_revisits(
    first_crawl: Path, replica: Replica, tmp_path: Path
) -> None:
    root = copy_of(first_crawl, tmp_path)
    crawl(replica.url, root, "second", "--refresh")
    summary = manifest(root, "second")["summary"]
    assert summary["unchanged"] == ARTICLES and summary["items"] == ARTICLES
    assert summary["archived"] == summary["new_version"] == summary["quarantined"] == 0
    assert not list((root / "articles").glob("second-*"))
    records = warc_records(root, "second")
    revisited = {uri for kind, uri in records if kind == "revisit"}
    assert revisited == {entry["url"] for entry in replica.index()}
    assert not {uri for kind, uri in records if kind == "response"} & revisited
    assert summary["warc_revisits"] == ARTICLES
    warcio_check(sorted((root / "warc").glob("second-*.warc.gz")))
    report = verify_archive(root)
    assert report.problems == [], [p.format() for p in report.problems]


def test_ten_changed_articles_give_ten_second_versions_and_overwrite_nothing(first_crawl: Path, tmp_path: Path) -> None:
    root = copy_of(first_crawl, tmp_path)
    before = {path.name: path.read_bytes() for path in (root / "articles").iterdir() if not path.name.startswith(".")}
    with start_replica(articles=ARTICLES, seed=SEED, changed=CHANGED) as changed:
        crawl(changed.url, root, "changed")
    summary = manifest(root, "changed")["summary"]
    assert summary["new_version"] == CHANGED
    assert summary["unchanged"] == ARTICLES - CHANGED and summary["archived"] == 0
    for name, data in before.items():
        assert (root / "articles" / name).read_bytes() == data, f"{name} was rewritten"
    new = list(iter_records(root))[ARTICLES:]
    assert len(new) == CHANGED and {r["version"] for r in new} == {2} and {r["crawl_id"] for r in new} == {"changed"}
    latest = {r["id"]: r for r in iter_records(root, latest_only=True)}
    assert len(latest) == ARTICLES
    assert sum(1 for r in latest.values() if r["version"] == 2) == CHANGED
    report = verify_archive(root)
    assert report.problems == [], [p.format() for p in report.problems]
