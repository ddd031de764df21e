"""ArchivePipeline: the terminal stage, which writes everything a crawl keeps into ARCHIVE_DIR.
It opens the writers and the index, hands items to EntryWriter and responses to RawCapture, stops the crawl on a
write error and commits everything at the end."""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.http import Request, Response
from scrapy.settings import BaseSettings
from scrapy.utils.defer import deferred_from_coro

from archive.index import ArchiveIndex
from archive.layout import ArchiveLayout, check_name, utc_now_iso
from archive.ledger import STARTED, append_event
from archive.manifest import write_manifest
from archive.quarantine import QuarantineWriter
from archive.schema import normalize_record
from archive.warc import WarcCapture
from archive.writer import DirectoryBusyError, DirectoryWriter, JsonlWriter
from scraper.cluster.connection import REDIS_ERRORS
from scraper.cluster.extension import ClusterWorker
from scraper.cluster.index import SharedIndex
from scraper.pipelines.capture import RawCapture
from scraper.pipelines.entries import EntryWriter
from scraper.pipelines.manifest import commit_files, manifest_settings
from scraper.pipelines.worker import WorkerArchive
from scraper.summary import ARCHIVE_ERROR_STAT, MANIFEST_STAT, Counters, CrawlSummary

logger = logging.getLogger(__name__)

# The close reason when the archive directory cannot be written (disk full, read-only, file too large).
WRITE_ERROR_REASON = "archive_write_error"


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
    """The settings this pipeline reads, typed (their defaults are in scraper/settings.py)."""

    root: Path
    crawl_id: str
    max_records: int
    max_bytes: int
    compress: bool
    warc: bool

    @classmethod
    def read_settings(cls, settings: BaseSettings) -> ArchiveOptions:
        return cls(
            # ARCHIVE_DIR: archive root (articles/, quarantine/, warc/, manifests/, index.json).
            root=Path(settings["ARCHIVE_DIR"]),
            # ARCHIVE_CRAWL_ID: names the files and the manifest of this crawl; used once.
            crawl_id=check_name(settings["ARCHIVE_CRAWL_ID"]),
            # ARCHIVE_MAX_RECORDS / ARCHIVE_MAX_BYTES: roll over to a new JSONL part at either limit.
            max_records=settings.getint("ARCHIVE_MAX_RECORDS"),
            max_bytes=settings.getint("ARCHIVE_MAX_BYTES"),
            # ARCHIVE_COMPRESS: gzip the JSONL parts.
            compress=settings.getbool("ARCHIVE_COMPRESS"),
            # ARCHIVE_WARC_ENABLED: keep raw HTTP exchanges under warc/.
            warc=settings.getbool("ARCHIVE_WARC_ENABLED"),
        )


def open_writers(
    options: ArchiveOptions, layout: ArchiveLayout, commit_warc: Callable[[], None], group: str | None
) -> tuple[WarcCapture | None, JsonlWriter, QuarantineWriter]:
    """The crawl's writers, which take the directory locks (shared by the workers of distributed crawl `group`) and
    set aside what a killed crawl left half-written; the JSONL ones commit the WARC (`commit_warc`) before each file."""
    opened: list[DirectoryWriter] = []  # aborted if the next one is refused: their locks are released
    try:
        warc = None
        if options.warc:
            warc = WarcCapture(layout.warc_dir, options.crawl_id, info={"robots": "obey"}, lock_group=group)
            opened.append(warc)
        articles = JsonlWriter(
            layout.articles_dir,
            options.crawl_id,
            max_records=options.max_records,
            max_bytes=options.max_bytes,
            compress=options.compress,
            # ValidatePipeline checked every record that reaches the store (the fields set here, the
            # version and the WARC pointer, are ours): each record is validated once, not twice.
            validate=None,
            before_commit=commit_warc,
            lock_group=group,
        )
        opened.append(articles)
        quarantine = QuarantineWriter(
            layout.quarantine_dir,
            options.crawl_id,
            max_records=options.max_records,
            max_bytes=options.max_bytes,
            compress=options.compress,
            before_commit=commit_warc,
            lock_group=group,
        )
    except BaseException:
        for writer in opened:
            writer.abort()
        raise
    return warc, articles, quarantine


