"""ScopeMiddleware: keeps every request on the portal's host and port, and stops redirect loops, with a reason.
Scrapy's OffsiteMiddleware drops off-host requests silently at scheduling; this one fails them into the errback."""

from __future__ import annotations

import logging
from typing import Self
from urllib.parse import urldefrag, urljoin

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request, Response

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

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        # PORTAL_SCOPE_ENABLED: host+port scope and redirect-loop checks on every request (on by default).
        if not crawler.settings.getbool("PORTAL_SCOPE_ENABLED", True):
            raise NotConfigured
        return cls(crawler)

    def _on_host(self, url: str) -> bool:
        on_host = getattr(self.crawler.spider, "on_host", None)
        return True if on_host is None else bool(on_host(url))

    def _inc(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"newsarchive/scope/{key}")

    def process_request(self, request: Request) -> None:
        if not self._on_host(request.url):
            self._inc("off_scope")
            raise SkipRequest("off_scope", f"{request.url} is not on the portal's host")

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get(b"Location")
        if not (300 <= response.status < 400) or not location:
            return response
        target = urldefrag(urljoin(request.url, location.decode("latin-1")))[0]
        if not self._on_host(target):
            self._inc("off_scope")
            raise SkipRequest("off_scope", f"redirected from {request.url} to {target}, off the portal's host")
        visited = [*request.meta.get("redirect_urls", []), request.url]
        if target in visited:
            self._inc("redirect_loop")
            raise SkipRequest(
                "redirect_loop", f"redirect from {request.url} back to {target} after {len(visited)} hops"
            )
        return response
