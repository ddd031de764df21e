"""One politeness budget for all the workers: at most PORTAL_CLUSTER_CONCURRENCY requests in flight to the portal.
Each request takes a slot in Redis before it is sent and gives it back with its response; a worker's own
CONCURRENT_REQUESTS_PER_DOMAIN, DOWNLOAD_DELAY and AutoThrottle still apply on top (docs/operations.md)."""

from __future__ import annotations

import itertools
import logging
import random
from typing import Any, Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import deferLater

from scraper.cluster import scripts
from scraper.cluster.connection import REDIS_ERRORS
from scraper.cluster.extension import cluster_of

logger = logging.getLogger(__name__)

# Request meta: the slot a request holds while it is in flight.
SLOT = "newsarchive_cluster_slot"
# Seconds between tries for a slot while the budget is spent (with some jitter, so that workers take turns).
WAIT = 0.01
# A slot held longer than the download may take (plus this margin) belonged to a worker that died: it is freed.
SLOT_MARGIN = 30.0


class ClusterPoliteness:
    """Downloader middleware (closest to the download) holding one of the cluster's slots per request in flight."""

    def __init__(self, crawler: Crawler, limit: int, slot_seconds: float) -> None:
        self.crawler = crawler
        self.limit = limit
        self.slot_ms = int(slot_seconds * 1000)
        self._numbers = itertools.count(1)
        self.worker = cluster_of(crawler)
        self._acquire = self.worker.client.register_script(scripts.ACQUIRE)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        # PORTAL_REDIS_URL: only distributed crawls share a budget.
        # PORTAL_CLUSTER_CONCURRENCY: requests in flight to the portal across all workers at most (0: no cap).
        limit = settings.getint("PORTAL_CLUSTER_CONCURRENCY")
        if not settings["PORTAL_REDIS_URL"] or limit <= 0:
            raise NotConfigured
        # DOWNLOAD_TIMEOUT: how long a slot may be held before it is taken for a dead worker's.
        return cls(crawler, limit, settings.getfloat("DOWNLOAD_TIMEOUT") + SLOT_MARGIN)

    async def process_request(self, request: Request) -> None:
        # Imported here: importing the reactor module at load time would install Twisted's default reactor before
        # Scrapy installs the one it is configured for.
        from twisted.internet import reactor

        member = f"{self.worker.keys.alive(self.worker.name)}|{next(self._numbers)}"
        keys = [self.worker.keys.inflight, self.worker.keys.waiting]
        try:
            while not self._acquire(keys=keys, args=[self.limit, member, self.slot_ms]):
                await maybe_deferred_to_future(deferLater(reactor, WAIT * (1 + random.random()), lambda: None))
        except REDIS_ERRORS as exc:
            self.worker.cut_off(exc)
            raise IgnoreRequest(f"not sent: {exc}") from exc  # the worker stops; its leases go to the others
        request.meta[SLOT] = member

    def process_response(self, request: Request, response: Response) -> Response:
        self._release(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> Any:
        self._release(request)
        return None

    def _release(self, request: Request) -> None:
        # Popped: a retry or redirect copies the meta, and must take a slot of its own.
        member = request.meta.pop(SLOT, None)
        if member is not None and not self.worker.lease_lost:
            try:
                self.worker.client.zrem(self.worker.keys.inflight, member)
            except REDIS_ERRORS as exc:
                self.worker.cut_off(exc)  # the slot expires with the worker's lease
