"""The crawl's counters and its summary, computed once from the crawler's stats.
The spider and the pipelines count under the names of `Stat`; the log line, the manifest, the CLI table and the crawl
checks all read one `CrawlSummary`. No Scrapy: the stats are a mapping, the counters anything with `inc_value`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol

from archive.manifest import SUMMARY_KEYS

STATS_PREFIX = "newsarchive/"
# Values the crawl keeps in its stats besides the counters.
SUMMARY_STAT = STATS_PREFIX + "summary"  # CrawlSummary.as_dict(), set when the crawl closes
CHECK_FAILURES_STAT = STATS_PREFIX + "check_failures"  # messages of the failed crawl checks
ARCHIVE_ERROR_STAT = STATS_PREFIX + "archive_error"  # why the archive directory could not be written
MANIFEST_STAT = STATS_PREFIX + "manifest"  # the path of the manifest the crawl wrote
# A worker of a distributed crawl: the crawl's counts over all its workers (stats keys -> counts), when it closed.
CLUSTER_TOTALS_STAT = STATS_PREFIX + "cluster_totals"


class Stat(StrEnum):
    """A counter of the crawl, kept in the crawler's stats as `newsarchive/<name>` (and `<name>/<reason>` per reason)."""

    # Article URLs: found, then each ends in one outcome. `unchanged` counts the fetched ones whose text the archive
    # held; `known_not_fetched` the ones an incremental crawl did not fetch because the archive holds them.
    ARTICLES_FOUND = "articles_found"
    ARTICLES_REQUESTED = "articles_requested"
    ARCHIVED = "archived"
    NEW_VERSION = "new_version"
    UNCHANGED = "unchanged"
    KNOWN_NOT_FETCHED = "known_not_fetched"
    OUT_OF_RANGE = "out_of_range"
    OVER_LIMIT = "over_limit"
    QUARANTINED = "quarantined"  # per reason too
    SKIPPED = "skipped"  # per reason too
    SKIP_ENTRIES = "skip_entries"  # the skips written to quarantine/ (all but duplicates)
    RESUMED = "resumed"
    # Discovery pages (list pages, sitemaps, robots.txt): found, then fetched or skipped.
    PAGES_FOUND = "pages_found"
    PAGES_FETCHED = "pages_fetched"
    PAGES_SKIPPED = "pages_skipped"  # per reason too
    PAGINATION_STOPPED = "pagination_stopped"  # columns; per reason too
    LINKS = "links"  # per reason only: distinct links neither article nor page (off_scope, ignored)
    # Raw capture.
    WARC_RESPONSES = "warc_responses"
    WARC_REVISITS = "warc_revisits"
    # What the spider and the pipelines did, for the log (not part of the accounting).
    LIST_PAGES = "list_pages"
    SITEMAPS = "sitemaps"
    SITEMAP_URLS = "sitemap_urls"
    ARTICLE_PAGES = "article_pages"
    LINKS_IGNORED = "links_ignored"
    OFFSITE_LINKS_DROPPED = "offsite_links_dropped"
    CLEANED = "cleaned"
    FILTERED = "filtered"  # per reason only: requests over URLLENGTH_LIMIT or DEPTH_LIMIT
    SCOPE = "scope"  # per reason only: requests and redirects refused by ScopeMiddleware
    RETRY_AFTER = "retry_after"  # per reason only: `waits` for a Retry-After, and the `seconds` waited

    @property
    def key(self) -> str:
        """The stats key of the total.

        >>> Stat.KNOWN_NOT_FETCHED.key
        'newsarchive/known_not_fetched'
        """
        return STATS_PREFIX + self.value

    def reason_key(self, reason: str) -> str:
        """The stats key of one reason's count.

        >>> Stat.SKIPPED.reason_key("robots")
        'newsarchive/skipped/robots'
        """
        return f"{STATS_PREFIX}{self.value}/{reason}"


def counted_keys(stat: Stat, reason: str | None = None) -> list[str]:
    """The stats keys one count of `stat` adds to (its total, and its reason's count), as Counters.add counts them.

    >>> counted_keys(Stat.SKIPPED, "robots")
    ['newsarchive/skipped', 'newsarchive/skipped/robots']
    """
    return [stat.key] if reason is None else [stat.key, stat.reason_key(reason)]


# Every article found ends in one of these; the order of the accounting check's message.
LOG_OUTCOMES = (
    Stat.ARCHIVED,
    Stat.NEW_VERSION,
    Stat.UNCHANGED,
    Stat.QUARANTINED,
    Stat.SKIPPED,
    Stat.OUT_OF_RANGE,
    Stat.OVER_LIMIT,
)


