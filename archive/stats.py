"""Summary numbers of an archive (articles, versions, quarantined and skipped, crawls, files, sections, span) for humans and scripts.
Read-only: computed from committed files and manifests, never from the index cache."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

from .layout import ArchiveLayout, check_archive_root, committed_jsonl, committed_warcs
from .ledger import read_ledger
from .manifest import SUMMARY_KEYS, load_manifests, manifest_paths
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
        "distributed_crawls": distributed_crawls(root),
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


def distributed_crawls(root: Path) -> dict[str, dict[str, Any]]:
    """Per distributed crawl (`newsarchive crawl --redis`): its workers, finished or not, what their manifests say they
    wrote (the five counts summed), and the crawl's own accounting as its last worker to finish recorded it."""
    crawls: dict[str, dict[str, Any]] = {}
    last: dict[str, str] = {}
    for _, manifest in sorted(load_manifests(root).items()):
        cluster = manifest.get("cluster")
        if not isinstance(cluster, dict) or not isinstance(cluster.get("crawl_id"), str):
            continue
        entry = crawls.setdefault(
            cluster["crawl_id"], {"workers": 0, "unfinished_workers": 0, **dict.fromkeys(SUMMARY_KEYS, 0)}
        )
        entry["workers"] += 1
        for key in SUMMARY_KEYS:
            entry[key] += int(manifest["summary"].get(key, 0))
        if manifest["finished_at"] >= last.get(cluster["crawl_id"], ""):
            last[cluster["crawl_id"]] = manifest["finished_at"]
            entry["crawl"] = cluster.get("summary")
    for crawl_id, ledger_entry in read_ledger(root).crawls.items():
        cluster_id, _, worker = crawl_id.rpartition("-")
        if cluster_id in crawls and worker.startswith("w") and ledger_entry.finished_line is None:
            crawls[cluster_id]["unfinished_workers"] += 1
    return crawls
