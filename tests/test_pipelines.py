"""Tests of the item pipelines: the pure record builder, quarantine on CleanError, validation and archiving."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from archive.manifest import SUMMARY_KEYS
from archive.quarantine import validate_quarantine
from archive.schema import text_sha256, validate_record
from archive.stats import archive_stats
from archive.writer import DirectoryBusyError, DirectoryLock
from scraper.cleaner import MAX_BODY_BYTES
from scraper.cleaner.article import Article
from scraper.items import ArticlePage, ArticleRecord, QuarantineRecord, SkippedUrl
from scraper.pipelines.clean import CleanPipeline
from scraper.pipelines.records import build_quarantine, build_record, content_sha256
from scraper.pipelines.store import ArchivePipeline
from scraper.pipelines.validate import ValidatePipeline

URL = "http://127.0.0.1:8123/news/yw/202508/t20250826_254967.html"
CLEAN_PAGE = "scraper.cleaner.clean_page"
CRAWL_ID = "20250826T000000Z-abc123"


def test_build_record_is_complete_and_valid(
    make_page: Callable[..., ArticlePage], make_article: Callable[..., Article]
) -> None:
    page = make_page()
    record = build_record(make_article().to_dict(), page, CRAWL_ID)
    assert validate_record(record) == []
    assert record["id"] == "254967"  # from the URL: the article had none
    assert record["url"] == URL
    assert record["version"] == 1
    assert record["crawl_id"] == CRAWL_ID
    assert record["http_status"] == 200
    assert record["fetched_at"] == page.fetched_at
    assert record["content_sha256"] == content_sha256(page.body)
    assert record["text_sha256"] == text_sha256("第一段。\n第二段。")
    assert record["charset"] == "gbk"  # what the cleaner found beats the header
    assert record["cleaning"]["unrecoverable_count"] == 0
    assert record["warc_file"] is None


def test_build_record_prefers_the_articles_id_and_is_pure(
    make_page: Callable[..., ArticlePage], make_article: Callable[..., Article]
) -> None:
    article = make_article(article_id="999").to_dict()
    before = json.dumps(article, sort_keys=True)
    assert build_record(article, make_page(), CRAWL_ID)["id"] == "999"
    assert json.dumps(article, sort_keys=True) == before


def test_build_record_without_any_id(
    make_page: Callable[..., ArticlePage], make_article: Callable[..., Article]
) -> None:
    with pytest.raises(ValueError, match="no article id"):
        build_record(make_article().to_dict(), make_page(url="http://127.0.0.1:8123/about.html"), CRAWL_ID)


def test_build_quarantine_entry(make_page: Callable[..., ArticlePage]) -> None:
    entry = build_quarantine(make_page(), "clean_error", "no article body", CRAWL_ID)
    assert entry["reason"] == "clean_error" and entry["detail"] == "no article body"
    assert entry["id"] == "254967"

    assert validate_quarantine(entry) == []


def test_clean_pipeline_quarantines_clean_errors(
    project_crawler: Callable[..., Crawler], make_page: Callable[..., ArticlePage]
) -> None:
    crawler = project_crawler(CLEAN_FUNCTION="crawling.fake_clean", ARCHIVE_CRAWL_ID=CRAWL_ID)
    pipeline = CleanPipeline.from_crawler(crawler)  # not opened: no pool, pages cleaned inline
    good = asyncio.run(pipeline.process_item(make_page(body=b"text")))
    bad = asyncio.run(pipeline.process_item(make_page(body=b"EMPTY")))
    assert isinstance(good, ArticleRecord) and good.record["text"] == "text"
    assert isinstance(bad, QuarantineRecord)
    assert bad.record["reason"] == "clean_error" and bad.record["detail"] == "no article body"
    # The store pipeline counts a quarantined page (and its reason) when it writes the entry.
    assert not [key for key in crawler.stats.get_stats() if key.startswith("newsarchive/quarantined")]
    assert crawler.stats.get_value("newsarchive/cleaned") == 1
    assert asyncio.run(pipeline.process_item({"other": 1})) == {"other": 1}


def test_a_page_over_the_cleaners_limit_is_quarantined_as_too_large(make_page: Callable[..., ArticlePage]) -> None:
    pipeline = CleanPipeline(CLEAN_PAGE, CRAWL_ID)
    entry = asyncio.run(pipeline.process_item(make_page(body=b" " * (MAX_BODY_BYTES + 1))))
    assert isinstance(entry, QuarantineRecord)
    assert entry.record["reason"] == "too_large" and "exceeds the cleaner's limit" in entry.record["detail"]


def test_a_page_without_an_article_keeps_its_restored_text_in_the_quarantine(
    make_page: Callable[..., ArticlePage],
) -> None:
    page = make_page(body="<html><body><p>產(chǎn)業(yè)發展</p><p>第二行</p></body></html>".encode("gbk"))
    entry = asyncio.run(CleanPipeline(CLEAN_PAGE, CRAWL_ID).process_item(page))
    assert isinstance(entry, QuarantineRecord)
    assert entry.record["reason"] == "clean_error"
    assert entry.record["restored_text"] == "產業發展\n第二行"
    assert validate_quarantine(entry.record) == []


def test_clean_pipeline_lets_bugs_raise(make_page: Callable[..., ArticlePage]) -> None:
    with pytest.raises(KeyError):
        asyncio.run(CleanPipeline("crawling.broken_clean", CRAWL_ID).process_item(make_page()))


def test_clean_pipeline_reports_a_missing_cleaner(project_crawler: Callable[..., Crawler]) -> None:
    crawler = project_crawler(CLEAN_FUNCTION="scraper.no_such_module.clean")
    with pytest.raises(RuntimeError, match="CLEAN_FUNCTION"):
        CleanPipeline.from_crawler(crawler)


def test_validate_pipeline_quarantines_invalid_records(
    project_crawler: Callable[..., Crawler], make_page: Callable[..., ArticlePage], make_article: Callable[..., Article]
) -> None:
    pipeline = ValidatePipeline.from_crawler(project_crawler(ARCHIVE_CRAWL_ID=CRAWL_ID))
    page = make_page()
    record = build_record(make_article().to_dict(), page, CRAWL_ID)
    assert pipeline.process_item(ArticleRecord(record, page)).record is record
    broken = dict(record, published_at="yesterday")
    result = pipeline.process_item(ArticleRecord(broken, page))
    assert isinstance(result, QuarantineRecord)
    assert result.record["reason"] == "invalid_record" and "published_at" in result.record["detail"]
    assert result.page is page and result.record["crawl_id"] == CRAWL_ID


@pytest.fixture
def run_archive(archive_pipeline: Callable[..., ArchivePipeline]) -> Callable[..., dict[str, int]]:
    """run_archive(root, crawl_id, items): one crawl's ArchivePipeline over `items`; the five outcomes it counted."""

    def run(root: Path, crawl_id: str, items: list[Any]) -> dict[str, int]:
        pipeline = archive_pipeline(root, crawl_id)
        pipeline.open_spider()
        for item in items:
            store(pipeline, item)
        pipeline.close_spider()
        summary = pipeline.summary()
        return {key: summary[key] for key in SUMMARY_KEYS}

    return run


