"""What the crawl has found and still waits for, each URL counted exactly once.
One decision per article URL, each discovery page once, the requests not answered yet; no Scrapy, so it is tested
on its own."""

from __future__ import annotations

import logging
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urldefrag, urljoin

from archive.layout import utc_now_iso
from scraper.cluster.frontier import NEW, ClusterFrontier
from scraper.cluster.scripts import KNOWN as SHARED_KNOWN
from scraper.cluster.scripts import PENDING, SETTLED
from scraper.items import SkippedUrl
from scraper.spiders.incremental import FETCH, KNOWN, OUT_OF_RANGE, KnownArticles, Policy
from scraper.summary import Counters, Stat
from scraper.urls import ARTICLE, LIST_PAGE, OFF_SCOPE, article_date, canonical_article_url, column_of, link_kind

logger = logging.getLogger(__name__)

# A distributed crawl's books: the state each decision gives a URL found, and the counts it adds (scraper.cluster).
DUPLICATE = "duplicate"  # a second URL of an article (a tracking query), skipped by the pipelines
SHARED_STATES = {FETCH: PENDING, KNOWN: SHARED_KNOWN, OUT_OF_RANGE: SETTLED, DUPLICATE: PENDING}
DECISION_COUNTS = {FETCH: Stat.ARTICLES_REQUESTED, KNOWN: Stat.KNOWN_NOT_FETCHED, OUT_OF_RANGE: Stat.OUT_OF_RANGE}
SHARED_COUNTS = {
    DUPLICATE: [Stat.ARTICLES_FOUND.key],
    **{decision: [Stat.ARTICLES_FOUND.key, stat.key] for decision, stat in DECISION_COUNTS.items()},
}

# Why a column's pagination was stopped (pages_skipped/<reason>, and the summary's pagination_stopped).
LIST_PAGE_LIMIT = "list_page_limit"
NO_NEW_ARTICLES = "no_new_articles"


@dataclass
class Pagination:
    """Per-column limits on list pages: at most `max_pages` requested per column, and a column's pagination is
    stopped after `patience` list pages in a row that show no article not already seen on a list page."""

    max_pages: int = 1000
    patience: int = 5
    requested: Counter[str] = field(default_factory=Counter)
    stale: Counter[str] = field(default_factory=Counter)
    stopped: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read_settings(cls, settings: Any) -> Pagination:
        return cls(
            # PORTAL_MAX_LIST_PAGES: list pages requested per column at most (0: no limit).
            max_pages=settings.getint("PORTAL_MAX_LIST_PAGES"),
            # PORTAL_STALE_LIST_PAGES: stop a column's pagination after this many list pages in a row without a
            # new article (0: never).
            patience=settings.getint("PORTAL_STALE_LIST_PAGES"),
        )

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


@dataclass(frozen=True)
class Fetch:
    """An article to request now, with the publication date in its URL (for the scheduler's priority)."""

    url: str
    published: date | None


