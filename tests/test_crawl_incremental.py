"""Incremental crawls against the replica: known articles are not fetched again, date bounds and the article limit."""

from __future__ import annotations

import collections
import json
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scraper.replica.testing import Replica, start_replica
from scraper.spiders.incremental import FETCH, KNOWN, OUT_OF_RANGE, KnownArticles, Policy, parse_duration
from scraper.urls import article_date

ARTICLES = 40


@pytest.fixture(scope="module")
def replica() -> Iterator[Replica]:
    with start_replica(articles=ARTICLES, seed=11) as server:
        yield server


def test_second_crawl_fetches_only_list_pages_robots_and_sitemap(
    replica: Replica,
    tmp_path: Path,
    fake_clean: tuple[str, ...],
    crawl: Callable[..., subprocess.CompletedProcess[str]],
    request_kind: Callable[[str], str],
    article_paths: Callable[[list[dict[str, Any]]], list[str]],
) -> None:
    out = tmp_path / "archive-data"
    start = len(replica.log())
    first = crawl(replica.url, out, *fake_clean, "--crawl-id", "inc-1")
    assert first.returncode == 0, first.stderr
    before = len(replica.log())
    discovered = collections.Counter(request_kind(entry["path"]) for entry in replica.log()[start:before])

    second = crawl(replica.url, out, *fake_clean, "--crawl-id", "inc-2")
    assert second.returncode == 0, second.stderr
    served = replica.log()[before:]
    kinds = collections.Counter(
        request_kind(entry["path"]) for entry in served if request_kind(entry["path"]) != "test"
    )
    # The same discovery pages as the first crawl, and no article.
    assert kinds == {kind: discovered[kind] for kind in ("list", "robots", "sitemap")}, (kinds, discovered)
    assert discovered["article"] == ARTICLES
    manifest = json.loads((out / "manifests" / "inc-2.json").read_text(encoding="utf-8"))
    assert manifest["summary"]["archived"] == 0
    table = dict(line.rsplit(None, 1) for line in second.stdout.splitlines()[1:] if not line.strip().startswith("time"))
    assert int(table["  unchanged"]) == ARTICLES
    assert int(table["  archived"]) == 0

    refreshed = crawl(replica.url, out, *fake_clean, "--crawl-id", "inc-3", "--refresh")
    assert refreshed.returncode == 0, refreshed.stderr
    refetched = article_paths(replica.log()[before + len(served) :])
    assert len(set(refetched)) == ARTICLES
    manifest = json.loads((out / "manifests" / "inc-3.json").read_text(encoding="utf-8"))
    assert manifest["summary"]["unchanged"] == ARTICLES


def test_since_limits_the_articles_fetched(
    table_row: Callable[[str, str], tuple[int, dict[str, int]]],
    replica: Replica,
    tmp_path: Path,
    fake_clean: tuple[str, ...],
    crawl: Callable[..., subprocess.CompletedProcess[str]],
    article_paths: Callable[[list[dict[str, Any]]], list[str]],
) -> None:
    dates = sorted(article_date(entry["url"]) for entry in replica.index())
    since = dates[len(dates) // 2]
    expected = {entry["url"].split("/", 3)[3] for entry in replica.index() if article_date(entry["url"]) >= since}
    before = len(replica.log())
    result = crawl(replica.url, tmp_path / "archive-data", *fake_clean, "--since", since.isoformat())
    assert result.returncode == 0, result.stderr
    fetched = {path.lstrip("/") for path in article_paths(replica.log()[before:])}
    assert fetched == expected
    assert table_row(result.stdout, "  outside --since/--until") == (ARTICLES - len(expected), {})


def test_max_articles_fetches_the_newest(
    replica: Replica,
    tmp_path: Path,
    fake_clean: tuple[str, ...],
    crawl: Callable[..., subprocess.CompletedProcess[str]],
    article_paths: Callable[[list[dict[str, Any]]], list[str]],
) -> None:
    newest = sorted(replica.index(), key=lambda entry: (article_date(entry["url"]), entry["url"]), reverse=True)[:5]
    before = len(replica.log())
    result = crawl(replica.url, tmp_path / "archive-data", *fake_clean, "--max-articles", "5")
    assert result.returncode == 0, result.stderr
    fetched = article_paths(replica.log()[before:])
    assert len(fetched) == 5
    assert {article_date("http://h" + path) for path in fetched} == {article_date(entry["url"]) for entry in newest}


def test_bad_since_is_a_usage_error(tmp_path: Path, crawl: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    result = crawl("http://127.0.0.1:9/", tmp_path / "a", "--since", "last tuesday")
    assert result.returncode == 2
    assert "YYYY-MM-DD" in result.stderr


# --- the decision itself ---------------------------------------------------------------------

NOW = datetime(2025, 9, 1, tzinfo=UTC)


class FetchedAt(KnownArticles):
    """Known ids with given fetch times, no archive on disk."""

    def __init__(self, fetched: dict[str, datetime]) -> None:
        super().__init__(set(fetched))
        self._fetched_at = dict(fetched)


def test_known_article_is_not_fetched_unless_asked() -> None:
    known = FetchedAt({"1": NOW - timedelta(days=3)})
    assert known.decide(Policy(), "1", date(2025, 8, 1), None, NOW) == KNOWN
    assert known.decide(Policy(), "2", date(2025, 8, 1), None, NOW) == FETCH
    assert known.decide(Policy(refresh=True), "1", date(2025, 8, 1), None, NOW) == FETCH


def test_revisit_after_compares_with_the_fetch_time() -> None:
    known = FetchedAt({"1": NOW - timedelta(days=3)})
    assert known.decide(Policy(revisit_after=timedelta(days=2)), "1", None, None, NOW) == FETCH
    assert known.decide(Policy(revisit_after=timedelta(days=7)), "1", None, None, NOW) == KNOWN


def test_sitemap_lastmod_after_the_fetch_means_fetch_again() -> None:
    known = FetchedAt({"1": NOW - timedelta(days=3)})
    assert known.decide(Policy(), "1", None, NOW - timedelta(days=1), NOW) == FETCH
    assert known.decide(Policy(), "1", None, NOW - timedelta(days=5), NOW) == KNOWN


def test_date_bounds_are_inclusive() -> None:
    policy = Policy(since=date(2025, 3, 1), until=date(2025, 3, 31))
    known = FetchedAt({})
    assert known.decide(policy, "9", date(2025, 3, 1), None, NOW) == FETCH
    assert known.decide(policy, "9", date(2025, 3, 31), None, NOW) == FETCH
    assert known.decide(policy, "9", date(2025, 4, 1), None, NOW) == OUT_OF_RANGE


def test_durations() -> None:
    assert parse_duration("6h") == timedelta(hours=6)
    assert parse_duration("7d") == timedelta(days=7)
    with pytest.raises(ValueError, match=r"e\.g\. 30m"):
        parse_duration("6 hours")