@pytest.fixture
def article_item(
    make_page: Callable[..., ArticlePage], make_article: Callable[..., Article]
) -> Callable[..., ArticleRecord]:
    """article_item(text, crawl_id, url=URL): the ArticleRecord of a page whose article has this text."""

    def make(text: str, crawl_id: str, url: str = URL) -> ArticleRecord:
        page = make_page(url=url, body=text.encode("utf-8"))
        return ArticleRecord(build_record(make_article(text).to_dict(), page, crawl_id), page)

    return make


def store(pipeline: ArchivePipeline, item: Any) -> dict[str, Any] | None:
    """What the archive pipeline passes on for `item` (to feed exports): the record written, or None if it dropped it."""
    try:
        return pipeline.process_item(item)
    except DropItem:
        return None


def test_archive_pipeline_writes_versions_and_manifest(
    tmp_path: Path,
    run_archive: Callable[..., dict[str, int]],
    make_page: Callable[..., ArticlePage],
    read_jsonl: Callable[[Path], list[dict[str, Any]]],
    article_item: Callable[..., ArticleRecord],
) -> None:
    first = "crawl-1"
    page = make_page(body=b"EMPTY")
    quarantined = QuarantineRecord(build_quarantine(page, "clean_error", "no article body", first), page)
    outcomes = run_archive(tmp_path, first, [article_item("甲", first), article_item("甲", first), quarantined])
    assert outcomes == {"archived": 1, "unchanged": 0, "new_version": 0, "quarantined": 1, "skipped": 1}
    (record,) = read_jsonl(tmp_path / "articles")
    assert record["version"] == 1 and record["warc_file"].endswith(".warc.gz") and record["warc_offset"] >= 0
    (entry,) = read_jsonl(tmp_path / "quarantine")
    assert entry["reason"] == "clean_error" and entry["warc_record_id"]
    manifest = json.loads((tmp_path / "manifests" / f"{first}.json").read_text(encoding="utf-8"))
    assert manifest["summary"]["archived"] == 1 and manifest["summary"]["quarantined"] == 1
    assert {f["kind"] for f in manifest["files"]} >= {"articles", "quarantine", "warc"}

    second = "crawl-2"
    other = "http://127.0.0.1:8123/news/yw/202508/t20250826_1.html"
    outcomes = run_archive(tmp_path, second, [article_item("甲", second), article_item("乙", second, other)])
    assert outcomes == {"archived": 1, "unchanged": 1, "new_version": 0, "quarantined": 0, "skipped": 0}

    third = "crawl-3"
    outcomes = run_archive(tmp_path, third, [article_item("甲 changed", third)])
    assert outcomes == {"archived": 0, "unchanged": 0, "new_version": 1, "quarantined": 0, "skipped": 0}
    versions = sorted((r["id"], r["version"]) for r in read_jsonl(tmp_path / "articles"))
    assert versions == [("1", 1), ("254967", 1), ("254967", 2)]


