"""CleanPipeline: runs the cleaner on each raw ArticlePage, in worker processes, and makes the archive record.

Pages the cleaner refuses (CleanError), or that overrun the time budget, become quarantine entries with the reason."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any, Self

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.misc import load_object
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from scraper.cleanpool import CleanPool, Outcome, run_inline
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
    """ArticlePage -> ArticleRecord, or QuarantineRecord when the page cannot be cleaned.

    Pages are cleaned in a pool of worker processes (scraper/cleanpool.py), one per core unless
    CLEAN_POOL_SIZE says otherwise, while the reactor goes on downloading; a page over
    CLEAN_TIME_BUDGET seconds is quarantined as `clean_timeout`, its worker replaced. With
    CLEAN_POOL_SIZE = 0 pages are cleaned in the crawl's own process, with no budget.
    """

    def __init__(
        self,
        clean_path: str,
        crawl_id: str,
        crawler: Crawler | None = None,
        pool_size: int = 0,
        budget: float = 0.0,
    ) -> None:
        self.clean_path = clean_path
        self.clean = load_cleaner(clean_path)
        self.crawl_id = crawl_id
        self.counters = Counters(crawler)
        self.pool_size = pool_size
        self.budget = budget
        self.pool: CleanPool | None = None
        self.threads: ThreadPool | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        # CLEAN_POOL_SIZE: worker processes that clean (None: one per core; 0: none, clean inline).
        size = settings["CLEAN_POOL_SIZE"]
        pool_size = (os.cpu_count() or 1) if size is None else int(size)
        # CLEAN_FUNCTION: dotted path of clean_page(body, url=, headers=) -> Article, importable by the workers.
        # ARCHIVE_CRAWL_ID: stamped on every record of this crawl. CLEAN_TIME_BUDGET: seconds per page.
        return cls(
            settings["CLEAN_FUNCTION"],
            settings["ARCHIVE_CRAWL_ID"],
            crawler,
            pool_size=pool_size,
            budget=settings.getfloat("CLEAN_TIME_BUDGET"),
        )

    def open_spider(self) -> None:
        if self.pool_size > 0:
            self.pool = CleanPool(self.clean_path, self.pool_size, self.budget)
            self.threads = ThreadPool(minthreads=0, maxthreads=self.pool_size, name="clean")
            self.threads.start()

    def close_spider(self) -> None:
        if self.threads is not None:
            self.threads.stop()
        if self.pool is not None:
            if self.pool.replaced:
                logger.info("%d cleaning workers were replaced (time budget or crash)", self.pool.replaced)
            self.pool.close()

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticlePage):
            return item
        page = item
        headers = {name: value for name, value in ItemAdapter(page)["headers"]}
        outcome = await self._clean(page.body, page.url, headers)
        if outcome.value is None:
            assert outcome.reason is not None
            logger.info("quarantined %s: cannot clean: %s", page.url, outcome.message)
            return self.quarantine(page, outcome.reason, outcome.message or outcome.reason, outcome.text)
        self.counters.add(Stat.CLEANED)
        try:
            record = build_record(outcome.value, page, self.crawl_id)
        except ValueError as exc:
            return self.quarantine(page, "no_article_id", str(exc))
        return ArticleRecord(record=record, page=page)

    async def _clean(self, body: bytes, url: str, headers: dict[str, str]) -> Outcome:
        if self.pool is None or self.threads is None:
            return run_inline(self.clean, body, url, headers)
        from twisted.internet import reactor

        deferred = deferToThreadPool(reactor, self.threads, self.pool.clean, body, url, headers)
        outcome: Outcome = await maybe_deferred_to_future(deferred)
        return outcome

    def quarantine(
        self, page: ArticlePage, reason: str, detail: str, restored_text: str | None = None
    ) -> QuarantineRecord:
        # Counted (with its reason) by the store pipeline, when the entry is written.
        entry = build_quarantine(page, reason, detail, self.crawl_id, restored_text)
        return QuarantineRecord(record=entry, page=page)
