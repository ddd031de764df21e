"""Crash-safe JSONL writing: records go to a hidden .part file that is renamed to its final name only when complete.
Also the small atomic-write helpers (fsync, directory lock, write_json_atomic) and the DirectoryWriter base shared by the other writers."""

from __future__ import annotations

import errno
import fcntl
import gzip
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, Self

from .layout import ARTICLES, check_name, leftover_files, parse_jsonl_name
from .schema import normalize_record, validate_record

logger = logging.getLogger(__name__)

MiB = 1024 * 1024
# A worker joining a shared directory lock waits this long (seconds) for the first worker to write the crawl's name
# into the lock file, trying every SHARED_LOCK_RETRY seconds; an exclusive holder keeps it far longer and is refused.
SHARED_LOCK_PATIENCE = 2.0
SHARED_LOCK_RETRY = 0.02
# Measured on crawl records (about 50 KB each, mostly text and repairs): level 6 writes 4% more than
# level 9 in half the time (9.8 against 19.6 ms per MB); level 1 is twice as fast again but 27% larger.
GZIP_LEVEL = 6


class InvalidRecordError(ValueError):
    """A record refused by the writer because it does not match its schema."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("record does not match the schema (quarantine it or fix the producer): " + "; ".join(errors))


class DirectoryBusyError(RuntimeError):
    """Another writer holds the lock on an archive directory."""


@dataclass(frozen=True)
class ClosedFile:
    """A file that was completed and renamed to its final name."""

    name: str
    kind: str
    records: int
    bytes: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def dumps_line(record: dict[str, Any]) -> bytes:
    """One JSONL line: compact UTF-8 JSON (non-ASCII kept as is) plus a newline."""
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n").encode("utf-8")


def fsync_dir(directory: Path) -> None:
    """Make a rename inside `directory` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def commit_file(part: Path, final: Path) -> None:
    """Rename a fully written and fsynced temporary file to its final name, durably."""
    if final.exists():
        raise FileExistsError(
            f"{final} already exists; refusing to overwrite a committed archive file (use a new crawl id)"
        )
    os.replace(part, final)
    fsync_dir(final.parent)


def write_bytes_atomic(path: Path, data: bytes) -> str:
    """Write `data` to `path` via a hidden temporary file + fsync + rename; return its sha256."""
    return write_chunks_atomic(path, (data,))


