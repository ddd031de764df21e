"""Proof that an archive is whole, one module per check.
Files match their manifests, lines parse and validate, pointers reach their captures, the ledger tells the crawls'
story. Problems carry file, line and a fix; warnings do not fail."""

from __future__ import annotations

import logging
from pathlib import Path

from ..layout import ARTICLES, INDEX_FILE, LEDGER_FILE, MANIFESTS, QUARANTINE, WARC, ArchiveLayout
from ..ledger import read_ledger
from .content import ContentCheck
from .crawls import CrawlCheck
from .manifests import ManifestCheck
from .pointers import check_pointers
from .report import ERROR, WARNING, Problem, VerifyReport
from .strays import check_cdxj_present, check_leftovers, check_links, check_unknown

__all__ = ["ERROR", "WARNING", "Problem", "VerifyReport", "verify_archive"]

logger = logging.getLogger(__name__)

NOT_AN_ARCHIVE_FIX = "pass the directory that holds articles/, warc/ and manifests/"


def verify_archive(directory: Path | str) -> VerifyReport:
    """Check the archive rooted at `directory`; report.ok is True when there are no errors."""
    report = _verify(Path(directory))
    logger.info("verified %s: %d errors, %d warnings", directory, len(report.errors), len(report.warnings))
    return report


def _verify(root: Path) -> VerifyReport:
    report = VerifyReport(root)
    if not root.is_dir():
        report.add(root, None, "archive root does not exist or is not a directory", NOT_AN_ARCHIVE_FIX)
        return report
    entries = {path.name for path in root.iterdir()}
    if entries and not entries & {ARTICLES, QUARANTINE, WARC, MANIFESTS, INDEX_FILE, LEDGER_FILE}:
        report.add(root, None, "not an archive: it holds none of articles/, warc/, manifests/", NOT_AN_ARCHIVE_FIX)
        return report
    # The order of the problems in the report: links first, then what is read (content, pointers, manifests with
    # their summaries, the ledger and the files no manifest lists), then what is not read.
    layout = ArchiveLayout(root)
    check_links(report, layout)
    ledger = read_ledger(root)
    content = ContentCheck(report, layout)
    content.run()
    check_pointers(report, layout, content.pointers)
    manifests = ManifestCheck(report, layout, content.scans)
    manifests.run()
    CrawlCheck(report, layout, ledger, manifests).run()
    check_leftovers(report, layout)
    check_unknown(report, layout)
    check_cdxj_present(report, layout)
    return report
