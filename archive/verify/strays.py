"""The stray check: what is in the archive directory but no part of the archive.
Unknown names, symbolic links, partial files of interrupted writes, and WARC files without their CDXJ index; all
warnings but the links."""

from __future__ import annotations

from ..layout import (
    ARTICLES,
    INDEX_FILE,
    LEDGER_FILE,
    MANIFESTS,
    QUARANTINE,
    WARC,
    ArchiveLayout,
    committed_warcs,
    leftover_files,
    linked_entries,
    parse_jsonl_name,
    parse_warc_name,
)
from .report import LOCK_FILE, WARNING, VerifyReport


def check_unknown(report: VerifyReport, layout: ArchiveLayout) -> None:
    """Files that are no part of an archive: never read, so worth a word (they may be a mistake)."""
    known_root = {*(layout.dir_for_kind(kind).name for kind in (ARTICLES, QUARANTINE, WARC))}
    known_root |= {MANIFESTS, INDEX_FILE, LEDGER_FILE, f".{INDEX_FILE}.part", LOCK_FILE}
    unknown = [p for p in layout.root.iterdir() if p.name not in known_root and not p.is_symlink()]
    checks = {
        layout.articles_dir: lambda name: parse_jsonl_name(name) is not None,
        layout.quarantine_dir: lambda name: parse_jsonl_name(name) is not None,
        layout.warc_dir: lambda name: (
            parse_warc_name(name) is not None
            or (name.endswith(".cdxj") and parse_warc_name(name[: -len(".cdxj")]) is not None)
        ),
        layout.manifests_dir: lambda name: name.endswith(".json") and not name.startswith("."),
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
        report.add(
            path,
            None,
            "not a file of the archive (unknown name), so it is neither checked nor read",
            "move it out of the archive; keep notes beside the archive, not in it",
            WARNING,
        )


def check_leftovers(report: VerifyReport, layout: ArchiveLayout) -> None:
    """Partial files of interrupted writes: never read, worth a word."""
    for directory in (layout.articles_dir, layout.quarantine_dir, layout.warc_dir):
        for path in leftover_files(directory):
            report.add(
                path,
                None,
                "partial file from an interrupted write (never read as part of the archive)",
                "delete it once no crawl is running, or keep it for forensics",
                WARNING,
            )


def check_cdxj_present(report: VerifyReport, layout: ArchiveLayout) -> None:
    """Every WARC file has its CDXJ index beside it."""
    for warc in committed_warcs(layout.warc_dir):
        if not warc.path.with_name(warc.name + ".cdxj").exists():
            report.add(
                warc.path,
                None,
                "WARC file has no CDXJ index beside it",
                "rebuild it: python -c 'import archive.warc as w, pathlib, sys; w.build_cdxj(pathlib.Path(sys.argv[1]))' FILE",
                WARNING,
            )


def check_links(report: VerifyReport, layout: ArchiveLayout) -> None:
    """Symbolic links inside the archive: never followed, so what they lead to is neither checked nor read."""
    for path in linked_entries(layout.root):
        report.add(
            path,
            None,
            "symbolic link inside the archive: not followed, so whatever it leads to is not checked or read",
            "replace the link with the real file or directory (the archive must hold its own data)",
        )
