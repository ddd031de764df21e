"""The crawl ledger, ledger.jsonl at the archive root: one appended line when a crawl starts and one when it finishes.
A finished line carries the SHA-256 of the manifest, so a deleted or replaced manifest (and its crawl) is noticed."""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .layout import LEDGER_FILE, UnsafeNameError, check_name

logger = logging.getLogger(__name__)

STARTED = "started"
FINISHED = "finished"
# A finished line that `newsarchive merge` copied from another archive names it here; the crawl's manifest records
# that archive's ledger, not this one.
MERGED_FROM = "merged_from"


class LedgerError(ValueError):
    """The ledger cannot be appended to or read."""


@dataclass
class CrawlEntry:
    """What the ledger says about one crawl: the line numbers of its events and the manifest's hash."""

    crawl_id: str
    started_line: int | None = None
    started_at: str | None = None
    finished_line: int | None = None
    manifest_sha256: str | None = None
    merged_from: str | None = None  # the archive `newsarchive merge` copied the finished crawl from


@dataclass
class Ledger:
    """The parsed ledger: crawls by id, and the lines that could not be read (line number, problem)."""

    path: Path
    exists: bool
    crawls: dict[str, CrawlEntry] = field(default_factory=dict)
    problems: list[tuple[int, str]] = field(default_factory=list)

    def finished(self, crawl_id: str) -> bool:
        entry = self.crawls.get(crawl_id)
        return entry is not None and entry.finished_line is not None


def ledger_path(root: Path | str) -> Path:
    return Path(root) / LEDGER_FILE


def event_line(event: str, crawl_id: str, at: str, **fields: Any) -> bytes:
    """One ledger line: compact JSON and a newline (pure).

    >>> event_line("started", "crawl-1", "2025-08-26T00:21:00Z")
    b'{"event":"started","crawl_id":"crawl-1","at":"2025-08-26T00:21:00Z"}\\n'
    """
    if event not in (STARTED, FINISHED):
        raise LedgerError(f"unknown ledger event {event!r}: use {STARTED!r} or {FINISHED!r}")
    document = {"event": event, "crawl_id": check_name(crawl_id), "at": at, **fields}
    return (json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def append_event(root: Path | str, event: str, crawl_id: str, at: str, **fields: Any) -> None:
    """Append one event with a single write and fsync it; the file is never rewritten.

    Several writers append to one ledger (the workers of a distributed crawl, on one machine or several sharing the
    archive over NFS). One write of a short line in append mode is atomic on a local file system, but not across the
    clients of a network one; so each append also holds an exclusive POSIX record lock (lockf), which NFS honours
    and which makes its clients see each other's writes, from before the write until after the fsync.
    """
    data = event_line(event, crawl_id, at, **fields)
    path = ledger_path(root)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)  # closing releases the lock


def _parse(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    if not raw.endswith(b"\n"):
        return None, "truncated last line (no newline)"
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"not valid UTF-8 JSON: {exc}"
    if not isinstance(value, dict) or value.get("event") not in (STARTED, FINISHED):
        return None, 'not a ledger event (a JSON object with "event": "started" or "finished")'
    try:
        check_name(str(value.get("crawl_id", "")))
    except UnsafeNameError as exc:
        return None, f"bad crawl_id: {exc}"
    if value["event"] == FINISHED and not isinstance(value.get("manifest_sha256"), str):
        return None, "finished event without manifest_sha256"
    return value, None


def read_ledger(root: Path | str) -> Ledger:
    """Parse the ledger of the archive at `root` (an absent ledger gives an empty one with exists=False)."""
    path = ledger_path(root)
    ledger = Ledger(path, path.is_file() and not path.is_symlink())
    if not ledger.exists:
        return ledger
    try:
        with open(path, "rb") as handle:
            lines = list(handle)
    except OSError as exc:
        ledger.problems.append((0, f"cannot read the ledger: {exc}"))
        return ledger
    for number, raw in enumerate(lines, start=1):
        value, problem = _parse(raw)
        if value is None:
            ledger.problems.append((number, problem or "unreadable"))
            continue
        entry = ledger.crawls.setdefault(value["crawl_id"], CrawlEntry(value["crawl_id"]))
        if value["event"] == STARTED:
            if entry.started_line is None:
                entry.started_line, entry.started_at = number, value.get("at")
        else:
            entry.finished_line = number
            entry.manifest_sha256 = value["manifest_sha256"]
            entry.merged_from = value.get(MERGED_FROM)
    return ledger


def ledger_state(root: Path | str) -> dict[str, Any]:
    """Size and SHA-256 of the ledger as it is now (empty if absent): a manifest keeps them, so verify can tell that
    the lines before the crawl finished were not removed or edited afterwards, and that the ledger was not deleted."""
    data = read_locked(root)
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def read_locked(root: Path | str) -> bytes:
    """The ledger's bytes, read under a shared lock so that no append of another writer is caught half way."""
    path = ledger_path(root)
    if not path.is_file():
        return b""
    with open(path, "rb") as handle:
        fcntl.lockf(handle.fileno(), fcntl.LOCK_SH)
        return handle.read()


def prefix_sha256(path: Path, size: int) -> str | None:
    """SHA-256 of the first `size` bytes of `path`; None if it is shorter or unreadable."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(size)
    except OSError:
        return None
    return hashlib.sha256(data).hexdigest() if len(data) == size else None
