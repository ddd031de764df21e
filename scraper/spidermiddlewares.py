"""BookedFiltersMiddleware: requests over the URL-length or depth limit are booked, not dropped.
A request that Scrapy's filter would drop without a word goes to the spider's errback instead, with a reason, so that
every URL a crawl learns ends in a count."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from scraper.middlewares import SkipRequest
from scraper.summary import Counters, Stat

logger = logging.getLogger(__name__)


def refusal(request: Request, depth: int, max_length: int, max_depth: int) -> SkipRequest | None:
    """Why Scrapy's filters would drop `request` (URL over `max_length` characters, link depth over `max_depth`);
    None if they would let it through. A limit of 0 is no limit, as in Scrapy.

    >>> refusal(Request("http://h/" + "a" * 30), 1, 20, 0).reason
    'url_too_long'
    >>> refusal(Request("http://h/a"), 4, 2083, 3).reason
    'too_deep'
    >>> refusal(Request("http://h/a"), 1, 2083, 0) is None
    True
    """
    if max_length and len(request.url) > max_length:
        return SkipRequest(
            "url_too_long", f"the URL has {len(request.url)} characters, over URLLENGTH_LIMIT={max_length}"
        )
    if max_depth and depth > max_depth:
        return SkipRequest("too_deep", f"link depth {depth} is over DEPTH_LIMIT={max_depth}")
    return None


class BookedFiltersMiddleware:
    """Sits on the spider side of UrlLengthMiddleware (800) and DepthMiddleware (900), checks the same limits
    (URLLENGTH_LIMIT, DEPTH_LIMIT) first, and replaces a request they would drop by what its errback returns
    for a SkipRequest: the portal spider books an article as skipped, a list page as a page skipped.

    A request without an errback is left to Scrapy's filters (logged, since nothing can book it).
    """

    def __init__(self, crawler: Crawler, max_length: int, max_depth: int) -> None:
        self.crawler = crawler
        self.max_length = max_length
        self.max_depth = max_depth

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        return cls(crawler, settings.getint("URLLENGTH_LIMIT"), settings.getint("DEPTH_LIMIT"))

    def _handle(self, item: Any, response: Response | None) -> Iterator[Any]:
        if not isinstance(item, Request):
            yield item
            return
        depth = response.meta.get("depth", 0) + 1 if response is not None else 0
        skip = refusal(item, depth, self.max_length, self.max_depth)
        if skip is None:
            yield item
            return
        Counters(self.crawler).add_reason(Stat.FILTERED, skip.reason)
        if item.errback is None:
            logger.warning("%s: dropped by Scrapy and not booked (the request has no errback)", skip)
            yield item  # Scrapy's filter drops it
            return
        failure = Failure(skip)
        failure.request = item  # type: ignore[attr-defined]  # what Scrapy gives every errback
        result = item.errback(failure)
        if isinstance(result, Iterable):
            yield from result
        elif result is not None:
            yield result

    def process_spider_output(self, response: Response | None, result: Iterable[Any]) -> Iterator[Any]:
        for item in result:
            yield from self._handle(item, response)

    async def process_spider_output_async(
        self, response: Response | None, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        async for item in result:
            for out in self._handle(item, response):
                yield out

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for item in start:
            for out in self._handle(item, None):
                yield out
