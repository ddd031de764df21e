"""The browse index: an SQLite database of an archive's records and quarantine lines.
Built once per set of committed files and kept outside the archive (a cache directory, or memory), so that list
pages are answered without a scan."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..layout import ArchiveFile, ArchiveLayout, committed_jsonl
from ..manifest import manifest_paths
from ..reader import ArchiveReadError, iter_lines, ordered_files, parse_line

logger = logging.getLogger(__name__)

# Bumped whenever the tables change, so that an older cache file is rebuilt instead of misread.
INDEX_FORMAT = 1
PAGE_SIZE = 50
DAY_LENGTH = len("2025-08-26")

_TABLES = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE problems (file TEXT NOT NULL, line INTEGER NOT NULL, message TEXT NOT NULL);
CREATE TABLE records (
    rid INTEGER PRIMARY KEY, id TEXT NOT NULL, version INTEGER NOT NULL, crawl_id TEXT, fetched_at TEXT,
    text_sha256 TEXT, file TEXT NOT NULL, line INTEGER NOT NULL, body BLOB NOT NULL, UNIQUE (id, version));
CREATE TABLE articles (
    id TEXT PRIMARY KEY, rid INTEGER NOT NULL, version INTEGER NOT NULL, versions INTEGER NOT NULL,
    title TEXT, published_at TEXT, day TEXT, section TEXT, repairs INTEGER, unrecoverable INTEGER NOT NULL,
    search TEXT NOT NULL);
CREATE INDEX articles_by_time ON articles (published_at DESC, id);
CREATE INDEX articles_by_section ON articles (section, published_at DESC);
CREATE TABLE quarantine (
    qid INTEGER PRIMARY KEY, url TEXT, outcome TEXT NOT NULL, reason TEXT, detail TEXT, fetched_at TEXT,
    crawl_id TEXT, http_status INTEGER, warc_file TEXT, warc_offset INTEGER, file TEXT NOT NULL, line INTEGER NOT NULL);
CREATE INDEX quarantine_by_outcome ON quarantine (outcome, reason);
"""
# A later version replaces the listed one; a version seen again (a duplicate) changes nothing.
_UPSERT_ARTICLE = """
INSERT INTO articles (id, rid, version, versions, title, published_at, day, section, repairs, unrecoverable, search)
VALUES (:id, :rid, :version, 1, :title, :published_at, :day, :section, :repairs, :unrecoverable, :search)
ON CONFLICT (id) DO UPDATE SET
    versions = versions + 1,
    rid = CASE WHEN excluded.version > version THEN excluded.rid ELSE rid END,
    title = CASE WHEN excluded.version > version THEN excluded.title ELSE title END,
    published_at = CASE WHEN excluded.version > version THEN excluded.published_at ELSE published_at END,
    day = CASE WHEN excluded.version > version THEN excluded.day ELSE day END,
    section = CASE WHEN excluded.version > version THEN excluded.section ELSE section END,
    repairs = CASE WHEN excluded.version > version THEN excluded.repairs ELSE repairs END,
    unrecoverable = CASE WHEN excluded.version > version THEN excluded.unrecoverable ELSE unrecoverable END,
    search = CASE WHEN excluded.version > version THEN excluded.search ELSE search END,
    version = MAX(excluded.version, version)
"""


@dataclass(frozen=True)
class Filters:
    """What the article list is narrowed to; empty strings mean no filter."""

    query: str = ""
    section: str = ""
    day_from: str = ""
    day_to: str = ""
    page: int = 1


@dataclass(frozen=True)
class ArticleRow:
    id: str
    title: str | None
    published_at: str | None
    section: str | None
    version: int
    versions: int
    repairs: int | None
    unrecoverable: int


@dataclass(frozen=True)
class Page:
    """One page of a list: the rows, how many match in all, and which page this is."""

    rows: list[Any]
    total: int
    page: int
    page_size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return page_count(self.total, self.page_size)


