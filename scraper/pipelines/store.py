"""ArchivePipeline: writes records, quarantine and skip entries and the raw WARC capture of every response into ARCHIVE_DIR.
Dedupes and versions through the archive index; on close commits every file, the index and the crawl manifest."""

from __future__ import annotations

import errno
import hashlib
import logging
import time
from collections import Counter
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any, Self

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.http import Request, Response
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import deferred_from_coro

from archive.index import NEW, UNCHANGED, ArchiveIndex
from archive.layout import ArchiveLayout, check_name, utc_now_iso
from archive.ledger import STARTED, append_event
from archive.manifest import write_manifest
from archive.quarantine import QuarantineWriter
from archive.schema import normalize_record
from archive.warc import CAPTURE_READ_ERRORS, WarcCapture, WarcPointer, payload_digest
from archive.writer import ClosedFile, DirectoryBusyError, InvalidRecordError, JsonlWriter
from scraper.items import ArticlePage, ArticleRecord, QuarantineRecord, SkippedUrl
from scraper.pipelines.records import build_quarantine, build_skip_entry
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
    "DOWNLOAD_TIMEOUT",
    "DOWNLOAD_MAXSIZE",
    "RETRY_TIMES",
    "REDIRECT_MAX_TIMES",
    "URLLENGTH_LIMIT",
    "DEPTH_LIMIT",
    "PORTAL_RETRY_AFTER_MAX",
    "PORTAL_MAX_LIST_PAGES",
    "PORTAL_STALE_LIST_PAGES",
)
# Skips recorded by a count only: a second URL (or copy) of an article the crawl handles anyway.
UNRECORDED_SKIPS = frozenset({"duplicate"})
# The close reason when the archive directory cannot be written (disk full, read-only, file too large).
WRITE_ERROR_REASON = "archive_write_error"
ARCHIVE_ERROR_STAT = "newsarchive/archive_error"


