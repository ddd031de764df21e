"""ArchivePipeline: writes records, quarantine entries and the raw WARC capture of every response into ARCHIVE_DIR.
Dedupes and versions through the archive index; on close commits every file, the index and the crawl manifest."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any, Self

import scrapy
from archive.index import NEW, NEW_VERSION, UNCHANGED, ArchiveIndex
from archive.layout import ArchiveLayout, check_name, utc_now_iso
from archive.manifest import write_manifest
from archive.quarantine import QuarantineWriter
from archive.warc import WarcCapture, WarcPointer, payload_digest
from archive.writer import ClosedFile, InvalidRecordError, JsonlWriter
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from scrapy.statscollectors import StatsCollector

from scraper.items import ArticlePage, ArticleRecord, QuarantineRecord
from scraper.pipelines.records import build_quarantine
from scraper.spiders.portal import article_id, header_pairs

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

    Every response the engine receives (articles, list pages, robots.txt, sitemaps) is written to the
    WARC through the `response_received` signal; an article whose body the archive already holds
    byte for byte gets a revisit record instead. Records and quarantine entries point at the response
    record that holds their body.

    Each item ends in exactly one summary count (also stats `newsarchive/<key>`): `archived` a new
    article written as version 1, `new_version` a changed text written as the next version,
    `unchanged` an article whose text the archive already holds (fetched again, or known and not
    fetched by an incremental crawl: `unchanged_fetched` + `known_not_fetched`), `quarantined` an entry written to
    quarantine/, `skipped` a second copy of an article id within this crawl. `items` is their sum.
    """

    def __init__(self, options: ArchiveOptions, crawler: Crawler | None = None) -> None:
        self.options = options
        self.crawler = crawler
        self.layout = ArchiveLayout(options.root)
        self.counts = {"archived": 0, "unchanged": 0, "new_version": 0, "quarantined": 0, "skipped": 0}
        self.captures = {"responses": 0, "revisits": 0}
        self._ids_this_crawl: set[str] = set()
        # Article URL -> where its body is in the WARC, from response_received until the item arrives.
        self._pointers: dict[str, WarcPointer] = {}
        self._started_at = ""
        self._started = 0.0
        self.index: ArchiveIndex | None = None
        self.articles: JsonlWriter | None = None
        self.quarantine: QuarantineWriter | None = None
        self.warc: WarcCapture | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        pipeline = cls(ArchiveOptions.from_settings_object(crawler.settings), crawler)
        # The signal sees every downloaded response, robots.txt fetched by RobotsTxtMiddleware included.
        crawler.signals.connect(pipeline.response_received, signal=signals.response_received)
        return pipeline

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
        sizes = {"max_records": options.max_records, "max_bytes": options.max_bytes, "compress": options.compress}
        # Writers first: they take the directory locks and set aside what a killed crawl left half-written.
        if options.warc:
            self.warc = WarcCapture(self.layout.warc_dir, options.crawl_id, info={"robots": "obey"})
        self.articles = JsonlWriter(self.layout.articles_dir, options.crawl_id, before_commit=self._commit_warc, **sizes)
        self.quarantine = QuarantineWriter(self.layout.quarantine_dir, options.crawl_id, before_commit=self._commit_warc, **sizes)
        self.index = ArchiveIndex.open(options.root)
        logger.info("archiving crawl %s into %s (%d articles already indexed)", options.crawl_id, options.root, len(self.index))

    def _commit_warc(self) -> None:
        """Commit the open WARC file before a JSONL file whose records may point into it."""
        if self.warc is not None:
            self.warc.rotate()

    def _count(self, key: str) -> None:
        self.counts[key] += 1
        if self.stats is not None:
            self.stats.inc_value(f"newsarchive/{key}")

    # --- raw capture -----------------------------------------------------------------------------
    def response_received(self, response: Response, request: Request, **kwargs: Any) -> None:
        """Capture one downloaded response (and its request) in the WARC."""
        if self.warc is None or self.index is None:
            return
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = ""
        pointer = self.capture_exchange(
            response.url, response.status, reason, header_pairs(response.headers), response.body,
            header_pairs(request.headers), request.method,
        )
        if article_id(response.url) is not None:
            self._pointers[response.url] = pointer

    def capture_exchange(
        self, url: str, status: int, reason: str, headers: list[tuple[str, str]], body: bytes,
        request_headers: list[tuple[str, str]], method: str = "GET", date: str | None = None,
    ) -> WarcPointer:
        """Write a response record, or a revisit when the archived latest version of this article has the same body.

        Returns the pointer to the response record that holds `body` (for a revisit: the original).
        """
        assert self.warc is not None and self.index is not None
        ident = article_id(url)
        entry = self.index.get(ident) if ident is not None else None
        if (
            entry is not None and status == 200 and entry.warc_file and entry.warc_record_id
            and entry.warc_offset is not None and entry.content_sha256 == hashlib.sha256(body).hexdigest()
        ):
            self.warc.write_revisit(
                url, status, reason, headers, request_headers, entry.warc_record_id, entry.url,
                entry.fetched_at or "", payload_digest(body), method, date=date,
            )
            self._capture_count("revisits")
            return WarcPointer(entry.warc_file, entry.warc_record_id, entry.warc_offset)
        pointer = self.warc.write_exchange(url, status, reason, headers, body, request_headers, method, date=date)
        self._capture_count("responses")
        return pointer

    def _capture_count(self, key: str) -> None:
        self.captures[key] += 1
        if self.stats is not None:
            self.stats.inc_value(f"newsarchive/warc_{key}")

    def point_at_capture(self, page: ArticlePage | None, record: dict[str, Any]) -> None:
        """Point `record` at the WARC record holding the page's body (capturing it now if no signal did)."""
        if self.warc is None or page is None:
            return
        pointer = self._pointers.pop(page.url, None)
        if pointer is None:  # the pipeline used without a crawler, or a page built elsewhere
            pointer = self.capture_exchange(
                page.url, page.status, page.reason, page.headers, page.body, page.request_headers, date=page.fetched_at
            )
        record.update(warc_file=pointer.warc_file, warc_record_id=pointer.warc_record_id, warc_offset=pointer.warc_offset)

    # --- items -----------------------------------------------------------------------------------
    def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticleRecord):
            self.store_article(item)
        elif isinstance(item, QuarantineRecord):
            self.store_quarantine(item)
        return item

    def store_article(self, item: ArticleRecord) -> None:
        assert self.index is not None and self.articles is not None
        record = item.record
        self.point_at_capture(item.page, record)
        ident = record["id"]
        if ident in self._ids_this_crawl:
            self._count("skipped")
            return
        self._ids_this_crawl.add(ident)
        decision, version = self.index.decide(ident, record["text_sha256"])
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
        # Tagged with its (uncommitted) file, so the index cannot be saved claiming it before that file commits.
        self.index.add_record(record, self.articles.current_name)
        self._count("archived" if decision == NEW else "new_version")

    def store_quarantine(self, item: QuarantineRecord, captured: bool = False) -> None:
        assert self.quarantine is not None
        if not captured:
            self.point_at_capture(item.page, item.record)
        self.quarantine.write(item.record)
        self._count("quarantined")

    def close_spider(self) -> None:
        files: list[ClosedFile] = []
        # The WARC first: committed records must never point into a WARC file a crash could still lose.
        for writer in (self.warc, self.articles, self.quarantine):
            if writer is not None:
                files += writer.close()
        if self.index is not None:
            self.index.save()
        elapsed = time.monotonic() - self._started
        found = self.stats.get_value("newsarchive/articles_found", 0) if self.stats is not None else 0
        # An incremental crawl does not fetch what the archive holds: unchanged all the same.
        known = self.stats.get_value("newsarchive/known_not_fetched", 0) if self.stats is not None else 0
        counts = {**self.counts, "unchanged": self.counts["unchanged"] + known}
        summary: dict[str, Any] = {
            **counts,
            "items": sum(counts.values()),
            "unchanged_fetched": self.counts["unchanged"],
            "known_not_fetched": known,
            "articles_found": found,
            "warc_responses": self.captures["responses"],
            "warc_revisits": self.captures["revisits"],
            "elapsed_seconds": round(elapsed, 3),
        }
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
