"""Summary numbers of an archive (articles, versions, quarantined and skipped, crawls, files, sections, span) for humans and scripts.
Read-only: computed from committed files and manifests, never from the index cache."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

from .layout import ArchiveLayout, check_archive_root, committed_jsonl, committed_warcs
from .manifest import manifest_paths
from .reader import iter_quarantine, iter_records, parse_instant

logger = logging.getLogger(__name__)


def archive_stats(directory: Path | str) -> dict[str, Any]:
    """Counts for the archive rooted at `directory`; see the keys of the returned dict.

    Raises ArchiveRootError if `directory` is not a readable archive, ArchiveReadError on a damaged file.
    """
    root = check_archive_root(Path(directory))
    layout = ArchiveLayout(root)
    records = 0
    latest: dict[str, dict[str, Any]] = {}
    crawls: set[str] = set()
    for record in iter_records(root):
        records += 1
        crawls.add(record.get("crawl_id", ""))
        current = latest.get(record["id"])
        if current is None or record["version"] > current["version"]:
            latest[record["id"]] = {
                "version": record["version"],
                "section": record.get("section"),
                "published_at": record.get("published_at"),
            }
    # quarantine/ holds fetched pages that did not become records and skip entries for articles not got;
    # entries from before skip entries carry no outcome and are all quarantined pages.
    outcomes = Counter(
        "skipped" if entry.get("outcome") == "skipped" else "quarantined" for entry in iter_quarantine(root)
    )
    files = {
        "articles": len(committed_jsonl(layout.articles_dir)),
        "quarantine": len(committed_jsonl(layout.quarantine_dir)),
        "warc": len(committed_warcs(layout.warc_dir)),
        "manifests": len(manifest_paths(root)),
    }
    crawls |= {path.stem for path in manifest_paths(root)}
    crawls |= {f.prefix for f in committed_jsonl(layout.quarantine_dir) + committed_warcs(layout.warc_dir)}
    published = sorted(
        (moment, value) for value in (a["published_at"] for a in latest.values()) if (moment := parse_instant(value))
    )
    return {
        "articles": len(latest),
        "records": records,
        "quarantined": outcomes["quarantined"],
        "skipped": outcomes["skipped"],
        "crawls": len(crawls - {""}),
        "files": sum(files.values()),
        "files_by_kind": files,
        "versions": {str(k): v for k, v in sorted(Counter(a["version"] for a in latest.values()).items())},
        "published_first": published[0][1] if published else None,
        "published_last": published[-1][1] if published else None,
        "sections": dict(Counter(a["section"] or "(none)" for a in latest.values()).most_common()),
    }
