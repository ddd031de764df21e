"""What verify found: each problem with its file, line and fix.
Errors fail, warnings do not; also the rules the checks share: the fixes to suggest, what a damaged WARC raises, how
files are hashed and counted."""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

ERROR = "error"
WARNING = "warning"

FIX_RESTORE = "restore this file from a replica or backup; committed files are never edited in place"
FIX_CRAWL_LOST = (
    "restore the crawl's manifest and files from a replica or backup; if they are lost for good, "
    "record the loss beside the archive and move what is left of the crawl out of it"
)
# What warcio raises on a damaged WARC file: besides its own error, a truncated header block makes it fail inside
# its parser (AttributeError on a missing URI, found by tests/test_archive_fuzz.py).
WARC_READ_ERRORS = (ArchiveLoadFailed, EOFError, OSError, zlib.error, ValueError, AttributeError)
# Names in a kind directory that are neither data files nor leftovers, yet expected: the directory lock.
LOCK_FILE = ".lock"


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    message: str
    fix: str
    severity: str = ERROR

    def format(self) -> str:
        """FILE:LINE: message (fix: ...), with 'warning:' before the message for warnings."""
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        level = "warning: " if self.severity == WARNING else ""
        return f"{where}: {level}{self.message} (fix: {self.fix})"


@dataclass
class VerifyReport:
    root: Path
    problems: list[Problem] = field(default_factory=list)
    files_checked: int = 0
    records_checked: int = 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, path: Path, line: int | None, message: str, fix: str, severity: str = ERROR) -> None:
        self.problems.append(Problem(str(path), line, message, fix, severity))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def count_warc_records(path: Path) -> int:
    with open(path, "rb") as stream:
        return sum(1 for _ in ArchiveIterator(stream))


def count_lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for _ in handle)