class StatsLike(Protocol):
    """What counting needs of Scrapy's StatsCollector."""

    def inc_value(self, key: str, count: Any = 1, start: Any = 0) -> None: ...

    def get_value(self, key: str, default: Any = None) -> Any: ...


class HasStats(Protocol):
    """A Scrapy Crawler, as far as counting goes."""

    @property
    def stats(self) -> StatsLike | None: ...


@dataclass
class Counters:
    """Counts into a crawler's stats, looked up at each count (Scrapy sets them only when the crawl starts, after
    the spider is made); without a crawler it counts nowhere."""

    crawler: HasStats | None

    @property
    def stats(self) -> StatsLike | None:
        return self.crawler.stats if self.crawler is not None else None

    def add(self, stat: Stat, count: int = 1, reason: str | None = None) -> None:
        """Add to the total of `stat` and, with a reason, to that reason's count too."""
        if self.stats is None:
            return
        self.stats.inc_value(stat.key, count)
        if reason is not None:
            self.stats.inc_value(stat.reason_key(reason), count)

    def add_reason(self, stat: Stat, reason: str, count: float = 1) -> None:
        """Add to one reason's count of a stat kept per reason only (LINKS, FILTERED, SCOPE, RETRY_AFTER)."""
        if self.stats is not None:
            self.stats.inc_value(stat.reason_key(reason), count)

    def value(self, stat: Stat) -> int:
        return int(self.stats.get_value(stat.key, 0) or 0) if self.stats is not None else 0


def _reasons(stats: Mapping[str, Any], stat: Stat) -> dict[str, int]:
    start = stat.key + "/"
    return {key[len(start) :]: int(value) for key, value in sorted(stats.items()) if key.startswith(start)}


def _http_errors(stats: Mapping[str, Any]) -> int:
    prefix = "downloader/response_status_count/"
    return sum(
        int(value)
        for key, value in stats.items()
        if key.startswith(prefix) and key[len(prefix) :].isdigit() and int(key[len(prefix) :]) >= 400
    )


