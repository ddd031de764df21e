"""The shared books of a distributed crawl, on a real Redis: a URL is found by one worker and settled once, whichever
worker handles it; the bounded books forget settled URLs but never take an unseen URL for a seen one."""

from __future__ import annotations

from typing import Any

import pytest
from scrapy import Request

from scraper.cluster import scripts
from scraper.cluster.frontier import NEW, ClusterFrontier, SharedBook
from scraper.cluster.keys import ClusterKeys
from scraper.cluster.leases import LeaseBook
from scraper.summary import CrawlSummary, Stat, counted_keys

URL = "http://portal.test/news/yw/202508/t20250826_254967.html"
FOUND_TO_FETCH = [Stat.ARTICLES_FOUND.key, Stat.ARTICLES_REQUESTED.key]


def worker(client: Any, keys: ClusterKeys, name: str, limit: int = 0) -> ClusterFrontier:
    return ClusterFrontier(
        SharedBook(client, keys, keys.articles, limit),
        SharedBook(client, keys, keys.pages, limit),
        LeaseBook(),
        keys.processing(name),
    )


def totals(client: Any, keys: ClusterKeys) -> CrawlSummary:
    return CrawlSummary.from_stats({k.decode(): int(v) for k, v in client.hgetall(keys.totals).items()})


def test_a_url_found_by_two_workers_is_counted_once_and_keeps_the_first_decision(
    redis_client: Any, cluster_keys: ClusterKeys
) -> None:
    one, two = worker(redis_client, cluster_keys, "w001"), worker(redis_client, cluster_keys, "w002")
    assert one.article_found(URL, scripts.PENDING, FOUND_TO_FETCH) == NEW
    assert two.article_found(URL, scripts.KNOWN, [Stat.ARTICLES_FOUND.key, Stat.KNOWN_NOT_FETCHED.key]) == "P"
    summary = totals(redis_client, cluster_keys)
    assert (summary.articles_found, summary.articles_requested, summary.known_not_fetched) == (1, 1, 0)


def test_the_outcome_is_counted_once_and_takes_the_lease_with_it(redis_client: Any, cluster_keys: ClusterKeys) -> None:
    one, two = worker(redis_client, cluster_keys, "w001"), worker(redis_client, cluster_keys, "w002")
    one.article_found(URL, scripts.PENDING, FOUND_TO_FETCH)
    redis_client.zadd(cluster_keys.processing("w002"), {b"request": 1})
    two.leases.hold(Request(URL), b"request")
    assert two.article_done(URL, [Stat.ARCHIVED.key]) is True
    assert redis_client.zcard(cluster_keys.processing("w002")) == 0 and len(two.leases) == 0
    assert one.article_done(URL, [Stat.ARCHIVED.key]) is False  # done twice (a worker taken for dead): counted once
    summary = totals(redis_client, cluster_keys)
    assert (summary.archived, summary.unaccounted) == (1, 0)


def test_a_known_article_a_sitemap_says_changed_is_fetched_after_all(
    redis_client: Any, cluster_keys: ClusterKeys
) -> None:
    one = worker(redis_client, cluster_keys, "w001")
    one.article_found(URL, scripts.KNOWN, [Stat.ARTICLES_FOUND.key, Stat.KNOWN_NOT_FETCHED.key])
    assert one.article_flip(URL) is True
    assert one.article_flip(URL) is False  # pending now, not known
    summary = totals(redis_client, cluster_keys)
    assert (summary.articles_found, summary.known_not_fetched, summary.articles_requested) == (1, 0, 1)


def test_pages_found_once_and_settled_fetched_or_skipped_add_up(redis_client: Any, cluster_keys: ClusterKeys) -> None:
    one, two = worker(redis_client, cluster_keys, "w001"), worker(redis_client, cluster_keys, "w002")
    pages = [f"http://portal.test/news/yw/index_{n}.html" for n in range(3)]
    assert [one.page_found(url) for url in pages] == [True, True, True]
    assert two.page_found(pages[0]) is False
    two.page_done(pages[0])
    one.page_done(pages[1])
    one.page_done(pages[2], "http_503")
    summary = totals(redis_client, cluster_keys)
    assert (summary.pages_found, summary.pages_fetched, summary.pages_skipped) == (3, 2, 1)
    assert summary.pages_skipped_by_reason == {"http_503": 1} and summary.pages_unaccounted == 0


@pytest.mark.parametrize("limit", [4, 10])
def test_a_bounded_book_remembers_at_most_its_limit_of_settled_urls(
    redis_client: Any, cluster_keys: ClusterKeys, limit: int
) -> None:
    one = worker(redis_client, cluster_keys, "w001", limit)
    urls = [f"http://portal.test/news/yw/202508/t20250826_{n}.html" for n in range(50)]
    for url in urls:
        one.article_found(url, scripts.PENDING, FOUND_TO_FETCH)
        one.article_done(url, [Stat.ARCHIVED.key])
        assert one.articles.size() <= limit
    summary = totals(redis_client, cluster_keys)
    assert (summary.articles_found, summary.archived, summary.unaccounted) == (50, 50, 0)


def test_a_bounded_book_never_takes_an_unseen_url_for_seen_and_counts_a_forgotten_one_again(
    redis_client: Any, cluster_keys: ClusterKeys
) -> None:
    one = worker(redis_client, cluster_keys, "w001", limit=4)
    urls = [f"http://portal.test/news/yw/202508/t20250826_{n}.html" for n in range(12)]
    for url in urls:
        assert one.article_found(url, scripts.PENDING, FOUND_TO_FETCH) == NEW  # every unseen URL is new
        one.article_done(url, counted_keys(Stat.SKIPPED, "robots"))
    assert one.article_found(urls[-1], scripts.PENDING, FOUND_TO_FETCH) == "T"  # remembered: the last ones
    assert one.article_found(urls[0], scripts.PENDING, FOUND_TO_FETCH) == NEW  # forgotten: found (and handled) again
    one.article_done(urls[0], counted_keys(Stat.SKIPPED, "robots"))
    summary = totals(redis_client, cluster_keys)
    assert (summary.articles_found, summary.skipped, summary.unaccounted) == (13, 13, 0)


def test_a_pending_url_is_never_forgotten_by_a_bounded_book(redis_client: Any, cluster_keys: ClusterKeys) -> None:
    one = worker(redis_client, cluster_keys, "w001", limit=4)
    one.article_found(URL, scripts.PENDING, FOUND_TO_FETCH)
    for n in range(20):
        other = f"http://portal.test/news/yw/202508/t20250826_{n}.html"
        one.article_found(other, scripts.SETTLED, [Stat.ARTICLES_FOUND.key, Stat.OUT_OF_RANGE.key])
    assert one.article_found(URL, scripts.PENDING, FOUND_TO_FETCH) == "P"
    assert one.article_done(URL, [Stat.ARCHIVED.key]) is True
