"""The `portal` spider: finds every article of one TRS-style portal and hands the raw responses on.
Discovery goes through the home page, list pages and sitemaps; articles the archive holds are not fetched again."""

from __future__ import annotations

import html
import logging
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any, Self
from urllib.parse import urldefrag, urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request, Response, TextResponse
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure

from archive.reader import parse_instant
from scraper.items import ArticlePage, SkippedUrl
from scraper.spiders.accounting import SkipReason, canonical_article_url, classify_failure
from scraper.spiders.incremental import FETCH, KNOWN, OUT_OF_RANGE, KnownArticles, Policy

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
PAGER_RE = re.compile(rb"""createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*["']([\w-]+)["']\s*,\s*["'](\w+)["']\s*\)""")
SITEMAP_LINE_RE = re.compile(rb"^\s*sitemap\s*:\s*(\S+)", re.I | re.M)
CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
# A pager claiming more pages than this is broken; follow the 下一頁 links instead.
MAX_PAGER_PAGES = 1000
# Scheduler priorities: discovery (list pages, sitemaps) before any article, then articles newest
# month first. Months, not days: with a JOBDIR each priority is a disk queue holding a file open.
DISCOVERY_PRIORITY = 1_000_000
# Request meta: the URL as the crawl learned it, so an outcome after redirects is booked against it.
LEARNED_URL = "newsarchive_url"
# Why a column's pagination was stopped (pages_skipped/<reason>, and the summary's pagination_stopped).
LIST_PAGE_LIMIT = "list_page_limit"
NO_NEW_ARTICLES = "no_new_articles"


def article_id(url: str) -> str | None:
    """Return the portal's article number if `url` is an article URL.

    >>> article_id("http://www.zhaoenyun.cn/news/yw/202508/t20250826_254967.html")
    '254967'
    >>> article_id("http://www.zhaoenyun.cn/news/yw/index_1.html") is None
    True
    """
    match = ARTICLE_PATH_RE.match(urlsplit(url).path)
    return match.group("id") if match else None


def article_date(url: str) -> date | None:
    """The publication date TRS writes into an article URL (`t<YYYYMMDD>_`), if valid.

    >>> article_date("http://www.zhaoenyun.cn/news/yw/202508/t20250826_254967.html")
    datetime.date(2025, 8, 26)
    """
    match = ARTICLE_PATH_RE.match(urlsplit(url).path)
    if not match:
        return None
    try:
        return datetime.strptime(match.group("date"), "%Y%m%d").date()
    except ValueError:
        return None


def article_priority(published: date | None) -> int:
    """Newer months first; articles without a date last."""
    return published.year * 12 + published.month if published else 0


def is_list_url(url: str) -> bool:
    """True for the home page, channel pages and column list pages (any page of them).

    TRS list pages are static files: a query string means a search or a script, not a list.
    """
    parts = urlsplit(url)
    return not parts.query and bool(LIST_PATH_RE.match(parts.path or "/"))


def learned_url(response: Response) -> str:
    """The URL the crawl learned for the request behind `response` (before redirects)."""
    request = response.request
    return str(request.meta.get(LEARNED_URL, response.url)) if request is not None else response.url


def column_of(url: str) -> str:
    """The list a page belongs to: its directory, which every page of a TRS pagination shares.

    >>> column_of("http://h/news/yw/index_7.html")
    '/news/yw/'
    """
    path = urlsplit(url).path or "/"
    return path[: path.rfind("/") + 1]


@dataclass
class Pagination:
    """Per-column limits on list pages: at most `max_pages` requested per column, and a column's pagination is
    stopped after `patience` list pages in a row that show no article not already seen on a list page."""

    max_pages: int = 1000
    patience: int = 5
    requested: Counter[str] = field(default_factory=Counter)
    stale: Counter[str] = field(default_factory=Counter)
    stopped: dict[str, str] = field(default_factory=dict)

    def admit(self, url: str) -> str | None:
        """Count a list page to request; the reason its column's pagination is stopped if it is (None: fetch it)."""
        column = column_of(url)
        if column not in self.stopped and self.max_pages and self.requested[column] >= self.max_pages:
            self.stopped[column] = LIST_PAGE_LIMIT
        if column in self.stopped:
            return self.stopped[column]
        self.requested[column] += 1
        return None

    def parsed(self, url: str, new_articles: int) -> str | None:
        """Note a parsed list page; the reason if this page stops its column's pagination (once per column)."""
        column = column_of(url)
        self.stale[column] = 0 if new_articles else self.stale[column] + 1
        if column not in self.stopped and self.patience and self.stale[column] >= self.patience:
            self.stopped[column] = NO_NEW_ARTICLES
            return NO_NEW_ARTICLES
        return None


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


