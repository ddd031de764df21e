"""ValidatePipeline: checks each article record against the archive's JSON Schema.
An invalid record is quarantined with the schema's messages instead of being written: the one place that does so."""

from __future__ import annotations

import logging
from typing import Any, Self

from scrapy.crawler import Crawler

from archive.schema import validate_record
from scraper.items import ArticleRecord, QuarantineRecord
from scraper.pipelines.records import build_quarantine

logger = logging.getLogger(__name__)


class ValidatePipeline:
    """ArticleRecord -> itself if valid, else QuarantineRecord(reason="invalid_record")."""

    def __init__(self, crawl_id: str) -> None:
        self.crawl_id = crawl_id

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        # ARCHIVE_CRAWL_ID: stamped on quarantine entries of this crawl.
        return cls(crawler.settings["ARCHIVE_CRAWL_ID"])

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleRecord):
            return item
        errors = validate_record(item.record)
        if not errors:
            return item
        url = item.record.get("url", "?")
        logger.warning("quarantined %s: invalid record: %s", url, "; ".join(errors))
        if item.page is None:
            raise ValueError(f"invalid record for {url} has no page to quarantine: {errors}")
        entry = build_quarantine(item.page, "invalid_record", "; ".join(errors), self.crawl_id)
        return QuarantineRecord(record=entry, page=item.page)
