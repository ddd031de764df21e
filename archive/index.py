"""What the archive already holds: article id -> latest (text_sha256, version, url), to decide new/unchanged/new_version.
The committed article files are the truth; index.json is only a cache, rebuilt whenever it no longer matches them."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .layout import ArchiveLayout, committed_jsonl, leftover_files
from .reader import iter_records
from .schema import SCHEMA_VERSION
from .writer import write_json_atomic

logger = logging.getLogger(__name__)

NEW = "new"
UNCHANGED = "unchanged"
NEW_VERSION = "new_version"


@dataclass(frozen=True)
class IndexEntry:
    text_sha256: str
    version: int
    url: str


def file_fingerprint(root: Path) -> dict[str, int]:
    """name -> size of every committed article file; committed files never change, so this detects staleness."""
    return {f.name: f.path.stat().st_size for f in committed_jsonl(ArchiveLayout(root).articles_dir)}


class ArchiveIndex:
    """In-memory index with decide()/record(); open() loads index.json or rebuilds it from the article files."""

    def __init__(self, root: Path | str, entries: dict[str, IndexEntry] | None = None, fingerprint: dict[str, int] | None = None):
        self.root = Path(root)
        self.entries: dict[str, IndexEntry] = dict(entries or {})
        self.fingerprint: dict[str, int] = dict(fingerprint or {})

    @classmethod
    def open(cls, root: Path | str) -> ArchiveIndex:
        """Load index.json if it matches the committed files; otherwise rebuild from them and save."""
        root = Path(root)
        loaded = cls._load(root)
        if loaded is not None and loaded.fingerprint == file_fingerprint(root):
            return loaded
        logger.info("index.json missing or stale in %s; rebuilding from the article files", root)
        index = cls.build(root)
        if root.is_dir():
            index.save()
        return index

    @classmethod
    def build(cls, root: Path | str) -> ArchiveIndex:
        """Scan every committed article file (no cache)."""
        root = Path(root)
        fingerprint = file_fingerprint(root)
        index = cls(root, fingerprint=fingerprint)
        for record in iter_records(root):
            index.record(record["id"], record["text_sha256"], record["version"], record["url"])
        return index

    @classmethod
    def _load(cls, root: Path) -> ArchiveIndex | None:
        path = ArchiveLayout(root).index_path
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
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

    def record(self, article_id: str, text_sha256: str, version: int, url: str) -> None:
        """Note that `version` of `article_id` is archived; older versions never replace newer ones."""
        entry = self.entries.get(article_id)
        if entry is not None and entry.version > version:
            return
        self.entries[article_id] = IndexEntry(text_sha256, version, url)

    def get(self, article_id: str) -> IndexEntry | None:
        return self.entries.get(article_id)

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self.entries

    def save(self) -> Path:
        """Write index.json atomically. Call after the crawl's writers are closed, so it matches the files on disk."""
        pending = [p.name for p in leftover_files(ArchiveLayout(self.root).articles_dir) if p.name.endswith(".part")]
        if pending:
            # Saving now would mark ids as archived whose records are not committed yet.
            raise RuntimeError(f"article files still being written ({', '.join(pending)}); close the JsonlWriter before saving the index")
        self.fingerprint = file_fingerprint(self.root)
        document: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "files": self.fingerprint,
            "articles": {key: [e.text_sha256, e.version, e.url] for key, e in sorted(self.entries.items())},
        }
        path = ArchiveLayout(self.root).index_path
        write_json_atomic(path, document)
        return path
