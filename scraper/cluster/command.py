"""`newsarchive crawl --redis URL`: one worker of the portal's distributed crawl, joined before Scrapy starts.
The worker's settings come out of the join (its crawl id, its place in Redis); the crawl's summary is printed beside
the worker's. Errors are ValueError or ClusterUnavailable with a message naming the fix."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from archive.layout import ARTICLES
from archive.writer import DirectoryBusyError, DirectoryLock
from scraper.cluster.connection import REDIS_ERRORS, ClusterUnavailable, connect, display_url, namespace
from scraper.cluster.membership import Membership, join
from scraper.summary import CLUSTER_TOTALS_STAT, CrawlSummary

SCHEDULER = "scraper.cluster.scheduler.ClusterScheduler"
# Options of a crawl of its own that a worker cannot honour.
NOT_WITH_REDIS = {
    "--jobdir": "the queue lives in Redis, and a worker stopped and started again rejoins the crawl",
    "--max-articles": "the newest N of a crawl are known only once the whole portal is discovered",
    "--crawl-id": "the crawl names its workers (the first worker's crawl id, and the worker's number)",
}


def refuse_options(given: Mapping[str, Any]) -> None:
    """ValueError for the first option a worker cannot honour (option -> value, None when not given)."""
    for option, why in NOT_WITH_REDIS.items():
        if given.get(option) is not None:
            raise ValueError(f"{option} does not go with --redis: {why}")


def join_crawl(redis_url: str, start_url: str, out: Path, lease_seconds: float) -> Membership:
    """Join (or start) the portal's distributed crawl, and check that this worker may write to `out`.

    Raises ClusterUnavailable (Redis), or ValueError when another crawl holds the archive (having left again).
    """
    try:
        about = {"start_url": start_url, "out": str(out)}
        membership = join(connect(redis_url), namespace(start_url), lease_seconds, about)
    except REDIS_ERRORS as exc:
        raise ClusterUnavailable(f"Redis at {display_url(redis_url)} failed while joining the crawl: {exc}") from exc
    if (out / ARTICLES).is_dir():
        lock = DirectoryLock(out / ARTICLES, membership.keys.crawl_id)
        try:
            lock.acquire()
        except DirectoryBusyError as exc:
            membership.leave()
            raise ValueError(f"another crawl is writing to {out}: {exc}") from exc
        except OSError:
            pass  # unwritable: the archive pipeline says why, naming the directory
        else:
            lock.release()
    return membership


def worker_settings(membership: Membership, redis_url: str) -> list[str]:
    """The worker's settings, as NAME=VALUE overrides."""
    return [
        f"ARCHIVE_CRAWL_ID={membership.crawl_id}",
        f"PORTAL_REDIS_URL={redis_url}",
        f"PORTAL_CLUSTER_CRAWL={membership.keys.prefix}",
        f"PORTAL_CLUSTER_WORKER={membership.worker}",
        f"PORTAL_CLUSTER_SEEDER={membership.seeder}",
        f"SCHEDULER={SCHEDULER}",
    ]


def crawl_summary(stats: Mapping[str, Any]) -> CrawlSummary | None:
    """The distributed crawl's summary over all its workers, as the worker saw it when it closed (None otherwise)."""
    totals = stats.get(CLUSTER_TOTALS_STAT)
    return CrawlSummary.from_stats(totals) if totals else None
