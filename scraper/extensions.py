"""Crawl extensions: a periodic progress line, the end-of-crawl summary and checks, and a JOBDIR crash guard.
Both read scraper.summary.CrawlSummary, so the log, the CLI table and the checks agree."""

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

from scraper.summary import CHECK_FAILURES_STAT, SUMMARY_STAT, CrawlSummary, checked_summary, crawl_failures

logger = logging.getLogger(__name__)

# Scrapy's own files in a JOBDIR; a crashed crawl's copies of them are discarded.
JOBDIR_STATE = ("requests.seen", "requests.queue", "spider.state")
RUNNING_MARKER = "newsarchive.running"


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
        if not settings.getbool("PORTAL_MONITOR_ENABLED"):
            raise NotConfigured
        assert crawler.stats is not None
        monitor = cls(
            crawler.stats,
            # PORTAL_PROGRESS_INTERVAL: seconds between progress lines; 0 turns the line off.
            settings.getfloat("PORTAL_PROGRESS_INTERVAL"),
            # PORTAL_MAX_ERROR_RATE: (HTTP errors + download errors) / requests above which the crawl failed.
            settings.getfloat("PORTAL_MAX_ERROR_RATE"),
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
        summary = CrawlSummary.from_stats(self.stats.get_stats())
        done = summary.archived + summary.unchanged_fetched + summary.quarantined
        now = time.monotonic()
        elapsed = max(now - self._last_time, 1e-6)
        rate = (done - self._last_done) * 60.0 / elapsed
        self._last_done, self._last_time = done, now
        return (
            f"progress: {summary.articles_found} articles found, {summary.archived} archived, "
            f"{summary.unchanged} unchanged ({summary.known_not_fetched} not fetched), "
            f"{summary.quarantined} quarantined, {summary.skipped} skipped; {summary.requests} requests, "
            f"{summary.http_errors + summary.download_errors} errors; {rate:.0f} articles/min"
        )

    def log_progress(self) -> None:
        logger.info(self.progress_line())

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        # Pipelines have closed before spider_closed, so the archive counts are final here.
        stats = self.stats.get_stats()
        summary = CrawlSummary.from_stats(stats)
        self.stats.set_value(SUMMARY_STAT, summary.as_dict())
        logger.info("crawl summary: %s", json.dumps(summary.as_dict(), sort_keys=False))
        failures = crawl_failures(checked_summary(stats), self.max_error_rate) if reason == "finished" else []
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
