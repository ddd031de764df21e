"""The summary check: a manifest's counts agree with the files it lists, and add up.
Records written, quarantine lines and skip entries match the files; every item is in exactly one of the five
outcomes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..layout import ARTICLES, QUARANTINE, ArchiveLayout
from ..manifest import SUMMARY_KEYS
from .content import FileScan
from .report import VerifyReport


class SummaryCheck:
    """Checks the summary of each manifest against the lines read from the files it lists (`scans`)."""

    def __init__(self, report: VerifyReport, layout: ArchiveLayout, scans: dict[Path, FileScan]) -> None:
        self.report = report
        self.layout = layout
        self.scans = scans

    def listed_records(self, manifest: dict[str, Any], kind: str) -> int:
        """Records in the files a manifest lists of `kind`: counted on disk, or as listed if the file is missing
        (a missing file is already reported; counting it as zero would report it twice)."""
        total = 0
        for entry in manifest["files"]:
            if entry["kind"] != kind:
                continue
            path = self.layout.dir_for_kind(kind) / entry["name"]
            scan = self.scans.get(path)
            total += scan.lines if scan is not None else entry["records"]
        return total

    def listed_skip_entries(self, manifest: dict[str, Any]) -> int | None:
        """Lines with outcome "skipped" in the quarantine files a manifest lists; None if one of them is missing
        (already reported, and its lines cannot be told apart)."""
        total = 0
        for entry in manifest["files"]:
            if entry["kind"] == QUARANTINE:
                scan = self.scans.get(self.layout.dir_for_kind(QUARANTINE) / entry["name"])
                if scan is None:
                    return None
                total += scan.skipped
        return total

    def check(self, path: Path, manifest: dict[str, Any]) -> None:
        summary = manifest["summary"]
        written = self.listed_records(manifest, ARTICLES)
        if summary["archived"] + summary["new_version"] != written:
            self.report.add(
                path,
                None,
                f"summary says archived + new_version = {summary['archived'] + summary['new_version']} but the crawl's article files hold {written} records",
                "the summary was miscounted or edited, or a file was dropped from the manifest: restore the manifest from a replica",
            )
        items = summary.get("items")
        counted = sum(summary[key] for key in SUMMARY_KEYS)
        if isinstance(items, int) and items != counted:
            self.report.add(
                path,
                None,
                f"summary does not add up: {' + '.join(SUMMARY_KEYS)} = {counted} but items = {items}",
                "every item must end in exactly one count: the summary was miscounted or edited; restore the manifest from a replica",
            )
        self.check_quarantine_summary(path, summary, manifest)

    def check_quarantine_summary(self, path: Path, summary: dict[str, Any], manifest: dict[str, Any]) -> None:
        """quarantine/ holds the quarantined pages and the skip entries: `quarantined` + `skip_entries` lines, of which
        `skip_entries` have outcome "skipped". Manifests from before skip entries have no `skip_entries` and no such lines."""
        if "skip_entries" in summary and not isinstance(summary["skip_entries"], int):
            self.report.add(
                path,
                None,
                f"summary skip_entries is {summary['skip_entries']!r}, not a count",
                "the summary was edited: restore the manifest from a replica",
            )
            return
        has_skips = "skip_entries" in summary
        skip_entries = summary.get("skip_entries", 0)
        quarantined = summary["quarantined"]
        lines = self.listed_records(manifest, QUARANTINE)
        if quarantined + skip_entries != lines:
            claimed = (
                f"quarantined + skip_entries = {quarantined} + {skip_entries}"
                if has_skips
                else f"quarantined = {quarantined}"
            )
            self.report.add(
                path,
                None,
                f"summary says {claimed} but the crawl's quarantine files hold {lines} records",
                "the summary was miscounted or edited, or a file was dropped from the manifest: restore the manifest from a replica",
            )
        skipped_lines = self.listed_skip_entries(manifest)
        if skipped_lines is not None and skipped_lines != skip_entries:
            claimed = f"says skip_entries = {skip_entries}" if has_skips else "has no skip_entries"
            self.report.add(
                path,
                None,
                f'summary {claimed} but {skipped_lines} of the crawl\'s quarantine records have outcome "skipped"',
                "skip entries and quarantined pages were miscounted or the summary was edited: restore the manifest from a replica",
            )