def write_error_message(root: Path, exc: OSError, doing: str) -> str:
    """What went wrong writing the archive, naming the directory and the cause.

    >>> write_error_message(Path("/srv/a"), OSError(errno.EFBIG, "File too large"), "a WARC record")
    'cannot write to the archive /srv/a while writing a WARC record: File too large (EFBIG)'
    """
    code = errno.errorcode.get(exc.errno, "") if exc.errno is not None else ""
    where = f" ({exc.filename})" if exc.filename else ""
    return f"cannot write to the archive {root} while writing {doing}{where}: {exc.strerror or exc}" + (
        f" ({code})" if code else ""
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
    def read_settings(cls, settings: Any) -> ArchiveOptions:
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

    Each item ends in exactly one outcome (stats `newsarchive/<key>`): `archived` a new article written as
    version 1, `new_version` a changed text written as the next version, `unchanged` an article whose text
    the archive already holds (fetched again, or known and not fetched by an incremental crawl:
    `unchanged_fetched` + `known_not_fetched`), `quarantined` a fetched page written to quarantine/ with its
    reason, `skipped` an article URL given up on (a SkippedUrl from the spider, or a second copy of an
    article id within this crawl), counted per reason in `skipped/<reason>`. A skip is written to
    quarantine/ too, with reason `skipped:<reason>` and `outcome: skipped`, except a duplicate.

    The manifest's five counts are these outcomes and add up to `items`; `skip_entries` says how many of the
    skips were written, so quarantine/ holds `quarantined` + `skip_entries` lines (what `newsarchive verify`
    checks). `outcomes` adds the articles not asked for (`out_of_range`, `over_limit`): it sums to `articles_found`.

    If the archive directory cannot be written (OSError: disk full, file too large, read-only), the crawl
    is stopped with close reason `archive_write_error`, the stat `newsarchive/archive_error` says why, and
    nothing more is committed: every writer is aborted, so the files committed before stay whole, the open
    ones stay `.part` files (set aside by the next crawl) and the directory locks are released.
    """

    def __init__(self, options: ArchiveOptions, crawler: Crawler | None = None) -> None:
        self.options = options
        self.crawler = crawler
        self.layout = ArchiveLayout(options.root)
        self.counts = {"archived": 0, "unchanged": 0, "new_version": 0, "quarantined": 0, "skipped": 0}
        self.quarantine_reasons: Counter[str] = Counter()
        self.skip_reasons: Counter[str] = Counter()
        self.skip_entries = 0
        self.captures = {"responses": 0, "revisits": 0}
        self.write_error: str | None = None
        self._opened = False
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
        pipeline = cls(ArchiveOptions.read_settings(crawler.settings), crawler)
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
            raise FileExistsError(
                f"{manifest} exists: crawl id {options.crawl_id!r} was used; pick a new ARCHIVE_CRAWL_ID"
            )
        if (options.root / "__init__.py").exists():
            # The default ARCHIVE_DIR "archive" is also the name of our source package at the repo root.
            raise FileExistsError(
                f"ARCHIVE_DIR {options.root} is a Python package, not an archive; pass -s ARCHIVE_DIR=<dir> (or --out)"
            )
        try:
            self._open_writers()
            # After the locks: a crawl that could not take them (another one runs) leaves no trace in the ledger.
            append_event(options.root, STARTED, options.crawl_id, self._started_at)
        except OSError as exc:
            self._abort_writers()
            # Read-only, not a directory, no space: say which directory and why, before any request is made.
            raise ArchiveWriteError(write_error_message(options.root, exc, "its directories and locks")) from exc
        except DirectoryBusyError:
            self._abort_writers()  # release the locks this crawl did take
            raise
        self._opened = True

    def _open_writers(self) -> None:
        options = self.options
        self.layout.ensure_dirs()
        self._started_at = utc_now_iso()
        self._started = time.monotonic()
        sizes = {"max_records": options.max_records, "max_bytes": options.max_bytes, "compress": options.compress}
        # Writers first: they take the directory locks and set aside what a killed crawl left half-written.
        if options.warc:
            self.warc = WarcCapture(self.layout.warc_dir, options.crawl_id, info={"robots": "obey"})
        self.articles = JsonlWriter(
            self.layout.articles_dir, options.crawl_id, before_commit=self._commit_warc, **sizes
        )
        self.quarantine = QuarantineWriter(
            self.layout.quarantine_dir, options.crawl_id, before_commit=self._commit_warc, **sizes
        )
        self.index = ArchiveIndex.open(options.root)
        logger.info(
            "archiving crawl %s into %s (%d articles already indexed)", options.crawl_id, options.root, len(self.index)
        )

    def _commit_warc(self) -> None:
        """Commit the open WARC file before a JSONL file whose records may point into it."""
        if self.warc is not None:
            self.warc.rotate()

    def _count(self, key: str) -> None:
        self.counts[key] += 1
        if self.stats is not None:
            self.stats.inc_value(f"newsarchive/{key}")

    def _count_skip(self, reason: str) -> None:
        self._count("skipped")
        self.skip_reasons[reason] += 1
        if self.stats is not None:
            self.stats.inc_value(f"newsarchive/skipped/{reason}")

    def _write_failed(self, exc: OSError, doing: str, stop: bool = True) -> None:
        """Stop the crawl: an archive that cannot be written must not go on fetching pages it will lose."""
        if self.write_error is None:
            self.write_error = write_error_message(self.options.root, exc, doing)
            logger.error(
                "%s; stopping the crawl (files committed before are whole; run again once fixed)", self.write_error
            )
            if self.stats is not None:
                self.stats.set_value(ARCHIVE_ERROR_STAT, self.write_error)
            if stop and self.crawler is not None and self.crawler.engine is not None:
                deferred_from_coro(self.crawler.engine.close_spider_async(reason=WRITE_ERROR_REASON))
        self._abort_writers()

    def _abort_writers(self) -> None:
        """Close every writer without committing: an open file may end in half a record."""
        for writer in (self.warc, self.articles, self.quarantine):
            if writer is not None:
                writer.abort()

    # --- raw capture -----------------------------------------------------------------------------
    def response_received(self, response: Response, request: Request, **kwargs: Any) -> None:
        """Capture one downloaded response (and its request) in the WARC."""
        if self.warc is None or self.index is None or self.write_error is not None:
            return
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = ""
        try:
            pointer = self.capture_exchange(
                response.url,
                response.status,
                reason,
                header_pairs(response.headers),
                response.body,
                header_pairs(request.headers),
                request.method,
                protocol=response.protocol,
                ip_address=str(response.ip_address) if response.ip_address is not None else None,
            )
        except OSError as exc:
            self._write_failed(exc, f"the WARC capture of {response.url}")
            return
        if article_id(response.url) is not None:
            self._pointers[response.url] = pointer

    def capture_exchange(
        self,
        url: str,
        status: int,
        reason: str,
        headers: list[tuple[str, str]],
        body: bytes,
        request_headers: list[tuple[str, str]],
        method: str = "GET",
        date: str | None = None,
        *,
        protocol: str | None = None,
        ip_address: str | None = None,
    ) -> WarcPointer:
        """Write a response record, or a revisit when the archived latest version of this article has the same body.

        Returns the pointer to the response record that holds `body` (for a revisit: the original). `protocol` is the
        HTTP version the server answered in and `ip_address` its address, where the download handler knows them.
        """
        assert self.warc is not None and self.index is not None
        ident = article_id(url)
        entry = self.index.get(ident) if ident is not None else None
        if (
            entry is not None
            and status == 200
            and entry.warc_file
            and entry.warc_record_id
            and entry.warc_offset is not None
            and entry.content_sha256 == hashlib.sha256(body).hexdigest()
        ):
            self.warc.write_revisit(
                url,
                status,
                reason,
                headers,
                request_headers,
                entry.warc_record_id,
                entry.url,
                self.original_date(entry.warc_file, entry.warc_offset, entry.fetched_at),
                payload_digest(body),
                method,
                date=date,
                protocol=protocol,
                ip_address=ip_address,
            )
            self._capture_count("revisits")
            return WarcPointer(entry.warc_file, entry.warc_record_id, entry.warc_offset)
        pointer = self.warc.write_exchange(
            url,
            status,
            reason,
            headers,
            body,
            request_headers,
            method,
            date=date,
            protocol=protocol,
            ip_address=ip_address,
        )
        self._capture_count("responses")
        return pointer

    def original_date(self, warc_file: str, offset: int, fetched_at: str | None) -> str:
        """The WARC-Date of the response a revisit refers to; its record's fetched_at if that WARC cannot be read."""
        assert self.warc is not None
        try:
            return self.warc.date_of(warc_file, offset)
        except CAPTURE_READ_ERRORS as exc:
            logger.warning(
                "cannot read the WARC-Date of %s:%d (%s); the revisit refers to fetched_at", warc_file, offset, exc
            )
            return fetched_at or ""

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
        record.update(
            warc_file=pointer.warc_file, warc_record_id=pointer.warc_record_id, warc_offset=pointer.warc_offset
        )

    # --- items -----------------------------------------------------------------------------------
    def process_item(self, item: Any) -> dict[str, Any]:
        """Store the item; an article record written to articles/ goes on, as written (fields in the same order),
        to feed exports and any later pipeline. Everything else ends here (DropItem, logged at DEBUG): unchanged and
        duplicate articles, quarantined pages and skips are counted in the manifest and written to quarantine/."""
        url = getattr(item, "url", None) or getattr(item, "record", {}).get("url")
        if self.write_error is not None:  # the crawl is stopping; nothing more can be committed
            raise DropItem(f"not archived, the crawl is stopping: {url}", log_level="DEBUG")
        try:
            if isinstance(item, ArticleRecord):
                if self.store_article(item):
                    return normalize_record(item.record)
            elif isinstance(item, QuarantineRecord):
                self.store_quarantine(item)
            elif isinstance(item, SkippedUrl):
                self.store_skip(item)
        except OSError as exc:
            self._write_failed(exc, f"the entry for {url}")
        raise DropItem(f"no article record written for {url} (see the crawl summary)", log_level="DEBUG")

    def store_skip(self, item: SkippedUrl) -> None:
        """Count a skipped article URL by its reason and, unless it is a duplicate, write its skip entry."""
        assert self.quarantine is not None
        pointer = self._pointers.pop(item.url, None)  # the last response captured for it (a 5xx, a redirect)
        if item.final_url:
            self._pointers.pop(item.final_url, None)
        if item.reason in UNRECORDED_SKIPS:
            self._count_skip(item.reason)
            return
        entry = build_skip_entry(item, self.options.crawl_id)
        if pointer is not None:
            entry.update(
                warc_file=pointer.warc_file, warc_record_id=pointer.warc_record_id, warc_offset=pointer.warc_offset
            )
        self.quarantine.write(entry)
        self.skip_entries += 1
        self._count_skip(item.reason)

    def store_article(self, item: ArticleRecord) -> bool:
        """Write the record if its text is new; True if it was written to articles/."""
        assert self.index is not None and self.articles is not None
        record = item.record
        self.point_at_capture(item.page, record)
        ident = record["id"]
        if ident in self._ids_this_crawl:
            self._count_skip("duplicate")
            return False
        self._ids_this_crawl.add(ident)
        decision, version = self.index.decide(ident, record["text_sha256"])
        if decision == UNCHANGED:
            self._count("unchanged")
            return False
        record["version"] = version
        try:
            self.articles.write(record)
        except InvalidRecordError as exc:
            # ValidatePipeline normally catches these first; keep the page rather than lose it.
            if item.page is None:
                raise
            entry = build_quarantine(item.page, "invalid_record", "; ".join(exc.errors), self.options.crawl_id)
            entry.update({k: record[k] for k in ("warc_file", "warc_record_id", "warc_offset")})
            if self.stats is not None:
                self.stats.inc_value("newsarchive/quarantined/invalid_record")
            self.store_quarantine(QuarantineRecord(entry, item.page), captured=True)
            return False
        # Tagged with its (uncommitted) file, so the index cannot be saved claiming it before that file commits.
        self.index.add_record(record, self.articles.current_name)
        self._count("archived" if decision == NEW else "new_version")
        return True

    def store_quarantine(self, item: QuarantineRecord, captured: bool = False) -> None:
        assert self.quarantine is not None
        if not captured:
            self.point_at_capture(item.page, item.record)
        self.quarantine.write(item.record)
        self.quarantine_reasons[str(item.record.get("reason"))] += 1
        self._count("quarantined")

    def close_spider(self) -> None:
        if not self._opened:
            # open_spider failed (another crawl holds the archive, or it cannot be written): this crawl wrote nothing,
            # and a manifest now would claim a finished crawl of nothing.
            return
        if self.write_error is not None:
            # The writers were aborted when the write failed: committing an open file (or a manifest) would make
            # the archive lie. Committed files stay; the open .part files are set aside by the next crawl.
            logger.error("crawl %s stopped: %s; no manifest written", self.options.crawl_id, self.write_error)
            return
        try:
            self._commit()
        except OSError as exc:
            self._write_failed(exc, "the files at the end of the crawl", stop=False)  # already closing

    def _stat(self, key: str) -> int:
        return int(self.stats.get_value(f"newsarchive/{key}", 0) or 0) if self.stats is not None else 0

    def _stat_reasons(self, prefix: str) -> dict[str, int]:
        if self.stats is None:
            return {}
        start = f"newsarchive/{prefix}/"
        return {
            key[len(start) :]: int(value)
            for key, value in sorted(self.stats.get_stats().items())
            if key.startswith(start)
        }

    def summary(self) -> dict[str, Any]:
        """The manifest summary: the five outcomes of the items handled, then the crawl's outcomes and reasons."""
        found = self._stat("articles_found")
        # An incremental crawl does not fetch what the archive holds: unchanged all the same.
        known = self._stat("known_not_fetched")
        counts = {
            "archived": self.counts["archived"],
            "unchanged": self.counts["unchanged"] + known,
            "new_version": self.counts["new_version"],
            "quarantined": self.counts["quarantined"],  # pages in quarantine/
            "skipped": self.counts["skipped"],  # skip entries in quarantine/ and duplicates, written nowhere
        }
        outcomes = {**counts, "out_of_range": self._stat("out_of_range"), "over_limit": self._stat("over_limit")}
        return {
            **counts,
            "items": sum(counts.values()),
            "unchanged_fetched": self.counts["unchanged"],
            "known_not_fetched": known,
            "articles_found": found,
            "outcomes": outcomes,
            "unaccounted": found - sum(outcomes.values()),
            "skip_entries": self.skip_entries,
            "quarantined_by_reason": dict(sorted(self.quarantine_reasons.items())),
            "skipped_by_reason": dict(sorted(self.skip_reasons.items())),
            "pages": {
                "found": self._stat("pages_found"),
                "fetched": self._stat("pages_fetched"),
                "skipped": self._stat("pages_skipped"),
                "unaccounted": self._stat("pages_found") - self._stat("pages_fetched") - self._stat("pages_skipped"),
                "skipped_by_reason": self._stat_reasons("pages_skipped"),
                "pagination_stopped": self._stat_reasons("pagination_stopped"),
            },
            "links": self._stat_reasons("links"),
            "warc_responses": self.captures["responses"],
            "warc_revisits": self.captures["revisits"],
            "elapsed_seconds": round(time.monotonic() - self._started, 3),
        }

    def _commit(self) -> None:
        files: list[ClosedFile] = []
        # The WARC first: committed records must never point into a WARC file a crash could still lose.
        for writer in (self.warc, self.articles, self.quarantine):
            if writer is not None:
                files += writer.close()
        if self.index is not None:
            self.index.save()
        summary = self.summary()
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


class ArchiveWriteError(RuntimeError):
    """The archive directory cannot be written (read-only, not a directory, disk full); the message says which and why."""
