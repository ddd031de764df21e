"""The crawl's own checks: a portal answering only errors fails the crawl with the reason; the summary's arithmetic."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from crawling import FAKE_CLEAN, crawl

from scraper.extensions import check_summary, crawl_summary
from scraper.replica.testing import Replica


class Broken(BaseHTTPRequestHandler):
    """Answers every request with 500."""

    def do_GET(self) -> None:
        body = b"internal error"
        self.send_response(500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def broken_portal() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Broken)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_crawl_of_a_portal_answering_only_errors_fails_and_says_why(broken_portal: str, tmp_path: Path) -> None:
    result = crawl(broken_portal, tmp_path / "archive-data")
    assert result.returncode == 1
    assert "error rate 100% exceeds PORTAL_MAX_ERROR_RATE=0.5" in result.stderr
    assert "is the portal up?" in result.stderr


def stats(**values: int) -> dict[str, int]:
    return {f"newsarchive/{key}": value for key, value in values.items()} | {"downloader/request_count": 10}


def test_summary_counts_known_articles_as_unchanged() -> None:
    summary = crawl_summary(stats(articles_found=5, unchanged=2, known_not_fetched=3))
    assert summary["unchanged"] == 5
    assert summary["unchanged_fetched"] == 2


def test_error_rate_counts_http_errors_and_download_errors() -> None:
    summary = crawl_summary(
        {
            "downloader/request_count": 10,
            "downloader/response_status_count/200": 4,
            "downloader/response_status_count/404": 1,
            "downloader/response_status_count/503": 3,
            "downloader/exception_count": 2,
        }
    )
    assert (summary["http_errors"], summary["download_errors"], summary["error_rate"]) == (4, 2, 0.6)
    assert "error rate 60%" in check_summary(summary, 0.5)[0]
    assert check_summary(summary, 0.75) == []


def test_nothing_archived_on_a_non_empty_portal_fails() -> None:
    failures = check_summary(crawl_summary(stats(articles_found=8, quarantined=8)), 0.5)
    assert failures and failures[0].startswith("nothing archived: 8 articles found")


def test_articles_all_outside_the_dates_are_not_a_failure() -> None:
    assert check_summary(crawl_summary(stats(articles_found=8, out_of_range=8)), 0.5) == []


def test_progress_line_is_logged_while_crawling(replica: Replica, tmp_path: Path) -> None:
    result = crawl(
        replica.url,
        tmp_path / "archive-data",
        *FAKE_CLEAN,
        "--loglevel",
        "INFO",
        "-s",
        "PORTAL_PROGRESS_INTERVAL=0.2",
        "-s",
        "DOWNLOAD_DELAY=0.05",
        "-s",
        "AUTOTHROTTLE_ENABLED=false",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    progress = [line for line in result.stderr.splitlines() if "progress:" in line]
    assert progress, result.stderr[-2000:]
    assert "articles found" in progress[-1] and "articles/min" in progress[-1]
    assert "crawl summary: {" in result.stderr


def test_a_resumed_crawl_that_does_not_add_up_fails_like_a_fresh_one() -> None:
    summary = crawl_summary(stats(resumed=1, articles_found=0, archived=181))
    assert summary["unaccounted"] == -181
    failures = check_summary(summary, 0.5)
    assert any("accounting does not add up" in failure for failure in failures)


def test_pages_found_but_neither_fetched_nor_skipped_fail_the_crawl() -> None:
    summary = crawl_summary(stats(articles_found=1, archived=1, pages_found=3, pages_fetched=1, pages_skipped=1))
    assert summary["pages_unaccounted"] == 1
    assert any("page accounting does not add up" in failure for failure in check_summary(summary, 0.5))
