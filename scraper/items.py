"""Items that travel through the pipelines: the raw page, the archive record, the quarantine entry, the skipped URL.
Dataclasses read through ItemAdapter; the spider emits ArticlePage and SkippedUrl, the pipelines turn pages into the others."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ArticlePage:
    """An article response exactly as fetched: the cleaner works from these bytes."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    fetched_at: str  # ISO 8601 UTC, e.g. 2025-08-26T00:21:00Z
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    charset: str | None = None  # declared by the Content-Type header, if any
    reason: str = ""  # HTTP reason phrase, for the WARC capture
    learned_url: str = ""  # the URL the crawl learned, if a redirect led to `url` (its outcome is booked against it)


@dataclass
class ArticleRecord:
    """A cleaned article as an archive record (archive/record.schema.json)."""

    record: dict[str, Any]
    page: ArticlePage | None = None  # the raw response, kept for the WARC capture


@dataclass
class QuarantineRecord:
    """A fetched page that did not become an article (archive/quarantine.schema.json)."""

    record: dict[str, Any]
    page: ArticlePage | None = None


@dataclass
class SkippedUrl:
    """An article URL the crawl learned about but did not turn into a page: why, and what was tried.

    `url` is the URL as learned (before redirects); `final_url` the last URL requested, if different.
    """

    url: str
    reason: str  # robots, off_scope, redirect_loop, too_large, timeout, connection_error, http_<status>, duplicate, ...
    detail: str | None
    at: str  # ISO 8601 UTC: when the crawl gave up on it
    http_status: int | None = None
    final_url: str | None = None
