"""The manifest check: each manifest reads and lists files that are there, whole.
Each is stored under its crawl's name; each file it lists has the size, SHA-256 and record count it gives; its
summary adds up (SummaryCheck)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..layout import ARTICLES, QUARANTINE, WARC, ArchiveLayout, UnsafeNameError
from ..manifest import ManifestError, manifest_paths, read_manifest
from ..reader import iter_lines
from .content import FileScan
from .report import FIX_RESTORE, WARC_READ_ERRORS, VerifyReport, count_lines, count_warc_records, sha256_of
from .summaries import SummaryCheck


class ManifestCheck:
    """Checks manifests/; afterwards `listed` maps each crawl to the (kind, name) of the files its manifest lists,
    `documents` and `sha` hold each manifest and its hash."""

    def __init__(self, report: VerifyReport, layout: ArchiveLayout, scans: dict[Path, FileScan]) -> None:
        self.report = report
        self.layout = layout
        self.scans = scans
        self.summaries = SummaryCheck(report, layout, scans)
        self.listed: dict[str, set[tuple[str, str]]] = {}
        self.documents: dict[str, dict[str, Any]] = {}
        self.sha: dict[str, str] = {}

    def run(self) -> None:
        """Check every manifest, the files it lists and its summary."""
        listed = self.listed
        for path in manifest_paths(self.layout.root):
            self.report.files_checked += 1
            try:
                manifest = read_manifest(path)
            except ManifestError as exc:
                self.report.add(
                    path, None, str(exc), "restore the manifest from a replica; it cannot be regenerated safely by hand"
                )
                continue
            crawl_id = manifest["crawl_id"]
            self.sha[crawl_id] = sha256_of(path)
            self.documents[crawl_id] = manifest
            if path.stem != crawl_id:
                self.report.add(
                    path,
                    None,
                    f"manifest names crawl {crawl_id!r} but is stored as {path.name}",
                    f"rename it to {crawl_id}.json",
                )
            listed[crawl_id] = {(entry["kind"], entry["name"]) for entry in manifest["files"]}
            for entry in manifest["files"]:
                self.check_listed_file(path, entry)
            self.summaries.check(path, manifest)

    def check_listed_file(self, manifest_path: Path, entry: dict[str, Any]) -> None:
        try:
            path = self.layout.resolve_file(entry["kind"], entry["name"])
        except (UnsafeNameError, ValueError) as exc:
            self.report.add(
                manifest_path,
                None,
                f"file entry {entry['name']!r} refused: {exc}",
                "manifests must list bare file names of known kinds",
            )
            return
        shown = self.layout.root / self.layout.dir_for_kind(entry["kind"]).name / entry["name"]
        if shown.is_symlink() or shown.parent.is_symlink():
            return  # reported as a link, and never followed
        if not path.is_file():
            self.report.add(
                shown,
                None,
                f"listed in {manifest_path.name} but missing",
                "restore it from a replica; if it is lost for good, record the loss next to the manifest",
            )
            return
        size = path.stat().st_size
        if size != entry["bytes"] or sha256_of(path) != entry["sha256"]:
            self.report.add(
                shown,
                None,
                f"checksum mismatch with {manifest_path.name} ({size} bytes on disk, {entry['bytes']} listed)",
                FIX_RESTORE,
            )
            return
        actual = self.count_records(entry["kind"], shown)
        if actual is not None and actual != entry["records"]:
            self.report.add(
                shown,
                None,
                f"{actual} records on disk but {manifest_path.name} lists {entry['records']}",
                "the manifest is wrong or was edited: restore it from a replica",
            )

    def count_records(self, kind: str, path: Path) -> int | None:
        if kind in (ARTICLES, QUARANTINE):
            return self.scans[path].lines if path in self.scans else sum(1 for _ in iter_lines(path))
        try:
            return count_warc_records(path) if kind == WARC else count_lines(path)
        except WARC_READ_ERRORS as exc:
            self.report.add(path, None, f"cannot read WARC records: {exc}", FIX_RESTORE)
            return None
