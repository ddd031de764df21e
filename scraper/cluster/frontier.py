"""What the workers of a distributed crawl found and how each URL ended, kept in Redis so that each counts once.
A URL is found by one worker (the others see it known), its outcome recorded by whichever worker handled it, once it
is durable; the crawl's totals come out of those two steps, whatever the workers did besides."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import redis

from scraper.cluster import scripts
from scraper.cluster.connection import REDIS_ERRORS
from scraper.cluster.keys import ClusterKeys
from scraper.cluster.leases import LeaseBook
from scraper.summary import Stat, counted_keys

logger = logging.getLogger(__name__)
# SharedBook.found's answer for a URL new to the crawl.
NEW = "+"
T = TypeVar("T")


class SharedBook:
    """One hash of URL -> state (scripts.PENDING, KNOWN, SETTLED) and the crawl's totals; with a `limit`, at most
    that many settled URLs are remembered (two generations): an older one found again counts and is handled again,
    so no URL is ever taken for seen that was not."""

    def __init__(self, client: redis.Redis, keys: ClusterKeys, book: str, limit: int) -> None:
        self.client = client
        self.keys = keys
        self.book = book
        self.limit = limit
        self._found = client.register_script(scripts.FOUND)
        self._flip = client.register_script(scripts.FLIP)
        self._settle = client.register_script(scripts.SETTLE)

    def _keys(self) -> list[str]:
        return [self.book, *self.keys.generations(self.book), self.keys.totals]

    def found(self, url: str, state: str, counts: list[str]) -> str:
        """Record a URL found in `state`, counting it in `counts`; NEW if it is new, else the state it had."""
        return _text(self._found(keys=self._keys(), args=[url, state, self.limit, *counts]))

    def flip(self, url: str, uncount: str, count: str) -> bool:
        """A KNOWN URL to be fetched after all; False if it is not (any more) known."""
        return bool(self._flip(keys=self._keys(), args=[url, "", self.limit, uncount, count]))

    def settle(self, url: str, counts: list[str], lease: bytes | None, processing: str) -> bool:
        """Record the outcome of a PENDING URL and give up its lease; False if it was settled already."""
        keys = [*self._keys(), processing]
        return bool(self._settle(keys=keys, args=[url, lease or b"", self.limit, *counts]))

    def size(self) -> int:
        """URLs remembered: waiting, and settled in either generation."""
        current, previous = self.keys.generations(self.book)
        return sum(int(self.client.hlen(key)) for key in (self.book, current, previous))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


@dataclass
class ClusterFrontier:
    """The spider's and the pipelines' side of the shared books: articles and discovery pages found, their outcomes
    recorded with the lease of their request.

    With `on_error` set, Redis failing in a call is handed to it (the worker stops: ClusterWorker.cut_off) and the
    call does nothing, so that the spider's callbacks do not raise on every page while the worker closes."""

    articles: SharedBook
    pages: SharedBook
    leases: LeaseBook
    processing: str  # this worker's processing set
    on_error: Callable[[Exception], None] | None = None

    def _guarded(self, fallback: T, call: Callable[[], T]) -> T:
        try:
            return call()
        except REDIS_ERRORS as exc:
            if self.on_error is None:
                raise
            self.on_error(exc)
            return fallback

    def article_found(self, url: str, state: str, counts: list[str]) -> str:
        """Record an article URL found here in `state` (scripts.PENDING to fetch it), counting it in `counts` if it
        is new to the crawl: NEW, or the state another worker (or this one) gave it before."""
        return self._guarded(scripts.SETTLED, lambda: self.articles.found(url, state, counts))

    def article_flip(self, url: str) -> bool:
        """A URL the crawl holds as KNOWN is to be fetched after all (a later sitemap <lastmod>); False if it is not."""
        return self._guarded(
            False, lambda: self.articles.flip(url, Stat.KNOWN_NOT_FETCHED.key, Stat.ARTICLES_REQUESTED.key)
        )

    def page_found(self, url: str) -> bool:
        """True if a discovery page is new to the crawl (counted found, waiting for page_done)."""
        return self._guarded(False, lambda: self.pages.found(url, scripts.PENDING, [Stat.PAGES_FOUND.key]) == NEW)

    def page_done(self, url: str, skipped: str | None = None) -> None:
        """A discovery page fetched (and its links scheduled), or skipped with a reason."""
        counts = [Stat.PAGES_FETCHED.key] if skipped is None else counted_keys(Stat.PAGES_SKIPPED, skipped)
        self._guarded(False, lambda: self.pages.settle(url, counts, self.leases.take(url), self.processing))

    def article_done(self, url: str, counts: list[str]) -> bool:
        """An article URL's outcome is durable: count it once and give up the lease of its request."""
        return self._guarded(False, lambda: self.articles.settle(url, counts, self.leases.take(url), self.processing))
