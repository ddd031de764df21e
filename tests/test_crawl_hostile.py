"""A crawl of a hostile replica: over-long links, a gzip bomb, a column paginating forever, 429s with Retry-After.
Each ends in a booked outcome (or a stopped pagination) that the summary states, and the crawl ends and adds up."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from scraper.replica.faults import LONG_URL_DIGITS, RETRY_AFTER_SECONDS
from scraper.replica.testing import start_replica
from scraper.urls import column_of

ARTICLES = 40
PATIENCE = 5  # PORTAL_STALE_LIST_PAGES's default
MAXSIZE = 1024 * 1024  # DOWNLOAD_MAXSIZE for these crawls: the bomb is ~8 KB on the wire and inflates to 8 MiB
BOMB = 8 * MAXSIZE


@dataclass
class HostileCrawl:
    result: subprocess.CompletedProcess[str]
    out: Path
    faults: dict[str, dict[str, Any]]
    log: list[dict[str, Any]]
    index: list[dict[str, str]]
    kinds: list[str]  # what each request of the log was (article, list, ...)

    @property
    def manifest(self) -> dict[str, Any]:
        (path,) = (self.out / "manifests").glob("*.json")
        return json.loads(path.read_text(encoding="utf-8"))

    def urls_with(self, fault: str) -> list[str]:
        return [url for url, f in self.faults.items() if f["fault"] == fault]


@pytest.fixture(scope="module")
def run_hostile(
    crawl: Callable[..., subprocess.CompletedProcess[str]],
    fake_clean: tuple[str, ...],
    request_kind: Callable[[str], str],
) -> Callable[..., HostileCrawl]:
    """run_hostile(out, faults, *options): a crawl of a replica with these faults."""

    def run(out: Path, faults: str, *extra: str) -> HostileCrawl:
        with start_replica(
            ARTICLES, seed=5, faults=faults, fault_seed=2, fault_retries=1, fault_share=0.2, fault_bomb=BOMB
        ) as replica:
            result = crawl(replica.url, out, *fake_clean, "-s", f"DOWNLOAD_MAXSIZE={MAXSIZE}", *extra)
            log = replica.log()  # before the test's own requests to the replica
            kinds = [request_kind(entry["path"]) for entry in log]
            return HostileCrawl(result, out, replica.faults(), log, replica.index(), kinds)

    return run


@pytest.fixture(scope="module")
def hostile(
    tmp_path_factory: pytest.TempPathFactory, run_hostile: Callable[..., HostileCrawl]
) -> Iterator[HostileCrawl]:
    yield run_hostile(tmp_path_factory.mktemp("hostile") / "archive", "long_urls,gzip_bomb,endless_pages,429")


def list_requests(crawled: HostileCrawl, column: str) -> list[str]:
    return [
        e["path"]
        for e, kind in zip(crawled.log, crawled.kinds, strict=True)
        if kind == "list" and e["path"].startswith(column)
    ]


def real_list_pages(crawled: HostileCrawl, column: str) -> int:
    in_column = [entry for entry in crawled.index if column_of(entry["url"]).startswith(column)]
    return max(1, -(-len(in_column) // 20))


def test_the_hostile_crawl_ends_adds_up_and_verifies(
    hostile: HostileCrawl, verify_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    assert hostile.result.returncode == 0, hostile.result.stdout + hostile.result.stderr
    assert "UNACCOUNTED" not in hostile.result.stdout
    summary = hostile.manifest["summary"]
    assert summary["unaccounted"] == 0 and summary["pages"]["unaccounted"] == 0
    done = verify_cli(hostile.out)
    assert done.returncode == 0, done.stdout + done.stderr


def test_over_long_links_are_booked_as_url_too_long_and_never_requested(
    hostile: HostileCrawl, table_row: Callable[[str, str], tuple[int, dict[str, int]]]
) -> None:
    summary = hostile.manifest["summary"]
    assert summary["skipped_by_reason"].get("url_too_long") == 1  # the article link
    assert summary["pages"]["skipped_by_reason"].get("url_too_long") == 1  # the list-page link
    assert len(hostile.urls_with("long_urls")) == 2
    assert not [e for e in hostile.log if len(e["path"]) > LONG_URL_DIGITS]
    assert table_row(hostile.result.stdout, "skipped")[1]["url_too_long"] == 1
    assert table_row(hostile.result.stdout, "  skipped")[1]["url_too_long"] == 1  # under the discovery pages


def test_a_gzip_bomb_is_booked_as_too_large(hostile: HostileCrawl) -> None:
    bombs = hostile.urls_with("gzip_bomb")
    assert bombs
    skipped = hostile.manifest["summary"]["skipped_by_reason"]
    assert skipped.get("too_large") == len(bombs)
    assert "ignored" not in skipped


def test_endless_pagination_stops_after_the_stale_pages_and_says_so(
    hostile: HostileCrawl, table_row: Callable[[str, str], tuple[int, dict[str, int]]]
) -> None:
    (column_url,) = hostile.urls_with("endless_pages")
    column = urlsplit(column_url).path
    requested = list_requests(hostile, column)
    assert len(requested) <= real_list_pages(hostile, column) + PATIENCE
    pages = hostile.manifest["summary"]["pages"]
    assert pages["pagination_stopped"] == {"no_new_articles": 1}
    assert pages["skipped_by_reason"].get("no_new_articles") == 1  # the link to the next page, not followed
    stopped = table_row(hostile.result.stdout, "  columns whose pagination was stopped")
    assert stopped == (1, {"no_new_articles": 1})


def test_a_429_is_retried_no_sooner_than_its_retry_after(hostile: HostileCrawl) -> None:
    limited = {urlsplit(url).path for url in hostile.urls_with("429")}
    assert limited
    for path in limited:
        answers = [e for e in hostile.log if e["path"] == path]
        assert [e["status"] for e in answers] == [429, 200], answers
        waited = answers[1]["at"] - answers[0]["at"]
        assert waited >= RETRY_AFTER_SECONDS * 0.95, f"{path} retried after {waited:.2f} s"


def test_the_list_page_cap_stops_endless_pagination_on_its_own(
    tmp_path: Path, run_hostile: Callable[..., HostileCrawl]
) -> None:
    started = time.monotonic()
    capped = run_hostile(
        tmp_path / "archive", "endless_pages", "-s", "PORTAL_MAX_LIST_PAGES=3", "-s", "PORTAL_STALE_LIST_PAGES=0"
    )
    assert capped.result.returncode == 0, capped.result.stdout + capped.result.stderr
    assert time.monotonic() - started < 120
    (column_url,) = capped.urls_with("endless_pages")
    assert len(list_requests(capped, urlsplit(column_url).path)) == 3
    assert capped.manifest["summary"]["pages"]["pagination_stopped"] == {"list_page_limit": 1}
