"""Unit tests of the portal spider: URL recognition, link extraction, pagination, host pinning."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, Request, XmlResponse

from scraper.headers import declared_charset
from scraper.items import ArticlePage
from scraper.spiders.discovery import extract_hrefs, pager_urls
from scraper.spiders.portal import PortalSpider
from scraper.urls import is_list_url, strict_article_id

BASE = "http://127.0.0.1:8123"

LIST_PAGE = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>要聞</title></head><body>
<div style="display:none"><a href="http://spam.example.com/x.html">spam</a>
<a href='https://casino.example.net/'>casino</a><a href="//cdn.other.org/t20250101_1.html">cdn</a></div>
<ul class="list">
<li><a href="./202508/t20250826_254967.html" target="_blank">江蘇TOP級</a></li>
<li><a href=202508/t20250825_254901.html>無引號</a></li>
<li><a href="../../finance/cj/202507/t20250730_250001.html#top">財經</a></li>
<li><a href="/news/sh/">社會</a></li>
<li><a href="/search/?q=x">search</a></li>
<li><a href="mailto:editor@example.com">mail</a></li>
</ul>
<script>createPageHTML(3, 0, "index", "html");</script>
<a href="index_1.html">下一頁</a>
</body></html>"""


@pytest.fixture
def make_spider(project_crawler: Callable[..., Crawler]) -> Callable[..., PortalSpider]:
    """make_spider(start_url=BASE/): the portal spider of a crawler with the project's settings."""

    def make(start_url: str = BASE + "/") -> PortalSpider:
        return PortalSpider.from_crawler(project_crawler(), start_url=start_url)

    return make


def html_response(url: str, body: bytes, headers: dict[str, str] | None = None) -> HtmlResponse:
    return HtmlResponse(url=url, body=body, headers=headers or {}, request=Request(url))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://www.zhaoenyun.cn/news/yw/202508/t20250826_254967.html", "254967"),
        (BASE + "/tech/kj/202401/t20240131_7.html", "7"),
        (BASE + "/news/yw/202508/t20250826_254967.htm", None),
        (BASE + "/news/yw/index_1.html", None),
        (BASE + "/news/202508/t20250826_254967.html", None),
        (BASE + "/news/yw/2025/t20250826_254967.html", None),
        (BASE + "/_truth/254967.json", None),
    ],
)
def test_article_url_regex(url: str, expected: str | None) -> None:
    assert strict_article_id(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (BASE + "/", True),
        (BASE, True),
        (BASE + "/news/", True),
        (BASE + "/news/yw/", True),
        (BASE + "/news/yw/index.html", True),
        (BASE + "/news/yw/index_12.html", True),
        (BASE + "/search/?q=x", False),
        (BASE + "/news/yw/202508/t20250826_254967.html", False),
        (BASE + "/a/b/c/d/", False),
    ],
)
def test_list_url(url: str, expected: bool) -> None:
    assert is_list_url(url) is expected


def test_extract_hrefs_handles_quotes_and_entities() -> None:
    body = b"<a href=\"a.html?x=1&amp;y=2\">1</a><A HREF='b.html'>2</A><a class=x href=c.html>3</a>"
    assert extract_hrefs(body) == ["a.html?x=1&y=2", "b.html", "c.html"]


def test_extract_hrefs_survives_gbk_bytes() -> None:
    body = '<a href="t20250826_1.html">要聞標題</a>'.encode("gbk") + b"\xfe\x80 <a href='x.html'>"
    assert extract_hrefs(body) == ["t20250826_1.html", "x.html"]


def test_pager_urls_follow_trs_numbering() -> None:
    body = b'<script>createPageHTML(4, 1, "index", "html");</script>'
    assert pager_urls(body, BASE + "/news/yw/index_1.html") == [
        BASE + "/news/yw/index.html",
        BASE + "/news/yw/index_1.html",
        BASE + "/news/yw/index_2.html",
        BASE + "/news/yw/index_3.html",
    ]