def utc_now() -> str:
    """The current instant as ISO 8601 UTC, second precision, `Z` suffix."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


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
    """Crawl one portal host; yield an ArticlePage per article response and a SkippedUrl per article it gives up on.

    Every URL it learns ends in one count: articles in the pipelines' outcomes (or known_not_fetched,
    out_of_range, over_limit here); list pages, sitemaps and robots.txt as `pages_fetched` or
    `pages_skipped/<reason>`; other links as `links/off_scope` or `links/ignored` (distinct URLs).
    """

    name = "portal"

    def __init__(self, start_url: str = "", *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.start_url = start_url
        # url -> FETCH / KNOWN / OUT_OF_RANGE, the decision taken when the article was first found.
        self._articles_seen: dict[str, str] = {}
        self.policy = Policy()
        self.archive_dir: Path | None = None
        self.known = KnownArticles(set())
        # With a PORTAL_MAX_ARTICLES limit, articles wait here (url -> date) until discovery is over.
        self._deferred: dict[str, date | None] = {}
        self._started = datetime.now(UTC)
        # Distinct URLs already counted: article variants (tracking queries), discovery pages, other links.
        self._variants_seen: set[str] = set()
        self._pages_seen: set[str] = set()
        self._links_seen: set[str] = set()
        # Requested and not ended yet (no response parsed, no errback): what a stopped crawl leaves to its resumption.
        self._open_articles: set[str] = set()
        self._open_pages: set[str] = set()
        # Article URLs seen on list pages: a list page showing none that is new adds to its column's stale run.
        self._listed_articles: set[str] = set()
        self.pagination = Pagination()
        self._columns_told: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        # PORTAL_START_URL: used when no `-a start_url=...` is given.
        spider.start_url = spider.start_url or crawler.settings.get("PORTAL_START_URL", "")
        spider.configure(spider.start_url)
        spider.policy = Policy.from_settings(crawler.settings)
        spider.pagination = Pagination(
            # PORTAL_MAX_LIST_PAGES: list pages requested per column at most (0: no limit).
            max_pages=crawler.settings.getint("PORTAL_MAX_LIST_PAGES", 1000),
            # PORTAL_STALE_LIST_PAGES: stop a column's pagination after this many list pages in a row without a
            # new article (0: never).
            patience=crawler.settings.getint("PORTAL_STALE_LIST_PAGES", 5),
        )
        # ARCHIVE_DIR: the archive whose index says which articles need no fetching.
        archive_dir = crawler.settings.get("ARCHIVE_DIR")
        spider.archive_dir = Path(archive_dir) if archive_dir else None
        if spider.policy.max_articles:
            crawler.signals.connect(spider.release_deferred, signal=signals.spider_idle)
        crawler.signals.connect(spider.request_dropped, signal=signals.request_dropped)
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
        # Opened here, not in from_crawler: the archive pipeline has checked ARCHIVE_DIR by now.
        if self.archive_dir is not None:
            self.known = KnownArticles.open(self.archive_dir)
        state = getattr(self, "state", None)  # set from JOBDIR/spider.state by Scrapy's SpiderState
        if isinstance(state, dict):
            self.keep_in_state(state)
        logger.info("%d articles already archived; %s", len(self.known), self.policy)
        for request in (
            self.page_request(self.start_url, self.parse_list),
            self.page_request(urljoin(self.start_url, "/sitemap.xml"), self.parse_sitemap),
            self.page_request(urljoin(self.start_url, "/robots.txt"), self.parse_robots),
        ):
            if request is not None:
                yield request

    def keep_in_state(self, state: dict[str, Any]) -> None:
        """Keep what the crawl has seen in the JOBDIR state, so that a resumed run accounts like a fresh one.

        The articles and pages a stopped run requested but never got an answer for wait in the JOBDIR queue: the
        resumed run counts them as found (and requested) again, then books each one's outcome.
        """
        self._deferred = state.setdefault("deferred_articles", {})
        self._articles_seen = state.setdefault("articles_seen", self._articles_seen)
        self._pages_seen = state.setdefault("pages_seen", self._pages_seen)
        self._open_articles = state.setdefault("open_articles", self._open_articles)
        self._open_pages = state.setdefault("open_pages", self._open_pages)
        if state.get("runs"):
            # Discovery happened in an earlier run; its pending requests come from the JOBDIR queue.
            self._inc("resumed")
            self._inc("articles_found", len(self._open_articles) + len(self._deferred))
            self._inc("articles_requested", len(self._open_articles))
            self._inc("pages_found", len(self._open_pages))
            logger.info(
                "resuming the crawl kept in JOBDIR (run %d): %d articles and %d pages pending",
                state["runs"] + 1,
                len(self._open_articles) + len(self._deferred),
                len(self._open_pages),
            )
        state["runs"] = state.get("runs", 0) + 1

    def page_request(self, url: str, callback: Any) -> Request | None:
        """A discovery request (list page, sitemap, robots.txt), once per URL; counted in `pages_found`.

        A list page of a column whose pagination was stopped is counted as a page skipped, with the reason.
        """
        if url in self._pages_seen:
            return None
        self._pages_seen.add(url)
        self._inc("pages_found")
        if callback == self.parse_list:
            stopped = self.pagination.admit(url)
            if stopped is not None:
                self._inc("pages_skipped")
                self._inc(f"pages_skipped/{stopped}")
                self.note_stopped(url, stopped)
                return None
        self._open_pages.add(url)
        return Request(
            url, callback=callback, errback=self.page_failed, priority=DISCOVERY_PRIORITY, meta={LEARNED_URL: url}
        )

    def note_stopped(self, url: str, reason: str) -> None:
        """Say once per column that its pagination was stopped, and why (stat `pagination_stopped/<reason>`)."""
        column = column_of(url)
        if column in self._columns_told:
            return
        self._columns_told.add(column)
        self._inc("pagination_stopped")
        self._inc(f"pagination_stopped/{reason}")
        if reason == LIST_PAGE_LIMIT:
            why = f"it reached PORTAL_MAX_LIST_PAGES={self.pagination.max_pages} list pages"
        else:
            why = f"{self.pagination.patience} list pages in a row showed no new article (PORTAL_STALE_LIST_PAGES)"
        logger.warning("stopped following the pagination of %s: %s", urljoin(self.start_url, column), why)

    def link_skipped(self, url: str, reason: str) -> None:
        """A link that is neither an article nor a page of the portal: counted once per distinct URL."""
        if url not in self._links_seen:
            self._links_seen.add(url)
            self._inc(f"links/{reason}")

    def follow_links(
        self, urls: Iterable[str], lastmods: dict[str, str] | None = None
    ) -> Iterator[Request | SkippedUrl]:
        """Requests for the article and list pages among `urls`; everything else is dropped.

        `lastmods` (from a sitemap) maps URLs to <lastmod>: a known article modified since it was fetched is fetched again.
        """
        for href in urls:
            url = urldefrag(href)[0]
            if not url or urlsplit(url).scheme not in ("http", "https"):  # mailto:, javascript:
                self._inc("links_ignored")
                self.link_skipped(url or href, "ignored")
                continue
            if not self.on_host(url):
                # Checked here, not left to OffsiteMiddleware (which drops silently), so that it is counted.
                self._inc("offsite_links_dropped")
                self.link_skipped(url, "off_scope")
                continue
            ident = article_id(url)
            if ident is not None:
                lastmod = (lastmods or {}).get(href)
                yield from self.found_article(url, ident, parse_instant(lastmod) if lastmod else None)
            elif is_list_url(url):
                request = self.page_request(url, self.parse_list)
                if request is not None:
                    yield request
            else:
                self._inc("links_ignored")
                self.link_skipped(url, "ignored")

    def found_article(self, url: str, ident: str, lastmod: datetime | None) -> Iterator[Request | SkippedUrl]:
        """Decide once per URL whether to fetch it; a later sitemap <lastmod> may still turn KNOWN into FETCH.

        A variant of an article URL (a tracking query) is found too, and skipped as a duplicate of the plain URL,
        which is decided on as if it had been linked.
        """
        canonical = canonical_article_url(url)
        if canonical != url:
            if url not in self._variants_seen:
                self._variants_seen.add(url)
                self._inc("articles_found")
                yield SkippedUrl(url, "duplicate", f"same article as {canonical}", utc_now(), final_url=canonical)
            url = canonical
        previous = self._articles_seen.get(url)
        if previous in (FETCH, OUT_OF_RANGE) or (previous == KNOWN and lastmod is None):
            return
        published = article_date(url)
        decision = self.known.decide(self.policy, ident, published, lastmod, self._started)
        if previous == KNOWN:
            if decision != FETCH:
                return
            self._inc("known_not_fetched", -1)  # counted as known when a list page showed it
        else:
            self._inc("articles_found")
        self._articles_seen[url] = decision
        if decision == KNOWN:
            self._inc("known_not_fetched")
        elif decision == OUT_OF_RANGE:
            self._inc("out_of_range")
        elif self.policy.max_articles:
            self._deferred[url] = published
        else:
            self._inc("articles_requested")
            yield self.article_request(url, published)

    def article_request(self, url: str, published: date | None) -> Request:
        # dont_filter: the spider decides once per URL itself (found_article). It also keeps the redirects of
        # an article out of the dupefilter, which would drop one silently; ScopeMiddleware does the scope checks.
        self._open_articles.add(url)
        return Request(
            url,
            callback=self.parse_article,
            errback=self.article_failed,
            priority=article_priority(published),
            dont_filter=True,
            meta={LEARNED_URL: url},
        )

    def article_failed(self, failure: Failure) -> Iterator[SkippedUrl]:
        """Errback of article requests: a download that failed for good becomes a SkippedUrl with its reason."""
        request = failure.request  # type: ignore[attr-defined]
        skip = self.skip_reason(failure, request)
        learned = request.meta.get(LEARNED_URL, request.url)
        self._open_articles.discard(learned)
        logger.info("skipped article %s: %s (%s)", learned, skip.reason, skip.detail)
        yield SkippedUrl(
            learned,
            skip.reason,
            skip.detail,
            utc_now(),
            skip.http_status,
            final_url=request.url if request.url != learned else None,
        )

    def page_failed(self, failure: Failure) -> None:
        """Errback of list pages, sitemaps and robots.txt: counted as pages skipped with the reason, and logged."""
        request = failure.request  # type: ignore[attr-defined]
        skip = self.skip_reason(failure, request)
        self._open_pages.discard(request.meta.get(LEARNED_URL, request.url))
        self._inc("pages_skipped")
        self._inc(f"pages_skipped/{skip.reason}")
        logger.warning("skipped page %s: %s (%s)", request.meta.get(LEARNED_URL, request.url), skip.reason, skip.detail)

    def skip_reason(self, failure: Failure, request: Request) -> SkipReason:
        attempts = 1 + int(request.meta.get("retry_times", 0))
        skip = classify_failure(failure.value, attempts) if failure.value is not None else None
        if skip is None:  # not a download problem we know: a bug somewhere, which must not pass as a skip
            failure.raiseException()
        assert skip is not None
        return skip

    def request_dropped(self, request: Request, spider: scrapy.Spider) -> None:
        """The scheduler dropped a request as a duplicate (a discovery redirect to a page already fetched).

        Article requests bypass the duplicate filter (the spider decides once per URL), so dropping one is a bug:
        it stays open, and the crawl's accounting check fails on it.
        """
        if request.errback == self.page_failed:
            self._open_pages.discard(request.meta.get(LEARNED_URL, request.url))
            self._inc("pages_skipped")
            self._inc("pages_skipped/duplicate")
        elif request.errback == self.article_failed:
            logger.error("the scheduler dropped the article request %s; this is a bug, please report it", request.url)

    def release_deferred(self) -> None:
        """spider_idle with PORTAL_MAX_ARTICLES: discovery is over, schedule the newest articles up to the limit."""
        if not self._deferred:
            return
        assert self.crawler.engine is not None
        remaining = self.policy.max_articles - int(self.crawler.stats.get_value("newsarchive/articles_requested", 0))  # type: ignore[union-attr]
        newest = sorted(self._deferred.items(), key=lambda item: (item[1] or date.min, item[0]), reverse=True)
        chosen, dropped = newest[: max(remaining, 0)], newest[max(remaining, 0) :]
        self._deferred.clear()
        if dropped:
            self._inc("over_limit", len(dropped))
            logger.info(
                "PORTAL_MAX_ARTICLES=%d: leaving %d older articles for a later crawl",
                self.policy.max_articles,
                len(dropped),
            )
        for url, published in chosen:
            self._inc("articles_requested")
            self.crawler.engine.crawl(self.article_request(url, published))
        if chosen:
            raise DontCloseSpider

    def parse(self, response: Response, **kwargs: Any) -> Any:
        return self.parse_list(response)

    def parse_list(self, response: Response) -> Iterator[Request | SkippedUrl]:
        """Home, channel or column page: follow articles, list pages and the pager."""
        self._inc("list_pages")
        self._inc("pages_fetched")
        learned = learned_url(response)
        self._open_pages.discard(learned)
        base = response.url
        if isinstance(response, TextResponse):
            base = response.urljoin("")  # honours <base href>
        hrefs = [urljoin(base, href) for href in extract_hrefs(response.body)]
        listed = {canonical_article_url(urldefrag(url)[0]) for url in hrefs if article_id(url) is not None}
        stopped = self.pagination.parsed(learned, len(listed - self._listed_articles))
        self._listed_articles |= listed
        if stopped is not None:
            self.note_stopped(learned, stopped)
        yield from self.follow_links(hrefs + pager_urls(response.body, response.url))

    def parse_sitemap(self, response: Response) -> Iterator[Request | SkippedUrl]:
        """A sitemap or sitemap index (lxml, no entity expansion)."""
        self._inc("sitemaps")
        self._inc("pages_fetched")
        self._open_pages.discard(learned_url(response))
        try:
            sitemap = Sitemap(response.body)
        except StopIteration:  # empty document
            logger.warning("empty sitemap at %s", response.url)
            return
        if sitemap.type == "sitemapindex":
            for entry in sitemap:
                loc = entry.get("loc", "")
                if self.on_host(loc):
                    request = self.page_request(loc, self.parse_sitemap)
                    if request is not None:
                        yield request
                else:
                    self._inc("offsite_links_dropped")
                    self.link_skipped(loc, "off_scope")
            return
        entries = [entry for entry in sitemap if entry.get("loc")]
        self._inc("sitemap_urls", len(entries))
        lastmods = {entry["loc"]: entry["lastmod"] for entry in entries if entry.get("lastmod")}
        yield from self.follow_links([entry["loc"] for entry in entries], lastmods)

    def parse_robots(self, response: Response) -> Iterator[Request]:
        """robots.txt may name sitemaps besides /sitemap.xml."""
        self._inc("pages_fetched")
        self._open_pages.discard(learned_url(response))
        for match in SITEMAP_LINE_RE.finditer(response.body):
            url = urljoin(response.url, match.group(1).decode("latin-1"))
            if self.on_host(url):
                request = self.page_request(url, self.parse_sitemap)
                if request is not None:
                    yield request
            else:
                self._inc("offsite_links_dropped")
                self.link_skipped(url, "off_scope")

    def parse_article(self, response: Response) -> Iterator[ArticlePage | SkippedUrl]:
        """Hand the raw article response on; cleaning happens in the pipelines."""
        learned = learned_url(response)
        self._open_articles.discard(learned)
        if not self.on_host(response.url):  # ScopeMiddleware stops these first; kept so that none slips through
            yield SkippedUrl(
                learned, "off_scope", f"answered from {response.url}", utc_now(), response.status, response.url
            )
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
            fetched_at=utc_now(),
            request_headers=request_headers,
            charset=declared_charset(headers),
            reason=reason,
        )
