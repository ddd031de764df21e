"""What the archive already holds: article id -> latest version (text and body hashes, raw capture), for dedupe and versioning.
The committed article files are the truth; index.json is only a cache, rebuilt whenever it no longer matches them."""

from __future__ import annotations

import json
import logging
import re
import struct
import uuid
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .layout import ArchiveLayout, committed_jsonl, leftover_files
from .reader import ordered_files, read_jsonl
from .schema import SCHEMA_VERSION
from .writer import pretty_json_chunks, write_chunks_atomic

logger = logging.getLogger(__name__)

NEW = "new"
UNCHANGED = "unchanged"
NEW_VERSION = "new_version"

# Layout of index.json's entries; a file of another format is rebuilt rather than misread.
INDEX_FORMAT = 2


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """The latest archived version of one article, and where its record and raw capture are.

    Made when asked for: ArchiveIndex keeps each one packed (PackedEntries).
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


# A packed entry: flags, version, warc_offset, warc_file and file (numbers in a table of names), the two SHA-256
# digests and the WARC record's UUID as bytes, the URL's length; then the URL and fetched_at in UTF-8.
_PACKED = struct.Struct("<BIQII32s32s16sI")
_HAS_CONTENT, _HAS_RECORD_ID, _HAS_OFFSET, _HAS_WARC_FILE, _HAS_FILE, _HAS_FETCHED_AT = (1 << bit for bit in range(6))
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
_RECORD_ID = re.compile(r"<urn:uuid:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})>")
_NO_DIGEST = bytes(32)


def _is_digest(value: object) -> bool:
    return type(value) is str and _HEX_DIGEST.fullmatch(value) is not None


def _is_uint(value: object, bits: int) -> bool:
    return type(value) is int and 0 <= value < 1 << bits


def _is_text(value: object) -> bool:
    return value is None or type(value) is str


def packable(entry: IndexEntry) -> bool:
    """True if pack_entry gives back exactly this entry: lowercase hex digests, a warcio record id, plain str and int.

    >>> packable(IndexEntry("a" * 64, 1, "http://h/1.html")), packable(IndexEntry("A" * 64, 1, "http://h/1.html"))
    (True, False)
    """
    record_id = entry.warc_record_id
    return (
        _is_digest(entry.text_sha256)
        and (entry.content_sha256 is None or _is_digest(entry.content_sha256))
        and _is_uint(entry.version, 32)
        and (entry.warc_offset is None or _is_uint(entry.warc_offset, 64))
        and (record_id is None or (type(record_id) is str and _RECORD_ID.fullmatch(record_id) is not None))
        and all(_is_text(value) for value in (entry.url, entry.warc_file, entry.fetched_at, entry.file))
        and type(entry.url) is str
    )


def pack_entry(entry: IndexEntry, name_id: Any) -> bytes:
    """One bytes object for a packable entry (a few hundred bytes less than its nine fields); `name_id` numbers a file
    name."""
    record_id = _RECORD_ID.fullmatch(entry.warc_record_id) if entry.warc_record_id is not None else None
    flags = (
        (_HAS_CONTENT if entry.content_sha256 is not None else 0)
        | (_HAS_RECORD_ID if record_id is not None else 0)
        | (_HAS_OFFSET if entry.warc_offset is not None else 0)
        | (_HAS_WARC_FILE if entry.warc_file is not None else 0)
        | (_HAS_FILE if entry.file is not None else 0)
        | (_HAS_FETCHED_AT if entry.fetched_at is not None else 0)
    )
    url = entry.url.encode("utf-8", "surrogatepass")
    head = _PACKED.pack(
        flags,
        entry.version,
        entry.warc_offset or 0,
        name_id(entry.warc_file) if entry.warc_file is not None else 0,
        name_id(entry.file) if entry.file is not None else 0,
        bytes.fromhex(entry.text_sha256),
        bytes.fromhex(entry.content_sha256) if entry.content_sha256 is not None else _NO_DIGEST,
        uuid.UUID(record_id.group(1)).bytes if record_id is not None else bytes(16),
        len(url),
    )
    return head + url + (entry.fetched_at or "").encode("utf-8", "surrogatepass")


def unpack_entry(data: bytes, names: list[str]) -> IndexEntry:
    """The entry pack_entry packed, `names` being the file names it numbered."""
    flags, version, offset, warc_file, file, text, content, record_id, url_length = _PACKED.unpack_from(data)
    url_end = _PACKED.size + url_length
    return IndexEntry(
        text.hex(),
        version,
        data[_PACKED.size : url_end].decode("utf-8", "surrogatepass"),
        content.hex() if flags & _HAS_CONTENT else None,
        names[warc_file] if flags & _HAS_WARC_FILE else None,
        f"<urn:uuid:{uuid.UUID(bytes=record_id)}>" if flags & _HAS_RECORD_ID else None,
        offset if flags & _HAS_OFFSET else None,
        data[url_end:].decode("utf-8", "surrogatepass") if flags & _HAS_FETCHED_AT else None,
        names[file] if flags & _HAS_FILE else None,
    )


class PackedEntries(MutableMapping[str, IndexEntry]):
    """article id -> IndexEntry, each kept packed in one bytes object (one per article for the whole crawl);
    an entry that would not come back the same is kept as it is."""

    def __init__(self, entries: Mapping[str, IndexEntry] | None = None) -> None:
        self._data: dict[str, bytes | IndexEntry] = {}
        self._names: list[str] = []  # a few files hold thousands of articles: each name kept once
        self._name_ids: dict[str, int] = {}
        self.update(entries or {})

    def _name_id(self, name: str) -> int:
        if name not in self._name_ids:
            self._name_ids[name] = len(self._names)
            self._names.append(name)
        return self._name_ids[name]

    def __getitem__(self, article_id: str) -> IndexEntry:
        value = self._data[article_id]
        return value if isinstance(value, IndexEntry) else unpack_entry(value, self._names)

    def __setitem__(self, article_id: str, entry: IndexEntry) -> None:
        self._data[article_id] = pack_entry(entry, self._name_id) if packable(entry) else entry

    def __delitem__(self, article_id: str) -> None:
        del self._data[article_id]

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


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
        self.entries = PackedEntries(entries)
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
        head: dict[str, Any] = {"format": INDEX_FORMAT, "schema_version": SCHEMA_VERSION, "files": self.fingerprint}
        # Written entry by entry: the whole text of a large index at once made the end of a crawl its memory peak.
        articles = ((key, self.entries[key].as_list()) for key in sorted(self.entries))
        path = ArchiveLayout(self.root).index_path
        write_chunks_atomic(path, pretty_json_chunks(head, "articles", articles))
        return path
