"""Command-line entry functions for 'newsarchive verify', 'stats', 'export' and 'merge'.
Each takes an argv list (without the program and subcommand names) and returns an exit status."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from .export import export_records
from .layout import ArchiveRootError
from .manifest import SUMMARY_KEYS
from .merge import MergeError, merge_archives
from .output import OutputPathError, atomic_binary_output, atomic_output
from .parquet import ParquetError, export_parquet
from .reader import ArchiveReadError
from .stats import archive_stats
from .verify import verify_archive
from .wacz import WaczError, export_wacz
from .writer import DirectoryBusyError

logger = logging.getLogger(__name__)

# What an archive command reports as "error: ..." with exit status 1: each message names the problem and the fix.
READ_ERRORS = (ArchiveReadError, ArchiveRootError, OutputPathError)
EXPORT_ERRORS = (*READ_ERRORS, ParquetError, WaczError)


def verify_main(argv: list[str] | None = None) -> int:
    """newsarchive verify DIR: exit 0 if the archive is whole, 1 with one line per problem otherwise."""
    parser = argparse.ArgumentParser(
        prog="newsarchive verify", description="Check that an archive is complete and undamaged."
    )
    parser.add_argument("directory", type=Path, help="archive root (holds articles/, warc/, manifests/)")
    parser.add_argument("--strict", action="store_true", help="also fail on warnings (e.g. crawls without a manifest)")
    parser.add_argument("-q", "--quiet", action="store_true", help="do not print warnings")
    args = parser.parse_args(argv)
    report = verify_archive(args.directory)
    for problem in report.problems:
        if problem.severity == "error" or not args.quiet:
            print(problem.format())
    print(
        f"{args.directory}: {report.files_checked} files, {report.records_checked} records, "
        f"{len(report.errors)} errors, {len(report.warnings)} warnings",
        file=sys.stderr,
    )
    failed = not report.ok or (args.strict and report.warnings)
    return 1 if failed else 0


def format_stats(stats: dict[str, Any]) -> str:
    """Human-readable two-column table of archive_stats() output."""
    rows: list[tuple[str, str]] = []
    for key in (
        "articles",
        "records",
        "quarantined",
        "skipped",
        "crawls",
        "files",
        "published_first",
        "published_last",
    ):
        rows.append((key, str(stats[key])))
    rows += [(f"  {kind} files", str(n)) for kind, n in stats["files_by_kind"].items()]
    rows += [(f"articles with {v} version(s)", str(n)) for v, n in stats["versions"].items()]
    rows += [(f"section {name}", str(n)) for name, n in stats["sections"].items()]
    for crawl_id, crawl in stats["distributed_crawls"].items():
        workers = f"{crawl['workers']} workers" + (
            f" (and {crawl['unfinished_workers']} unfinished)" if crawl["unfinished_workers"] else ""
        )
        outcomes = ", ".join(f"{key} {(crawl.get('crawl') or crawl).get(key, 0)}" for key in SUMMARY_KEYS)
        rows.append((f"distributed crawl {crawl_id}", f"{workers}: {outcomes}"))
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)


def stats_main(argv: list[str] | None = None) -> int:
    """newsarchive stats DIR [--json]: print counts as a table or as JSON."""
    parser = argparse.ArgumentParser(prog="newsarchive stats", description="Summarize an archive.")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    args = parser.parse_args(argv)
    try:
        stats = archive_stats(args.directory)
    except READ_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(stats, ensure_ascii=False, indent=2) if args.json else format_stats(stats))
    return 0


def export_main(argv: list[str] | None = None) -> int:
    """newsarchive export DIR [--latest | --all-versions] [--format jsonl|parquet] [--out FILE], or DIR --wacz --out FILE."""
    parser = argparse.ArgumentParser(
        prog="newsarchive export",
        description="Export an archive: its article records as JSON lines or Parquet, or its captures as a WACZ file.",
    )
    parser.add_argument("directory", type=Path)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--latest", action="store_true", help="one record per article, its newest version (the default)")
    which.add_argument("--all-versions", action="store_true", help="every version of every article, oldest crawl first")
    parser.add_argument(
        "--format",
        choices=("jsonl", "parquet"),
        default="jsonl",
        help="jsonl: the archive's own JSON lines (default); parquet: one fixed schema (needs --out and pyarrow)",
    )
    parser.add_argument(
        "--wacz",
        action="store_true",
        help="pack the WARC files and a page per article (its restored title) into a WACZ file for ReplayWeb.page "
        "or pywb (needs --out and the wacz package)",
    )
    parser.add_argument("--out", type=Path, help="output file (default: standard output, for jsonl only)")
    args = parser.parse_args(argv)
    if args.wacz and (args.all_versions or args.format != "jsonl"):
        parser.error("--wacz packs the captures, not records: drop --all-versions and --format")
    if (args.wacz or args.format == "parquet") and args.out is None:
        parser.error(f"{'a WACZ' if args.wacz else 'Parquet'} is a binary file: give --out FILE")
    try:
        if args.wacz:
            summary = export_wacz(args.directory, args.out)
            print(
                f"wrote {args.out}: {summary.warc_files} WARC file{'s' if summary.warc_files != 1 else ''}, "
                f"{summary.pages} article pages, {summary.bytes} bytes",
                file=sys.stderr,
            )
            return 0
        latest = not args.all_versions
        if args.format == "parquet":
            with atomic_binary_output(args.out, args.directory, "parquet") as binary:
                count = export_parquet(args.directory, binary, latest_only=latest)
        elif args.out is None:
            count = export_records(args.directory, sys.stdout, latest_only=latest)
        else:
            with atomic_output(args.out, args.directory) as out:
                count = export_records(args.directory, out, latest_only=latest)
    except EXPORT_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        raise  # standard output closed by the reader (`| head`): the entry point handles it
    except OSError as exc:
        print(
            f"error: cannot write {args.out}: {exc.strerror or exc} (free space or pick another --out)", file=sys.stderr
        )
        return 1
    print(f"exported {count} {'articles' if latest else 'records'}", file=sys.stderr)
    return 0


def merge_main(argv: list[str] | None = None) -> int:
    """newsarchive merge DEST SRC...: copy the crawls of the SRC archives into DEST; exit 0, or 1 saying why not."""
    parser = argparse.ArgumentParser(
        prog="newsarchive merge",
        description="Combine archives written on separate machines (e.g. by the workers of one distributed crawl): "
        "every crawl's files, manifest and ledger lines are copied into DEST as they are; DEST is created if missing. "
        "Sources that do not verify, or whose records would give an article two versions of one number, are refused "
        "and nothing is copied.",
    )
    parser.add_argument("dest", type=Path, help="the archive to merge into (created if missing)")
    parser.add_argument("sources", type=Path, nargs="+", metavar="SRC", help="archives to copy the crawls of")
    args = parser.parse_args(argv)
    try:
        report = merge_archives(args.dest, args.sources)
    except (*READ_ERRORS, MergeError, DirectoryBusyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(
            f"error: cannot write to {args.dest}: {exc.strerror or exc} (free space or fix the directory, then "
            "run the same merge again: it completes what it began)",
            file=sys.stderr,
        )
        return 1
    for crawl_id, files in report.copied.items():
        print(f"merged crawl {crawl_id} ({files} files)")
    for crawl_id in report.present:
        print(f"crawl {crawl_id} is in {args.dest} already")
    print(
        f"{args.dest}: {len(report.copied)} crawls merged; check it with `newsarchive verify {args.dest}`",
        file=sys.stderr,
    )
    return 0
