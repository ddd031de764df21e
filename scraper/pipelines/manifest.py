"""What a crawl's manifest is made of: its committed files and the settings that shaped it.
The files are committed in the order docs/archive.md gives, then the index; the summary comes from scraper.summary."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import scrapy

from archive.index import ArchiveIndex
from archive.writer import ClosedFile, DirectoryWriter

# Settings worth keeping in the manifest: they explain how the crawl behaved.
MANIFEST_SETTINGS = (
    "ARCHIVE_DIR",
    "ARCHIVE_COMPRESS",
    "ARCHIVE_WARC_ENABLED",
    "CLEAN_FUNCTION",
    "USER_AGENT",
    "ROBOTSTXT_OBEY",
    "AUTOTHROTTLE_ENABLED",
    "AUTOTHROTTLE_START_DELAY",
    "AUTOTHROTTLE_TARGET_CONCURRENCY",
    "CONCURRENT_REQUESTS_PER_DOMAIN",
    "DOWNLOAD_DELAY",
    "DOWNLOAD_TIMEOUT",
    "DOWNLOAD_MAXSIZE",
    "RETRY_TIMES",
    "REDIRECT_MAX_TIMES",
    "URLLENGTH_LIMIT",
    "DEPTH_LIMIT",
    "PORTAL_RETRY_AFTER_MAX",
    "PORTAL_MAX_LIST_PAGES",
    "PORTAL_STALE_LIST_PAGES",
    "PORTAL_CLUSTER_CONCURRENCY",
    "PORTAL_CLUSTER_SEEN_MAX",
)


def manifest_settings(settings: Mapping[str, Any] | None, spider: Any | None) -> dict[str, Any]:
    """The settings a manifest keeps, Scrapy's version and the spider's start URL (without a crawler: the version)."""
    kept = {name: settings.get(name) for name in MANIFEST_SETTINGS} if settings is not None else {}
    kept["scrapy_version"] = scrapy.__version__
    if spider is not None:
        kept["start_url"] = getattr(spider, "start_url", None)
    return kept


def commit_files(writers: Iterable[DirectoryWriter | None], index: ArchiveIndex | None) -> list[ClosedFile]:
    """Commit the writers' files in the order given (the WARC first: docs/archive.md), then save the index (a worker
    of a distributed crawl has none of its own: index.json is rebuilt by the next reader that needs it).

    Returns the files committed, for the manifest, which is written after them.
    """
    files: list[ClosedFile] = []
    for writer in writers:
        if writer is not None:
            files += writer.close()
    if index is not None:
        index.save()
    return files
