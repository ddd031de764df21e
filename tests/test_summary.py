"""The crawl summary computed once from the stats: its arithmetic, the log and manifest shapes, the crawl checks."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler

from scraper.summary import (
    CLUSTER_TOTALS_STAT,
    SUMMARY_TABLE,
    Counters,
    CrawlSummary,
    Stat,
    checked_summary,
    crawl_failures,
)


def stats(**values: int) -> dict[str, Any]:
    return {Stat(key).key: value for key, value in values.items()} | {"downloader/request_count": 10}


def test_known_articles_not_fetched_count_as_unchanged() -> None:
    summary = CrawlSummary.from_stats(stats(articles_found=5, unchanged=2, known_not_fetched=3))
    assert (summary.unchanged, summary.unchanged_fetched, summary.known_not_fetched) == (5, 2, 3)
    assert (summary.items, summary.unaccounted) == (5, 0)


def test_error_rate_counts_http_errors_and_download_errors() -> None:
    summary = CrawlSummary.from_stats(
        {
            "downloader/request_count": 10,
            "downloader/response_status_count/200": 4,
            "downloader/response_status_count/404": 1,
            "downloader/response_status_count/503": 3,
            "downloader/response_status_count/xyz": 9,
            "downloader/exception_count": 2,
        }
    )
    assert (summary.http_errors, summary.download_errors, summary.error_rate) == (4, 2, 0.6)
    assert crawl_failures(summary, 0.5)[0] == (
        "error rate 60% exceeds PORTAL_MAX_ERROR_RATE=0.5: 4 HTTP error responses and 2 download errors "
        "in 10 requests; is the portal up?"
    )
    assert crawl_failures(summary, 0.75) == []


def test_nothing_archived_on_a_non_empty_portal_fails() -> None:
    summary = CrawlSummary.from_stats(stats(articles_found=8, quarantined=8))
    assert crawl_failures(summary, 0.5) == [
        "nothing archived: 8 articles found but none archived or confirmed unchanged (8 quarantined); "
        "see the quarantine directory and the log"
    ]


def test_articles_all_outside_the_dates_are_not_a_failure() -> None:
    assert crawl_failures(CrawlSummary.from_stats(stats(articles_found=8, out_of_range=8)), 0.5) == []


def test_a_resumed_crawl_that_does_not_add_up_fails_like_a_fresh_one() -> None:
    summary = CrawlSummary.from_stats(stats(resumed=1, articles_found=0, archived=181))
    assert summary.unaccounted == -181
    assert crawl_failures(summary, 0.5) == [
        "accounting does not add up: 0 articles found but 181 ended in an outcome (archived 181, new_version 0, "
        "unchanged 0, quarantined 0, skipped 0, out_of_range 0, over_limit 0); this is a bug, please report it"
    ]


def test_pages_found_but_neither_fetched_nor_skipped_fail_the_crawl() -> None:
    summary = CrawlSummary.from_stats(
        stats(articles_found=1, archived=1, pages_found=3, pages_fetched=1, pages_skipped=1)
    )
    assert summary.pages_unaccounted == 1
    assert crawl_failures(summary, 0.5) == [
        "page accounting does not add up: 3 list pages, sitemaps and robots.txt found but 1 fetched and 1 skipped; "
        "this is a bug, please report it"
    ]


def crawl_stats() -> dict[str, Any]:
    """Stats of a small incremental crawl that met every kind of outcome."""
    values = stats(
        articles_found=12,
        articles_requested=8,
        archived=3,
        new_version=1,
        unchanged=2,
        known_not_fetched=2,
        out_of_range=1,
        over_limit=1,
        quarantined=1,
        skipped=1,
        skip_entries=1,
        pages_found=6,
        pages_fetched=4,
        pages_skipped=2,
        pagination_stopped=1,
        warc_responses=20,
        warc_revisits=1,
    )
    return values | {
        Stat.QUARANTINED.reason_key("clean_error"): 1,
        Stat.SKIPPED.reason_key("http_404"): 1,
        Stat.PAGES_SKIPPED.reason_key("no_new_articles"): 2,
        Stat.PAGINATION_STOPPED.reason_key("no_new_articles"): 1,
        Stat.LINKS.reason_key("off_scope"): 3,
        Stat.LINKS.reason_key("ignored"): 2,
    }


def test_the_manifest_summary_has_the_five_outcomes_first_and_adds_up() -> None:
    summary = CrawlSummary.from_stats(crawl_stats()).manifest(elapsed_seconds=1.23456)
    assert summary == {
        "archived": 3,
        "unchanged": 4,
        "new_version": 1,
        "quarantined": 1,
        "skipped": 1,
        "items": 10,
        "unchanged_fetched": 2,
        "known_not_fetched": 2,
        "articles_found": 12,
        "outcomes": {
            "archived": 3,
            "unchanged": 4,
            "new_version": 1,
            "quarantined": 1,
            "skipped": 1,
            "out_of_range": 1,
            "over_limit": 1,
        },
        "unaccounted": 0,
        "skip_entries": 1,
        "quarantined_by_reason": {"clean_error": 1},
        "skipped_by_reason": {"http_404": 1},
        "pages": {
            "found": 6,
            "fetched": 4,
            "skipped": 2,
            "unaccounted": 0,
            "skipped_by_reason": {"no_new_articles": 2},
            "pagination_stopped": {"no_new_articles": 1},
        },
        "links": {"ignored": 2, "off_scope": 3},
        "warc_responses": 20,
        "warc_revisits": 1,
        "elapsed_seconds": 1.235,
    }
    assert list(summary)[:5] == ["archived", "unchanged", "new_version", "quarantined", "skipped"]


def test_the_log_summary_lists_every_row_of_the_cli_table_in_order() -> None:
    rows = CrawlSummary.from_stats(crawl_stats()).as_dict()
    assert list(rows) == [
        "articles_found",
        "articles_requested",
        "archived",
        "new_version",
        "unchanged",
        "unchanged_fetched",
        "known_not_fetched",
        "out_of_range",
        "over_limit",
        "quarantined",
        "skipped",
        "unaccounted",
        "pages_found",
        "pages_fetched",
        "pages_skipped",
        "pages_unaccounted",
        "pagination_stopped",
        "links_off_scope",
        "links_ignored",
        "requests",
        "http_errors",
        "download_errors",
        "error_rate",
        "resumed",
        "quarantined_by_reason",
        "skipped_by_reason",
        "pages_skipped_by_reason",
        "pagination_stopped_by_reason",
    ]
    assert {key for key, _ in SUMMARY_TABLE} <= set(rows)
    assert (rows["links_off_scope"], rows["links_ignored"], rows["unchanged"]) == (3, 2, 4)


def test_counters_count_a_total_with_its_reason_or_a_reason_alone(project_crawler: Any) -> None:
    crawler: Crawler = project_crawler()
    counters = Counters(crawler)
    counters.add(Stat.SKIPPED, reason="robots")
    counters.add(Stat.SKIPPED, reason="robots")
    counters.add(Stat.ARTICLES_FOUND, 3)
    counters.add_reason(Stat.LINKS, "off_scope")
    assert crawler.stats is not None
    assert {key: value for key, value in crawler.stats.get_stats().items() if key.startswith("newsarchive/")} == {
        "newsarchive/skipped": 2,
        "newsarchive/skipped/robots": 2,
        "newsarchive/articles_found": 3,
        "newsarchive/links/off_scope": 1,
    }
    assert counters.value(Stat.SKIPPED) == 2


def test_counters_without_stats_count_nowhere() -> None:
    counters = Counters(None)
    counters.add(Stat.ARCHIVED)
    assert counters.value(Stat.ARCHIVED) == 0


def test_a_worker_of_a_distributed_crawl_is_judged_on_the_crawls_counts_and_its_own_requests() -> None:
    # It found 40 articles and handled 25 others: its own counts do not add up, the crawl's do.
    worker = stats(articles_found=40, archived=25) | {"downloader/request_count": 30}
    crawl = stats(articles_found=100, archived=100)
    assert crawl_failures(checked_summary(worker), 0.5) != []  # alone it would look like a bug
    checked = checked_summary(worker | {CLUSTER_TOTALS_STAT: crawl})
    assert (checked.articles_found, checked.archived, checked.requests) == (100, 100, 30)
    assert crawl_failures(checked, 0.5) == []
    assert crawl_failures(checked_summary(worker | {CLUSTER_TOTALS_STAT: stats(articles_found=100, archived=99)}), 0.5)


def test_a_workers_manifest_summary_leaves_out_the_accounting_it_cannot_do() -> None:
    summary = CrawlSummary.from_stats(stats(articles_found=40, archived=25, pages_found=3))
    worker = summary.manifest(1.0, accounting=False)
    assert "unaccounted" not in worker and "unaccounted" not in worker["pages"]
    assert (worker["archived"], worker["items"], worker["articles_found"]) == (25, 25, 40)
    assert summary.manifest(1.0)["unaccounted"] == 15
