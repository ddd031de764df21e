"""newsarchive reclean: re-derive articles from their WARC captures with the current cleaner, without a re-crawl.
A changed text becomes a new version saying why; anything else writes nothing. Crash-safe like a crawl: its own run
id, the archive's lock and writers, the ledger, a manifest written last."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from archive.index import ArchiveIndex
from archive.layout import ArchiveLayout, ArchiveRootError, check_archive_root, new_crawl_id, utc_now_iso
from archive.ledger import STARTED, append_event
from archive.manifest import write_manifest
from archive.reader import ArchiveReadError, iter_records
from archive.schema import ARTICLE_FIELDS, SCHEMA_VERSION, text_sha256
from archive.warc import CAPTURE_READ_ERRORS
from archive.writer import DirectoryBusyError, JsonlWriter
from scraper.cleaner import CleanError, clean_page
from scraper.cleaner.version import cleaner_version

logger = logging.getLogger(__name__)

# The fields of the latest version a re-derived one keeps: the same fetch, the same capture.
CAPTURE_FIELDS = ("url", "fetched_at", "http_status", "content_sha256", "warc_file", "warc_record_id", "warc_offset")
MAX_CHUNK = 16  # captures a worker takes at once: few enough that the work spreads evenly over the workers


class RecleanError(ValueError):
    """An archive reclean cannot work on; the message says what to do."""


@dataclass(frozen=True)
class Latest:
    """What reclean keeps of an article's latest version while the cleaner works: everything but its text."""

    id: str
    version: int
    crawl_id: str
    cleaner_version: str | None
    text_sha256: str
    charset: str | None
    capture: dict[str, Any]

    @classmethod
    def of(cls, record: dict[str, Any]) -> Latest:
        """From a record; RecleanError if it lacks what every valid record has."""
        missing = [name for name in ("id", "version", "crawl_id", "text_sha256") if name not in record]
        if missing:
            raise RecleanError(
                f"a record of article {record.get('id')!r} lacks {', '.join(missing)}: the archive is damaged "
                "(run 'newsarchive verify' to find it)"
            )
        return cls(
            record["id"],
            record["version"],
            record["crawl_id"],
            record.get("cleaner_version"),
            record["text_sha256"],
            record.get("charset"),
            {name: record.get(name) for name in CAPTURE_FIELDS},
        )


@dataclass(frozen=True)
class Cleaned:
    """A worker's result for one capture: the cleaner's article, or why there is none (a skip reason and detail)."""

    id: str
    article: dict[str, Any] | None = None
    skip: str | None = None
    detail: str | None = None


@dataclass
class RecleanReport:
    """What a reclean run did; `summary()` is its manifest summary."""

    run_id: str
    root: Path
    cleaner_version: str
    workers: int
    articles: int = 0
    already_current: int = 0
    recleaned: int = 0
    new_version: int = 0
    unchanged: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        """The five outcomes every crawl manifest has (here: new_version, unchanged or skipped), then the details."""
        skipped = sum(self.skipped.values())
        counts = {
            "archived": 0,
            "unchanged": self.unchanged + self.already_current,
            "new_version": self.new_version,
            "quarantined": 0,
            "skipped": skipped,
        }
        return {
            **counts,
            "items": sum(counts.values()),
            "articles": self.articles,
            "already_current": self.already_current,
            "recleaned": self.recleaned,
            "unchanged_recleaned": self.unchanged,
            "skip_entries": 0,  # a skip keeps the latest version as it is, and writes nothing
            "skipped_by_reason": dict(sorted(self.skipped.items())),
            "cleaner_version": self.cleaner_version,
            "workers": self.workers,
            "elapsed_seconds": round(self.seconds, 3),
        }


def reclean_id() -> str:
    """A run id that names the run's files, sorts with crawl ids and says what wrote them: 20250102T030405Z-reclean-1a2b3c."""
    return new_crawl_id().replace("-", "-reclean-", 1)


