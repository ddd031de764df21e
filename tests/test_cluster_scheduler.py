"""The worker's scheduler pieces on a real Redis: a popped request stays on lease in the worker's processing set until
its outcome, a retry or redirect hands its lease back to the queue, and the bounded duplicate filter never drops an
unseen request."""

from __future__ import annotations

from typing import Any

from scrapy import Request, Spider

from scraper.cluster import scripts
from scraper.cluster.keys import ClusterKeys
from scraper.cluster.leases import LeaseBook
from scraper.cluster.scheduler import BoundedDupeFilter, LeasedQueue
from scraper.urls import LEARNED_URL

PAGE = "http://portal.test/news/yw/"
ARTICLE = "http://portal.test/news/yw/202508/t20250826_254967.html"


def queue(client: Any, keys: ClusterKeys, worker: str) -> LeasedQueue:
    return LeasedQueue(
        client, Spider(name="portal"), keys.requests, processing=keys.processing(worker), leases=LeaseBook()
    )


def test_a_popped_request_is_leased_not_removed_and_comes_in_priority_order(
    redis_client: Any, cluster_keys: ClusterKeys
) -> None:
    mine = queue(redis_client, cluster_keys, "w001")
    mine.push(Request(ARTICLE, priority=1, meta={LEARNED_URL: ARTICLE}))
    mine.push(Request(PAGE, priority=1_000_000, meta={LEARNED_URL: PAGE}))
    first = mine.pop()
    assert first is not None and first.url == PAGE
    assert len(mine) == 1 and redis_client.zcard(cluster_keys.processing("w001")) == 1
    assert mine.leases.unaccounted() == [PAGE]


def test_a_retry_of_a_leased_request_gives_the_lease_back_with_the_push(
    redis_client: Any, cluster_keys: ClusterKeys
) -> None:
    mine = queue(redis_client, cluster_keys, "w001")
    mine.push(Request(ARTICLE, meta={LEARNED_URL: ARTICLE}))
    taken = mine.pop()
    assert taken is not None
    retry = taken.replace(dont_filter=True)
    retry.meta["retry_times"] = 1
    mine.push(retry)
    assert redis_client.zcard(cluster_keys.processing("w001")) == 0 and len(mine.leases) == 0
    other = queue(redis_client, cluster_keys, "w002")
    again = other.pop()
    assert again is not None and again.meta["retry_times"] == 1


def test_a_dead_workers_requests_go_back_to_the_queue_with_their_priority(
    redis_client: Any, cluster_keys: ClusterKeys
) -> None:
    dead = queue(redis_client, cluster_keys, "w002")
    dead.push(Request(ARTICLE, priority=5, meta={LEARNED_URL: ARTICLE}))
    dead.push(Request(PAGE, priority=9, meta={LEARNED_URL: PAGE}))
    assert dead.pop() is not None and dead.pop() is not None and len(dead) == 0
    requeue = redis_client.register_script(scripts.REQUEUE)
    assert requeue(keys=[cluster_keys.processing("w002"), cluster_keys.requests]) == 2
    survivor = queue(redis_client, cluster_keys, "w001")
    urls = [request.url for request in (survivor.pop(), survivor.pop()) if request is not None]
    assert urls == [PAGE, ARTICLE]


def test_the_bounded_duplicate_filter_never_drops_an_unseen_request_and_stays_bounded(
    redis_client: Any, cluster_keys: ClusterKeys
) -> None:
    current, previous = cluster_keys.generations(cluster_keys.dupefilter)
    seen = BoundedDupeFilter(redis_client, cluster_keys.dupefilter, 6, current, previous)
    pages = [Request(f"http://portal.test/news/yw/index_{n}.html") for n in range(40)]
    assert [seen.request_seen(page) for page in pages] == [False] * 40
    assert seen.request_seen(pages[-1]) is True  # recent ones are remembered
    assert redis_client.scard(current) + redis_client.scard(previous) <= 6
    assert seen.request_seen(pages[0]) is False  # forgotten: fetched again, never dropped