class PageFrontier:
    """Discovery pages (list pages, sitemaps, robots.txt): each found once, then fetched or skipped with a reason;
    other links (neither article nor page of the portal) counted once per distinct URL as `links/<reason>`."""

    def __init__(
        self, counters: Counters, pagination: Pagination, site: str, shared: ClusterFrontier | None = None
    ) -> None:
        self.counters = counters
        self.pagination = pagination
        self.site = site  # the start URL, to name a column in the log
        self.shared = shared  # a worker of a distributed crawl: the crawl's pages, found once by one of its workers
        self.seen: set[str] = set()
        self.open: set[str] = set()  # requested, not answered yet: what a stopped crawl leaves to its resumption
        self._links_seen: set[str] = set()
        # Article URLs seen on list pages: a list page showing none that is new adds to its column's stale run.
        self._listed_articles: set[str] = set()
        self._columns_told: set[str] = set()

    def admit(self, url: str, is_list: bool) -> bool:
        """Count a page found; True if it is to be requested (new, and its column's pagination is not stopped)."""
        if url in self.seen:
            return False
        self.seen.add(url)
        if self.shared is not None and not self.shared.page_found(url):
            return False  # another worker found it first
        self.counters.add(Stat.PAGES_FOUND)
        if is_list:
            stopped = self.pagination.admit(url)
            if stopped is not None:
                self.counters.add(Stat.PAGES_SKIPPED, reason=stopped)
                if self.shared is not None:
                    self.shared.page_done(url, stopped)
                self.note_stopped(url, stopped)
                return False
        self.open.add(url)
        return True

    def fetched(self, url: str) -> None:
        """A page was parsed and every link it led to scheduled (so, in a distributed crawl, its lease may go)."""
        self.open.discard(url)
        self.counters.add(Stat.PAGES_FETCHED)
        if self.shared is not None:
            self.shared.page_done(url)

    def skipped(self, url: str, reason: str) -> None:
        self.open.discard(url)
        self.counters.add(Stat.PAGES_SKIPPED, reason=reason)
        if self.shared is not None:
            self.shared.page_done(url, reason)

    def listed(self, url: str, articles: set[str]) -> None:
        """A list page at `url` showed these (canonical) article URLs: stop its column's pagination if it went stale."""
        new = articles - self._listed_articles
        stopped = self.pagination.parsed(url, len(new))
        self._listed_articles |= {sys.intern(article) for article in new}  # the string its decision is kept under
        if stopped is not None:
            self.note_stopped(url, stopped)

    def note_stopped(self, url: str, reason: str) -> None:
        """Say once per column that its pagination was stopped, and why (stat `pagination_stopped/<reason>`)."""
        column = column_of(url)
        if column in self._columns_told:
            return
        self._columns_told.add(column)
        self.counters.add(Stat.PAGINATION_STOPPED, reason=reason)
        if reason == LIST_PAGE_LIMIT:
            why = f"it reached PORTAL_MAX_LIST_PAGES={self.pagination.max_pages} list pages"
        else:
            why = f"{self.pagination.patience} list pages in a row showed no new article (PORTAL_STALE_LIST_PAGES)"
        logger.warning("stopped following the pagination of %s: %s", urljoin(self.site, column), why)

    def sort_links(self, hrefs: Iterable[str], host: tuple[str, int | None]) -> Iterator[tuple[str, str, str]]:
        """(kind, url, href) of each article or list-page link among `hrefs` (fragment dropped, in order); the other
        links are counted and dropped."""
        for href in hrefs:
            url = urldefrag(href)[0]
            kind = link_kind(url, host)
            if kind in (ARTICLE, LIST_PAGE):
                yield kind, url, href
            else:
                self.drop_link(url or href, kind)

    def drop_link(self, url: str, kind: str) -> None:
        """A link that is neither an article nor a page of the portal: counted once per distinct URL as
        `links/<kind>` (off_scope or ignored). Off-scope links are checked here, not left to OffsiteMiddleware, which
        drops them silently."""
        self.counters.add(Stat.OFFSITE_LINKS_DROPPED if kind == OFF_SCOPE else Stat.LINKS_IGNORED)
        if url not in self._links_seen:
            self._links_seen.add(url)
            self.counters.add_reason(Stat.LINKS, kind)

    def keep_in(self, state: dict[str, Any]) -> None:
        """Share the pages seen and still open with the JOBDIR state (a resumed run continues from them)."""
        self.seen = state.setdefault("pages_seen", self.seen)
        self.open = state.setdefault("open_pages", self.open)


