"""Pure builders of archive records and quarantine entries from a fetched page and a cleaned article.
No Scrapy, no I/O: the pipelines call these and the tests check them directly."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from archive.schema import ARTICLE_FIELDS, SCHEMA_VERSION, text_sha256
from scraper.items import ArticlePage, SkippedUrl
from scraper.urls import strict_article_id

# Reasons of skip entries in quarantine/ start with this, so that they read apart from quarantined pages
# even where the `outcome` field is not looked at.
SKIP_PREFIX = "skipped:"


def content_sha256(body: bytes) -> str:
    """Hex SHA-256 of the raw response body."""
    return hashlib.sha256(body).hexdigest()


def build_record(article: Mapping[str, Any], page: ArticlePage, crawl_id: str, version: int = 1) -> dict[str, Any]:
    """The archive record for `article` (an Article.to_dict()) cleaned from `page`.

    The id comes from the article (the cleaner's loose rule), else from the URL by the spider's strict rule
    (scraper.urls.strict_article_id); `version` is 1 until the
    archive index says otherwise; the WARC pointer is filled when the capture is written.
    Raises ValueError when no article id can be found.
    """
    record_id = article.get("id") or strict_article_id(page.url)
    if not record_id:
        raise ValueError(f"no article id in the page or its URL {page.url}")
    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "id": str(record_id),
        "url": page.url,
        "version": version,
        "crawl_id": crawl_id,
        "fetched_at": page.fetched_at,
        "http_status": page.status,
        "charset": article.get("charset") or page.charset,
        "content_sha256": content_sha256(page.body),
        "text_sha256": text_sha256(article["text"]),
    }
    for name in ARTICLE_FIELDS:
        record[name] = article[name]
    record.update(warc_file=None, warc_record_id=None, warc_offset=None)
    return record


def build_quarantine(
    page: ArticlePage, reason: str, detail: str | None, crawl_id: str, restored_text: str | None = None
) -> dict[str, Any]:
    """The quarantine entry for a page that did not become a valid record.

    `restored_text` is what the cleaner restored of a page that held no article (its lines, less
    the spam): kept so that nothing it found is lost.
    """
    entry = {
        "url": page.url,
        "reason": reason,
        "detail": detail,
        "fetched_at": page.fetched_at,
        "crawl_id": crawl_id,
        "http_status": page.status,
        "warc_file": None,
        "warc_record_id": None,
        "warc_offset": None,
        "id": strict_article_id(page.url),
        "charset": page.charset,
        "content_sha256": content_sha256(page.body),
        "outcome": "quarantined",
    }
    if restored_text:
        entry["restored_text"] = restored_text
    return entry


def build_skip_entry(skip: SkippedUrl, crawl_id: str) -> dict[str, Any]:
    """The quarantine/ entry for an article URL the crawl gave up on (archive/quarantine.schema.json).

    `fetched_at` is when the crawl gave up; the WARC pointer is filled if a response was captured.
    """
    entry: dict[str, Any] = {
        "url": skip.url,
        "reason": SKIP_PREFIX + skip.reason,
        "detail": skip.detail,
        "fetched_at": skip.at,
        "crawl_id": crawl_id,
        "http_status": skip.http_status,
        "warc_file": None,
        "warc_record_id": None,
        "warc_offset": None,
        "id": strict_article_id(skip.url),
        "outcome": "skipped",
    }
    if skip.final_url:
        entry["final_url"] = skip.final_url
    return entry