def page_count(total: int, page_size: int) -> int:
    return max(1, -(-total // page_size))


def page_within(asked: int, total: int, page_size: int) -> int:
    """The page to show when `asked` for: a page past the end shows the last one, one before the start the first.

    >>> [page_within(asked, 120, 50) for asked in (0, 1, 3, 9)]
    [1, 1, 3, 3]
    """
    return min(max(1, asked), page_count(total, page_size))


@dataclass(frozen=True)
class VersionRow:
    version: int
    crawl_id: str | None
    fetched_at: str | None
    text_sha256: str | None
    rid: int


@dataclass(frozen=True)
class QuarantineRow:
    qid: int
    url: str | None
    outcome: str
    reason: str | None
    detail: str | None
    fetched_at: str | None
    crawl_id: str | None
    http_status: int | None
    warc_file: str | None
    warc_offset: int | None
    file: str
    line: int


@dataclass(frozen=True)
class Problem:
    """A damaged spot the index had to step over: FILE:LINE and what is wrong."""

    file: str
    line: int
    message: str

    def format(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


@dataclass
class _Counts:
    problems: list[Problem] = field(default_factory=list)
    records: int = 0
    quarantine: int = 0


def default_cache_dir() -> Path:
    """Where index files live: $XDG_CACHE_HOME/newsarchive/browse, else ~/.cache/newsarchive/browse."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "newsarchive" / "browse"


def fingerprint(root: Path) -> str:
    """Names, sizes and modification times of the committed files the index is built from, as one string.

    Committed files never change, so a new crawl (or a damaged or replaced file) changes this.
    """
    layout = ArchiveLayout(root)
    entries = []
    files = committed_jsonl(layout.articles_dir) + committed_jsonl(layout.quarantine_dir)
    for path in [f.path for f in files] + manifest_paths(root):
        try:
            stat = path.stat()
        except FileNotFoundError:  # removed since the listing: the next look sees the change
            continue
        entries.append([path.parent.name, path.name, stat.st_size, stat.st_mtime_ns])
    return json.dumps([INDEX_FORMAT, entries])


def cache_file(root: Path, cache_dir: Path) -> Path | None:
    """The index file of `root` inside `cache_dir`; None when that would be inside the archive itself."""
    root, cache_dir = root.resolve(), cache_dir.resolve()
    if cache_dir == root or root in cache_dir.parents:
        return None
    return cache_dir / f"{hashlib.sha256(str(root).encode('utf-8')).hexdigest()[:20]}.sqlite"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _day(published_at: str | None) -> str | None:
    """The portal-local date of an ISO 8601 time with offset (its first ten characters)."""
    if published_at and len(published_at) >= DAY_LENGTH and published_at[4] == "-" and published_at[7] == "-":
        return published_at[:DAY_LENGTH]
    return None


def _article_values(record: dict[str, Any], rid: int, convert: Callable[[str], str]) -> dict[str, Any]:
    """The list columns of one record; repairs is None when the record predates them (schema version 1)."""
    cleaning = record.get("cleaning") if isinstance(record.get("cleaning"), dict) else {}
    repairs = cleaning.get("repairs") if isinstance(cleaning, dict) else None
    unrecoverable = cleaning.get("unrecoverable") if isinstance(cleaning, dict) else None
    title = _text(record.get("title"))
    title_hans = _text(record.get("title_hans")) or (convert(title) if title else "")
    text_hans = _text(record.get("text_hans"))
    if text_hans is None:
        text_hans = convert(_text(record.get("text")) or "")
    published_at = _text(record.get("published_at"))
    return {
        "id": record["id"],
        "rid": rid,
        "version": record["version"],
        "title": title,
        "published_at": published_at,
        "day": _day(published_at),
        "section": _text(record.get("section")),
        "repairs": sum(1 for r in repairs if isinstance(r, dict) and r.get("kind") != "unrecoverable")
        if isinstance(repairs, list)
        else None,
        "unrecoverable": len(unrecoverable) if isinstance(unrecoverable, list) else 0,
        # Searched in Simplified form: the query is converted with the same t2s, so either script finds it.
        "search": f"{title_hans}\n{text_hans}",
    }


def _identity(record: dict[str, Any]) -> str | None:
    """Why a record cannot be indexed (no usable id or version), or None."""
    if not isinstance(record.get("id"), str) or not record["id"]:
        return "record has no string 'id'; it is not shown"
    version = record.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return f"record {record['id']} has no positive integer 'version'; it is not shown"
    return None


def _lines(archive_file: ArchiveFile, counts: _Counts) -> Iterator[tuple[int, bytes, dict[str, Any]]]:
    """(line number, raw line, record) of a file; damaged lines and a damaged gzip stream become problems."""
    name = f"{archive_file.path.parent.name}/{archive_file.name}"
    try:
        for line in iter_lines(archive_file.path):
            try:
                record = parse_line(archive_file.path, line)
            except ArchiveReadError as exc:
                message = str(exc).split(": ", 1)[1] if ": " in str(exc) else str(exc)
                counts.problems.append(Problem(name, line.number, message))
                continue
            yield line.number, line.data, record
    except (EOFError, OSError, gzip.BadGzipFile, zlib.error) as exc:
        counts.problems.append(
            Problem(name, 0, f"damaged gzip stream, the lines after the damage are not shown ({exc})")
        )


def _build(connection: sqlite3.Connection, root: Path, convert: Callable[[str], str], stamp: str) -> _Counts:
    layout = ArchiveLayout(root)
    counts = _Counts()
    connection.executescript(_TABLES)
    for archive_file in ordered_files(root, layout.articles_dir):
        for number, raw, record in _lines(archive_file, counts):
            _add_record(connection, archive_file, number, raw, record, counts, convert)
    for archive_file in ordered_files(root, layout.quarantine_dir):
        for number, _, entry in _lines(archive_file, counts):
            _add_quarantine(connection, archive_file, number, entry)
            counts.quarantine += 1
    connection.executemany(
        "INSERT INTO problems VALUES (?, ?, ?)", [(p.file, p.line, p.message) for p in counts.problems]
    )
    connection.executemany(
        "INSERT INTO meta VALUES (?, ?)", [("fingerprint", stamp), ("root", str(root)), ("format", str(INDEX_FORMAT))]
    )
    connection.commit()
    return counts


def _add_record(
    connection: sqlite3.Connection,
    archive_file: ArchiveFile,
    number: int,
    raw: bytes,
    record: dict[str, Any],
    counts: _Counts,
    convert: Callable[[str], str],
) -> None:
    name = f"articles/{archive_file.name}"
    problem = _identity(record)
    if problem:
        counts.problems.append(Problem(name, number, problem))
        return
    cursor = connection.execute(
        "INSERT OR IGNORE INTO records (id, version, crawl_id, fetched_at, text_sha256, file, line, body)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            record["id"],
            record["version"],
            _text(record.get("crawl_id")),
            _text(record.get("fetched_at")),
            _text(record.get("text_sha256")),
            archive_file.name,
            number,
            zlib.compress(raw, 1),
        ),
    )
    if cursor.rowcount == 0:
        counts.problems.append(
            Problem(
                name, number, f"duplicate of article {record['id']} version {record['version']}; the first is shown"
            )
        )
        return
    counts.records += 1
    connection.execute(_UPSERT_ARTICLE, _article_values(record, int(cursor.lastrowid or 0), convert))


def _add_quarantine(
    connection: sqlite3.Connection, archive_file: ArchiveFile, number: int, entry: dict[str, Any]
) -> None:
    offset = entry.get("warc_offset")
    status = entry.get("http_status")
    connection.execute(
        "INSERT INTO quarantine (url, outcome, reason, detail, fetched_at, crawl_id, http_status, warc_file,"
        " warc_offset, file, line) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            _text(entry.get("url")),
            # Lines written before `outcome` existed are all quarantined pages.
            "skipped" if entry.get("outcome") == "skipped" else "quarantined",
            _text(entry.get("reason")),
            _text(entry.get("detail")),
            _text(entry.get("fetched_at")),
            _text(entry.get("crawl_id")),
            status if isinstance(status, int) else None,
            _text(entry.get("warc_file")),
            offset if isinstance(offset, int) else None,
            archive_file.name,
            number,
        ),
    )


def open_cached(path: Path | None, stamp: str) -> sqlite3.Connection | None:
    """The index kept in `path`, if it was built from the committed files `stamp` names; else None."""
    if path is None or not path.is_file():
        return None
    try:
        connection = sqlite3.connect(path, check_same_thread=False)
        row = connection.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
    except sqlite3.Error as exc:
        logger.warning("ignoring unreadable index %s (%s); rebuilding it", path, exc)
        return None
    if row and row[0] == stamp:
        logger.info("using the index in %s", path)
        return connection
    connection.close()
    return None


def build_file(path: Path, root: Path, convert: Callable[[str], str], stamp: str) -> sqlite3.Connection:
    """Build the index of `root` into `path` (under a temporary name, then renamed) and open it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.part")
    temporary.unlink(missing_ok=True)
    building = sqlite3.connect(temporary)
    try:
        building.execute("PRAGMA journal_mode = OFF")
        building.execute("PRAGMA synchronous = OFF")
        _build(building, root, convert, stamp)
    except BaseException:
        building.close()
        temporary.unlink(missing_ok=True)
        raise
    building.close()
    os.replace(temporary, path)
    logger.info("index of %s written to %s", root, path)
    return sqlite3.connect(path, check_same_thread=False)


class BrowseIndex:
    """The index of one archive; reopened or rebuilt when the archive's committed files change.

    One connection shared by the server's threads behind a lock: every query is short.
    """

    def __init__(self, root: Path, convert: Callable[[str], str], cache_dir: Path | None = None):
        self.root = Path(root).resolve()
        self.convert = convert
        self.cache_path = cache_file(self.root, cache_dir) if cache_dir is not None else None
        self._lock = threading.RLock()
        self._stamp = ""
        self._connection: sqlite3.Connection | None = None
        self.built_seconds: float | None = None  # set when this process built the index
        self.refresh()

    def refresh(self) -> bool:
        """Make the index match the archive; True if it was (re)built or reopened."""
        stamp = fingerprint(self.root)
        with self._lock:
            if self._connection is not None and stamp == self._stamp:
                return False
            connection = open_cached(self.cache_path, stamp) or self._build_new(stamp)
            if self._connection is not None:
                self._connection.close()
            self._connection, self._stamp = connection, stamp
            return True

    def _build_new(self, stamp: str) -> sqlite3.Connection:
        started = time.monotonic()
        connection = None
        if self.cache_path is not None:
            try:
                connection = build_file(self.cache_path, self.root, self.convert, stamp)
            except (OSError, sqlite3.OperationalError) as exc:
                logger.warning("cannot keep the index in %s (%s); building it in memory", self.cache_path.parent, exc)
                self.cache_path = None
        if connection is None:
            connection = sqlite3.connect(":memory:", check_same_thread=False)
            _build(connection, self.root, self.convert, stamp)
        self.built_seconds = time.monotonic() - started
        return connection

    @contextmanager
    def _query(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            assert self._connection is not None
            yield self._connection

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    # Queries --------------------------------------------------------------------------------------------

    def articles(self, filters: Filters, page_size: int = PAGE_SIZE) -> Page:
        """One page of articles, newest publication first, narrowed by `filters`."""
        where, params = [], []
        if filters.section:
            where.append("section = ?")
            params.append(filters.section)
        if filters.day_from:
            where.append("day >= ?")
            params.append(filters.day_from)
        if filters.day_to:
            where.append("day <= ?")
            params.append(filters.day_to)
        query = filters.query.strip()
        if query:
            # `search` holds the Simplified title and text: the query in Simplified form finds either script.
            where.append("instr(search, ?) > 0")
            params.append(self.convert(query))
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self._query() as db:
            total = db.execute(f"SELECT count(*) FROM articles {clause}", params).fetchone()[0]
            page = page_within(filters.page, total, page_size)
            rows = db.execute(
                "SELECT id, title, published_at, section, version, versions, repairs, unrecoverable FROM articles "
                f"{clause} ORDER BY published_at IS NULL, published_at DESC, id LIMIT ? OFFSET ?",
                [*params, page_size, (page - 1) * page_size],
            ).fetchall()
        return Page([ArticleRow(*row) for row in rows], total, page, page_size)

    def sections(self) -> list[tuple[str, int]]:
        with self._query() as db:
            rows = db.execute(
                "SELECT section, count(*) FROM articles WHERE section IS NOT NULL GROUP BY section ORDER BY section"
            ).fetchall()
        return [(str(section), int(count)) for section, count in rows]

    def counts(self) -> dict[str, int]:
        """articles, records, quarantined, skipped and problems, for the header of every page."""
        with self._query() as db:
            articles = db.execute("SELECT count(*) FROM articles").fetchone()[0]
            records = db.execute("SELECT count(*) FROM records").fetchone()[0]
            outcomes = dict(db.execute("SELECT outcome, count(*) FROM quarantine GROUP BY outcome").fetchall())
            problems = db.execute("SELECT count(*) FROM problems").fetchone()[0]
        return {
            "articles": articles,
            "records": records,
            "quarantined": outcomes.get("quarantined", 0),
            "skipped": outcomes.get("skipped", 0),
            "problems": problems,
        }

    def problems(self) -> list[Problem]:
        with self._query() as db:
            rows = db.execute("SELECT file, line, message FROM problems ORDER BY rowid").fetchall()
        return [Problem(*row) for row in rows]

    def versions(self, article_id: str) -> list[VersionRow]:
        """Every archived version of an article, oldest first; empty if the id is unknown."""
        with self._query() as db:
            rows = db.execute(
                "SELECT version, crawl_id, fetched_at, text_sha256, rid FROM records WHERE id = ? ORDER BY version",
                (article_id,),
            ).fetchall()
        return [VersionRow(*row) for row in rows]

    def raw_record(self, rid: int) -> bytes:
        """The record's line exactly as stored in its articles/ file (without the newline)."""
        with self._query() as db:
            row = db.execute("SELECT body FROM records WHERE rid = ?", (rid,)).fetchone()
        if row is None:
            raise KeyError(rid)
        return zlib.decompress(row[0])

    def record(self, rid: int) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.raw_record(rid))
        return value

    def record_location(self, rid: int) -> tuple[str, int]:
        """(articles/ file name, line number) of a record."""
        with self._query() as db:
            row = db.execute("SELECT file, line FROM records WHERE rid = ?", (rid,)).fetchone()
        if row is None:
            raise KeyError(rid)
        return str(row[0]), int(row[1])

    def quarantine(self, outcome: str = "", reason: str = "", page: int = 1, page_size: int = PAGE_SIZE) -> Page:
        where, params = [], []
        if outcome:
            where.append("outcome = ?")
            params.append(outcome)
        if reason:
            where.append("reason = ?")
            params.append(reason)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self._query() as db:
            total = db.execute(f"SELECT count(*) FROM quarantine {clause}", params).fetchone()[0]
            page = page_within(page, total, page_size)
            rows = db.execute(
                f"SELECT * FROM quarantine {clause} ORDER BY qid LIMIT ? OFFSET ?",
                [*params, page_size, (page - 1) * page_size],
            ).fetchall()
        return Page([QuarantineRow(*row) for row in rows], total, page, page_size)

    def quarantine_reasons(self) -> list[tuple[str, str, int]]:
        """(outcome, reason, count) of every reason, most frequent first."""
        with self._query() as db:
            rows = db.execute(
                "SELECT outcome, coalesce(reason, ''), count(*) FROM quarantine GROUP BY outcome, reason"
                " ORDER BY outcome, count(*) DESC, reason"
            ).fetchall()
        return [(str(o), str(r), int(n)) for o, r, n in rows]

    def quarantine_entry(self, qid: int) -> QuarantineRow | None:
        with self._query() as db:
            row = db.execute("SELECT * FROM quarantine WHERE qid = ?", (qid,)).fetchone()
        return QuarantineRow(*row) if row else None
