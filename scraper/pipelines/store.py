"""ArchivePipeline: writes records, quarantine entries and raw WARC captures into ARCHIVE_DIR.
Dedupes and versions through the archive index; on close commits every file, the index and the crawl manifest."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import scrapy
from archive.index import NEW_VERSION, UNCHANGED, ArchiveIndex
from archive.layout import ArchiveLayout, check_name, utc_now_iso
from archive.manifest import write_manifest
from archive.quarantine import QuarantineWriter
from archive.warc import WarcCapture
from archive.writer import ClosedFile, InvalidRecordError, JsonlWriter
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from scraper.items import ArticlePage, ArticleRecord, QuarantineRecord
from scraper.pipelines.records import build_quarantine

logger = logging.getLogger(__name__)

# Settings worth keeping in the manifest: they explain how the crawl behaved.
MANIFEST_SETTINGS = (
    "ARCHIVE_DIR",
    "ARCHIVE_COMPRESS",
    "ARCHIVE_WARC_ENABLED",
    "CLEAN_FUNCTION",
    "USER_AGENT",
    "ROBOTSTXT_OBEY",
    "AUTOTHROTTLE_ENABLED",
    "AUTOTHROTTLE_START_DELAY",
    "AUTOTHROTTLE_TARGET_CONCURRENCY",
    "CONCURRENT_REQUESTS_PER_DOMAIN",
    "DOWNLOAD_DELAY",
)


@dataclass
class ArchiveOptions:
    """The settings this pipeline reads, typed."""

    root: Path
    crawl_id: str
    max_records: int
    max_bytes: int
    compress: bool
    warc: bool

    @classmethod
    def from_settings_object(cls, settings: Any) -> ArchiveOptions:
        return cls(
            # ARCHIVE_DIR: archive root (articles/, quarantine/, warc/, manifests/, index.json).
            root=Path(settings.get("ARCHIVE_DIR", "archive")),
            # ARCHIVE_CRAWL_ID: names the files and the manifest of this crawl; used once.
            crawl_id=check_name(settings.get("ARCHIVE_CRAWL_ID")),
            # ARCHIVE_MAX_RECORDS / ARCHIVE_MAX_BYTES: roll over to a new JSONL part at either limit.
            max_records=settings.getint("ARCHIVE_MAX_RECORDS", 10_000),
            max_bytes=settings.getint("ARCHIVE_MAX_BYTES", 256 * 1024 * 1024),
            # ARCHIVE_COMPRESS: gzip the JSONL parts.
            compress=settings.getbool("ARCHIVE_COMPRESS", True),
            # ARCHIVE_WARC_ENABLED: keep raw HTTP exchanges under warc/.
            warc=settings.getbool("ARCHIVE_WARC_ENABLED", True),
        )


class ArchivePipeline:
    """Terminal stage: ArticleRecord -> articles/ (if new or changed), QuarantineRecord -> quarantine/.

    Summary counts (also stats `newsarchive/<key>`): `archived` records written (new
    articles plus new versions), `new_version` those of them that replace an older
    text, `unchanged` articles whose text the archive already holds, `quarantined`
    entries written, `skipped` second copies of an article id within this crawl.
    """

    def __init__(self, options: ArchiveOptions, crawler: Crawler | None = None) -> None:
        self.options = options
        self.crawler = crawler
        self.layout = ArchiveLayout(options.root)
        self.counts = {"archived": 0, "unchanged": 0, "new_version": 0, "quarantined": 0, "skipped": 0}
        self._ids_this_crawl: set[str] = set()
        self._started_at = ""
        self._started = 0.0
        self.index: ArchiveIndex | None = None
        self.articles: JsonlWriter | None = None
        self.quarantine: QuarantineWriter | None = None
        self.warc: WarcCapture | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(ArchiveOptions.from_settings_object(crawler.settings), crawler)

    @property
    def stats(self) -> StatsCollector | None:
        return self.crawler.stats if self.crawler is not None else None

    def open_spider(self) -> None:
        options = self.options
        manifest = self.layout.manifest_path(options.crawl_id)
        if manifest.exists():
            raise FileExistsError(f"{manifest} exists: crawl id {options.crawl_id!r} was used; pick a new ARCHIVE_CRAWL_ID")
        if (options.root / "__init__.py").exists():
            # The default ARCHIVE_DIR "archive" is also the name of our source package at the repo root.
            raise FileExistsError(
                f"ARCHIVE_DIR {options.root} is a Python package, not an archive; pass -s ARCHIVE_DIR=<dir> (or --out)"
            )
        self.layout.ensure_dirs()
        self._started_at = utc_now_iso()
        self._started = time.monotonic()
        self.index = ArchiveIndex.open(options.root)
        sizes = {"max_records": options.max_records, "max_bytes": options.max_bytes, "compress": options.compress}
        self.articles = JsonlWriter(self.layout.articles_dir, options.crawl_id, **sizes)
        self.quarantine = QuarantineWriter(self.layout.quarantine_dir, options.crawl_id, **sizes)
        if options.warc:
            self.warc = WarcCapture(self.layout.warc_dir, options.crawl_id, info={"robots": "obey"})
        logger.info("archiving crawl %s into %s (%d articles already indexed)", options.crawl_id, options.root, len(self.index))

    def _count(self, key: str) -> None:
        self.counts[key] += 1
        if self.stats is not None:
            self.stats.inc_value(f"newsarchive/{key}")

    def capture(self, page: ArticlePage | None, record: dict[str, Any]) -> None:
        """Write the raw exchange to the WARC and point `record` at it."""
        if self.warc is None or page is None:
            return
        pointer = self.warc.write_exchange(
            page.url, page.status, page.reason, page.headers, page.body, page.request_headers, date=page.fetched_at
        )
        record.update(warc_file=pointer.warc_file, warc_record_id=pointer.warc_record_id, warc_offset=pointer.warc_offset)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticleRecord):
            self.store_article(item)
        elif isinstance(item, QuarantineRecord):
            self.store_quarantine(item)
        return item

    def store_article(self, item: ArticleRecord) -> None:
        assert self.index is not None and self.articles is not None
        record = item.record
        self.capture(item.page, record)
        article_id = record["id"]
        if article_id in self._ids_this_crawl:
            self._count("skipped")
            return
        self._ids_this_crawl.add(article_id)
        decision, version = self.index.decide(article_id, record["text_sha256"])
        if decision == UNCHANGED:
            self._count("unchanged")
            return
        record["version"] = version
        try:
            self.articles.write(record)
        except InvalidRecordError as exc:
            # ValidatePipeline normally catches these first; keep the page rather than lose it.
            if item.page is None:
                raise
            entry = build_quarantine(item.page, "invalid_record", "; ".join(exc.errors), self.options.crawl_id)
            entry.update({k: record[k] for k in ("warc_file", "warc_record_id", "warc_offset")})
            self.store_quarantine(QuarantineRecord(entry, item.page), captured=True)
            return
        self.index.record(article_id, record["text_sha256"], version, record["url"])
        self._count("archived")
        if decision == NEW_VERSION:
            self._count("new_version")

    def store_quarantine(self, item: QuarantineRecord, captured: bool = False) -> None:
        assert self.quarantine is not None
        if not captured:
            self.capture(item.page, item.record)
        self.quarantine.write(item.record)
        self._count("quarantined")

    def close_spider(self) -> None:
        files: list[ClosedFile] = []
        for writer in (self.articles, self.quarantine, self.warc):
            if writer is not None:
                files += writer.close()
        if self.index is not None:
            self.index.save()
        elapsed = time.monotonic() - self._started
        found = self.stats.get_value("newsarchive/articles_found", 0) if self.stats is not None else 0
        summary: dict[str, Any] = {**self.counts, "articles_found": found, "elapsed_seconds": round(elapsed, 3)}
        settings = {name: self.crawler.settings.get(name) for name in MANIFEST_SETTINGS} if self.crawler else {}
        settings["scrapy_version"] = scrapy.__version__
        if self.crawler is not None and self.crawler.spider is not None:
            settings["start_url"] = getattr(self.crawler.spider, "start_url", None)
        path = write_manifest(
            self.options.root, self.options.crawl_id, self._started_at, utc_now_iso(), settings, files, summary
        )
        if self.stats is not None:
            self.stats.set_value("newsarchive/manifest", str(path))
        logger.info("crawl %s: %s", self.options.crawl_id, ", ".join(f"{k} {v}" for k, v in summary.items()))
