"""The scheduler of a worker: scrapy-redis's, over the crawl's shared queue and duplicate filter in Redis.
Subclassed where scrapy-redis falls short of a crawl that loses nothing: requests are leased (LeasedQueue), the
shared state outlives any one worker, and the fingerprints may be bounded (BoundedDupeFilter)."""

from __future__ import annotations

from typing import Any, Self

import redis
from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from scraper.cluster import scripts
from scraper.cluster.connection import REDIS_ERRORS
from scraper.cluster.extension import ClusterWorker, cluster_of
from scraper.cluster.leases import LeaseBook


class BoundedDupeFilter(RFPDupeFilter):
    """scrapy-redis's duplicate filter keeping at most `limit` fingerprints, in two generations.

    A subclass because RFPDupeFilter's one set only grows. When the current generation holds limit/2 fingerprints it
    becomes the previous one and the older is forgotten; a request seen only that long ago passes again (it is
    fetched twice), but a request never seen is never taken for one that was, as a Bloom filter would."""

    def __init__(self, server: redis.Redis, key: str, limit: int, current: str, previous: str) -> None:
        super().__init__(server, key)
        self.limit = limit
        self.current, self.previous = current, previous
        self._seen = server.register_script(scripts.SEEN)

    def request_seen(self, request: Request) -> bool:
        fingerprint = self.request_fingerprint(request)
        return bool(self._seen(keys=[self.current, self.previous], args=[fingerprint, self.limit]))

    def clear(self) -> None:
        self.server.delete(self.current, self.previous)


class LeasedQueue(PriorityQueue):
    """scrapy-redis's priority queue whose pop leases a request instead of removing it.

    A subclass, not a fork: scrapy-redis's PriorityQueue removes a popped request from Redis at once, so a worker that
    dies with requests in flight loses them. Here pop moves the request into the worker's processing set (one Lua
    step), and a push that continues a held request (RetryMiddleware's retry, RedirectMiddleware's redirect) gives up
    the held one in the same step; the outcome gives up the rest (scraper.cluster.frontier.SharedBook.settle).
    """

    def __init__(
        self,
        server: redis.Redis,
        spider: Spider,
        key: str,
        serializer: Any = None,
        *,
        processing: str,
        leases: LeaseBook,
    ) -> None:
        super().__init__(server, spider, key, serializer)
        self.processing = processing
        self.leases = leases
        self._pop = server.register_script(scripts.POP)
        self._push = server.register_script(scripts.PUSH)

    def push(self, request: Request) -> None:
        data = self._encode_request(request)
        held = self.leases.release(request)
        self._push(keys=[self.key, self.processing], args=[-request.priority, data, held or b""])

    def pop(self, timeout: int = 0) -> Request | None:
        data = self._pop(keys=[self.key, self.processing])
        if not data:
            return None
        request = self._decode_request(data)
        self.leases.hold(request, data)
        return request


class ClusterScheduler(Scheduler):
    """scrapy-redis's Scheduler on the keys of the worker's crawl (see scraper.cluster.keys), with leased requests.

    Subclassed for four gaps: its queue forgets a popped request (LeasedQueue keeps it on lease); closing a worker
    must leave the shared queue and fingerprints to the others (the last worker out removes them, with the rest of the
    crawl); Redis failing under it must stop the worker once, not raise in every turn of the engine; and its stats
    calls pass the spider argument Scrapy deprecated."""

    worker: ClusterWorker
    leases: LeaseBook
    processing: str
    stats: Any

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        worker: ClusterWorker = cluster_of(crawler)
        keys, client = worker.keys, worker.client
        limit = worker.seen_limit
        dupefilter = (
            BoundedDupeFilter(client, keys.dupefilter, limit, *keys.generations(keys.dupefilter))
            if limit
            else RFPDupeFilter(client, keys.dupefilter)
        )
        scheduler = cls(
            server=client, persist=True, queue_key=keys.requests, dupefilter=dupefilter, dupefilter_key=keys.dupefilter
        )
        scheduler.stats = crawler.stats
        scheduler.worker = worker
        scheduler.leases = worker.leases
        scheduler.processing = keys.processing(worker.name)
        return scheduler

    def open(self, spider: Spider) -> None:
        self.spider = spider
        self.queue = LeasedQueue(self.server, spider, self.queue_key, processing=self.processing, leases=self.leases)

    def close(self, reason: str) -> None:
        """Nothing to do: the queue and the fingerprints belong to the crawl, not to this worker."""

    def enqueue_request(self, request: Request) -> bool:
        try:
            if not request.dont_filter and self.df.request_seen(request):
                self.df.log(request, self.spider)
                return False
            self.queue.push(request)
        except REDIS_ERRORS as exc:
            self.worker.cut_off(exc)  # the request stays with the lease it continues: the others redo it
            return True
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        if self.worker.lease_lost:
            return None
        try:
            request = self.queue.pop()
        except REDIS_ERRORS as exc:
            self.worker.cut_off(exc)
            return None
        if request is not None:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        if self.worker.lease_lost:
            return False  # idle: the spider_idle handler closes the worker
        try:
            return len(self) > 0
        except REDIS_ERRORS as exc:
            self.worker.cut_off(exc)
            return False
