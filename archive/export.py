"""Export of article records as JSON lines: the newest version of every article (one line each), or every version.
Lines use the archive's own serialization (UTF-8, compact, keys in FIELD_ORDER)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TextIO

from .layout import check_archive_root
from .reader import iter_records
from .schema import normalize_record
from .writer import dumps_line

logger = logging.getLogger(__name__)


def export_records(directory: Path | str, out: TextIO, latest_only: bool = True) -> int:
    """Write the latest version of each article (or every version) to `out`, one JSON line each; return the count.

    Raises ArchiveRootError if `directory` is not a readable archive, ArchiveReadError on a damaged file.
    """
    count = 0
    for record in iter_records(check_archive_root(Path(directory)), latest_only=latest_only):
        out.write(dumps_line(normalize_record(record)).decode("utf-8"))
        count += 1
    logger.info("exported %d records from %s", count, directory)
    return count


def export_latest(directory: Path | str, out: TextIO) -> int:
    """export_records of the newest version of each article."""
    return export_records(directory, out, latest_only=True)
