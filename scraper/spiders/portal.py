"""The `portal` spider: finds every article of one TRS-style portal and hands the raw responses on.
Discovery goes through the home page, list pages and sitemaps; articles the archive holds are not fetched again."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any, Self
from urllib.parse import urldefrag, urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request, Response, TextResponse
from twisted.python.failure import Failure

from archive.layout import utc_now_iso
from archive.reader import parse_instant
from scraper.cluster.extension import ClusterWorker
from scraper.headers import declared_charset, header_pairs, reason_phrase
from scraper.items import ArticlePage, SkippedUrl
from scraper.spiders.accounting import SkipReason, classify_failure
from scraper.spiders.discovery import extract_hrefs, pager_urls, read_sitemap, robots_sitemaps
from scraper.spiders.frontier import ArticleFrontier, Fetch, PageFrontier, Pagination, keep_in_state
from scraper.spiders.incremental import KnownArticles, Policy
from scraper.summary import Counters, Stat
from scraper.urls import ARTICLE, LEARNED_URL, OFF_SCOPE, canonical_article_url, host_key, strict_article_id

logger = logging.getLogger(__name__)

# Scheduler priorities: discovery (list pages, sitemaps) before any article, then articles newest
# month first. Months, not days: with a JOBDIR each priority is a disk queue holding a file open.
DISCOVERY_PRIORITY = 1_000_000


def article_priority(published: date | None) -> int:
    """Newer months first; articles without a date last."""
    return published.year * 12 + published.month if published else 0


def learned_url(response: Response) -> str:
    """The URL the crawl learned for the request behind `response` (before redirects)."""
    request = response.request
    return str(request.meta.get(LEARNED_URL, response.url)) if request is not None else response.url


def start_host(start_url: str) -> str:
    """The host name of a start URL the spider can crawl from; ValueError saying what to pass otherwise."""
    parts = urlsplit(start_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"the portal spider needs an http(s) start URL, got {start_url!r}: "
            "run `scrapy crawl portal -a start_url=http://host/` or set PORTAL_START_URL"
        )
    return parts.hostname


def skip_reason(failure: Failure, request: Request) -> SkipReason:
    """Why a request failed for good; a failure that is no download problem we know is a bug, and is raised."""
    attempts = 1 + int(request.meta.get("retry_times", 0))
    skip = classify_failure(failure.value, attempts) if failure.value is not None else None
    if skip is None:  # a bug somewhere, which must not pass as a skip
        failure.raiseException()
    assert skip is not None
    return skip


def skipped_article(failure: Failure) -> SkippedUrl:
    """The SkippedUrl of an article request that failed for good, booked against the URL the crawl learned."""
    request = failure.request  # type: ignore[attr-defined]
    skip = skip_reason(failure, request)
    learned = request.meta.get(LEARNED_URL, request.url)
    final_url = request.url if request.url != learned else None
    return SkippedUrl(learned, skip.reason, skip.detail, utc_now_iso(), skip.http_status, final_url=final_url)


def article_page(response: Response) -> ArticlePage:
    """The raw article response as the item the pipelines clean and archive."""
    headers = header_pairs(response.headers)
    return ArticlePage(
        url=response.url,
        status=response.status,
        headers=headers,
        body=response.body,
        fetched_at=utc_now_iso(),
        request_headers=header_pairs(response.request.headers) if response.request else [],
        charset=declared_charset(headers),
        reason=reason_phrase(response.status),
        learned_url=learned_url(response),
    )


def open_frontiers(spider: PortalSpider) -> None:
    """A crawl of its own: the archive's index says what is archived; a JOBDIR's state continues a stopped crawl."""
    # Opened at start, not in from_crawler: the archive pipeline has checked ARCHIVE_DIR by now.
    if spider.archive_dir is not None:
        spider.articles.known = KnownArticles.open(spider.archive_dir)
    state = getattr(spider, "state", None)  # set from JOBDIR/spider.state by Scrapy's SpiderState
    if isinstance(state, dict):
        keep_in_state(state, spider.articles, spider.pages)
    logger.info("%d articles already archived; %s", len(spider.articles.known), spider.articles.policy)


def seed_requests(spider: PortalSpider) -> list[Request]:
    """Where discovery starts: the start URL, /sitemap.xml and /robots.txt (each counted once as found)."""
    requests = (
        spider.page_request(spider.start_url, spider.parse_list),
        spider.page_request(urljoin(spider.start_url, "/sitemap.xml"), spider.parse_sitemap),
        spider.page_request(urljoin(spider.start_url, "/robots.txt"), spider.parse_robots),
    )
    return [request for request in requests if request is not None]


def attach_cluster(spider: PortalSpider) -> ClusterWorker | None:
    """A worker of a distributed crawl: the crawl decides each URL once for all its workers, and its index says what
    is archived (looked up at start: Scrapy makes the spider before the extensions). None for a crawl of its own, whose
    frontiers open_frontiers sets up."""
    cluster = spider.crawler.get_extension(ClusterWorker)
    if cluster is None:
        open_frontiers(spider)
        return None
    spider.pages.shared = spider.articles.shared = cluster.frontier
    spider.articles.known = KnownArticles(cluster.index, index=cluster.index)
    cluster.seeds = partial(seed_requests, spider)  # for a worker that seeds in place of a dead first worker
    return cluster


class PortalSpider(scrapy.Spider):
    """Crawl one portal host; yield an ArticlePage per article response and a SkippedUrl per article it gives up on.

    Every URL it learns ends in one count, kept by its frontiers: articles (ArticleFrontier) in the pipelines'
    outcomes or as known_not_fetched, out_of_range, over_limit; discovery pages (PageFrontier) as fetched or skipped
    with a reason; other links as `links/off_scope` or `links/ignored`.
    """

    name = "portal"
    # Made by from_crawler, which Scrapy always uses.
    articles: ArticleFrontier
    pages: PageFrontier
    cluster: ClusterWorker | None = None  # a worker of a distributed crawl (`newsarchive crawl --redis`), from start

    def __init__(self, start_url: str = "", *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.start_url = start_url
        self.archive_dir: Path | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        # PORTAL_START_URL: used when no `-a start_url=...` is given.
        spider.configure(spider.start_url or settings["PORTAL_START_URL"])
        counters = Counters(crawler)
        spider.pages = PageFrontier(counters, Pagination.read_settings(settings), spider.start_url)
        spider.articles = ArticleFrontier(counters, Policy.read_settings(settings), KnownArticles(set()))
        # ARCHIVE_DIR: the archive whose index says which articles need no fetching.
        archive_dir = settings["ARCHIVE_DIR"]
        spider.archive_dir = Path(archive_dir) if archive_dir else None
        if spider.articles.policy.max_articles:
            crawler.signals.connect(spider.release_deferred, signal=signals.spider_idle)
        crawler.signals.connect(spider.request_dropped, signal=signals.request_dropped)
        return spider

    def configure(self, start_url: str) -> None:
        """Check the start URL and pin the crawl to its host."""
        # OffsiteMiddleware filters by host name only; on_host() also checks the port.
        self.allowed_domains = [start_host(start_url)]
        self.start_url = start_url
        self.host = host_key(start_url)

    def on_host(self, url: str) -> bool:
        return urlsplit(url).scheme in ("http", "https") and host_key(url) == self.host

    @property
    def counters(self) -> Counters:
        return self.articles.counters

    async def start(self) -> AsyncIterator[Any]:
        self.cluster = attach_cluster(self)
        for request in seed_requests(self) if self.cluster is None or self.cluster.seeder else []:
            yield request
        if self.cluster is not None and self.cluster.seeder:
            self.cluster.seeded()  # resumed after the last one was scheduled (a worker not seeding schedules none)

    def page_request(self, url: str, callback: Any) -> Request | None:
        """A discovery request (list page, sitemap, robots.txt), once per URL; counted in `pages_found`.

        A list page of a column whose pagination was stopped is counted as a page skipped, with the reason.
        """
        if not self.pages.admit(url, is_list=callback == self.parse_list):
            return None
        return Request(
            url, callback=callback, errback=self.page_failed, priority=DISCOVERY_PRIORITY, meta={LEARNED_URL: url}
        )

    def follow_links(
        self, urls: Iterable[str], lastmods: dict[str, str] | None = None
    ) -> Iterator[Request | SkippedUrl]:
        """Requests for the article and list pages among `urls`; everything else is dropped.

        `lastmods` (from a sitemap) maps URLs to <lastmod>: a known article modified since it was fetched is fetched again.
        """
        for kind, url, href in self.pages.sort_links(urls, self.host):
            if kind == ARTICLE:
                lastmod = (lastmods or {}).get(href)
                ident = str(strict_article_id(url))
                yield from self.found_article(url, ident, parse_instant(lastmod) if lastmod else None)
            else:
                request = self.page_request(url, self.parse_list)
                if request is not None:
                    yield request

    def found_article(self, url: str, ident: str, lastmod: datetime | None) -> Iterator[Request | SkippedUrl]:
        """The article frontier's decision on a URL found on a page: a request, a duplicate's skip, or nothing."""
        for decided in self.articles.found(url, ident, lastmod):
            yield self.article_request(decided) if isinstance(decided, Fetch) else decided

    def article_request(self, fetch: Fetch) -> Request:
        # dont_filter: the spider decides once per URL itself (found_article). It also keeps the redirects of
        # an article out of the dupefilter, which would drop one silently; ScopeMiddleware does the scope checks.
        # Merged, not added: a set grown by add() takes 4x the slots it needs (16 bytes each; 2 MB at 20,000 open).
        self.articles.open |= {fetch.url}
        return Request(
            fetch.url,
            callback=self.parse_article,
            errback=self.article_failed,
            priority=article_priority(fetch.published),
            dont_filter=True,
            meta={LEARNED_URL: fetch.url},
        )

    def article_failed(self, failure: Failure) -> Iterator[SkippedUrl]:
        """Errback of article requests: a download that failed for good becomes a SkippedUrl with its reason."""
        skipped = skipped_article(failure)
        self.articles.open.discard(skipped.url)
        logger.info("skipped article %s: %s (%s)", skipped.url, skipped.reason, skipped.detail)
        yield skipped

    def page_failed(self, failure: Failure) -> None:
        """Errback of list pages, sitemaps and robots.txt: counted as pages skipped with the reason, and logged."""
        request = failure.request  # type: ignore[attr-defined]
        skip = skip_reason(failure, request)
        learned = request.meta.get(LEARNED_URL, request.url)
        self.pages.skipped(learned, skip.reason)
        logger.warning("skipped page %s: %s (%s)", learned, skip.reason, skip.detail)

    def request_dropped(self, request: Request, spider: scrapy.Spider) -> None:
        """The scheduler dropped a request as a duplicate (a discovery redirect to a page already fetched).

        Article requests bypass the duplicate filter (the spider decides once per URL), so dropping one is a bug:
        it stays open, and the crawl's accounting check fails on it.
        """
        if request.errback == self.page_failed:
            self.pages.skipped(request.meta.get(LEARNED_URL, request.url), "duplicate")
        elif request.errback == self.article_failed:
            logger.error("the scheduler dropped the article request %s; this is a bug, please report it", request.url)

    def release_deferred(self) -> None:
        """spider_idle with PORTAL_MAX_ARTICLES: discovery is over, schedule the newest articles up to the limit."""
        chosen = self.articles.release()
        if not chosen:
            return
        assert self.crawler.engine is not None
        for fetch in chosen:
            self.crawler.engine.crawl(self.article_request(fetch))
        raise DontCloseSpider

    def parse(self, response: Response, **kwargs: Any) -> Any:
        return self.parse_list(response)

    def parse_list(self, response: Response) -> Iterator[Request | SkippedUrl]:
        """Home, channel or column page: follow articles, list pages and the pager."""
        self.counters.add(Stat.LIST_PAGES)
        learned = learned_url(response)
        base = response.urljoin("") if isinstance(response, TextResponse) else response.url  # honours <base href>
        hrefs = [urljoin(base, href) for href in extract_hrefs(response.body)]
        listed = {canonical_article_url(urldefrag(url)[0]) for url in hrefs if strict_article_id(url) is not None}
        self.pages.listed(learned, listed)
        yield from self.follow_links(hrefs + pager_urls(response.body, response.url))
        # Last: in a distributed crawl the page's lease goes with it, once every link it led to is scheduled.
        self.pages.fetched(learned)

    def parse_sitemap(self, response: Response) -> Iterator[Request | SkippedUrl]:
        """A sitemap or sitemap index (lxml, no entity expansion)."""
        self.counters.add(Stat.SITEMAPS)
        links = read_sitemap(response.body)
        if links is None:
            logger.warning("empty sitemap at %s", response.url)
        elif links.is_index:
            yield from self.follow_sitemaps(links.urls)
        else:
            self.counters.add(Stat.SITEMAP_URLS, len(links.urls))
            yield from self.follow_links(links.urls, links.lastmods)
        self.pages.fetched(learned_url(response))

    def parse_robots(self, response: Response) -> Iterator[Request]:
        """robots.txt may name sitemaps besides /sitemap.xml."""
        yield from self.follow_sitemaps(robots_sitemaps(response.body, response.url))
        self.pages.fetched(learned_url(response))

    def follow_sitemaps(self, urls: list[str]) -> Iterator[Request]:
        for url in urls:
            if not self.on_host(url):
                self.pages.drop_link(url, OFF_SCOPE)
                continue
            request = self.page_request(url, self.parse_sitemap)
            if request is not None:
                yield request

    def parse_article(self, response: Response) -> Iterator[ArticlePage | SkippedUrl]:
        """Hand the raw article response on; cleaning happens in the pipelines."""
        learned = learned_url(response)
        self.articles.open.discard(learned)
        if not self.on_host(response.url):  # ScopeMiddleware stops these first; kept so that none slips through
            yield SkippedUrl(
                learned, "off_scope", f"answered from {response.url}", utc_now_iso(), response.status, response.url
            )
            return
        self.counters.add(Stat.ARTICLE_PAGES)
        yield article_page(response)