def check_archive_root(layout: ArchiveLayout, crawl_id: str) -> None:
    """Refuse a crawl id that was used in this archive, and a root that is a Python package, before anything opens."""
    manifest = layout.manifest_path(crawl_id)
    if manifest.exists():
        raise FileExistsError(f"{manifest} exists: crawl id {crawl_id!r} was used; pick a new ARCHIVE_CRAWL_ID")
    if (layout.root / "__init__.py").exists():
        # "archive" is also the name of our source package at the repo root.
        raise FileExistsError(
            f"ARCHIVE_DIR {layout.root} is a Python package, not an archive; pass -s ARCHIVE_DIR=<dir> (or --out)"
        )


class ArchivePipeline:
    """ArticleRecord, QuarantineRecord and SkippedUrl -> their entries in the archive (EntryWriter says which);
    every response the engine receives -> the WARC, through the `response_received` signal (RawCapture). The record
    written to articles/ goes on to feed exports (`scrapy crawl -o`); every other item ends here.

    The commit order and what a write error leaves behind are in docs/archive.md ("Commit order", "Write errors"):
    on an OSError the crawl stops with close reason `archive_write_error`, the stat `newsarchive/archive_error` says
    why, every writer is aborted and no manifest is written.
    """

    def __init__(self, crawler: Crawler, options: ArchiveOptions, cluster: ClusterWorker | None = None) -> None:
        self.crawler = crawler
        self.options = options
        # A worker of a distributed crawl: the crawl's index, and outcomes recorded in Redis once committed.
        self.worker = WorkerArchive(cluster, options.root) if cluster is not None else None
        self.layout = ArchiveLayout(options.root)
        self.counters = Counters(crawler)
        self.write_error: str | None = None
        self._opened = False
        self._started_at = ""
        self._started = 0.0
        self.index: ArchiveIndex | None = None
        self.warc: WarcCapture | None = None
        self.articles: JsonlWriter | None = None
        self.quarantine: QuarantineWriter | None = None
        self.capture: RawCapture | None = None
        self.entries: EntryWriter | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        cluster = crawler.get_extension(ClusterWorker)
        pipeline = cls(crawler, ArchiveOptions.read_settings(crawler.settings), cluster)
        # The signal sees every downloaded response, robots.txt fetched by RobotsTxtMiddleware included.
        crawler.signals.connect(pipeline.response_received, signal=signals.response_received)
        if cluster is not None and pipeline.worker is not None:
            cluster.on_idle.append(pipeline.commit_waiting)
            cluster.load_index = pipeline.worker.load_index
        return pipeline

    def open_spider(self) -> None:
        options = self.options
        check_archive_root(self.layout, options.crawl_id)
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
        # Writers first: they take the directory locks and set aside what a killed crawl left half-written.
        group = self.worker.group if self.worker is not None else None
        self.warc, self.articles, self.quarantine = open_writers(options, self.layout, self._commit_warc, group)
        if self.worker is not None:
            index: ArchiveIndex | SharedIndex = self.worker.open_index()
        else:
            index = self.index = ArchiveIndex.open(options.root)
        if self.warc is not None:
            self.capture = RawCapture(self.warc, index, self.counters)
        outcomes = self.worker.outcomes if self.worker is not None else None
        self.entries = EntryWriter(
            self.articles, self.quarantine, self.index, self.capture, options.crawl_id, self.counters, outcomes
        )
        logger.info(
            "archiving crawl %s into %s (%d articles already indexed)", options.crawl_id, options.root, len(index)
        )

    def _commit_warc(self) -> None:
        """Commit the open WARC file before a JSONL file whose records may point into it."""
        if self.warc is not None:
            self.warc.rotate()

    def _write_failed(self, exc: OSError, doing: str, stop: bool = True) -> None:
        """Stop the crawl: an archive that cannot be written must not go on fetching pages it will lose."""
        if self.write_error is None:
            self.write_error = write_error_message(self.options.root, exc, doing)
            logger.error(
                "%s; stopping the crawl (files committed before are whole; run again once fixed)", self.write_error
            )
            if self.crawler.stats is not None:
                self.crawler.stats.set_value(ARCHIVE_ERROR_STAT, self.write_error)
            if stop and self.crawler.crawling:  # a crawler that is running has an engine
                deferred_from_coro(self.crawler.engine.close_spider_async(reason=WRITE_ERROR_REASON))
        self._abort_writers()

    def _abort_writers(self) -> None:
        """Close every writer without committing: an open file may end in half a record."""
        for writer in (self.warc, self.articles, self.quarantine):
            if writer is not None:
                writer.abort()
        if self.worker is not None:
            self.worker.outcomes.forget()

    def cut_off(self, exc: Exception | None = None) -> bool:
        """True if this worker of a distributed crawl lost Redis (now, with `exc`) or its lease: it writes no more."""
        if self.worker is not None and exc is not None:
            self.worker.cluster.cut_off(exc)
        return self.worker is not None and self.worker.cluster.lease_lost

    def commit_waiting(self) -> None:
        """A worker of a distributed crawl ran out of work: commit what waits for it (WorkerArchive.commit_idle)."""
        if self.worker is None or self.write_error is not None:
            return
        try:
            if not self.worker.commit_idle((self.articles, self.quarantine)):
                self._abort_writers()  # taken for dead: the others redo this work
        except OSError as exc:
            self._write_failed(exc, "the files of an idle worker")

    def response_received(self, response: Response, request: Request, **kwargs: Any) -> None:
        """Capture one downloaded response (and its request) in the WARC."""
        if self.capture is None or self.write_error is not None or self.cut_off():
            return
        try:
            self.capture.capture_response(response, request)
        except OSError as exc:
            self._write_failed(exc, f"the WARC capture of {response.url}")
        except REDIS_ERRORS as exc:
            self.cut_off(exc)

    def process_item(self, item: Any) -> dict[str, Any]:
        """Store the item; an article record written to articles/ goes on, as written (fields in the same order),
        to feed exports and any later pipeline. Everything else ends here (DropItem, logged at DEBUG): unchanged and
        duplicate articles, quarantined pages and skips are counted in the manifest and written to quarantine/."""
        url = getattr(item, "url", None) or getattr(item, "record", {}).get("url")
        if self.write_error is not None or self.entries is None or self.cut_off():  # nothing more can be committed
            raise DropItem(f"not archived, the crawl is stopping: {url}", log_level="DEBUG")
        try:
            written = self.entries.write(item)
        except OSError as exc:
            self._write_failed(exc, f"the entry for {url}")
        except REDIS_ERRORS as exc:
            self.cut_off(exc)
        else:
            if self.worker is not None:
                self.worker.record_commits((self.articles, self.quarantine))  # a file may have rolled over
            if written is not None:
                return normalize_record(written)
        raise DropItem(f"no article record written for {url} (see the crawl summary)", log_level="DEBUG")

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
        if self.worker is not None and not self.worker.may_commit():
            self._abort_writers()  # taken for dead (the log says why): another worker does what this one left
            return
        try:
            self._commit()
        except OSError as exc:
            self._write_failed(exc, "the files at the end of the crawl", stop=False)  # already closing

    def summary(self) -> dict[str, Any]:
        """The manifest's summary of the crawl so far (docs/archive.md). A worker of a distributed crawl counts what
        it found and what it handled, which need not add up: the crawl's accounting is in the `cluster` block."""
        stats = self.crawler.stats.get_stats() if self.crawler.stats is not None else {}
        elapsed = time.monotonic() - self._started
        return CrawlSummary.from_stats(stats).manifest(elapsed, accounting=self.worker is None)

    def _commit(self) -> None:
        options = self.options
        # The WARC first: committed records must never point into a WARC file a crash could still lose.
        files = commit_files((self.warc, self.articles, self.quarantine), self.index)
        extra = None
        if self.worker is not None:
            self.worker.record_commits((self.articles, self.quarantine))
            extra = self.worker.manifest_extra()
        summary = self.summary()
        settings = manifest_settings(self.crawler.settings, self.crawler.spider)
        path = write_manifest(
            options.root, options.crawl_id, self._started_at, utc_now_iso(), settings, files, summary, extra
        )
        if self.crawler.stats is not None:
            self.crawler.stats.set_value(MANIFEST_STAT, str(path))
        logger.info("crawl %s: %s", options.crawl_id, ", ".join(f"{k} {v}" for k, v in summary.items()))


class ArchiveWriteError(RuntimeError):
    """The archive directory cannot be written (read-only, not a directory, disk full); the message says which and why."""