class ArticleFrontier:
    """One decision per article URL (fetch, known, out of range), counted once as found and once in its outcome.

    A variant of an article URL (a tracking query) is found too, and skipped as a duplicate of the plain URL. With a
    PORTAL_MAX_ARTICLES limit, the articles to fetch wait in `deferred` until discovery is over (`release`).
    """

    def __init__(
        self, counters: Counters, policy: Policy, known: KnownArticles, shared: ClusterFrontier | None = None
    ) -> None:
        self.counters = counters
        self.policy = policy
        self.known = known
        self.shared = shared  # a worker of a distributed crawl: the crawl decides each URL once, for all its workers
        self.started = datetime.now(UTC)
        self.decisions: dict[str, str] = {}  # url -> FETCH / KNOWN / OUT_OF_RANGE, as first decided
        self.open: set[str] = set()  # requested, not answered yet
        self.deferred: dict[str, date | None] = {}  # url -> publication date, waiting for the limit
        self._variants_seen: set[str] = set()

    def found(self, url: str, ident: str, lastmod: datetime | None) -> Iterator[Fetch | SkippedUrl]:
        """Decide once per URL whether to fetch it; a later sitemap <lastmod> may still turn KNOWN into FETCH."""
        canonical = canonical_article_url(url)
        if canonical != url:
            if url not in self._variants_seen:
                self._variants_seen.add(url)
                if self.shared is None or self.shared.article_found(url, PENDING, SHARED_COUNTS[DUPLICATE]) == NEW:
                    self.counters.add(Stat.ARTICLES_FOUND)
                    yield SkippedUrl(
                        url, "duplicate", f"same article as {canonical}", utc_now_iso(), final_url=canonical
                    )
            url = canonical
        # Interned: one string per article URL, shared by the decisions and the URLs the list pages showed.
        url = sys.intern(url)
        previous = self.decisions.get(url)
        if previous in (FETCH, OUT_OF_RANGE) or (previous == KNOWN and lastmod is None):
            return
        published = article_date(url)
        decision = self.known.decide(self.policy, ident, published, lastmod, self.started)
        if self.shared is not None:
            yield from self.found_shared(url, decision, published)
            return
        if previous == KNOWN:
            if decision != FETCH:
                return
            self.counters.add(Stat.KNOWN_NOT_FETCHED, -1)  # counted as known when a list page showed it
        else:
            self.counters.add(Stat.ARTICLES_FOUND)
        self.decisions[url] = decision
        if decision == KNOWN:
            self.counters.add(Stat.KNOWN_NOT_FETCHED)
        elif decision == OUT_OF_RANGE:
            self.counters.add(Stat.OUT_OF_RANGE)
        elif self.policy.max_articles:
            self.deferred[url] = published
        else:
            self.counters.add(Stat.ARTICLES_REQUESTED)
            yield Fetch(url, published)

    def found_shared(self, url: str, decision: str, published: date | None) -> Iterator[Fetch]:
        """The crawl's decision on a URL, taken by the first of its workers to find it; a Fetch if it fell here.

        This worker counts what it decided first; the crawl's books count each URL once, whichever worker found it.
        """
        assert self.shared is not None
        state = self.shared.article_found(url, SHARED_STATES[decision], SHARED_COUNTS[decision])
        if state == NEW:
            self.decisions[url] = decision
            self.counters.add(Stat.ARTICLES_FOUND)
            self.counters.add(DECISION_COUNTS[decision])
            if decision == FETCH:
                yield Fetch(url, published)
        elif state == SHARED_KNOWN and decision == FETCH and self.shared.article_flip(url):
            self.decisions[url] = FETCH
            self.counters.add(Stat.ARTICLES_REQUESTED)
            yield Fetch(url, published)
        else:
            self.decisions[url] = KNOWN if state == SHARED_KNOWN else FETCH  # nothing more to do here

    def release(self) -> list[Fetch]:
        """Discovery is over: the newest deferred articles up to PORTAL_MAX_ARTICLES; the rest are `over_limit`."""
        if not self.deferred:
            return []
        remaining = max(self.policy.max_articles - self.counters.value(Stat.ARTICLES_REQUESTED), 0)
        newest = sorted(self.deferred.items(), key=lambda item: (item[1] or date.min, item[0]), reverse=True)
        chosen, dropped = newest[:remaining], newest[remaining:]
        self.deferred.clear()
        if dropped:
            self.counters.add(Stat.OVER_LIMIT, len(dropped))
            logger.info(
                "PORTAL_MAX_ARTICLES=%d: leaving %d older articles for a later crawl",
                self.policy.max_articles,
                len(dropped),
            )
        if chosen:
            self.counters.add(Stat.ARTICLES_REQUESTED, len(chosen))
        return [Fetch(url, published) for url, published in chosen]

    def keep_in(self, state: dict[str, Any]) -> None:
        """Share the decisions, the open requests and the deferred articles with the JOBDIR state."""
        self.deferred = state.setdefault("deferred_articles", {})
        self.decisions = state.setdefault("articles_seen", self.decisions)
        self.open = state.setdefault("open_articles", self.open)


def keep_in_state(state: dict[str, Any], articles: ArticleFrontier, pages: PageFrontier) -> None:
    """Keep what the crawl has seen in the JOBDIR state, so that a resumed run accounts like a fresh one.

    The articles and pages a stopped run requested but never got an answer for wait in the JOBDIR queue: the
    resumed run counts them as found (and requested) again, then books each one's outcome.
    """
    articles.keep_in(state)
    pages.keep_in(state)
    if state.get("runs"):
        # Discovery happened in an earlier run; its pending requests come from the JOBDIR queue.
        pending = len(articles.open) + len(articles.deferred)
        articles.counters.add(Stat.RESUMED)
        articles.counters.add(Stat.ARTICLES_FOUND, pending)
        articles.counters.add(Stat.ARTICLES_REQUESTED, len(articles.open))
        pages.counters.add(Stat.PAGES_FOUND, len(pages.open))
        logger.info(
            "resuming the crawl kept in JOBDIR (run %d): %d articles and %d pages pending",
            state["runs"] + 1,
            pending,
            len(pages.open),
        )
    state["runs"] = state.get("runs", 0) + 1
