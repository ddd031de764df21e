"""Export of the newest version of every article as JSON lines, for downstream tools that want one line per article.
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


def export_latest(directory: Path | str, out: TextIO) -> int:
    """Write the latest version of each article to `out`, one JSON line each; return the number written.

    Raises ArchiveRootError if `directory` is not a readable archive, ArchiveReadError on a damaged file.
    """
    count = 0
    for record in iter_records(check_archive_root(Path(directory)), latest_only=True):
        out.write(dumps_line(normalize_record(record)).decode("utf-8"))
        count += 1
    logger.info("exported %d articles from %s", count, directory)
    return count