def test_list_page_links(make_spider: Callable[..., PortalSpider]) -> None:
    spider = make_spider()
    response = html_response(BASE + "/news/yw/index.html", LIST_PAGE.encode("gbk"))
    requests = list(spider.parse_list(response))
    urls = [r.url for r in requests]
    articles = [r.url for r in requests if r.callback == spider.parse_article]
    lists = [r.url for r in requests if r.callback == spider.parse_list]
    assert articles == [
        BASE + "/news/yw/202508/t20250826_254967.html",
        BASE + "/news/yw/202508/t20250825_254901.html",
        BASE + "/finance/cj/202507/t20250730_250001.html",
    ]
    assert BASE + "/news/sh/" in lists
    for page in ("index.html", "index_1.html", "index_2.html"):
        assert BASE + "/news/yw/" + page in lists
    assert not [u for u in urls if "example" in u or "other.org" in u or "search" in u]
    stats = spider.crawler.stats
    assert stats.get_value("newsarchive/articles_found") == 3
    assert stats.get_value("newsarchive/offsite_links_dropped") == 3
    assert stats.get_value("newsarchive/list_pages") == 1


def test_article_found_once(make_spider: Callable[..., PortalSpider]) -> None:
    spider = make_spider()
    response = html_response(BASE + "/news/yw/index.html", LIST_PAGE.encode("gbk"))
    list(spider.parse_list(response))
    again = [r for r in spider.parse_list(response) if r.callback == spider.parse_article]
    assert again == []
    assert spider.crawler.stats.get_value("newsarchive/articles_found") == 3


def test_other_port_is_off_host(make_spider: Callable[..., PortalSpider]) -> None:
    spider = make_spider()
    body = b'<a href="http://127.0.0.1:9999/news/yw/202508/t20250826_1.html">x</a>'
    assert list(spider.parse_list(html_response(BASE + "/", body))) == []
    assert spider.allowed_domains == ["127.0.0.1"]


def test_sitemap_entries_are_followed_on_host_only(make_spider: Callable[..., PortalSpider]) -> None:
    spider = make_spider()
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE urlset [<!ENTITY big "{"x" * 10}">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{BASE}/tech/kj/202401/t20240131_7.html</loc></url>
<url><loc>http://spam.example.com/tech/kj/202401/t20240131_8.html</loc></url>
<url><loc>{BASE}/tech/kj/</loc></url>
</urlset>""".encode()
    response = XmlResponse(url=BASE + "/sitemap.xml", body=xml, request=Request(BASE + "/sitemap.xml"))
    urls = [r.url for r in spider.parse_sitemap(response)]
    assert urls == [BASE + "/tech/kj/202401/t20240131_7.html", BASE + "/tech/kj/"]


def test_robots_names_sitemaps(make_spider: Callable[..., PortalSpider]) -> None:
    spider = make_spider()
    body = b"User-agent: *\nDisallow: /_truth/\nSitemap: /sitemap.xml\nSitemap: http://evil.example/s.xml\n"
    response = html_response(BASE + "/robots.txt", body)
    assert [r.url for r in spider.parse_robots(response)] == [BASE + "/sitemap.xml"]


def test_article_response_becomes_raw_page(make_spider: Callable[..., PortalSpider]) -> None:
    spider = make_spider()
    body = "<html><body>正文</body></html>".encode("gbk")
    url = BASE + "/news/yw/202508/t20250826_254967.html"
    response = html_response(url, body, {"Content-Type": "text/html; charset=GB2312"})
    (page,) = list(spider.parse_article(response))
    assert isinstance(page, ArticlePage)
    assert page.body == body and page.status == 200 and page.url == url
    assert page.charset == "gb2312"
    assert ("Content-Type", "text/html; charset=GB2312") in page.headers
    assert page.fetched_at.endswith("Z")
    assert page.reason == "OK"


def test_declared_charset_absent() -> None:
    assert declared_charset([("Content-Type", "text/html")]) is None


@pytest.mark.parametrize("start_url", ["", "ftp://host/", "not a url"])
def test_start_url_required(start_url: str, make_spider: Callable[..., PortalSpider]) -> None:
    with pytest.raises(ValueError, match="start_url"):
        make_spider(start_url)


async def collect(spider: PortalSpider) -> list[Request]:
    return [request async for request in spider.start()]


def test_start_requests_home_sitemap_robots(make_spider: Callable[..., PortalSpider]) -> None:
    import asyncio

    spider = make_spider(BASE + "/")
    urls = [r.url for r in asyncio.run(collect(spider))]
    assert urls == [BASE + "/", BASE + "/sitemap.xml", BASE + "/robots.txt"]
