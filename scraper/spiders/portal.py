"""The `portal` spider: finds every article of one TRS-style portal and hands the raw responses on.
Discovery goes through the home page, channel and column list pages (with their pagination) and the sitemaps."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Self
from urllib.parse import urldefrag, urljoin, urlsplit

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Request, Response, TextResponse
from scrapy.utils.sitemap import Sitemap

from scraper.items import ArticlePage

logger = logging.getLogger(__name__)

# /<channel>/<column>/<YYYYMM>/t<YYYYMMDD>_<id>.html; the id is the portal's article number.
ARTICLE_PATH_RE = re.compile(
    r"^/(?P<channel>[A-Za-z0-9_-]+)/(?P<column>[A-Za-z0-9_-]+)/(?P<month>\d{6})/"
    r"t(?P<date>\d{8})_(?P<id>\d+)\.html$"
)
# Home, channel and column pages, with TRS pagination (index.html, index_1.html, ...).
LIST_PATH_RE = re.compile(r"^/(?:[A-Za-z0-9_-]+/){0,2}(?:index(?:_\d+)?\.html?)?$")
# Markup is scanned as bytes: the pages' charsets lie, but URLs are ASCII.
HREF_RE = re.compile(rb"""<a\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""", re.I)
# createPageHTML(TOTAL, CUR, "index", "html"): TRS writes the pager from this call.
PAGER_RE = re.compile(
    rb"""createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*["']([\w-]+)["']\s*,\s*["'](\w+)["']\s*\)"""
)
SITEMAP_LINE_RE = re.compile(rb"^\s*sitemap\s*:\s*(\S+)", re.I | re.M)
CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
# A pager claiming more pages than this is broken; follow the 下一頁 links instead.
MAX_PAGER_PAGES = 1000


def article_id(url: str) -> str | None:
    """Return the portal's article number if `url` is an article URL.

    >>> article_id("http://www.zhaoenyun.cn/news/yw/202508/t20250826_254967.html")
    '254967'
    >>> article_id("http://www.zhaoenyun.cn/news/yw/index_1.html") is None
    True
    """
    match = ARTICLE_PATH_RE.match(urlsplit(url).path)
    return match.group("id") if match else None


def is_list_url(url: str) -> bool:
    """True for the home page, channel pages and column list pages (any page of them).

    TRS list pages are static files: a query string means a search or a script, not a list.
    """
    parts = urlsplit(url)
    return not parts.query and bool(LIST_PATH_RE.match(parts.path or "/"))


def host_key(url: str) -> tuple[str, int | None]:
    """Host and effective port of `url`; two URLs are on the same site when these match."""
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return (parts.hostname or "", parts.port or default)


def extract_hrefs(body: bytes) -> list[str]:
    """Every `<a href>` value in the markup, entity-decoded, in document order."""
    hrefs = []
    for match in HREF_RE.finditer(body):
        raw = next(group for group in match.groups() if group is not None)
        hrefs.append(html.unescape(raw.decode("latin-1")).strip())
    return hrefs


def pager_urls(body: bytes, page_url: str) -> list[str]:
    """The list pages named by a `createPageHTML(total, cur, prefix, ext)` call.

    TRS numbers them prefix.ext, prefix_1.ext, ..., prefix_{total-1}.ext.
    """
    urls: list[str] = []
    for match in PAGER_RE.finditer(body):
        total = min(int(match.group(1)), MAX_PAGER_PAGES)
        prefix, ext = match.group(3).decode(), match.group(4).decode()
        for page in range(total):
            name = f"{prefix}.{ext}" if page == 0 else f"{prefix}_{page}.{ext}"
            urls.append(urljoin(page_url, name))
    return urls


def header_pairs(headers: Any) -> list[tuple[str, str]]:
    """Scrapy Headers (bytes, multi-valued) as (name, value) str pairs in order."""
    pairs = []
    for name, values in headers.items():
        for value in values:
            pairs.append((name.decode("latin-1"), value.decode("latin-1")))
    return pairs


def declared_charset(headers: list[tuple[str, str]]) -> str | None:
    """The charset named by the Content-Type header, lower-cased, if any."""
    for name, value in headers:
        if name.lower() == "content-type":
            match = CHARSET_RE.search(value)
            if match:
                return match.group(1).lower()
    return None


