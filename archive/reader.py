"""Reading committed archive files without Scrapy: article and quarantine records as dicts, in a stable order.
Files still being written (.part) or set aside after a crash are never read."""

from __future__ import annotations

import gzip
import io
import json
import logging
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from .layout import WARC, ArchiveFile, ArchiveLayout, committed_jsonl, committed_warcs
from .manifest import load_manifests

logger = logging.getLogger(__name__)

_UNKNOWN_START = datetime.max.replace(tzinfo=UTC)


class ArchiveReadError(ValueError):
    """A committed file that cannot be read as JSONL; carries file and line."""

    def __init__(self, path: Path, line: int, message: str):
        self.path = path
        self.line = line
        super().__init__(
            f"{path}:{line}: {message} (run 'newsarchive verify {path.parent.parent}' to see every problem)"
        )


class Line(NamedTuple):
    number: int
    data: bytes
    terminated: bool


def open_binary(path: Path) -> gzip.GzipFile | io.BufferedReader:
    """Open a .jsonl or .jsonl.gz file for binary reading."""
    return gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")


def iter_lines(path: Path) -> Iterator[Line]:
    """Raw lines of a JSONL file; `terminated` is False for a last line with no newline (a truncated write)."""
    # Binary iteration splits on b"\n" only; text mode would also split on U+2028 inside Chinese text.
    with open_binary(path) as handle:
        for number, raw in enumerate(handle, start=1):
            terminated = raw.endswith(b"\n")
            yield Line(number, raw[:-1] if terminated else raw, terminated)


def parse_line(path: Path, line: Line) -> dict[str, Any]:
    """Decode one line into a dict, or raise ArchiveReadError naming file and line."""
    if not line.terminated:
        raise ArchiveReadError(path, line.number, "last line has no newline: the file was truncated")
    try:
        value = json.loads(line.data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArchiveReadError(path, line.number, f"not valid UTF-8 JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ArchiveReadError(path, line.number, "line is not a JSON object")
    return value


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Records of one committed file; raises ArchiveReadError on the first damaged line."""
    try:
        for line in iter_lines(path):
            yield parse_line(path, line)
    except (EOFError, OSError, zlib.error) as exc:  # zlib.error: flipped bytes inside the compressed data
        raise ArchiveReadError(path, 0, f"damaged gzip stream: {exc}") from exc


def parse_instant(value: Any) -> datetime | None:
    """An aware datetime from an ISO 8601 string (UTC if it names no zone), None if absent or unparsable.

    >>> parse_instant("2025-08-26T00:21:05Z"), parse_instant("yesterday")
    (datetime.datetime(2025, 8, 26, 0, 21, 5, tzinfo=datetime.timezone.utc), None)
    """
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _first_fetched_at(path: Path) -> datetime | None:
    try:
        for line in iter_lines(path):
            return parse_instant(json.loads(line.data).get("fetched_at"))
    except (EOFError, OSError, ValueError, AttributeError, zlib.error):
        return None
    return None


def _listed_or_unfinished(archive_file: ArchiveFile, kind: str, manifests: dict[str, dict[str, Any]]) -> bool:
    """False for a file under a finished crawl's name that its manifest does not list: added later, never read."""
    manifest = manifests.get(archive_file.prefix)
    if manifest is None:
        return True
    if any(entry["kind"] == kind and entry["name"] == archive_file.name for entry in manifest["files"]):
        return True
    logger.warning(
        "%s is not listed in the manifest of crawl %s, so it is not read (run 'newsarchive verify')",
        archive_file.path,
        archive_file.prefix,
    )
    return False


def ordered_files(root: Path | str, kind_dir: Path) -> list[ArchiveFile]:
    """Committed files of a directory, ordered by crawl start (manifest, else first fetched_at) then sequence."""
    manifests = load_manifests(root)
    files = [f for f in committed_jsonl(kind_dir) if _listed_or_unfinished(f, kind_dir.name, manifests)]
    starts: dict[str, datetime] = {}
    for f in files:  # files are sorted by (prefix, seq), so the first seen is the crawl's first file
        if f.prefix not in starts:
            started = parse_instant(manifests.get(f.prefix, {}).get("started_at")) or _first_fetched_at(f.path)
            starts[f.prefix] = started or _UNKNOWN_START
    return sorted(files, key=lambda f: (starts[f.prefix], f.prefix, f.seq))


def readable_warcs(root: Path | str) -> list[ArchiveFile]:
    """Committed WARC files of the archive that the readers use: a finished crawl's only if its manifest lists them."""
    manifests = load_manifests(root)
    warcs = committed_warcs(ArchiveLayout(Path(root)).warc_dir)
    return [warc for warc in warcs if _listed_or_unfinished(warc, WARC, manifests)]


def _iter_all(root: Path | str, kind_dir: Path) -> Iterator[dict[str, Any]]:
    for archive_file in ordered_files(root, kind_dir):
        yield from read_jsonl(archive_file.path)


def iter_records(directory: Path | str, latest_only: bool = False) -> Iterator[dict[str, Any]]:
    """Article records of the archive rooted at `directory`, oldest crawl first.

    With latest_only=True only the highest version of each id is yielded (two passes, so memory
    stays proportional to the number of ids, not records).
    """
    root = Path(directory)
    articles = ArchiveLayout(root).articles_dir
    if not latest_only:
        yield from _iter_all(root, articles)
        return
    latest: dict[Any, int] = {}  # keyed by whatever "id" holds: records are not validated here
    for record in _iter_all(root, articles):
        if record.get("version", 0) > latest.get(record.get("id"), 0):
            latest[record["id"]] = record["version"]
    for record in _iter_all(root, articles):
        if latest.get(record.get("id")) == record.get("version"):
            del latest[record["id"]]  # a duplicate (id, version) is yielded once
            yield record


def iter_quarantine(directory: Path | str) -> Iterator[dict[str, Any]]:
    """Quarantine records of the archive rooted at `directory`, oldest crawl first."""
    root = Path(directory)
    yield from _iter_all(root, ArchiveLayout(root).quarantine_dir)
