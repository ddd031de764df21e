"""CleanPipeline: runs the cleaner on each raw ArticlePage and turns the result into an archive record.
Pages the cleaner refuses (CleanError) become quarantine entries with the cleaner's reason."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Self

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.utils.misc import load_object

from scraper.cleaner.article import CleanError
from scraper.items import ArticlePage, ArticleRecord, QuarantineRecord
from scraper.pipelines.records import build_quarantine, build_record
from scraper.summary import Counters, Stat

logger = logging.getLogger(__name__)

CleanFunction = Callable[..., Any]


def load_cleaner(path: str) -> CleanFunction:
    """Import the cleaning function named by a dotted path, with an error that says what to set."""
    try:
        function = load_object(path)
    except (ImportError, NameError, ValueError) as exc:
        raise RuntimeError(f"cannot load the cleaner CLEAN_FUNCTION={path!r}: {exc}") from exc
    if not callable(function):
        raise RuntimeError(f"CLEAN_FUNCTION={path!r} is not callable")
    return function


class CleanPipeline:
    """ArticlePage -> ArticleRecord, or QuarantineRecord when the page cannot be cleaned."""

    def __init__(self, clean: CleanFunction, crawl_id: str, crawler: Crawler | None = None) -> None:
        self.clean = clean
        self.crawl_id = crawl_id
        self.counters = Counters(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        # CLEAN_FUNCTION: dotted path of clean_page(body, url=, headers=) -> Article.
        clean = load_cleaner(settings["CLEAN_FUNCTION"])
        # ARCHIVE_CRAWL_ID: stamped on every record of this crawl.
        return cls(clean, settings["ARCHIVE_CRAWL_ID"], crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticlePage):
            return item
        page = item
        headers = {name: value for name, value in ItemAdapter(page)["headers"]}
        try:
            article = self.clean(page.body, url=page.url, headers=headers)
        except CleanError as exc:
            logger.info("quarantined %s: cannot clean: %s", page.url, exc)
            return self.quarantine(page, exc.reason, str(exc), exc.text)
        self.counters.add(Stat.CLEANED)
        try:
            record = build_record(article.to_dict(), page, self.crawl_id)
        except ValueError as exc:
            return self.quarantine(page, "no_article_id", str(exc))
        return ArticleRecord(record=record, page=page)

    def quarantine(
        self, page: ArticlePage, reason: str, detail: str, restored_text: str | None = None
    ) -> QuarantineRecord:
        # Counted (with its reason) by the store pipeline, when the entry is written.
        entry = build_quarantine(page, reason, detail, self.crawl_id, restored_text)
        return QuarantineRecord(record=entry, page=page)