class PortalSpider(scrapy.Spider):
    """Crawl one portal host; yield an ArticlePage per article response."""

    name = "portal"

    def __init__(self, start_url: str = "", *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.start_url = start_url
        self._articles_seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        # PORTAL_START_URL: used when no `-a start_url=...` is given.
        spider.start_url = spider.start_url or crawler.settings.get("PORTAL_START_URL", "")
        spider.configure(spider.start_url)
        return spider

    def configure(self, start_url: str) -> None:
        """Check the start URL and pin the crawl to its host."""
        parts = urlsplit(start_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"the portal spider needs an http(s) start URL, got {start_url!r}: "
                "run `scrapy crawl portal -a start_url=http://host/` or set PORTAL_START_URL"
            )
        self.start_url = start_url
        self.host = host_key(start_url)
        # OffsiteMiddleware filters by host name only; on_host() also checks the port.
        self.allowed_domains = [parts.hostname]

    def on_host(self, url: str) -> bool:
        return urlsplit(url).scheme in ("http", "https") and host_key(url) == self.host

    def _inc(self, key: str, count: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"newsarchive/{key}", count)

    async def start(self) -> AsyncIterator[Any]:
        yield Request(self.start_url, callback=self.parse_list)
        yield Request(urljoin(self.start_url, "/sitemap.xml"), callback=self.parse_sitemap)
        yield Request(urljoin(self.start_url, "/robots.txt"), callback=self.parse_robots)

    def follow_links(self, urls: Iterable[str]) -> Iterator[Request]:
        """Requests for the article and list pages among `urls`; everything else is dropped."""
        for href in urls:
            url = urldefrag(href)[0]
            if not url or urlsplit(url).scheme not in ("http", "https"):  # mailto:, javascript:
                self._inc("links_ignored")
                continue
            if not self.on_host(url):
                self._inc("offsite_links_dropped")
                continue
            if article_id(url) is not None:
                if url not in self._articles_seen:
                    self._articles_seen.add(url)
                    self._inc("articles_found")
                    yield Request(url, callback=self.parse_article)
            elif is_list_url(url):
                yield Request(url, callback=self.parse_list)
            else:
                self._inc("links_ignored")

    def parse(self, response: Response, **kwargs: Any) -> Any:
        return self.parse_list(response)

    def parse_list(self, response: Response) -> Iterator[Request]:
        """Home, channel or column page: follow articles, list pages and the pager."""
        self._inc("list_pages")
        base = response.url
        if isinstance(response, TextResponse):
            base = response.urljoin("")  # honours <base href>
        hrefs = [urljoin(base, href) for href in extract_hrefs(response.body)]
        yield from self.follow_links(hrefs + pager_urls(response.body, response.url))

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        """A sitemap or sitemap index (lxml, no entity expansion)."""
        self._inc("sitemaps")
        try:
            sitemap = Sitemap(response.body)
        except StopIteration:  # empty document
            logger.warning("empty sitemap at %s", response.url)
            return
        if sitemap.type == "sitemapindex":
            for entry in sitemap:
                loc = entry.get("loc", "")
                if self.on_host(loc):
                    yield Request(loc, callback=self.parse_sitemap)
                else:
                    self._inc("offsite_links_dropped")
            return
        locs = [entry["loc"] for entry in sitemap if entry.get("loc")]
        self._inc("sitemap_urls", len(locs))
        yield from self.follow_links(locs)

    def parse_robots(self, response: Response) -> Iterator[Request]:
        """robots.txt may name sitemaps besides /sitemap.xml."""
        for match in SITEMAP_LINE_RE.finditer(response.body):
            url = urljoin(response.url, match.group(1).decode("latin-1"))
            if self.on_host(url):
                yield Request(url, callback=self.parse_sitemap)
            else:
                self._inc("offsite_links_dropped")

    def parse_article(self, response: Response) -> Iterator[ArticlePage]:
        """Hand the raw article response on; cleaning happens in the pipelines."""
        if not self.on_host(response.url):  # a redirect off the portal
            self._inc("offsite_links_dropped")
            return
        self._inc("article_pages")
        headers = header_pairs(response.headers)
        request_headers = header_pairs(response.request.headers) if response.request else []
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = ""
        yield ArticlePage(
            url=response.url,
            status=response.status,
            headers=headers,
            body=response.body,
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            request_headers=request_headers,
            charset=declared_charset(headers),
            reason=reason,
        )
