"""The crawl's own checks in a real crawl: a portal answering only errors fails with the reason; the progress line."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

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


def test_crawl_of_a_portal_answering_only_errors_fails_and_says_why(
    broken_portal: str, tmp_path: Path, crawl: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    result = crawl(broken_portal, tmp_path / "archive-data")
    assert result.returncode == 1
    assert "error rate 100% exceeds PORTAL_MAX_ERROR_RATE=0.5" in result.stderr
    assert "is the portal up?" in result.stderr


def test_progress_line_is_logged_while_crawling(
    replica: Replica,
    tmp_path: Path,
    fake_clean: tuple[str, ...],
    crawl: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    result = crawl(
        replica.url,
        tmp_path / "archive-data",
        *fake_clean,
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
