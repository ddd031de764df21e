"""Proof that an archive is whole: manifests match the files, every line parses and validates, no (id, version) twice,
every record's WARC pointer reaches the response that holds its body. Problems carry file, line and a fix; warnings do not fail."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from .layout import (
    ARTICLES,
    INDEX_FILE,
    LEDGER_FILE,
    MANIFESTS,
    QUARANTINE,
    WARC,
    ArchiveFile,
    ArchiveLayout,
    UnsafeNameError,
    committed_jsonl,
    committed_warcs,
    leftover_files,
    linked_entries,
    parse_jsonl_name,
    parse_warc_name,
)
from .ledger import Ledger, prefix_sha256, read_ledger
from .manifest import SUMMARY_KEYS, ManifestError, manifest_paths, read_manifest
from .quarantine import validate_quarantine
from .reader import iter_lines
from .schema import validate_record

logger = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class _Pointer:
    """A record's claim about its raw capture, checked against the WARC file."""

    offset: int
    path: Path
    line: int
    url: Any
    record_id: Any
    content_sha256: Any


@dataclass
class _FileScan:
    """What reading one JSONL file found: lines on disk, how many were sound records, how many are skip entries."""

    lines: int = 0
    valid: int = 0
    skipped: int = 0


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


class _Verifier:
    def __init__(self, root: Path):
        self.root = root
        self.layout = ArchiveLayout(root)
        self.report = VerifyReport(root)
        self.seen: dict[tuple[str, int], tuple[Path, int]] = {}
        self.scans: dict[Path, _FileScan] = {}
        self.warc_names = {f.name for f in committed_warcs(self.layout.warc_dir)}
        self.pointers: dict[str, list[_Pointer]] = {}
        self.ledger = Ledger(self.root / LEDGER_FILE, False)
        self.manifest_sha: dict[str, str] = {}
        self.manifests: dict[str, dict[str, Any]] = {}

    def run(self) -> VerifyReport:
        if not self.root.is_dir():
            self.report.add(
                self.root,
                None,
                "archive root does not exist or is not a directory",
                "pass the directory that holds articles/, warc/ and manifests/",
            )
            return self.report
        entries = {path.name for path in self.root.iterdir()}
        if entries and not entries & {ARTICLES, QUARANTINE, WARC, MANIFESTS, INDEX_FILE, LEDGER_FILE}:
            self.report.add(
                self.root,
                None,
                "not an archive: it holds none of articles/, warc/, manifests/",
                "pass the directory that holds articles/, warc/ and manifests/",
            )
            return self.report
        self.check_links()
        self.ledger = read_ledger(self.root)
        self.scan_jsonl(committed_jsonl(self.layout.articles_dir), ARTICLES, self.check_article)
        self.scan_jsonl(committed_jsonl(self.layout.quarantine_dir), QUARANTINE, self.check_quarantine)
        self.check_pointers()
        listed = self.check_manifests()
        self.check_ledger(listed)
        self.check_unlisted(listed)
        self.check_leftovers()
        self.check_unknown()
        self.check_cdxj_present()
        return self.report

    def check_links(self) -> None:
        for path in linked_entries(self.root):
            self.report.add(
                path,
                None,
                "symbolic link inside the archive: not followed, so whatever it leads to is not checked or read",
                "replace the link with the real file or directory (the archive must hold its own data)",
            )

    # --- JSONL content -------------------------------------------------------------------------
    def scan_jsonl(
        self, files: list[ArchiveFile], kind: str, check: Callable[[ArchiveFile, int, dict[str, Any]], None]
    ) -> None:
        for archive_file in files:
            scan = _FileScan()
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
                _Pointer(
                    record["warc_offset"],
                    archive_file.path,
                    number,
                    record.get("url"),
                    record.get("warc_record_id"),
                    record.get("content_sha256"),
                )
            )

    # --- WARC pointers ---------------------------------------------------------------------------
    def check_pointers(self) -> None:
        """Each pointer must reach a response record for the record's URL whose payload hashes to content_sha256.

        Each WARC file is opened once and read only at the offsets that records name.
        """
        for warc_file, pointers in sorted(self.pointers.items()):
            path = self.layout.warc_dir / warc_file
            with open(path, "rb") as stream:
                for pointer in sorted(pointers, key=lambda p: p.offset):
                    problem = self.pointer_problem(stream, pointer)
                    if problem:
                        self.report.add(
                            pointer.path,
                            pointer.line,
                            f"warc_offset {pointer.offset} in {warc_file}: {problem}",
                            "the record and its raw capture disagree: restore both from a replica, or re-crawl the article",
                        )

    @staticmethod
    def pointer_problem(stream: Any, pointer: _Pointer) -> str | None:
        stream.seek(pointer.offset)
        start = stream.read(5)
        # Records start a gzip member (or "WARC/" uncompressed); anything else is mid-record,
        # where a reader would silently skip ahead to some later record.
        if start[:2] != b"\x1f\x8b" and start != b"WARC/":
            return "no readable WARC record there (the offset is not the start of a record)"
        stream.seek(pointer.offset)
        try:
            record = next(iter(ArchiveIterator(stream)), None)
            if record is None:
                return "no WARC record starts there (offset past the end)"
            if record.rec_type != "response":
                return f"points to a {record.rec_type!r} record, not a response"
            uri = record.rec_headers.get_header("WARC-Target-URI")
            if uri != pointer.url:
                return f"the response there is for {uri!r}, not {pointer.url!r}"
            record_id = record.rec_headers.get_header("WARC-Record-ID")
            if pointer.record_id is not None and record_id != pointer.record_id:
                return f"the response there is {record_id}, not the record's warc_record_id {pointer.record_id}"
            digest = hashlib.sha256(record.content_stream().read()).hexdigest()
        except WARC_READ_ERRORS as exc:
            return f"no readable WARC record there ({exc})"
        if pointer.content_sha256 is not None and digest != pointer.content_sha256:
            return f"the response body hashes to {digest}, not the record's content_sha256 {pointer.content_sha256}"
        return None

    # --- manifests -----------------------------------------------------------------------------
    def check_manifests(self) -> dict[str, set[tuple[str, str]]]:
        """Check every manifest; return crawl_id -> {(kind, name)} of the files it lists."""
        listed: dict[str, set[tuple[str, str]]] = {}
        for path in manifest_paths(self.root):
            self.report.files_checked += 1
            try:
                manifest = read_manifest(path)
            except ManifestError as exc:
                self.report.add(
                    path, None, str(exc), "restore the manifest from a replica; it cannot be regenerated safely by hand"
                )
                continue
            crawl_id = manifest["crawl_id"]
            self.manifest_sha[crawl_id] = sha256_of(path)
            self.manifests[crawl_id] = manifest
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
            self.check_summary(path, manifest)
        return listed

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
        shown = self.root / self.layout.dir_for_kind(entry["kind"]).name / entry["name"]
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

    def check_summary(self, path: Path, manifest: dict[str, Any]) -> None:
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

    # --- files outside manifests ---------------------------------------------------------------
    def check_unlisted(self, listed: dict[str, set[tuple[str, str]]]) -> None:
        candidates = [(ARTICLES, f) for f in committed_jsonl(self.layout.articles_dir)]
        candidates += [(QUARANTINE, f) for f in committed_jsonl(self.layout.quarantine_dir)]
        candidates += [(WARC, f) for f in committed_warcs(self.layout.warc_dir)]
        for kind, archive_file in candidates:
            if archive_file.prefix not in listed and self.ledger.finished(archive_file.prefix):
                continue  # the crawl's missing manifest is reported once, from the ledger
            if (
                archive_file.prefix not in listed
                and self.ledger.exists
                and archive_file.prefix not in self.ledger.crawls
            ):
                self.report.add(
                    archive_file.path,
                    None,
                    f"file of crawl {archive_file.prefix}, which the ledger never saw start",
                    "a file copied in from elsewhere, or its crawl's ledger lines were removed: find where it came "
                    "from and move it out of the archive, or restore ledger.jsonl from a backup",
                )
            elif archive_file.prefix not in listed:
                self.report.add(
                    archive_file.path,
                    None,
                    f"no manifest for crawl {archive_file.prefix} (crawl did not finish); file checked on its own",
                    "expected while a crawl runs or after it was killed; its records are usable, re-run the crawl to get a manifest",
                    WARNING,
                )
            elif (kind, archive_file.name) not in listed[archive_file.prefix]:
                self.report.add(
                    archive_file.path,
                    None,
                    f"not listed in the manifest of crawl {archive_file.prefix}, which finished without it: "
                    "a file added to the archive afterwards (never read)",
                    "find where it came from, then move it out of the archive; a finished crawl's manifest is the list of its files",
                )

    # --- the crawl ledger --------------------------------------------------------------------------
    def check_ledger(self, listed: dict[str, set[tuple[str, str]]]) -> None:
        """Every finished crawl in the ledger has the manifest it wrote; every manifest's crawl is in the ledger."""
        ledger = self.ledger
        self.check_ledger_prefixes()
        if not ledger.exists:
            if listed and not any(isinstance(m.get("ledger"), dict) for m in self.manifests.values()):
                self.report.add(
                    ledger.path,
                    None,
                    f"no crawl ledger, though {len(listed)} crawl(s) have a manifest: a crawl deleted together with "
                    "its manifest would go unnoticed",
                    "expected for an archive written before the ledger existed; the next crawl starts one",
                    WARNING,
                )
            return
        self.report.files_checked += 1
        for number, problem in ledger.problems:
            self.report.add(
                ledger.path,
                number,
                f"ledger line unreadable: {problem}",
                "the ledger is only ever appended to: restore it from a backup",
            )
        for crawl_id, entry in sorted(ledger.crawls.items()):
            if entry.finished_line is None:
                continue
            if crawl_id not in self.manifest_sha:
                self.report.add(
                    ledger.path,
                    entry.finished_line,
                    f"crawl {crawl_id} finished, but manifests/{crawl_id}.json is missing (its files are unchecked)",
                    FIX_CRAWL_LOST,
                )
            elif self.manifest_sha[crawl_id] != entry.manifest_sha256:
                self.report.add(
                    self.layout.manifest_path(crawl_id),
                    None,
                    f"manifest differs from the one crawl {crawl_id} wrote (ledger line {entry.finished_line} "
                    f"records sha256 {entry.manifest_sha256})",
                    "the manifest was replaced or edited: restore it from a replica or backup",
                )
        for crawl_id in sorted(set(listed) - {c for c in ledger.crawls if ledger.finished(c)}):
            self.report.add(
                self.layout.manifest_path(crawl_id),
                None,
                f"the ledger does not record crawl {crawl_id} finishing: a manifest added to the archive afterwards",
                "find where it came from; if it is genuine, restore ledger.jsonl from a backup, else move the "
                "manifest and the crawl's files out of the archive",
            )

    def check_ledger_prefixes(self) -> None:
        """Each manifest keeps the size and hash of the ledger as its crawl left it: that much of it must be unchanged."""
        for crawl_id, manifest in sorted(self.manifests.items()):
            seen = manifest.get("ledger")
            if not isinstance(seen, dict) or not isinstance(seen.get("bytes"), int):
                continue  # written before manifests recorded the ledger
            path = self.layout.manifest_path(crawl_id)
            if not self.ledger.exists:
                self.report.add(
                    self.ledger.path,
                    None,
                    f"the crawl ledger is missing, though crawl {crawl_id} recorded it ({path.name})",
                    "restore ledger.jsonl from a replica or backup; without it a deleted crawl goes unnoticed",
                )
                return
            if prefix_sha256(self.ledger.path, seen["bytes"]) != seen.get("sha256"):
                self.report.add(
                    self.ledger.path,
                    None,
                    f"the first {seen['bytes']} bytes are not the ledger crawl {crawl_id} left ({path.name}): "
                    "lines were removed or edited since",
                    "the ledger is only ever appended to: restore it from a replica or backup",
                )

    # --- anything else ---------------------------------------------------------------------------
    def check_unknown(self) -> None:
        """Files that are no part of an archive: never read, so worth a word (they may be a mistake)."""
        known_root = {*(self.layout.dir_for_kind(kind).name for kind in (ARTICLES, QUARANTINE, WARC))}
        known_root |= {MANIFESTS, INDEX_FILE, LEDGER_FILE, f".{INDEX_FILE}.part", LOCK_FILE}
        unknown = [p for p in self.root.iterdir() if p.name not in known_root and not p.is_symlink()]
        checks = {
            self.layout.articles_dir: lambda name: parse_jsonl_name(name) is not None,
            self.layout.quarantine_dir: lambda name: parse_jsonl_name(name) is not None,
            self.layout.warc_dir: lambda name: (
                parse_warc_name(name) is not None
                or (name.endswith(".cdxj") and parse_warc_name(name[: -len(".cdxj")]) is not None)
            ),
            self.layout.manifests_dir: lambda name: name.endswith(".json") and not name.startswith("."),
        }
        for directory, expected in checks.items():
            if directory.is_symlink() or not directory.is_dir():
                continue
            leftovers = set(leftover_files(directory))
            unknown += [
                p
                for p in directory.iterdir()
                if not p.is_symlink()
                and p not in leftovers
                and p.name != LOCK_FILE
                and not (p.name.startswith(".") and p.name.endswith(".part"))
                and not (p.is_file() and expected(p.name))
            ]
        for path in sorted(unknown):
            self.report.add(
                path,
                None,
                "not a file of the archive (unknown name), so it is neither checked nor read",
                "move it out of the archive; keep notes beside the archive, not in it",
                WARNING,
            )

    def check_leftovers(self) -> None:
        for directory in (self.layout.articles_dir, self.layout.quarantine_dir, self.layout.warc_dir):
            for path in leftover_files(directory):
                self.report.add(
                    path,
                    None,
                    "partial file from an interrupted write (never read as part of the archive)",
                    "delete it once no crawl is running, or keep it for forensics",
                    WARNING,
                )

    def check_cdxj_present(self) -> None:
        for warc in committed_warcs(self.layout.warc_dir):
            if not warc.path.with_name(warc.name + ".cdxj").exists():
                self.report.add(
                    warc.path,
                    None,
                    "WARC file has no CDXJ index beside it",
                    "rebuild it: python -c 'import archive.warc as w, pathlib, sys; w.build_cdxj(pathlib.Path(sys.argv[1]))' FILE",
                    WARNING,
                )


def verify_archive(directory: Path | str) -> VerifyReport:
    """Check the archive rooted at `directory`; report.ok is True when there are no errors."""
    report = _Verifier(Path(directory)).run()
    logger.info("verified %s: %d errors, %d warnings", directory, len(report.errors), len(report.warnings))
    return report
