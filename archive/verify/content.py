"""The content check: every committed JSONL line parses and matches its schema.
Also no (id, version) twice, each record of the crawl its file names, each WARC file a record points to present;
the pointers are collected for the pointer check."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..layout import ArchiveFile, ArchiveLayout, committed_jsonl, committed_warcs
from ..quarantine import validate_quarantine
from ..reader import iter_lines
from ..schema import validate_record
from .report import FIX_RESTORE, VerifyReport


@dataclass(frozen=True)
class Pointer:
    """A record's claim about its raw capture, checked against the WARC file."""

    offset: int
    path: Path
    line: int
    url: Any
    record_id: Any
    content_sha256: Any


@dataclass
class FileScan:
    """What reading one JSONL file found: lines on disk, how many were sound records, how many are skip entries."""

    lines: int = 0
    valid: int = 0
    skipped: int = 0


class ContentCheck:
    """Reads the archive's committed article and quarantine files line by line; `scans` and `pointers` say what it saw."""

    def __init__(self, report: VerifyReport, layout: ArchiveLayout) -> None:
        self.report = report
        self.layout = layout
        self.seen: dict[tuple[str, int], tuple[Path, int]] = {}
        self.scans: dict[Path, FileScan] = {}
        self.warc_names = {f.name for f in committed_warcs(layout.warc_dir)}
        self.pointers: dict[str, list[Pointer]] = {}

    def run(self) -> None:
        self.scan_jsonl(committed_jsonl(self.layout.articles_dir), self.check_article)
        self.scan_jsonl(committed_jsonl(self.layout.quarantine_dir), self.check_quarantine)

    def scan_jsonl(self, files: list[ArchiveFile], check: Callable[[ArchiveFile, int, dict[str, Any]], None]) -> None:
        for archive_file in files:
            scan = FileScan()
            self.scans[archive_file.path] = scan
            self.report.files_checked += 1
            try:
                for line in iter_lines(archive_file.path):
                    scan.lines += 1
                    if self.check_line(archive_file, line, check):
                        scan.valid += 1
            except (EOFError, OSError, zlib.error, gzip.BadGzipFile) as exc:
                self.report.add(
                    archive_file.path,
                    scan.lines + 1,
                    f"compressed stream is damaged after line {scan.lines}: {exc}",
                    FIX_RESTORE,
                )

    def check_line(
        self, archive_file: ArchiveFile, line: Any, check: Callable[[ArchiveFile, int, dict[str, Any]], None]
    ) -> bool:
        path = archive_file.path
        if not line.terminated:
            self.report.add(
                path,
                line.number,
                "truncated last line (no newline at end of file)",
                "the file was cut short (copy interrupted or disk full): " + FIX_RESTORE,
            )
            return False
        try:
            record = json.loads(line.data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            self.report.add(path, line.number, f"line is not valid UTF-8 JSON: {exc}", FIX_RESTORE)
            return False
        if not isinstance(record, dict):
            self.report.add(path, line.number, "line is not a JSON object", FIX_RESTORE)
            return False
        self.report.records_checked += 1
        before = len(self.report.errors)
        check(archive_file, line.number, record)
        return len(self.report.errors) == before

    def check_article(self, archive_file: ArchiveFile, number: int, record: dict[str, Any]) -> None:
        path = archive_file.path
        for error in validate_record(record):
            self.report.add(
                path,
                number,
                f"record does not match the schema: {error}",
                "fix the producer and re-crawl this article; " + FIX_RESTORE,
            )
        self.check_common(archive_file, number, record)
        record_id, version = record.get("id"), record.get("version")
        if isinstance(record_id, str) and isinstance(version, int):
            key = (record_id, version)
            if key in self.seen:
                first_path, first_line = self.seen[key]
                self.report.add(
                    path,
                    number,
                    f"duplicate id {key[0]} version {key[1]} (first at {first_path}:{first_line})",
                    "versions must be unique: the index was stale or two crawls ran at once; keep one record and renumber or drop the other",
                )
            else:
                self.seen[key] = (path, number)

    def check_quarantine(self, archive_file: ArchiveFile, number: int, record: dict[str, Any]) -> None:
        for error in validate_quarantine(record):
            self.report.add(
                archive_file.path, number, f"quarantine record does not match the schema: {error}", FIX_RESTORE
            )
        self.check_common(archive_file, number, record)
        if record.get("outcome") == "skipped":
            self.scans[archive_file.path].skipped += 1

    def check_common(self, archive_file: ArchiveFile, number: int, record: dict[str, Any]) -> None:
        if "crawl_id" in record and record["crawl_id"] != archive_file.prefix:
            self.report.add(
                archive_file.path,
                number,
                f"record crawl_id {record['crawl_id']!r} differs from the file's crawl {archive_file.prefix!r}",
                "records must be written by the crawl named in the file name; check how the writer prefix was chosen",
            )
        warc_file = record.get("warc_file")
        if isinstance(warc_file, str) and warc_file not in self.warc_names:
            self.report.add(
                archive_file.path,
                number,
                f"record points to WARC file {warc_file!r}, which is not in warc/",
                "restore the WARC file from a replica; without it the raw capture of this record is lost",
            )
        elif isinstance(warc_file, str) and isinstance(record.get("warc_offset"), int):
            self.pointers.setdefault(warc_file, []).append(
                Pointer(
                    record["warc_offset"],
                    archive_file.path,
                    number,
                    record.get("url"),
                    record.get("warc_record_id"),
                    record.get("content_sha256"),
                )
            )
