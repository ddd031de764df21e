"""Where things live inside an archive root, and which file names count as committed.
All paths are resolved here so that no name taken from a manifest or argument can escape the root."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

logger = logging.getLogger(__name__)

ARTICLES = "articles"
QUARANTINE = "quarantine"
WARC = "warc"
CDXJ = "cdxj"
MANIFESTS = "manifests"
INDEX_FILE = "index.json"
LEDGER_FILE = "ledger.jsonl"

KINDS = (ARTICLES, QUARANTINE, WARC, CDXJ)
_KIND_DIRS = {ARTICLES: ARTICLES, QUARANTINE: QUARANTINE, WARC: WARC, CDXJ: WARC}

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_JSONL_NAME = re.compile(r"^(?P<prefix>[A-Za-z0-9][A-Za-z0-9._-]*)-(?P<seq>[0-9]{5,})\.jsonl(?P<gz>\.gz)?$")
_WARC_NAME = re.compile(r"^(?P<prefix>[A-Za-z0-9][A-Za-z0-9._-]*)-(?P<seq>[0-9]{5,})\.warc\.gz$")


class UnsafeNameError(ValueError):
    """A file or crawl name that could leave the archive root or is not a plain name."""


class ArchiveRootError(ValueError):
    """A path given as an archive that is not one (missing, a file, not an archive) or that links outside itself."""


@dataclass(frozen=True)
class ArchiveFile:
    """A committed (fully written, renamed) data file."""

    path: Path
    prefix: str
    seq: int

    @property
    def name(self) -> str:
        return self.path.name


def check_name(name: str) -> str:
    """Return `name` if it is a plain file name (no separators, no leading dot); raise otherwise.

    >>> check_name("20250826T002100Z-1a2b3c")
    '20250826T002100Z-1a2b3c'
    >>> check_name("../escaped")
    Traceback (most recent call last):
    archive.layout.UnsafeNameError: '../escaped' is not an allowed archive name: use letters, digits, '.', '_' and '-', start with a letter or digit, and no '..' or path separators
    """
    if not isinstance(name, str) or not _SAFE_NAME.match(name) or ".." in name:
        raise UnsafeNameError(
            f"{name!r} is not an allowed archive name: use letters, digits, '.', '_' and '-', "
            "start with a letter or digit, and no '..' or path separators"
        )
    return name


def new_crawl_id(now: datetime | None = None) -> str:
    """A crawl id that sorts by start time and does not collide: 20250102T030405Z-1a2b3c."""
    now = now or datetime.now(UTC)
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def utc_now_iso() -> str:
    """The current instant as ISO 8601 UTC with a 'Z' suffix, second precision."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_jsonl_name(name: str) -> tuple[str, int] | None:
    """(prefix, seq) for a committed JSONL file name, None for anything else (.part files included).

    >>> parse_jsonl_name("crawl-1-00002.jsonl.gz"), parse_jsonl_name(".crawl-1-00002.jsonl.gz.part")
    (('crawl-1', 2), None)
    """
    match = _JSONL_NAME.match(name)
    return (match["prefix"], int(match["seq"])) if match else None


def parse_warc_name(name: str) -> tuple[str, int] | None:
    """(prefix, seq) for a committed WARC file name, None otherwise.

    >>> parse_warc_name("crawl-1-00001.warc.gz"), parse_warc_name("crawl-1-00001.warc.gz.cdxj")
    (('crawl-1', 1), None)
    """
    match = _WARC_NAME.match(name)
    return (match["prefix"], int(match["seq"])) if match else None


