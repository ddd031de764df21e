"""ClusterWorker: a worker's membership in its distributed crawl, and the hub the spider, scheduler and pipelines use.
It keeps the lease alive, commits and gives back at idle, recovers dead workers, ends the crawl when nothing is
left anywhere, and leaves it (the last worker out cleans up)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DontCloseSpider, NotConfigured
from scrapy.utils.asyncio import create_looping_call

from archive.reader import parse_instant
from scraper.cluster.connection import REDIS_ERRORS, connect, display_url
from scraper.cluster.frontier import ClusterFrontier, SharedBook
from scraper.cluster.index import SharedIndex
from scraper.cluster.keys import ClusterKeys
from scraper.cluster.leases import LeaseBook
from scraper.cluster.membership import DONE, SEEDING, Heartbeat, Membership, take_over_seeding
from scraper.cluster.recovery import Recovery
from scraper.summary import CLUSTER_TOTALS_STAT, CrawlSummary

logger = logging.getLogger(__name__)

# The close reason of a worker whose lease ran out: its unfinished work is another worker's now.
LEASE_LOST = "cluster_lease_lost"
# Seconds between checks of the lease from the reactor (the heartbeat thread renews it far more often).
LEASE_CHECK = 1.0
# Counts of a manifest's summary that only a worker keeps, not the crawl's books.
WORKER_ONLY = ("links", "warc_responses", "warc_revisits")
# Seconds between looks at the shared queue by a worker with nothing to do.
QUEUE_POLL = 0.5


def cluster_of(crawler: Crawler) -> ClusterWorker:
    """The crawl's ClusterWorker; RuntimeError if the crawl is not a worker of a distributed crawl."""
    worker = crawler.get_extension(ClusterWorker)
    if worker is None:
        raise RuntimeError(
            "this component belongs to distributed crawls: start the worker with `newsarchive crawl --redis URL`"
        )
    return worker


def keys_of(crawl_key: str) -> ClusterKeys:
    """The keys of a crawl from its key prefix, PORTAL_CLUSTER_CRAWL (`<namespace>:<crawl id>`).

    >>> keys_of("newsarchive:127.0.0.1:8000:20250101T000000Z-abcdef").crawl_id
    '20250101T000000Z-abcdef'
    """
    namespace, _, crawl_id = crawl_key.rpartition(":")
    return ClusterKeys(namespace, crawl_id)


