"""Builders of valid sample records and small finished crawls, for tests of this package and of its users.
Not used by the archive code itself; kept in the package so scraper tests can build archives too."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .layout import ArchiveLayout
from .manifest import write_manifest
from .quarantine import QuarantineWriter
from .schema import SCHEMA_VERSION, normalize_record, text_sha256
from .writer import JsonlWriter

logger = logging.getLogger(__name__)


def sample_record(
    article_id: str = "1001",
    version: int = 1,
    text: str = "新闻正文。",
    crawl_id: str = "20250101T000000Z-aaaaaa",
    **overrides: Any,
) -> dict[str, Any]:
    """A schema-valid article record; `overrides` replace fields (text_sha256 follows `text`)."""
    record = {
        "schema_version": SCHEMA_VERSION,
        "id": article_id,
        "url": f"http://news.example.cn/a/{article_id}.html",
        "version": version,
        "crawl_id": crawl_id,
        "fetched_at": "2025-01-01T00:00:00Z",
        "http_status": 200,
        "charset": "gbk",
        "content_sha256": "0" * 64,
        "text_sha256": text_sha256(text),
        "title": "標題",
        "title_hans": "标题",
        "published_at": "2024-12-31T08:00:00+08:00",
        "source": "本報",
        "reporters": ["記者甲"],
        "section": "要聞",
        "breadcrumb": ["首頁", "要聞"],
        "paragraphs": [text],
        "subheadings": [],
        "images": [{"url": None, "caption": None}],
        "text": text,
        "text_hans": text,
        "cleaning": {
            "spam_blocks": 0,
            "pinyin_removed": 0,
            "mojibake_runs": 0,
            "bytes_restored": 0,
            "punctuation_restored": 0,
            "unrecoverable": [],
            "repairs": [],
        },
        "cleaner_version": "0.1.0+model.000000000000",
        "warc_file": None,
        "warc_record_id": None,
        "warc_offset": None,
    }
    record.update(overrides)
    return normalize_record(record)


def sample_quarantine(
    url: str = "http://news.example.cn/a/bad.html", crawl_id: str = "20250101T000000Z-aaaaaa", **overrides: Any
) -> dict[str, Any]:
    """A schema-valid quarantine record."""
    record = {
        "url": url,
        "reason": "no_title",
        "detail": "title element missing",
        "fetched_at": "2025-01-01T00:00:00Z",
        "crawl_id": crawl_id,
        "http_status": 200,
        "warc_file": None,
        "warc_record_id": None,
        "warc_offset": None,
    }
    record.update(overrides)
    return record


def write_sample_crawl(
    root: Path | str,
    crawl_id: str,
    records: Iterable[dict[str, Any]],
    quarantine: Iterable[dict[str, Any]] = (),
    *,
    manifest: bool = True,
    compress: bool = True,
    max_records: int = 10_000,
    started_at: str = "2025-01-01T00:00:00Z",
) -> Path | None:
    """Write a finished crawl (articles, quarantine, manifest) and return the manifest path (None if manifest=False).

    Summary counts treat version 1 as 'archived' and higher versions as 'new_version', and quarantine records
    with outcome "skipped" as skip entries.
    """
    layout = ArchiveLayout(Path(root))
    layout.ensure_dirs()
    records = list(records)
    with JsonlWriter(layout.articles_dir, crawl_id, max_records=max_records, compress=compress) as articles:
        for record in records:
            articles.write(record)
    with QuarantineWriter(layout.quarantine_dir, crawl_id, compress=compress) as bad:
        quarantined = skip_entries = 0
        for record in quarantine:
            bad.write(record)
            if record.get("outcome") == "skipped":
                skip_entries += 1
            else:
                quarantined += 1
    if not manifest:
        return None
    summary = {
        "archived": sum(1 for r in records if r["version"] == 1),
        "unchanged": 0,
        "new_version": sum(1 for r in records if r["version"] > 1),
        "quarantined": quarantined,
        "skipped": skip_entries,
        "skip_entries": skip_entries,
    }
    files = articles.closed_files + bad.closed_files
    return write_manifest(layout.root, crawl_id, started_at, started_at, {"source": "sample"}, files, summary)
