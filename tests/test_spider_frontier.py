"""The frontiers: every article URL and discovery page the crawl learns is counted once and ends in one outcome."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from scrapy.crawler import Crawler

from scraper.items import SkippedUrl
from scraper.spiders.frontier import (
    LIST_PAGE_LIMIT,
    NO_NEW_ARTICLES,
    ArticleFrontier,
    Fetch,
    PageFrontier,
    Pagination,
    keep_in_state,
)
from scraper.spiders.incremental import KnownArticles, Policy
from scraper.summary import Counters
from scraper.urls import host_key

SITE = "http://127.0.0.1:8000/"
ARTICLE = SITE + "news/yw/202508/t20250826_{}.html"


@pytest.fixture
def counters(project_crawler: Callable[..., Crawler]) -> Counters:
    crawler = project_crawler()
    assert crawler.stats is not None
    crawler.stats.open_spider()
    return Counters(crawler)


def counted(counters: Counters) -> dict[str, Any]:
    collector: Any = counters.stats  # Scrapy's StatsCollector
    stats: dict[str, Any] = collector.get_stats()
    return {key.removeprefix("newsarchive/"): value for key, value in stats.items() if key.startswith("newsarchive/")}


def test_an_article_is_decided_once_however_often_it_is_linked(counters: Counters) -> None:
    articles = ArticleFrontier(counters, Policy(), KnownArticles(set()))
    first = list(articles.found(ARTICLE.format(1), "1", None))
    again = list(articles.found(ARTICLE.format(1), "1", None))
    assert first == [Fetch(ARTICLE.format(1), date(2025, 8, 26))] and again == []
    assert counted(counters) == {"articles_found": 1, "articles_requested": 1}


def test_a_tracking_variant_is_found_and_skipped_as_a_duplicate_of_the_plain_url(counters: Counters) -> None:
    articles = ArticleFrontier(counters, Policy(), KnownArticles(set()))
    out = list(articles.found(ARTICLE.format(1) + "?utm_source=x", "1", None))
    assert [type(item) for item in out] == [SkippedUrl, Fetch]
    assert (out[0].reason, out[0].final_url) == ("duplicate", ARTICLE.format(1))
    assert counted(counters) == {"articles_found": 2, "articles_requested": 1}


def test_a_known_article_is_fetched_after_all_when_a_sitemap_says_it_changed(counters: Counters) -> None:
    articles = ArticleFrontier(counters, Policy(), KnownArticles({"1"}))
    assert list(articles.found(ARTICLE.format(1), "1", None)) == []
    assert counted(counters) == {"articles_found": 1, "known_not_fetched": 1}
    changed = datetime(2025, 9, 1, tzinfo=UTC)
    assert list(articles.found(ARTICLE.format(1), "1", changed)) == [Fetch(ARTICLE.format(1), date(2025, 8, 26))]
    assert counted(counters) == {"articles_found": 1, "known_not_fetched": 0, "articles_requested": 1}


def test_an_article_outside_the_dates_is_counted_out_of_range(counters: Counters) -> None:
    articles = ArticleFrontier(counters, Policy(since=date(2025, 9, 1)), KnownArticles(set()))
    assert list(articles.found(ARTICLE.format(1), "1", None)) == []
    assert counted(counters) == {"articles_found": 1, "out_of_range": 1}


def test_with_an_article_limit_the_newest_are_released_and_the_rest_are_over_the_limit(counters: Counters) -> None:
    articles = ArticleFrontier(counters, Policy(max_articles=2), KnownArticles(set()))
    days = ("20250801", "20250826", "20250715")
    for number, day in enumerate(days):
        url = f"{SITE}news/yw/{day[:6]}/t{day}_{number}.html"
        assert list(articles.found(url, str(number), None)) == []
    released = articles.release()
    assert [fetch.published for fetch in released] == [date(2025, 8, 26), date(2025, 8, 1)]
    assert articles.release() == []
    assert counted(counters) == {"articles_found": 3, "over_limit": 1, "articles_requested": 2}


def test_a_page_is_admitted_once_and_ends_fetched_or_skipped(counters: Counters) -> None:
    pages = PageFrontier(counters, Pagination(), SITE)
    assert pages.admit(SITE + "news/", is_list=True) is True
    assert pages.admit(SITE + "news/", is_list=True) is False
    assert pages.admit(SITE + "sitemap.xml", is_list=False) is True
    pages.fetched(SITE + "news/")
    pages.skipped(SITE + "sitemap.xml", "http_404")
    assert pages.open == set()
    assert counted(counters) == {
        "pages_found": 2,
        "pages_fetched": 1,
        "pages_skipped": 1,
        "pages_skipped/http_404": 1,
    }


def test_the_list_page_limit_stops_a_column_and_says_so_once(counters: Counters) -> None:
    pages = PageFrontier(counters, Pagination(max_pages=2), SITE)
    admitted = [pages.admit(f"{SITE}news/yw/index_{n}.html", is_list=True) for n in range(4)]
    assert admitted == [True, True, False, False]
    assert pages.pagination.stopped == {"/news/yw/": LIST_PAGE_LIMIT}
    found = counted(counters)
    assert (found["pages_skipped"], found[f"pages_skipped/{LIST_PAGE_LIMIT}"]) == (2, 2)
    assert (found["pagination_stopped"], found[f"pagination_stopped/{LIST_PAGE_LIMIT}"]) == (1, 1)


def test_list_pages_without_a_new_article_stop_their_column(counters: Counters) -> None:
    pages = PageFrontier(counters, Pagination(patience=2), SITE)
    pages.listed(SITE + "news/yw/", {ARTICLE.format(1)})
    pages.listed(SITE + "news/yw/index_1.html", {ARTICLE.format(1)})
    assert pages.pagination.stopped == {}
    pages.listed(SITE + "news/yw/index_2.html", set())
    assert pages.pagination.stopped == {"/news/yw/": NO_NEW_ARTICLES}
    assert pages.admit(SITE + "news/yw/index_3.html", is_list=True) is False


def test_links_are_sorted_and_the_dropped_ones_counted_once_per_url(counters: Counters) -> None:
    pages = PageFrontier(counters, Pagination(), SITE)
    hrefs = [ARTICLE.format(1) + "#top", SITE + "news/", "http://elsewhere/x", "http://elsewhere/x", "mailto:a@b"]
    kept = list(pages.sort_links(hrefs, host_key(SITE)))
    assert kept == [
        ("article", ARTICLE.format(1), ARTICLE.format(1) + "#top"),
        ("list", SITE + "news/", SITE + "news/"),
    ]
    assert counted(counters) == {
        "offsite_links_dropped": 2,
        "links/off_scope": 1,
        "links_ignored": 1,
        "links/ignored": 1,
    }


def test_a_resumed_run_counts_what_the_stopped_one_left_open(counters: Counters) -> None:
    state: dict[str, Any] = {"runs": 1, "open_articles": {ARTICLE.format(1)}, "open_pages": {SITE + "news/"}}
    state["deferred_articles"] = {ARTICLE.format(2): None}
    articles = ArticleFrontier(counters, Policy(), KnownArticles(set()))
    pages = PageFrontier(counters, Pagination(), SITE)
    keep_in_state(state, articles, pages)
    assert articles.open is state["open_articles"] and pages.seen is state["pages_seen"]
    assert state["runs"] == 2
    assert counted(counters) == {"resumed": 1, "articles_found": 2, "articles_requested": 1, "pages_found": 1}
