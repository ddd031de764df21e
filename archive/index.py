"""What the archive already holds: article id -> latest version (text and body hashes, raw capture), for dedupe and versioning.
The committed article files are the truth; index.json is only a cache, rebuilt whenever it no longer matches them."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .layout import ArchiveLayout, committed_jsonl, leftover_files
from .reader import ordered_files, read_jsonl
from .schema import SCHEMA_VERSION
from .writer import write_json_atomic

logger = logging.getLogger(__name__)

NEW = "new"
UNCHANGED = "unchanged"
NEW_VERSION = "new_version"

# Layout of index.json's entries; a file of another format is rebuilt rather than misread.
INDEX_FORMAT = 2


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """The latest archived version of one article, and where its record and raw capture are.

    One per article in memory for the whole crawl: slots, and file names shared between entries.
    """

    text_sha256: str
    version: int
    url: str
    content_sha256: str | None = None
    warc_file: str | None = None
    warc_record_id: str | None = None
    warc_offset: int | None = None
    fetched_at: str | None = None
    file: str | None = None  # the articles/ file holding this version's record

    def as_list(self) -> list[Any]:
        return [
            self.text_sha256,
            self.version,
            self.url,
            self.content_sha256,
            self.warc_file,
            self.warc_record_id,
            self.warc_offset,
            self.fetched_at,
            self.file,
        ]


def file_fingerprint(root: Path) -> dict[str, int]:
    """name -> size of every committed article file; committed files never change, so this detects staleness."""
    return {f.name: f.path.stat().st_size for f in committed_jsonl(ArchiveLayout(root).articles_dir)}


def pending_parts(root: Path) -> list[str]:
    """Article files being written, or left by a killed writer until the next one sets them aside."""
    return [p.name for p in leftover_files(ArchiveLayout(root).articles_dir) if p.name.endswith(".part")]


class ArchiveIndex:
    """In-memory index with decide()/record(); open() loads index.json or rebuilds it from the article files."""

    def __init__(
        self, root: Path | str, entries: dict[str, IndexEntry] | None = None, fingerprint: dict[str, int] | None = None
    ):
        self.root = Path(root)
        self.entries: dict[str, IndexEntry] = dict(entries or {})
        self.fingerprint: dict[str, int] = dict(fingerprint or {})

    @classmethod
    def open(cls, root: Path | str) -> ArchiveIndex:
        """Load index.json if it matches the committed files; otherwise rebuild from them and save."""
        root = Path(root)
        loaded = cls._load(root)
        if loaded is not None and loaded.fingerprint == file_fingerprint(root) and not loaded.uncommitted():
            return loaded
        logger.info("index.json missing or stale in %s; rebuilding from the article files", root)
        index = cls.build(root)
        if root.is_dir() and not pending_parts(root):
            index.save()
        return index

    @classmethod
    def build(cls, root: Path | str) -> ArchiveIndex:
        """Scan every committed article file (no cache)."""
        root = Path(root)
        fingerprint = file_fingerprint(root)
        index = cls(root, fingerprint=fingerprint)
        for archive_file in ordered_files(root, ArchiveLayout(root).articles_dir):
            for record in read_jsonl(archive_file.path):
                index.add_record(record, archive_file.name)
        return index

    @classmethod
    def _load(cls, root: Path) -> ArchiveIndex | None:
        path = ArchiveLayout(root).index_path
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != INDEX_FORMAT:
                logger.info("%s has format %r, not %d; it will be rebuilt", path, data.get("format"), INDEX_FORMAT)
                return None
            entries = {key: IndexEntry(*value) for key, value in data["articles"].items()}
            return cls(root, entries, data["files"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("ignoring unreadable %s (%s); it will be rebuilt", path, exc)
            return None

    def decide(self, article_id: str, text_sha256: str) -> tuple[str, int]:
        """("new", 1) for an unseen id, ("unchanged", v) if the latest text matches, else ("new_version", v + 1)."""
        entry = self.entries.get(article_id)
        if entry is None:
            return NEW, 1
        if entry.text_sha256 == text_sha256:
            return UNCHANGED, entry.version
        return NEW_VERSION, entry.version + 1

    def record(self, article_id: str, text_sha256: str, version: int, url: str, **capture: Any) -> None:
        """Note that `version` of `article_id` is archived; older versions never replace newer ones.

        `capture` takes the other IndexEntry fields (content_sha256, warc_*, fetched_at, file).
        """
        entry = self.entries.get(article_id)
        if entry is not None and entry.version > version:
            return
        for name in ("warc_file", "file"):  # a few files hold thousands of articles: one string each
            if isinstance(capture.get(name), str):
                capture[name] = sys.intern(capture[name])
        self.entries[article_id] = IndexEntry(text_sha256, version, url, **capture)

    def add_record(self, record: dict[str, Any], file: str | None) -> None:
        """record() from an article record written to the articles/ file named `file`."""
        self.record(
            record["id"],
            record["text_sha256"],
            record["version"],
            record["url"],
            content_sha256=record.get("content_sha256"),
            warc_file=record.get("warc_file"),
            warc_record_id=record.get("warc_record_id"),
            warc_offset=record.get("warc_offset"),
            fetched_at=record.get("fetched_at"),
            file=file,
        )

    def uncommitted(self) -> list[str]:
        """Ids whose latest version lives in an articles/ file that is not committed (yet, or ever)."""
        return sorted(
            key for key, entry in self.entries.items() if entry.file is not None and entry.file not in self.fingerprint
        )

    def get(self, article_id: str) -> IndexEntry | None:
        return self.entries.get(article_id)

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self.entries

    def save(self) -> Path:
        """Write index.json atomically. Call after the crawl's writers are closed, so it matches the files on disk."""
        pending = pending_parts(self.root)
        if pending:
            # Saving now would mark ids as archived whose records are not committed yet.
            raise RuntimeError(
                f"article files still being written ({', '.join(pending)}); close the JsonlWriter before saving the index"
            )
        self.fingerprint = file_fingerprint(self.root)
        missing = self.uncommitted()
        if missing:
            # The index must never claim an article whose record could still be lost: incremental crawls trust it.
            raise RuntimeError(
                f"{len(missing)} indexed articles (e.g. {missing[0]}) are in files that are not committed; "
                "close the JsonlWriter before saving the index"
            )
        document: dict[str, Any] = {
            "format": INDEX_FORMAT,
            "schema_version": SCHEMA_VERSION,
            "files": self.fingerprint,
            "articles": {key: e.as_list() for key, e in sorted(self.entries.items())},
        }
        path = ArchiveLayout(self.root).index_path
        write_json_atomic(path, document)
        return path