class ClusterWorker:
    """Extension: one worker of a distributed crawl (the `newsarchive crawl --redis` command joined it).

    The pipelines register `on_idle` (commit what waits for a commit) and the spider `seeds` (the start requests, for a
    worker that takes over the seeding of a crawl whose first worker died)."""

    def __init__(self, crawler: Crawler, membership: Membership, root: Path, seen_limit: int, redis_url: str) -> None:
        self.crawler = crawler
        self.membership = membership
        self.seen_limit = seen_limit
        self.redis_url = redis_url
        self.client = membership.client
        self.keys = membership.keys
        self.name = membership.worker
        self.leases = LeaseBook()
        self.index = SharedIndex(self.client, self.keys, self.name)
        self.frontier = ClusterFrontier(
            SharedBook(self.client, self.keys, self.keys.articles, seen_limit),
            SharedBook(self.client, self.keys, self.keys.pages, seen_limit),
            self.leases,
            self.keys.processing(self.name),
        )
        self.frontier.on_error = self.index.on_error = self.cut_off  # Redis failing stops the worker, quietly
        self.recovery = Recovery(membership, self.index, root)
        self.heartbeat = Heartbeat(membership)
        self.on_idle: list[Callable[[], None]] = []
        self.seeds: Callable[[], list[Request]] | None = None
        self.load_index: Callable[[], int] | None = None
        self._check: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        # PORTAL_REDIS_URL: the Redis server of a distributed crawl ("" for a crawl of its own).
        url = settings["PORTAL_REDIS_URL"]
        if not url:
            raise NotConfigured
        # PORTAL_CLUSTER_CRAWL, PORTAL_CLUSTER_WORKER, PORTAL_CLUSTER_SEEDER: the crawl this worker joined (its key
        # prefix), the worker's id in it, and whether it schedules the start URL; set by `newsarchive crawl --redis`.
        crawl, worker = settings["PORTAL_CLUSTER_CRAWL"], settings["PORTAL_CLUSTER_WORKER"]
        if not crawl or not worker:
            raise NotConfigured(
                "PORTAL_REDIS_URL without a worker: distributed crawls are started with `newsarchive crawl --redis`"
            )
        # PORTAL_CLUSTER_LEASE: seconds a worker stays alive to the others without renewing its lease.
        lease = settings.getfloat("PORTAL_CLUSTER_LEASE")
        membership = Membership(connect(url), keys_of(crawl), worker, settings.getbool("PORTAL_CLUSTER_SEEDER"), lease)
        # PORTAL_CLUSTER_SEEN_MAX: settled URLs (and fingerprints) remembered per book at most (0: all of them).
        # ARCHIVE_DIR: the archive this worker writes, where it looks for a dead worker's committed files.
        root = Path(settings["ARCHIVE_DIR"])
        worker_ext = cls(crawler, membership, root, settings.getint("PORTAL_CLUSTER_SEEN_MAX"), url)
        worker_ext.heartbeat.start()  # now: the first worker loads the archive's index before the crawl opens
        crawler.signals.connect(worker_ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(worker_ext.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(worker_ext.spider_closed, signal=signals.spider_closed)
        return worker_ext

    @property
    def seeder(self) -> bool:
        return self.membership.seeder

    @property
    def lease_lost(self) -> bool:
        return self.heartbeat.lost.is_set()

    def may_commit(self) -> bool:
        """Renew the lease right before a commit: a worker taken for dead must not commit what others redo."""
        if self.lease_lost:
            return False
        try:
            renewed = self.membership.renew()
        except REDIS_ERRORS as exc:
            logger.error("cannot renew the lease of %s before a commit: %s", self.name, exc)
            renewed = False
        if not renewed:
            self.heartbeat.lost.set()
        return renewed

    def cut_off(self, exc: Exception) -> None:
        """Redis failed under this worker: it can record nothing more, so it stops without committing (its work goes
        to the other workers once its lease lapses)."""
        if not self.lease_lost:
            logger.error(
                "worker %s lost the crawl's Redis at %s (%s); it stops, and the other workers do what it leaves",
                self.name,
                display_url(self.redis_url),
                exc,
            )
            self.heartbeat.lost.set()

    def totals(self) -> dict[str, int]:
        """The crawl's counts, each URL counted once whichever worker handled it (stats keys -> counts)."""
        return {key.decode(): int(value) for key, value in self.client.hgetall(self.keys.totals).items()}

    def summary(self) -> CrawlSummary:
        return CrawlSummary.from_stats(self.totals())

    def crawl_manifest_summary(self) -> dict[str, Any]:
        """The crawl's summary so far as a manifest keeps it, without what only a worker counts (its WARC records,
        the links it dropped): each worker's own summary has those."""
        value = self.client.hget(self.keys.state, "started_at")
        started = parse_instant(value.decode() if value else None)
        elapsed = (datetime.now(UTC) - started).total_seconds() if started is not None else 0.0
        summary = self.summary().manifest(elapsed)
        for key in WORKER_ONLY:
            summary.pop(key, None)
        return summary

    def describe(self) -> dict[str, Any]:
        """The manifest's `cluster` block (without the crawl's summary)."""
        return {"crawl_id": self.keys.crawl_id, "worker": self.name, "redis": display_url(self.redis_url)}

    def seeded(self) -> None:
        self.membership.seeded()

    def spider_opened(self) -> None:
        self._check = create_looping_call(self.check_lease)
        self._check.start(LEASE_CHECK, now=False)
        # A worker with nothing to do looks at the shared queue again at each beat of Scrapy's engine, every 5 s by
        # default: requests pushed by the other workers meanwhile would wait that long. Set before the engine starts
        # its beat; a Scrapy without this attribute keeps its own pace.
        if self.crawler.engine is not None and hasattr(self.crawler.engine, "_SLOT_HEARTBEAT_INTERVAL"):
            self.crawler.engine._SLOT_HEARTBEAT_INTERVAL = QUEUE_POLL

    def check_lease(self) -> None:
        if self.lease_lost and self.crawler.engine is not None and self.crawler.crawling:
            self._check.stop()
            from scrapy.utils.defer import deferred_from_coro

            deferred_from_coro(self.crawler.engine.close_spider_async(reason=LEASE_LOST))

    def spider_idle(self) -> None:
        """Nothing to do here (wait_or_end); Redis failing stops the worker."""
        try:
            self.wait_or_end()
        except REDIS_ERRORS as exc:
            self.cut_off(exc)
            raise CloseSpider(LEASE_LOST) from exc

    def wait_or_end(self) -> None:
        """Commit what waits, give back a dead worker's work, seed for a dead seeder, and let the worker close only
        once the crawl is over (DontCloseSpider otherwise)."""
        if self.lease_lost:
            raise CloseSpider(LEASE_LOST)
        for commit in self.on_idle:
            commit()
        for url in self.leases.unaccounted():  # every request taken has an outcome by now: one without is a bug
            logger.error("the request for %s ended without an outcome; this is a bug, please report it", url)
            self.client.zrem(self.keys.processing(self.name), self.leases.take(url) or b"")
        self.recovery.recover_dead()
        if self.membership.phase() == SEEDING and take_over_seeding(self.membership):
            self.seed_again()
        if self.recovery.finished():
            return
        raise DontCloseSpider

    def seed_again(self) -> None:
        """Seed the crawl in place of its first worker, which died before it could."""
        self.membership.seeder = True
        if self.load_index is not None:
            self.load_index()
        assert self.crawler.engine is not None
        for request in self.seeds() if self.seeds is not None else []:
            self.crawler.engine.crawl(request)
        self.seeded()

    def spider_closed(self, reason: str) -> None:
        if self._check is not None and self._check.running:
            self._check.stop()
        try:
            if not self.lease_lost:  # else the others gave its work away already: touch nothing
                self.leave_crawl()
        except REDIS_ERRORS as exc:
            logger.error("worker %s could not leave crawl %s: %s", self.name, self.keys.crawl_id, exc)
        finally:
            self.heartbeat.stop()

    def leave_crawl(self) -> None:
        """Keep the crawl's counts in the stats, give back what is unfinished if the crawl is not over, and leave."""
        if self.crawler.stats is not None:
            self.crawler.stats.set_value(CLUSTER_TOTALS_STAT, self.totals())
        if self.membership.phase() != DONE:
            _, dropped, requeued = self.recovery.give_back(self.name)
            if requeued or dropped:
                logger.warning(
                    "worker %s stops before the crawl is over: %d requests back in the queue, %d articles to be "
                    "archived by the other workers",
                    self.name,
                    requeued,
                    dropped,
                )
        self.membership.leave()
