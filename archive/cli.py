"""Command-line entry functions for 'newsarchive verify', 'newsarchive stats' and 'newsarchive export'.
Each takes an argv list (without the program and subcommand names) and returns an exit status."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from .export import export_latest
from .layout import ArchiveRootError
from .output import OutputPathError, atomic_output
from .reader import ArchiveReadError
from .stats import archive_stats
from .verify import verify_archive

logger = logging.getLogger(__name__)

# What an archive command reports as "error: ..." with exit status 1: each message names the problem and the fix.
READ_ERRORS = (ArchiveReadError, ArchiveRootError, OutputPathError)


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
    """newsarchive export DIR --latest [--out FILE]: newest version of every article as JSON lines."""
    parser = argparse.ArgumentParser(prog="newsarchive export", description="Export article records as JSON lines.")
    parser.add_argument("directory", type=Path)
    parser.add_argument(
        "--latest",
        action="store_true",
        required=True,
        help="one line per article, newest version (the only mode so far)",
    )
    parser.add_argument("--out", type=Path, help="output file (default: standard output)")
    args = parser.parse_args(argv)
    try:
        if args.out is None:
            count = export_latest(args.directory, sys.stdout)
        else:
            with atomic_output(args.out, args.directory) as out:
                count = export_latest(args.directory, out)
    except READ_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        raise  # standard output closed by the reader (`| head`): the entry point handles it
    except OSError as exc:
        print(
            f"error: cannot write {args.out}: {exc.strerror or exc} (free space or pick another --out)", file=sys.stderr
        )
        return 1
    print(f"exported {count} articles", file=sys.stderr)
    return 0
