"""EntryWriter: each item ends in one outcome, written where the archive keeps it and counted with its reason."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from scrapy.crawler import Crawler

from archive.index import ArchiveIndex
from archive.quarantine import QuarantineWriter
from archive.schema import text_sha256
from archive.writer import InvalidRecordError, JsonlWriter
from scraper.cleaner.article import Article
from scraper.items import ArticlePage, ArticleRecord, QuarantineRecord, SkippedUrl
from scraper.pipelines.entries import EntryWriter
from scraper.pipelines.records import build_quarantine, build_record
from scraper.summary import Counters, CrawlSummary

URL = "http://127.0.0.1:8123/news/yw/202508/t20250826_254967.html"
CRAWL = "entries-1"


@dataclass
class Entries:
    writer: EntryWriter
    crawler: Crawler
    root: Path

    def outcomes(self) -> dict[str, Any]:
        assert self.crawler.stats is not None
        return CrawlSummary.from_stats(self.crawler.stats.get_stats()).manifest(0.0)

    def committed(self, read_jsonl: Callable[[Path], list[dict[str, Any]]]) -> tuple[list[Any], list[Any]]:
        self.writer.articles.close()
        self.writer.quarantine.close()
        return read_jsonl(self.root / "articles"), read_jsonl(self.root / "quarantine")


@pytest.fixture
def entries(tmp_path: Path, project_crawler: Callable[..., Crawler]) -> Iterator[Entries]:
    """An EntryWriter without WARC capture over an archive holding version 1 of article 254967 (text "甲")."""
    crawler = project_crawler()
    index = ArchiveIndex(tmp_path)
    index.record("254967", text_sha256("甲"), 1, URL)
    articles = JsonlWriter(tmp_path / "articles", CRAWL)
    quarantine = QuarantineWriter(tmp_path / "quarantine", CRAWL)
    yield Entries(EntryWriter(articles, quarantine, index, None, CRAWL, Counters(crawler)), crawler, tmp_path)
    articles.abort()
    quarantine.abort()


@pytest.fixture
def article(
    make_page: Callable[..., ArticlePage], make_article: Callable[..., Article]
) -> Callable[..., ArticleRecord]:
    def make(text: str, url: str = URL) -> ArticleRecord:
        page = make_page(url=url, body=text.encode("utf-8"))
        return ArticleRecord(build_record(make_article(text).to_dict(), page, CRAWL), page)

    return make


def test_an_unchanged_text_is_counted_and_a_changed_one_written_as_the_next_version(
    entries: Entries, article: Callable[..., ArticleRecord], read_jsonl: Callable[[Path], list[dict[str, Any]]]
) -> None:
    entries.writer.write(article("甲"))
    entries.writer.write(article("乙", URL.replace("254967", "254968")))
    articles, quarantined = entries.committed(read_jsonl)
    assert [(record["id"], record["version"]) for record in articles] == [("254968", 1)]
    assert quarantined == []
    outcomes = entries.outcomes()
    assert (outcomes["unchanged"], outcomes["archived"], outcomes["new_version"]) == (1, 1, 0)


def test_a_second_copy_of_an_article_in_one_crawl_is_a_duplicate_written_nowhere(
    entries: Entries, article: Callable[..., ArticleRecord], read_jsonl: Callable[[Path], list[dict[str, Any]]]
) -> None:
    entries.writer.write(article("甲 changed"))
    entries.writer.write(article("甲 changed again"))
    articles, quarantined = entries.committed(read_jsonl)
    assert [(record["id"], record["version"]) for record in articles] == [("254967", 2)]
    assert quarantined == []
    outcomes = entries.outcomes()
    assert (outcomes["new_version"], outcomes["skipped"], outcomes["skipped_by_reason"]) == (1, 1, {"duplicate": 1})
    assert outcomes["skip_entries"] == 0


def test_skips_are_written_to_quarantine_with_their_reason_but_duplicates_only_counted(
    entries: Entries, read_jsonl: Callable[[Path], list[dict[str, Any]]]
) -> None:
    entries.writer.write(SkippedUrl(URL, "robots", "disallowed", "2025-08-26T00:00:00Z"))
    entries.writer.write(SkippedUrl(URL + "?utm=x", "duplicate", f"same article as {URL}", "2025-08-26T00:00:01Z"))
    _, quarantined = entries.committed(read_jsonl)
    assert [(entry["url"], entry["reason"], entry["outcome"]) for entry in quarantined] == [
        (URL, "skipped:robots", "skipped")
    ]
    outcomes = entries.outcomes()
    assert (outcomes["skipped"], outcomes["skip_entries"]) == (2, 1)
    assert outcomes["skipped_by_reason"] == {"duplicate": 1, "robots": 1}


def test_a_quarantined_page_is_written_and_counted_with_its_reason(
    entries: Entries, make_page: Callable[..., ArticlePage], read_jsonl: Callable[[Path], list[dict[str, Any]]]
) -> None:
    page = make_page(body=b"EMPTY")
    entries.writer.write(QuarantineRecord(build_quarantine(page, "clean_error", "no article body", CRAWL), page))
    _, quarantined = entries.committed(read_jsonl)
    assert [(entry["reason"], entry["outcome"]) for entry in quarantined] == [("clean_error", "quarantined")]
    outcomes = entries.outcomes()
    assert (outcomes["quarantined"], outcomes["quarantined_by_reason"]) == (1, {"clean_error": 1})


def test_a_record_the_writer_refuses_after_validation_is_a_bug_and_raises(
    entries: Entries, article: Callable[..., ArticleRecord], read_jsonl: Callable[[Path], list[dict[str, Any]]]
) -> None:
    broken = article("丙", URL.replace("254967", "254969"))
    broken.record["published_at"] = "yesterday"  # ValidatePipeline quarantines such a record before the store
    with pytest.raises(InvalidRecordError):
        entries.writer.write(broken)
    assert entries.committed(read_jsonl) == ([], [])
    assert entries.outcomes()["items"] == 0


def test_items_of_other_kinds_pass_untouched(entries: Entries) -> None:
    entries.writer.write({"other": 1})
    assert entries.outcomes()["items"] == 0