def latest_versions(root: Path) -> Iterator[Latest]:
    """The latest version of every article, without its text."""
    for record in iter_records(root, latest_only=True):
        yield Latest.of(record)


def read_capture(warc_path: Path, offset: int) -> tuple[bytes, dict[str, str]]:
    """Body and HTTP headers of the response record at `offset`; ValueError if another kind of record is there."""
    with open(warc_path, "rb") as stream:
        stream.seek(offset)
        record = next(iter(ArchiveIterator(stream)))
        if record.rec_type != "response" or record.http_headers is None:
            raise ValueError(f"{warc_path.name}:{offset} holds a {record.rec_type!r} record, not a response")
        headers = {name: value for name, value in record.http_headers.headers}
        return record.content_stream().read(), headers


def clean_capture(task: tuple[str, str, int, str]) -> Cleaned:
    """Run in a worker: clean the capture of one article. `task` is (article id, WARC path, offset, URL)."""
    ident, warc_path, offset, url = task
    try:
        body, headers = read_capture(Path(warc_path), offset)
    except CAPTURE_READ_ERRORS as exc:
        return Cleaned(ident, skip="capture_unreadable", detail=f"{warc_path}:{offset}: {exc}")
    try:
        article = clean_page(body, url=url, headers=headers)
    except CleanError as exc:
        return Cleaned(ident, skip=exc.reason, detail=str(exc))
    return Cleaned(ident, article=article.to_dict())


def why(latest: Latest, current: str) -> str:
    """The reason a re-derived version gives."""
    before = f"cleaner {latest.cleaner_version}" if latest.cleaner_version else "a cleaner older than cleaner_version"
    return (
        f"reclean: cleaner {current} restores the capture of version {latest.version} to another text than {before} did"
    )


def derive_record(latest: Latest, article: dict[str, Any], run_id: str, current: str) -> dict[str, Any]:
    """The next version of an article, re-derived from its latest version's capture: that fetch and capture, the new
    cleaner's fields, and `derived_from` and `reason` saying where it comes from and why it was written."""
    capture = latest.capture
    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "id": latest.id,
        "url": capture["url"],
        "version": latest.version + 1,
        "crawl_id": run_id,
        "fetched_at": capture["fetched_at"],
        "http_status": capture["http_status"],
        "charset": article.get("charset") or latest.charset,
        "content_sha256": capture["content_sha256"],
        "text_sha256": text_sha256(article["text"]),
    }
    record.update({name: article[name] for name in ARTICLE_FIELDS})
    record.update({name: capture[name] for name in ("warc_file", "warc_record_id", "warc_offset")})
    record["derived_from"] = {
        "crawl_id": latest.crawl_id,
        "version": latest.version,
        "cleaner_version": latest.cleaner_version,
    }
    record["reason"] = why(latest, current)
    return record


