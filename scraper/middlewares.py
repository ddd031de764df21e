"""Downloader middlewares for scope and politeness.
ScopeMiddleware keeps every request on the portal's host and port and stops redirect loops, with a reason;
RetryAfterMiddleware waits as long as a 429 or 503 response's Retry-After asks before it is retried."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Self
from urllib.parse import urldefrag, urljoin

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import deferLater

from scraper.summary import Counters, Stat

logger = logging.getLogger(__name__)


class SkipRequest(IgnoreRequest):
    """A request given up on for a known reason; the spider's errback writes the reason down."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class ScopeMiddleware:
    """Refuses requests off the spider's host and port, redirects leading there, and redirects back to a URL already visited.

    Runs before RedirectMiddleware on responses (a higher order number), so a bad Location header fails the
    original request, whose errback can account for it; nothing is ever sent to an off-host address. It asks the
    spider's `on_host(url)`; spiders without one are not restricted here.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.counters = Counters(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        # PORTAL_SCOPE_ENABLED: host+port scope and redirect-loop checks on every request (on by default).
        if not crawler.settings.getbool("PORTAL_SCOPE_ENABLED"):
            raise NotConfigured
        return cls(crawler)

    def _on_host(self, url: str) -> bool:
        on_host = getattr(self.crawler.spider, "on_host", None)
        return True if on_host is None else bool(on_host(url))

    def process_request(self, request: Request) -> None:
        if not self._on_host(request.url):
            self.counters.add_reason(Stat.SCOPE, "off_scope")
            raise SkipRequest("off_scope", f"{request.url} is not on the portal's host")

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get(b"Location")
        if not (300 <= response.status < 400) or not location:
            return response
        target = urldefrag(urljoin(request.url, location.decode("latin-1")))[0]
        if not self._on_host(target):
            self.counters.add_reason(Stat.SCOPE, "off_scope")
            raise SkipRequest("off_scope", f"redirected from {request.url} to {target}, off the portal's host")
        visited = [*request.meta.get("redirect_urls", []), request.url]
        if target in visited:
            self.counters.add_reason(Stat.SCOPE, "redirect_loop")
            raise SkipRequest(
                "redirect_loop", f"redirect from {request.url} back to {target} after {len(visited)} hops"
            )
        return response


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds a Retry-After header value asks to wait (delay-seconds or an HTTP date); None if absent or unreadable.

    >>> retry_after_seconds("120", datetime(2025, 1, 1, tzinfo=UTC))
    120.0
    >>> retry_after_seconds("Wed, 01 Jan 2025 00:00:30 GMT", datetime(2025, 1, 1, tzinfo=UTC))
    30.0
    >>> retry_after_seconds("soon", datetime(2025, 1, 1, tzinfo=UTC)) is None
    True
    """
    text = (value or "").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class RetryAfterMiddleware:
    """Holds a 429 or 503 response that carries Retry-After for as long as it asks (at most PORTAL_RETRY_AFTER_MAX
    seconds) before RetryMiddleware sees it and schedules the retry, so the retry does not come back too soon.

    It sits between the downloader and RetryMiddleware (a higher order than 550), and only waits when a retry will
    follow (the status is in RETRY_HTTP_CODES and the request has retries left). The request keeps its place in
    the download slot meanwhile, so the portal also sees fewer requests from us while it asks us to slow down.
    """

    STATUSES = (429, 503)

    def __init__(self, crawler: Crawler, max_wait: float, retry_codes: set[int], retry_times: int) -> None:
        self.crawler = crawler
        self.max_wait = max_wait
        self.retry_codes = retry_codes
        self.retry_times = retry_times

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        # PORTAL_RETRY_AFTER_MAX: the longest wait a Retry-After header gets, in seconds; 0 turns the waiting off.
        max_wait = settings.getfloat("PORTAL_RETRY_AFTER_MAX")
        if max_wait <= 0 or not settings.getbool("RETRY_ENABLED"):
            raise NotConfigured
        codes = {int(code) for code in settings.getlist("RETRY_HTTP_CODES")}
        return cls(crawler, max_wait, codes, settings.getint("RETRY_TIMES"))

    def wait_for(self, request: Request, response: Response) -> float:
        """Seconds to hold this response before its retry; 0 if no retry follows or no Retry-After asks for one."""
        if response.status not in self.STATUSES or response.status not in self.retry_codes:
            return 0.0
        if request.meta.get("dont_retry"):
            return 0.0
        if int(request.meta.get("retry_times", 0)) >= int(request.meta.get("max_retry_times", self.retry_times)):
            return 0.0  # the last attempt: RetryMiddleware gives up, nothing to wait for
        header = response.headers.get(b"Retry-After")
        asked = retry_after_seconds(header.decode("latin-1") if header else None, datetime.now(UTC))
        if not asked:
            return 0.0
        if asked > self.max_wait:
            logger.info(
                "%s asks to retry after %.0f s; waiting PORTAL_RETRY_AFTER_MAX=%g s", request.url, asked, self.max_wait
            )
        return min(asked, self.max_wait)

    async def process_response(self, request: Request, response: Response) -> Response:
        delay = self.wait_for(request, response)
        if delay > 0:
            # Imported here: importing the reactor module at load time would install Twisted's default reactor
            # before Scrapy installs the one it is configured for.
            from twisted.internet import reactor

            counters = Counters(self.crawler)
            counters.add_reason(Stat.RETRY_AFTER, "waits")
            counters.add_reason(Stat.RETRY_AFTER, "seconds", delay)
            await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))
        return response
