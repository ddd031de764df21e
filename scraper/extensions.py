"""Crawl extensions: a periodic progress line, the end-of-crawl summary and checks, and a JOBDIR crash guard.
The summary is computed from crawler stats by `crawl_summary`, so the log, the CLI table and the checks agree."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any, Self

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector
from scrapy.utils.asyncio import create_looping_call
from scrapy.utils.job import job_dir

logger = logging.getLogger(__name__)

# Rows of the summary, in display order. `unchanged` counts articles the archive already held,
# fetched or not: `unchanged_fetched` were fetched and their text matched the archived one,
# `known_not_fetched` were not fetched at all (incremental crawl). Every article found ends in one of
# OUTCOMES; `unaccounted` is what is left over, 0 unless something lost track of a URL.
SUMMARY_ROWS = (
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
)
OUTCOMES = ("archived", "new_version", "unchanged", "quarantined", "skipped", "out_of_range", "over_limit")
# Per-reason counts kept beside the rows: stat prefix -> summary key.
REASON_GROUPS = {
    "quarantined": "quarantined_by_reason",
    "skipped": "skipped_by_reason",
    "pages_skipped": "pages_skipped_by_reason",
    "pagination_stopped": "pagination_stopped_by_reason",
}
CHECK_FAILURES_STAT = "newsarchive/check_failures"
# Scrapy's own files in a JOBDIR; a crashed crawl's copies of them are discarded.
JOBDIR_STATE = ("requests.seen", "requests.queue", "spider.state")
RUNNING_MARKER = "newsarchive.running"


def crawl_summary(stats: dict[str, Any]) -> dict[str, Any]:
    """The crawl's summary (counts, error rate) from a crawler's stats dict."""

    def count(key: str) -> int:
        return int(stats.get(f"newsarchive/{key}", 0) or 0)

    requests = int(stats.get("downloader/request_count", 0) or 0)
    http_errors = sum(
        int(value)
        for key, value in stats.items()
        if key.startswith("downloader/response_status_count/")
        and key.rsplit("/", 1)[1].isdigit()
        and int(key.rsplit("/", 1)[1]) >= 400
    )
    download_errors = int(stats.get("downloader/exception_count", 0) or 0)
    summary: dict[str, Any] = {
        key: count(key)
        for key in (
            "articles_found",
            "articles_requested",
            "archived",
            "new_version",
            "known_not_fetched",
            "out_of_range",
            "over_limit",
            "quarantined",
            "skipped",
            "resumed",
            "pages_found",
            "pages_fetched",
            "pages_skipped",
            "pagination_stopped",
        )
    }
    summary["links_off_scope"] = count("links/off_scope")
    summary["links_ignored"] = count("links/ignored")
    summary["unchanged_fetched"] = count("unchanged")
    summary["unchanged"] = summary["unchanged_fetched"] + summary["known_not_fetched"]
    summary["unaccounted"] = summary["articles_found"] - sum(summary[key] for key in OUTCOMES)
    summary["pages_unaccounted"] = summary["pages_found"] - summary["pages_fetched"] - summary["pages_skipped"]
    summary.update(
        requests=requests,
        http_errors=http_errors,
        download_errors=download_errors,
        error_rate=round((http_errors + download_errors) / requests, 4) if requests else 0.0,
    )
    ordered = {key: summary[key] for key in SUMMARY_ROWS}
    for prefix, key in REASON_GROUPS.items():
        start = f"newsarchive/{prefix}/"
        ordered[key] = {
            name[len(start) :]: int(value) for name, value in sorted(stats.items()) if name.startswith(start)
        }
    return ordered


def check_summary(summary: dict[str, Any], max_error_rate: float) -> list[str]:
    """Reasons to call the crawl failed; empty if it did its job."""
    failures = []
    if summary["requests"] and summary["error_rate"] > max_error_rate:
        failures.append(
            f"error rate {summary['error_rate']:.0%} exceeds PORTAL_MAX_ERROR_RATE={max_error_rate:g}: "
            f"{summary['http_errors']} HTTP error responses and {summary['download_errors']} download errors "
            f"in {summary['requests']} requests; is the portal up?"
        )
    # A resumed crawl counts the articles its earlier run left pending as found, so it must add up like a fresh one.
    if summary.get("unaccounted"):
        failures.append(
            f"accounting does not add up: {summary['articles_found']} articles found but "
            f"{summary['articles_found'] - summary['unaccounted']} ended in an outcome "
            f"({', '.join(f'{key} {summary[key]}' for key in OUTCOMES)}); this is a bug, please report it"
        )
    if summary.get("pages_unaccounted"):
        failures.append(
            f"page accounting does not add up: {summary['pages_found']} list pages, sitemaps and robots.txt found but "
            f"{summary['pages_fetched']} fetched and {summary['pages_skipped']} skipped; this is a bug, please report it"
        )
    wanted = summary["articles_found"] - summary["out_of_range"] - summary["over_limit"]
    if wanted > 0 and summary["archived"] + summary["unchanged"] == 0:
        failures.append(
            f"nothing archived: {wanted} articles found but none archived or confirmed unchanged "
            f"({summary['quarantined']} quarantined); see the quarantine directory and the log"
        )
    return failures


class CrawlMonitor:
    """Logs a progress line every PORTAL_PROGRESS_INTERVAL seconds and, at the end, the summary and the checks.

    Failed checks are logged as errors and kept in the stat `newsarchive/check_failures`
    (a list of messages), which `newsarchive crawl` turns into a non-zero exit status.
    """

    def __init__(self, stats: StatsCollector, interval: float, max_error_rate: float) -> None:
        self.stats = stats
        self.interval = interval
        self.max_error_rate = max_error_rate
        self.task: Any = None
        self._last_done = 0
        self._last_time = 0.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        # PORTAL_MONITOR_ENABLED: progress line, summary and checks (on by default).
        if not settings.getbool("PORTAL_MONITOR_ENABLED", True):
            raise NotConfigured
        assert crawler.stats is not None
        monitor = cls(
            crawler.stats,
            # PORTAL_PROGRESS_INTERVAL: seconds between progress lines; 0 turns the line off.
            settings.getfloat("PORTAL_PROGRESS_INTERVAL", 30.0),
            # PORTAL_MAX_ERROR_RATE: (HTTP errors + download errors) / requests above which the crawl failed.
            settings.getfloat("PORTAL_MAX_ERROR_RATE", 0.5),
        )
        crawler.signals.connect(monitor.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(monitor.spider_closed, signal=signals.spider_closed)
        return monitor

    def spider_opened(self, spider: Spider) -> None:
        self._last_time = time.monotonic()
        if self.interval > 0:
            self.task = create_looping_call(self.log_progress)
            # now=False: the first line comes after one interval, when there is something to say.
            self.task.start(self.interval, now=False)

    def progress_line(self) -> str:
        summary = crawl_summary(self.stats.get_stats())
        done = summary["archived"] + summary["unchanged_fetched"] + summary["quarantined"]
        now = time.monotonic()
        elapsed = max(now - self._last_time, 1e-6)
        rate = (done - self._last_done) * 60.0 / elapsed
        self._last_done, self._last_time = done, now
        return (
            f"progress: {summary['articles_found']} articles found, {summary['archived']} archived, "
            f"{summary['unchanged']} unchanged ({summary['known_not_fetched']} not fetched), "
            f"{summary['quarantined']} quarantined, {summary['skipped']} skipped; {summary['requests']} requests, "
            f"{summary['http_errors'] + summary['download_errors']} errors; {rate:.0f} articles/min"
        )

    def log_progress(self) -> None:
        logger.info(self.progress_line())

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        # Pipelines have closed before spider_closed, so the archive counts are final here.
        summary = crawl_summary(self.stats.get_stats())
        self.stats.set_value("newsarchive/summary", summary)
        logger.info("crawl summary: %s", json.dumps(summary, sort_keys=False))
        failures = check_summary(summary, self.max_error_rate) if reason == "finished" else []
        self.stats.set_value(CHECK_FAILURES_STAT, failures)
        for failure in failures:
            logger.error("crawl check failed: %s", failure)


class JobdirGuard:
    """With a JOBDIR, discards the queue of a crawl that was killed rather than stopped.

    Scrapy persists its queue and seen-requests only on a clean stop (one SIGINT); after a
    SIGKILL or a power cut they are stale, and reusing them would mark unfetched pages as seen.
    A marker file present at start says the previous crawl never closed: its JOBDIR state is
    removed and discovery starts over, the archive index sparing what was already committed.
    """

    def __init__(self, jobdir: Path) -> None:
        self.jobdir = jobdir
        self.marker = jobdir / RUNNING_MARKER

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        jobdir = job_dir(crawler.settings)
        if not jobdir:
            raise NotConfigured
        guard = cls(Path(jobdir))
        # Extensions are built before the scheduler opens the JOBDIR, so the reset comes first.
        guard.claim()
        crawler.signals.connect(guard.spider_closed, signal=signals.spider_closed)
        return guard

    def claim(self) -> None:
        if self.marker.exists():
            owner = self.marker.read_text(encoding="utf-8").strip()
            if owner.isdigit() and int(owner) != os.getpid() and pid_alive(int(owner)):
                raise RuntimeError(
                    f"JOBDIR {self.jobdir} is in use by the running process {owner}; give this crawl another --jobdir"
                )
            logger.warning(
                "JOBDIR %s: the previous crawl did not stop cleanly (killed?); discarding its queue and "
                "starting discovery again (articles already in the archive are not fetched again)",
                self.jobdir,
            )
            for name in JOBDIR_STATE:
                path = self.jobdir / name
                if path.is_dir():
                    shutil.rmtree(path)
                elif path.exists():
                    path.unlink()
        self.marker.write_text(f"{os.getpid()}\n", encoding="utf-8")

    def spider_closed(self, spider: Spider, reason: str) -> None:
        # Scrapy writes the JOBDIR state on this same signal; a closed crawl's state is consistent.
        self.marker.unlink(missing_ok=True)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True