def _cleaned(tasks: list[tuple[str, str, int, str]], workers: int) -> Iterator[Cleaned]:
    """clean_capture over every task, in order, on `workers` processes (in this one for a single worker)."""
    if workers == 1 or len(tasks) < 2:
        yield from map(clean_capture, tasks)
        return
    chunk = max(1, min(MAX_CHUNK, len(tasks) // (workers * 4)))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(clean_capture, tasks, chunksize=chunk)


def reclean_archive(directory: Path | str, workers: int | None = None, *, max_records: int = 10_000) -> RecleanReport:
    """Re-derive the latest version of every article whose cleaner_version is not the current one.

    Raises ArchiveRootError (not an archive), DirectoryBusyError (a crawl or reclean is writing), ArchiveReadError or
    RecleanError (a damaged file), or OSError (the archive cannot be written; what was committed before stays whole).
    """
    root = check_archive_root(Path(directory))
    layout = ArchiveLayout(root)
    layout.ensure_dirs()
    current = cleaner_version()
    report = RecleanReport(reclean_id(), root, current, workers or os.cpu_count() or 1)
    started_at, started = utc_now_iso(), time.monotonic()
    with JsonlWriter(layout.articles_dir, report.run_id, max_records=max_records) as writer:  # takes the lock
        append_event(root, STARTED, report.run_id, started_at)
        index = ArchiveIndex.open(root)
        stale: dict[str, Latest] = {}
        tasks = []
        for latest in latest_versions(root):
            report.articles += 1
            warc_file, offset = latest.capture["warc_file"], latest.capture["warc_offset"]
            if latest.cleaner_version == current:
                report.already_current += 1
            elif not isinstance(warc_file, str) or not isinstance(offset, int):
                report.skipped["no_capture"] += 1  # crawled with ARCHIVE_WARC_ENABLED=false
            else:
                stale[latest.id] = latest
                tasks.append((latest.id, str(layout.warc_dir / warc_file), offset, latest.capture["url"]))
        logger.info("%d of %d articles to re-derive with %d workers", len(tasks), report.articles, report.workers)
        for cleaned in _cleaned(tasks, report.workers):
            latest = stale.pop(cleaned.id)
            if cleaned.article is None:
                logger.warning("article %s kept as it is: %s (%s)", cleaned.id, cleaned.skip, cleaned.detail)
                report.skipped[str(cleaned.skip)] += 1
                continue
            report.recleaned += 1
            if text_sha256(cleaned.article["text"]) == latest.text_sha256:
                report.unchanged += 1
                continue
            record = derive_record(latest, cleaned.article, report.run_id, current)
            writer.write(record)
            index.add_record(record, writer.current_name)
            report.new_version += 1
    index.save()
    report.seconds = time.monotonic() - started
    settings = {"command": "reclean", "cleaner_version": current, "workers": report.workers, "max_records": max_records}
    write_manifest(root, report.run_id, started_at, utc_now_iso(), settings, writer.closed_files, report.summary())
    return report


def report_lines(report: RecleanReport) -> list[str]:
    """The run's summary as a table."""
    rate = report.recleaned / report.seconds if report.seconds else 0.0
    rows = [
        ("articles", report.articles),
        ("already current", report.already_current),
        ("recleaned", report.recleaned),
        ("  new versions", report.new_version),
        ("  text unchanged", report.unchanged),
        ("skipped (kept as they are)", sum(report.skipped.values())),
        *((f"  {reason}", count) for reason, count in sorted(report.skipped.items())),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"reclean {report.run_id} -> {report.root} (cleaner {report.cleaner_version}, {report.workers} workers)"]
    lines += [f"  {label:<{width}}  {value:>7}" for label, value in rows]
    lines.append(f"  {'time taken':<{width}}  {report.seconds:>7.1f} s ({rate:.0f} articles/s)")
    return lines


def reclean_main(argv: list[str] | None = None) -> int:
    """newsarchive reclean DIR [--workers N]: exit 0 when the run finished (skips included), 1 on an error."""
    parser = argparse.ArgumentParser(
        prog="newsarchive reclean",
        description="Re-derive every article from its WARC capture with the current cleaner: a changed text becomes "
        "a new version saying why, an unchanged one writes nothing.",
    )
    parser.add_argument("directory", type=Path, help="archive root (holds articles/, warc/, manifests/)")
    parser.add_argument(
        "--workers", type=int, metavar="N", help=f"cleaner processes (default: every core, {os.cpu_count()} here)"
    )
    args = parser.parse_args(argv)
    if args.workers is not None and args.workers < 1:
        parser.error("--workers needs a positive number")
    try:
        report = reclean_archive(args.directory, args.workers)
    except (ArchiveRootError, ArchiveReadError, DirectoryBusyError, RecleanError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(
            f"error: cannot write to the archive {args.directory}: {exc.strerror or exc}. The files committed before "
            f"are whole (newsarchive verify {args.directory}); free space and run reclean again",
            file=sys.stderr,
        )
        return 1
    print("\n".join(report_lines(report)))
    return 0