@dataclass(frozen=True)
class CrawlSummary:
    """Every count of one crawl. Each article found ends in one of `outcomes`; `unaccounted` is what is left over,
    0 unless something lost track of a URL. Discovery pages end fetched or skipped, likewise."""

    articles_found: int = 0
    articles_requested: int = 0
    archived: int = 0
    new_version: int = 0
    unchanged_fetched: int = 0
    known_not_fetched: int = 0
    out_of_range: int = 0
    over_limit: int = 0
    quarantined: int = 0
    skipped: int = 0
    skip_entries: int = 0
    resumed: int = 0
    pages_found: int = 0
    pages_fetched: int = 0
    pages_skipped: int = 0
    pagination_stopped: int = 0
    requests: int = 0
    http_errors: int = 0
    download_errors: int = 0
    warc_responses: int = 0
    warc_revisits: int = 0
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    skipped_by_reason: dict[str, int] = field(default_factory=dict)
    pages_skipped_by_reason: dict[str, int] = field(default_factory=dict)
    pagination_stopped_by_reason: dict[str, int] = field(default_factory=dict)
    links: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_stats(cls, stats: Mapping[str, Any]) -> CrawlSummary:
        """The summary of a crawler's stats (`crawler.stats.get_stats()`).

        >>> CrawlSummary.from_stats({"newsarchive/articles_found": 3, "newsarchive/archived": 2}).unaccounted
        1
        """

        def count(stat: Stat) -> int:
            return int(stats.get(stat.key, 0) or 0)

        return cls(
            articles_found=count(Stat.ARTICLES_FOUND),
            articles_requested=count(Stat.ARTICLES_REQUESTED),
            archived=count(Stat.ARCHIVED),
            new_version=count(Stat.NEW_VERSION),
            unchanged_fetched=count(Stat.UNCHANGED),
            known_not_fetched=count(Stat.KNOWN_NOT_FETCHED),
            out_of_range=count(Stat.OUT_OF_RANGE),
            over_limit=count(Stat.OVER_LIMIT),
            quarantined=count(Stat.QUARANTINED),
            skipped=count(Stat.SKIPPED),
            skip_entries=count(Stat.SKIP_ENTRIES),
            resumed=count(Stat.RESUMED),
            pages_found=count(Stat.PAGES_FOUND),
            pages_fetched=count(Stat.PAGES_FETCHED),
            pages_skipped=count(Stat.PAGES_SKIPPED),
            pagination_stopped=count(Stat.PAGINATION_STOPPED),
            requests=int(stats.get("downloader/request_count", 0) or 0),
            http_errors=_http_errors(stats),
            download_errors=int(stats.get("downloader/exception_count", 0) or 0),
            warc_responses=count(Stat.WARC_RESPONSES),
            warc_revisits=count(Stat.WARC_REVISITS),
            quarantined_by_reason=_reasons(stats, Stat.QUARANTINED),
            skipped_by_reason=_reasons(stats, Stat.SKIPPED),
            pages_skipped_by_reason=_reasons(stats, Stat.PAGES_SKIPPED),
            pagination_stopped_by_reason=_reasons(stats, Stat.PAGINATION_STOPPED),
            links=_reasons(stats, Stat.LINKS),
        )

    @property
    def unchanged(self) -> int:
        """Articles the archive already held: fetched with the same text, or known and not fetched."""
        return self.unchanged_fetched + self.known_not_fetched

    @property
    def outcomes(self) -> dict[str, int]:
        """The outcome of every article found: the five counts of the items handled, then the articles not asked for.

        >>> list(CrawlSummary().outcomes)
        ['archived', 'unchanged', 'new_version', 'quarantined', 'skipped', 'out_of_range', 'over_limit']
        """
        handled = {
            Stat.ARCHIVED: self.archived,
            Stat.UNCHANGED: self.unchanged,
            Stat.NEW_VERSION: self.new_version,
            Stat.QUARANTINED: self.quarantined,
            Stat.SKIPPED: self.skipped,
        }
        return {
            **{key: handled[Stat(key)] for key in SUMMARY_KEYS},
            Stat.OUT_OF_RANGE.value: self.out_of_range,
            Stat.OVER_LIMIT.value: self.over_limit,
        }

    @property
    def items(self) -> int:
        """The items the pipelines handled (or an incremental crawl confirmed): the manifest's five counts."""
        return sum(count for key, count in self.outcomes.items() if key in SUMMARY_KEYS)

    @property
    def settled(self) -> int:
        """Articles the archive now holds as found, or that were deliberately not asked for."""
        return self.archived + self.new_version + self.unchanged + self.out_of_range + self.over_limit

    @property
    def unaccounted(self) -> int:
        return self.articles_found - sum(self.outcomes.values())

    @property
    def pages_unaccounted(self) -> int:
        return self.pages_found - self.pages_fetched - self.pages_skipped

    @property
    def error_rate(self) -> float:
        """(HTTP errors + download errors) / requests, rounded to 4 places."""
        return round((self.http_errors + self.download_errors) / self.requests, 4) if self.requests else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The summary as the log line, the `newsarchive/summary` stat and the CLI table show it."""
        return {
            "articles_found": self.articles_found,
            "articles_requested": self.articles_requested,
            "archived": self.archived,
            "new_version": self.new_version,
            "unchanged": self.unchanged,
            "unchanged_fetched": self.unchanged_fetched,
            "known_not_fetched": self.known_not_fetched,
            "out_of_range": self.out_of_range,
            "over_limit": self.over_limit,
            "quarantined": self.quarantined,
            "skipped": self.skipped,
            "unaccounted": self.unaccounted,
            "pages_found": self.pages_found,
            "pages_fetched": self.pages_fetched,
            "pages_skipped": self.pages_skipped,
            "pages_unaccounted": self.pages_unaccounted,
            "pagination_stopped": self.pagination_stopped,
            "links_off_scope": self.links.get("off_scope", 0),
            "links_ignored": self.links.get("ignored", 0),
            "requests": self.requests,
            "http_errors": self.http_errors,
            "download_errors": self.download_errors,
            "error_rate": self.error_rate,
            "resumed": self.resumed,
            "quarantined_by_reason": dict(self.quarantined_by_reason),
            "skipped_by_reason": dict(self.skipped_by_reason),
            "pages_skipped_by_reason": dict(self.pages_skipped_by_reason),
            "pagination_stopped_by_reason": dict(self.pagination_stopped_by_reason),
        }

    def manifest(self, elapsed_seconds: float, accounting: bool = True) -> dict[str, Any]:
        """The manifest's summary (docs/archive.md): the five outcomes first, then the crawl's outcomes and reasons.

        Without `accounting` (a worker of a distributed crawl, whose URLs found and handled need not match) the
        `unaccounted` counts are left out.
        """
        outcomes = self.outcomes
        summary = {
            **{key: outcomes[key] for key in SUMMARY_KEYS},
            "items": self.items,
            "unchanged_fetched": self.unchanged_fetched,
            "known_not_fetched": self.known_not_fetched,
            "articles_found": self.articles_found,
            "outcomes": outcomes,
            "unaccounted": self.unaccounted,
            "skip_entries": self.skip_entries,
            "quarantined_by_reason": dict(self.quarantined_by_reason),
            "skipped_by_reason": dict(self.skipped_by_reason),
            "pages": {
                "found": self.pages_found,
                "fetched": self.pages_fetched,
                "skipped": self.pages_skipped,
                "unaccounted": self.pages_unaccounted,
                "skipped_by_reason": dict(self.pages_skipped_by_reason),
                "pagination_stopped": dict(self.pagination_stopped_by_reason),
            },
            "links": dict(self.links),
            "warc_responses": self.warc_responses,
            "warc_revisits": self.warc_revisits,
            "elapsed_seconds": round(elapsed_seconds, 3),
        }
        if not accounting:
            del summary["unaccounted"], summary["pages"]["unaccounted"]
        return summary


def crawl_failures(summary: CrawlSummary, max_error_rate: float) -> list[str]:
    """Reasons to call the crawl failed; empty if it did its job."""
    failures = []
    if summary.requests and summary.error_rate > max_error_rate:
        failures.append(
            f"error rate {summary.error_rate:.0%} exceeds PORTAL_MAX_ERROR_RATE={max_error_rate:g}: "
            f"{summary.http_errors} HTTP error responses and {summary.download_errors} download errors "
            f"in {summary.requests} requests; is the portal up?"
        )
    # A resumed crawl counts the articles its earlier run left pending as found, so it must add up like a fresh one.
    if summary.unaccounted:
        outcomes = summary.outcomes
        ended = ", ".join(f"{stat} {outcomes[stat]}" for stat in LOG_OUTCOMES)
        failures.append(
            f"accounting does not add up: {summary.articles_found} articles found but "
            f"{summary.articles_found - summary.unaccounted} ended in an outcome ({ended}); this is a bug, please report it"
        )
    if summary.pages_unaccounted:
        failures.append(
            f"page accounting does not add up: {summary.pages_found} list pages, sitemaps and robots.txt found but "
            f"{summary.pages_fetched} fetched and {summary.pages_skipped} skipped; this is a bug, please report it"
        )
    wanted = summary.articles_found - summary.out_of_range - summary.over_limit
    if wanted > 0 and summary.archived + summary.unchanged == 0:
        failures.append(
            f"nothing archived: {wanted} articles found but none archived or confirmed unchanged "
            f"({summary.quarantined} quarantined); see the quarantine directory and the log"
        )
    return failures


def checked_summary(stats: Mapping[str, Any]) -> CrawlSummary:
    """The summary the crawl checks judge: a worker of a distributed crawl is judged on the crawl's counts over all its
    workers (each URL once, whoever found or handled it), with its own requests and errors."""
    own = CrawlSummary.from_stats(stats)
    totals = stats.get(CLUSTER_TOTALS_STAT)
    if not totals:
        return own
    crawl = CrawlSummary.from_stats(totals)
    return replace(crawl, requests=own.requests, http_errors=own.http_errors, download_errors=own.download_errors)


# The CLI's summary table: (key of as_dict(), label). A dict value lists its reasons under the row above; a label
# starting with two spaces is a detail row, shown only when not zero.
SUMMARY_TABLE = (
    ("articles_found", "articles found"),
    ("articles_requested", "  to fetch"),  # a robots or URL-length skip among them was never requested
    ("known_not_fetched", "  not fetched (already archived)"),
    ("out_of_range", "  outside --since/--until"),
    ("over_limit", "  over --max-articles"),
    ("archived", "archived"),
    ("new_version", "  of which new versions"),
    ("unchanged", "unchanged"),
    ("unchanged_fetched", "  fetched, text identical"),
    ("known_not_fetched", "  not fetched"),
    ("quarantined", "quarantined"),
    ("quarantined_by_reason", ""),
    ("skipped", "skipped"),
    ("skipped_by_reason", ""),
    ("unaccounted", "  UNACCOUNTED (a bug)"),
    ("pages_found", "list pages, sitemaps, robots.txt"),
    ("pages_skipped", "  skipped"),
    ("pages_skipped_by_reason", ""),
    ("pages_unaccounted", "  UNACCOUNTED (a bug)"),
    ("pagination_stopped", "  columns whose pagination was stopped"),
    ("pagination_stopped_by_reason", ""),
    ("links_off_scope", "off-host links not followed"),
    ("requests", "HTTP requests"),
    ("http_errors", "  HTTP errors (>= 400)"),
    ("download_errors", "  download errors"),
    ("resumed", "  resumed from --jobdir"),
)
# Rows that check the accounting: a crawl stopped early never reached the point where they must be 0.
ACCOUNTING_ROWS = frozenset({"unaccounted", "pages_unaccounted"})
