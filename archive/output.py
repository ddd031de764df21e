"""Output files of the archive's commands (export and the like): checked before anything is written, written atomically.
An output never lands inside the archive it is made from, and a failed write leaves no half-written file behind."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, BinaryIO, TextIO, cast


class OutputPathError(ValueError):
    """An output path that cannot or must not be written; the message says why and what to do."""


def check_output_path(out: Path, archive_root: Path, extension: str = "jsonl") -> Path:
    """The resolved output path, or OutputPathError if it is inside the archive, a directory, or in a missing one
    (the message suggests a file name with `extension` in a directory given instead)."""
    target = out.resolve()  # follows links, so a link into the archive is caught too
    root = archive_root.resolve()
    if target == root or root in target.parents:
        raise OutputPathError(
            f"{out}: is inside the archive {archive_root}; an output must never overwrite or add to the archive "
            "it is made from (write it elsewhere)"
        )
    if target.is_dir():
        raise OutputPathError(f"{out}: is a directory; give a file name, e.g. {out / f'export.{extension}'}")
    if not target.parent.is_dir():
        raise OutputPathError(f"{out}: the directory {target.parent} does not exist; create it first or pick another")
    return target


@contextmanager
def _atomic(out: Path, archive_root: Path, binary: bool, extension: str) -> Iterator[IO[Any]]:
    target = check_output_path(out, archive_root, extension)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        handle: IO[Any] = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; an export is an ordinary file
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_output(out: Path, archive_root: Path) -> Iterator[TextIO]:
    """A UTF-8 text file (newlines as \\n) written through a hidden temporary file beside `out`, renamed over `out`
    only when the block succeeds: a reader sees the old file or the whole new one, and an error leaves `out` as it was.
    """
    with _atomic(out, archive_root, binary=False, extension="jsonl") as handle:
        yield cast(TextIO, handle)


@contextmanager
def atomic_binary_output(out: Path, archive_root: Path, extension: str) -> Iterator[BinaryIO]:
    """atomic_output for bytes (a Parquet file: `extension` "parquet")."""
    with _atomic(out, archive_root, binary=True, extension=extension) as handle:
        yield cast(BinaryIO, handle)


@contextmanager
def atomic_output_path(out: Path, archive_root: Path, extension: str) -> Iterator[Path]:
    """atomic_output for a tool that writes a file by name (py-wacz): the block gets a hidden temporary path beside
    `out` to write; it is fsynced and renamed over `out` when the block succeeds, and removed when it fails."""
    target = check_output_path(out, archive_root, extension)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb") as written:
            os.fsync(written.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
