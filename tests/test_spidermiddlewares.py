"""BookedFiltersMiddleware: requests over the URL-length or depth limit reach the spider's errback, never vanish."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, Request

from scraper.items import SkippedUrl
from scraper.spidermiddlewares import BookedFiltersMiddleware
from scraper.spiders.portal import PortalSpider

START = "http://127.0.0.1:8000/"


@pytest.fixture
def spider_and_middleware(
    project_crawler: Callable[..., Crawler],
) -> Callable[..., tuple[PortalSpider, BookedFiltersMiddleware]]:
    """spider_and_middleware(**settings): the portal spider and the middleware, on one crawler."""

    def make(**settings: object) -> tuple[PortalSpider, BookedFiltersMiddleware]:
        crawler = project_crawler(**settings)
        spider = PortalSpider.from_crawler(crawler, start_url=START)
        crawler.spider = spider
        assert crawler.stats is not None
        crawler.stats.open_spider()
        return spider, BookedFiltersMiddleware.from_crawler(crawler)

    return make


def test_an_over_long_article_link_becomes_a_skipped_url(
    spider_and_middleware: Callable[..., tuple[PortalSpider, BookedFiltersMiddleware]],
) -> None:
    spider, middleware = spider_and_middleware(URLLENGTH_LIMIT=80)
    url = START + "news/yw/202501/t20250101_" + "1" * 80 + ".html"
    (request,) = spider.found_article(url, "1" * 80, None)
    (out,) = middleware.process_spider_output(None, [request])
    assert isinstance(out, SkippedUrl) and out.reason == "url_too_long" and out.url == url


def test_an_over_long_list_link_is_counted_as_a_page_skipped(
    spider_and_middleware: Callable[..., tuple[PortalSpider, BookedFiltersMiddleware]],
) -> None:
    spider, middleware = spider_and_middleware(URLLENGTH_LIMIT=80)
    request = spider.page_request(START + "news/yw/index_" + "1" * 80 + ".html", spider.parse_list)
    assert list(middleware.process_spider_output(None, [request])) == []
    stats = spider.crawler.stats
    assert stats.get_value("newsarchive/pages_skipped/url_too_long") == 1
    assert stats.get_value("newsarchive/pages_found") == stats.get_value("newsarchive/pages_skipped") == 1


def test_a_link_deeper_than_the_depth_limit_is_booked_and_a_shallow_one_passes(
    spider_and_middleware: Callable[..., tuple[PortalSpider, BookedFiltersMiddleware]],
) -> None:
    spider, middleware = spider_and_middleware(DEPTH_LIMIT=1)
    parent = HtmlResponse(START + "news/", body=b"", request=Request(START + "news/", meta={"depth": 1}))
    deep = spider.page_request(START + "news/yw/", spider.parse_list)
    shallow = spider.page_request(START + "news/cj/", spider.parse_list)
    assert list(middleware.process_spider_output(None, [shallow])) == [shallow]
    assert list(middleware.process_spider_output(parent, [deep])) == []
    assert spider.crawler.stats.get_value("newsarchive/pages_skipped/too_deep") == 1


def test_items_and_requests_within_the_limits_pass_unchanged(
    spider_and_middleware: Callable[..., tuple[PortalSpider, BookedFiltersMiddleware]],
) -> None:
    spider, middleware = spider_and_middleware()
    request = spider.page_request(START + "news/", spider.parse_list)
    skipped = SkippedUrl(START + "x.html", "duplicate", "", "2025-01-01T00:00:00Z")
    assert list(middleware.process_spider_output(None, [request, skipped])) == [request, skipped]