def test_archive_pipeline_passes_on_exactly_the_record_it_wrote_and_drops_the_rest(
    tmp_path: Path,
    archive_pipeline: Callable[..., ArchivePipeline],
    make_page: Callable[..., ArticlePage],
    article_item: Callable[..., ArticleRecord],
    read_jsonl: Callable[[Path], list[dict[str, Any]]],
) -> None:
    pipeline = archive_pipeline(tmp_path, "feed-1")
    pipeline.open_spider()
    page = make_page(body=b"EMPTY")
    passed = [
        store(pipeline, article_item("甲", "feed-1")),
        store(pipeline, article_item("甲", "feed-1")),  # a second copy in the same crawl
        store(pipeline, QuarantineRecord(build_quarantine(page, "clean_error", "no article body", "feed-1"), page)),
        store(pipeline, SkippedUrl(URL + "?x", "robots", None, "2025-01-01T00:00:00Z")),
    ]
    pipeline.close_spider()
    (written,) = read_jsonl(tmp_path / "articles")
    assert passed[0] == written and list(passed[0]) == list(written)  # the same fields in the same order
    assert json.dumps(passed[0])  # plain JSON: no raw bytes
    assert passed[1:] == [None, None, None]


def test_archive_pipeline_refuses_a_used_crawl_id(tmp_path: Path, run_archive: Callable[..., dict[str, int]]) -> None:
    run_archive(tmp_path, "once", [])
    with pytest.raises(FileExistsError, match="once"):
        run_archive(tmp_path, "once", [])


def test_archive_pipeline_refuses_a_source_package(tmp_path: Path, run_archive: Callable[..., dict[str, int]]) -> None:
    (tmp_path / "__init__.py").write_text("")
    with pytest.raises(FileExistsError, match="Python package"):
        run_archive(tmp_path, "pkg", [])


def test_a_crawl_refused_by_a_busy_archive_leaves_no_manifest_and_no_lock(
    tmp_path: Path, archive_pipeline: Callable[..., ArchivePipeline]
) -> None:
    (tmp_path / "articles").mkdir()
    running = DirectoryLock(tmp_path / "articles")
    running.acquire()  # another crawl writes here
    pipeline = archive_pipeline(tmp_path, "loser")
    with pytest.raises(DirectoryBusyError):
        pipeline.open_spider()
    pipeline.close_spider()  # Scrapy closes the pipelines of a crawl that failed to open, too
    running.release()
    assert list((tmp_path / "manifests").iterdir()) == []
    assert not (tmp_path / "ledger.jsonl").exists()
    assert archive_stats(tmp_path)["crawls"] == 0
    DirectoryLock(tmp_path / "warc").acquire()  # the loser released the lock it had taken