@dataclass(frozen=True)
class ArchiveLayout:
    """Path resolution for one archive root.

    <root>/articles/<crawl_id>-<seq>.jsonl.gz, <root>/quarantine/<crawl_id>-<seq>.jsonl.gz,
    <root>/warc/<crawl_id>-<seq>.warc.gz (+ .cdxj), <root>/manifests/<crawl_id>.json, <root>/index.json
    """

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @property
    def articles_dir(self) -> Path:
        return self.root / ARTICLES

    @property
    def quarantine_dir(self) -> Path:
        return self.root / QUARANTINE

    @property
    def warc_dir(self) -> Path:
        return self.root / WARC

    @property
    def manifests_dir(self) -> Path:
        return self.root / MANIFESTS

    @property
    def index_path(self) -> Path:
        return self.root / INDEX_FILE

    def dir_for_kind(self, kind: str) -> Path:
        if kind not in _KIND_DIRS:
            raise ValueError(f"unknown file kind {kind!r}: expected one of {', '.join(KINDS)}")
        return self.root / _KIND_DIRS[kind]

    def manifest_path(self, crawl_id: str) -> Path:
        return self.resolve(MANIFESTS, check_name(crawl_id) + ".json")

    def resolve(self, subdir: str, name: str) -> Path:
        """Path of `name` inside `subdir` of the root; refuses anything that would land elsewhere."""
        check_name(name)
        path = (self.root / subdir / name).resolve()
        base = (self.root / subdir).resolve()
        if path.parent != base:
            raise UnsafeNameError(f"{name!r} resolves outside {base}; manifests must list bare file names")
        return path

    def resolve_file(self, kind: str, name: str) -> Path:
        """Path of a file listed in a manifest under `kind`."""
        return self.resolve(self.dir_for_kind(kind).name, name)

    def ensure_dirs(self) -> None:
        for sub in (ARTICLES, QUARANTINE, WARC, MANIFESTS):
            (self.root / sub).mkdir(parents=True, exist_ok=True)


def committed_jsonl(directory: Path) -> list[ArchiveFile]:
    """Committed JSONL files of a directory sorted by (prefix, seq); temporary and hidden files are skipped."""
    return _committed(directory, parse_jsonl_name)


def committed_warcs(directory: Path) -> list[ArchiveFile]:
    """Committed WARC files of a directory sorted by (prefix, seq)."""
    return _committed(directory, parse_warc_name)


def _committed(directory: Path, parse: Callable[[str], tuple[str, int] | None]) -> list[ArchiveFile]:
    # A symbolic link (the directory or a file in it) may lead out of the archive: never read through one.
    if directory.is_symlink() or not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        parsed = parse(path.name)
        if parsed and path.is_file() and not path.is_symlink():
            found.append(ArchiveFile(path, parsed[0], parsed[1]))
    return sorted(found, key=lambda f: (f.prefix, f.seq))


def leftover_files(directory: Path) -> list[Path]:
    """Partial or set-aside files from interrupted writes (hidden names ending in .part or .abandoned-N)."""
    if not directory.is_dir():
        return []
    return sorted(
        p
        for p in directory.iterdir()
        if p.name.startswith(".") and (p.name.endswith(".part") or ".abandoned" in p.name)
    )


def linked_entries(root: Path) -> list[Path]:
    """Symbolic links where the archive keeps its data: the kind and manifest directories, their files, the index and
    the ledger. Readers never follow them (they could lead out of the archive); verify reports them."""
    links = [root / name for name in (INDEX_FILE, LEDGER_FILE) if (root / name).is_symlink()]
    for sub in (ARTICLES, QUARANTINE, WARC, MANIFESTS):
        directory = root / sub
        if directory.is_symlink():
            links.append(directory)
        elif directory.is_dir():
            links += sorted(path for path in directory.iterdir() if path.is_symlink())
    return links


def check_archive_root(root: Path) -> Path:
    """`root` if it can be read as an archive; raise ArchiveRootError saying what is wrong and what to do otherwise.

    An empty directory is an empty archive. A directory holding none of the archive's entries is refused, so that a
    mistyped path does not read as an archive with nothing in it; so is a symbolic link inside the archive.
    """
    hint = "pass the archive directory (the one holding articles/, warc/ and manifests/)"
    if not root.exists():
        raise ArchiveRootError(f"{root}: no such directory ({hint})")
    if not root.is_dir():
        raise ArchiveRootError(f"{root}: is a file, not an archive directory ({hint})")
    entries = {path.name for path in root.iterdir()}
    if entries and not entries & {ARTICLES, QUARANTINE, WARC, MANIFESTS, INDEX_FILE, LEDGER_FILE}:
        raise ArchiveRootError(f"{root}: not an archive, it holds none of articles/, warc/, manifests/ ({hint})")
    links = linked_entries(root)
    if links:
        raise ArchiveRootError(
            f"{links[0]}: is a symbolic link; the archive is never read through links, which may lead outside it "
            f"(replace it with the real file or directory, then run 'newsarchive verify {root}')"
        )
    return root