def write_chunks_atomic(path: Path, chunks: Iterable[bytes]) -> str:
    """write_bytes_atomic for data made piece by piece: never held whole in memory."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.part")
    digest = hashlib.sha256()
    with open(tmp, "wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
            digest.update(chunk)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)
    return digest.hexdigest()


def pretty_json(obj: Any, level: int = 0) -> str:
    """`obj` as the archive writes JSON (UTF-8 text, two-space indent), its lines after the first indented `level`."""
    return json.dumps(obj, ensure_ascii=False, indent=2, allow_nan=False).replace("\n", "\n" + " " * level)


def pretty_json_chunks(head: dict[str, Any], last_key: str, items: Iterable[tuple[str, Any]]) -> Iterator[bytes]:
    """The bytes write_json_atomic writes for `{**head, last_key: dict(items)}`, made one item at a time, so a large
    mapping (an index of every article) is never one string in memory.

    >>> doc = {"format": 1, "files": {"a": [1, 2]}}
    >>> text = b"".join(pretty_json_chunks(doc, "articles", [("1", ["x", None]), ("2", [])])).decode()
    >>> text == pretty_json({**doc, "articles": {"1": ["x", None], "2": []}}) + chr(10)
    True
    """
    yield b"{\n"
    for key, value in head.items():
        yield f"  {pretty_json(key)}: {pretty_json(value, 2)},\n".encode()
    yield f"  {pretty_json(last_key)}: ".encode()
    opening = "{\n"
    for key, value in items:
        yield f"{opening}    {pretty_json(key)}: {pretty_json(value, 4)}".encode()
        opening = ",\n"
    yield b"{}\n}\n" if opening == "{\n" else b"\n  }\n}\n"


def write_json_atomic(path: Path | str, obj: Any) -> str:
    """Write `obj` as pretty UTF-8 JSON to `path` atomically (tmp + fsync + rename); return its sha256."""
    return write_bytes_atomic(Path(path), (pretty_json(obj) + "\n").encode("utf-8"))


class HashingSink:
    """Binary file wrapper counting and hashing every byte written, so checksums need no second read."""

    def __init__(self, path: Path):
        self.path = path
        self._handle: IO[bytes] = open(path, "xb")  # noqa: SIM115 (closed by close(), which commits)
        self._sha = hashlib.sha256()
        self.position = 0

    def write(self, data: bytes) -> int:
        self._handle.write(data)
        self._sha.update(data)
        self.position += len(data)
        return len(data)

    def flush(self) -> None:
        self._handle.flush()

    def tell(self) -> int:
        return self.position

    def sync_and_close(self) -> str:
        """Flush, fsync and close; return the hex sha256 of everything written."""
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        return self._sha.hexdigest()

    def abort(self) -> None:
        """Close without fsync; the file is left as it is."""
        try:
            self._handle.close()
        except OSError as exc:
            # Closing flushes the buffer, which fails again on a full disk; the descriptor is closed all the
            # same, and the unflushed tail belongs to a .part that is never read.
            logger.warning("unflushed bytes of %s lost on abort: %s", self.path, exc)


class DirectoryLock:
    """Advisory lock on a directory, so that two writers never clean up each other's .part files.

    Without a `group` the lock is exclusive: one crawl at a time. The workers of one distributed crawl pass the crawl
    as their `group` and share the lock (each writes files of its own name); a crawl of another group, or a crawl
    without one, is refused while they hold it. The group is written into the lock file by the first holder; `alone`
    says that this holder found nobody else, so that what a killed writer left is its to set aside.
    """

    def __init__(self, directory: Path, group: str | None = None):
        self.path = directory / ".lock"
        self.group = group
        self.alone = False
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            if self.group is None:
                _lock_now(fd, fcntl.LOCK_EX, self.busy_message("another writer is active"))
                self.alone = True
            else:
                self.alone = self._join(fd, self.group)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def _join(self, fd: int, group: str) -> bool:
        """Take the lock shared for `group`; True if nobody else held it. Refused while another group or an exclusive
        holder has it (a first holder of our group holds it exclusively only while it writes the group down)."""
        deadline = time.monotonic() + SHARED_LOCK_PATIENCE
        while True:
            if _try_lock(fd, fcntl.LOCK_EX):
                os.ftruncate(fd, 0)
                os.pwrite(fd, group.encode("utf-8") + b"\n", 0)
                os.fsync(fd)
                fcntl.flock(fd, fcntl.LOCK_UN)  # flock cannot downgrade in place; another may slip in, and is checked
                alone = True
            else:
                alone = False
            if _try_lock(fd, fcntl.LOCK_SH):
                holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
                if holder == group:
                    return alone
                fcntl.flock(fd, fcntl.LOCK_UN)
                raise DirectoryBusyError(
                    self.busy_message(f"the workers of another distributed crawl ({holder or 'unknown'}) are active")
                )
            if time.monotonic() > deadline:
                raise DirectoryBusyError(self.busy_message("another writer is active"))
            time.sleep(SHARED_LOCK_RETRY)

    def busy_message(self, who: str) -> str:
        return f"{who} in {self.path.parent}; wait for that crawl to finish or use another archive root"

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _try_lock(fd: int, operation: int) -> bool:
    """flock without waiting: True if taken, False if another holder prevents it."""
    try:
        fcntl.flock(fd, operation | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def _lock_now(fd: int, operation: int, busy: str) -> None:
    if not _try_lock(fd, operation):
        raise DirectoryBusyError(busy)


def set_aside_leftovers(directory: Path) -> list[Path]:
    """Rename .part files left by a crashed writer to .abandoned-N names that no reader picks up."""
    moved = []
    for part in leftover_files(directory):
        if not part.name.endswith(".part"):
            continue
        base = part.name[: -len(".part")]
        n = 1
        while (directory / f"{base}.abandoned-{n}").exists():
            n += 1
        target = directory / f"{base}.abandoned-{n}"
        os.replace(part, target)
        logger.warning("set aside partial file %s from an interrupted write as %s", part, target.name)
        moved.append(target)
    if moved:
        fsync_dir(directory)
    return moved


def next_seq(directory: Path, prefix: str, parse: Callable[[str], tuple[str, int] | None]) -> int:
    """Sequence number after the highest committed file of `prefix`, so a resumed crawl never reuses a name."""
    seqs = [parsed[1] for p in directory.iterdir() if (parsed := parse(p.name)) and parsed[0] == prefix]
    return max(seqs, default=0) + 1


class DirectoryWriter:
    """What every archive writer shares: it holds its directory's lock from creation to close() or abort(),
    first sets aside what a crashed writer left there, and commits its open file on close(). The workers of one
    distributed crawl share the lock (`lock_group`: the crawl's id)."""

    def __init__(self, directory: Path | str, lock_group: str | None = None) -> None:
        self.directory = Path(directory)
        self.closed_files: list[ClosedFile] = []
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = DirectoryLock(self.directory, lock_group)
        self._lock.acquire()
        # With the lock shared (lock_group: the workers of one distributed crawl), a .part file may be another live
        # worker's: only a writer that found the directory to itself sets leftovers aside.
        if self.alone:
            set_aside_leftovers(self.directory)
        self._closed = False

    @property
    def alone(self) -> bool:
        """True if no other writer held the directory when this one took it."""
        return self._lock.alone

    def rotate(self) -> object:
        """Complete and commit the open file, if any."""
        raise NotImplementedError

    def _drop_open(self) -> None:
        """Close the open file, if any, without completing it."""
        raise NotImplementedError

    def close(self) -> list[ClosedFile]:
        """Complete the open file and release the directory; returns every file this writer committed."""
        if not self._closed:
            try:
                self.rotate()
            finally:
                self._closed = True
                self._lock.release()
        return list(self.closed_files)

    def abort(self) -> None:
        """Give up without committing and release the directory; does nothing once closed.

        The open file stays a .part, as after a crash: it may end in half a record, so it must never get a
        final name. The next writer in this directory sets it aside. Files committed before are kept.
        """
        if self._closed:
            return
        try:
            self._drop_open()
        finally:
            self._closed = True
            self._lock.release()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # Writes are whole (JSON lines, WARC records), so even after an error the open file holds only complete ones.
        self.close()


class JsonlWriter(DirectoryWriter):
    """Writes records as JSON lines into rotating files <prefix>-<seq:05d>.jsonl[.gz].

    Rotation happens before a record that would exceed `max_records` or `max_bytes` (uncompressed
    bytes of JSON lines). Each file is written as .<name>.part and renamed when complete.
    """

    def __init__(
        self,
        directory: Path | str,
        prefix: str,
        max_records: int = 10_000,
        max_bytes: int = 64 * MiB,
        compress: bool = True,
        *,
        kind: str = ARTICLES,
        normalize: Callable[[dict[str, Any]], dict[str, Any]] = normalize_record,
        validate: Callable[[dict[str, Any]], list[str]] | None = validate_record,
        before_commit: Callable[[], object] | None = None,
        lock_group: str | None = None,
    ):
        if max_records < 1 or max_bytes < 1:
            raise ValueError("max_records and max_bytes must be at least 1")
        self.prefix = check_name(prefix)
        self.max_records = max_records
        self.max_bytes = max_bytes
        self.compress = compress
        self.kind = kind
        self._normalize = normalize
        self._validate = validate
        # Called before each file is renamed to its final name: the pipeline commits the WARC file the
        # records point into first, so a committed record never points into a WARC lost by a crash.
        self._before_commit = before_commit
        super().__init__(directory, lock_group)
        self._seq = next_seq(self.directory, self.prefix, parse_jsonl_name)
        self._sink: HashingSink | None = None
        self._stream: gzip.GzipFile | HashingSink | None = None
        self._final: Path | None = None
        self._records = 0
        self._bytes = 0

    @property
    def current_name(self) -> str | None:
        """Final name of the file being written (not committed yet), None between files."""
        return self._final.name if self._final is not None else None

    @property
    def suffix(self) -> str:
        return ".jsonl.gz" if self.compress else ".jsonl"

    def write(self, record: dict[str, Any]) -> None:
        """Append one record; raises InvalidRecordError (nothing written) if it fails validation."""
        if self._closed:
            raise RuntimeError("writer is closed; create a new JsonlWriter to write more records")
        if self._validate is not None:
            errors = self._validate(record)
            if errors:
                raise InvalidRecordError(errors)
        line = dumps_line(self._normalize(record))
        if self._stream is not None and (self._records >= self.max_records or self._bytes + len(line) > self.max_bytes):
            self.rotate()
        if self._stream is None:
            self._open()
        assert self._stream is not None and self._sink is not None
        try:
            self._stream.write(line)
        except OSError:
            # A half-written line must never reach a final name.
            self.abort()
            raise
        self._records += 1
        self._bytes += len(line)

    def _open(self) -> None:
        name = f"{self.prefix}-{self._seq:05d}{self.suffix}"
        self._seq += 1
        self._final = self.directory / name
        self._sink = HashingSink(self.directory / f".{name}.part")
        # mtime=0 and no file name in the header: the same records always give the same bytes.
        self._stream = (
            gzip.GzipFile(filename="", mode="wb", fileobj=self._sink, mtime=0, compresslevel=GZIP_LEVEL)
            if self.compress
            else self._sink
        )
        self._records = 0
        self._bytes = 0

    def rotate(self) -> ClosedFile | None:
        """Complete the current file (if any) and return its description."""
        if self._stream is None or self._sink is None or self._final is None:
            return None
        if self._before_commit is not None:
            self._before_commit()
        if isinstance(self._stream, gzip.GzipFile):  # i.e. self.compress: closing it writes the gzip trailer
            self._stream.close()
        sha = self._sink.sync_and_close()
        commit_file(self._sink.path, self._final)
        closed = ClosedFile(self._final.name, self.kind, self._records, self._sink.position, sha)
        logger.info("committed %s (%d records, %d bytes)", closed.name, closed.records, closed.bytes)
        self.closed_files.append(closed)
        self._stream = self._sink = self._final = None
        return closed

    def _drop_open(self) -> None:
        if self._sink is not None:
            # The gzip stream is dropped unclosed: closing it would append a trailer and make the .part look whole.
            self._sink.abort()
        self._stream = self._sink = self._final = None
