"""What tests/conftest.py's fixtures are made of: run `newsarchive crawl` in a subprocess, read the replica's request
log by kind, a loopback sink that records requests that should never be made, sample items and a stand-in cleaner.
Tests get these through the fixtures; crawl subprocesses import `fake_clean` from here (tests/ is on their path)."""

from __future__ import annotations

import gzip
import json
import os
import re
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from scraper.cleaner.article import Article, CleanError, CleaningReport, Image
from scraper.items import ArticlePage
from scraper.urls import is_list_url, strict_article_id

REPO = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
CRAWL_TIMEOUT = 300  # seconds; a 40-article loopback crawl takes a few
# A stand-in cleaner: these tests are about what is fetched, not about the text.
FAKE_CLEAN = ("-s", "CLEAN_FUNCTION=crawling.fake_clean")
SAMPLE_URL = "http://127.0.0.1:8123/news/yw/202508/t20250826_254967.html"
# On loopback AutoThrottle's 1 s start delay only makes the tests slow.
LOOPBACK = ("-s", "AUTOTHROTTLE_START_DELAY=0.05")


def crawl_command(start_url: str, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "scraper",
        "crawl",
        "--start-url",
        start_url,
        "--out",
        str(out),
        "--loglevel",
        "WARNING",
        *LOOPBACK,
        *extra,
    ]


def crawl_env(**extra: str) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), str(REPO)]), **extra)


def crawl(
    start_url: str,
    out: Path,
    *extra: str,
    env: dict[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the crawl CLI from the archive's parent directory (not the repo root); `env` adds variables."""
    return subprocess.run(
        crawl_command(start_url, out, *extra),
        cwd=out.parent,
        env=crawl_env(**(env or {})),
        capture_output=True,
        text=True,
        timeout=CRAWL_TIMEOUT,
        preexec_fn=preexec_fn,
    )


@dataclass
class Worker:
    """A worker of a distributed crawl running in the background; its output goes to files (a worker blocked on a full
    pipe would hold the whole crawl up)."""

    process: subprocess.Popen[bytes]
    output: IO[bytes]
    errors: IO[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

    def finish(self, timeout: float) -> tuple[int, str, str]:
        """Wait for the worker; (exit status, stdout, stderr)."""
        self.process.wait(timeout)
        said = []
        for stream in (self.output, self.errors):
            stream.seek(0)
            said.append(stream.read().decode("utf-8", "replace"))
            stream.close()
        return self.process.returncode, said[0], said[1]

    def stop(self) -> None:
        """Kill the worker if it still runs (a test that failed before finishing it), and close its files."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.output.close()
        self.errors.close()


def start_worker(start_url: str, out: Path, redis_url: str, *extra: str) -> Worker:
    """Start one worker of a distributed crawl (`newsarchive crawl --redis`) in the background, with the stand-in
    cleaner."""
    output, errors = tempfile.TemporaryFile(), tempfile.TemporaryFile()  # noqa: SIM115 (closed by finish or stop)
    process = subprocess.Popen(
        crawl_command(start_url, out, "--redis", redis_url, *FAKE_CLEAN, *extra),
        cwd=out.parent,
        env=crawl_env(),
        stdout=output,
        stderr=errors,
    )
    return Worker(process, output, errors)


def read_jsonl(directory: Path) -> list[dict[str, Any]]:
    """Every line of the committed `*.jsonl.gz` files in `directory`, in file-name order."""
    records: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.jsonl.gz")):
        with gzip.open(path, "rb") as handle:
            records += [json.loads(line) for line in handle.read().split(b"\n") if line]
    return records


def verify(out: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scraper", "verify", *options, str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )


class _SinkHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        line = self.rfile.readline(4096).decode("latin-1").strip()
        self.server.requests.append(line)  # type: ignore[attr-defined]
        self.wfile.write(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")


@contextmanager
def loopback_sink(host: str = "127.0.0.2", port: int = 0) -> Iterator[Any]:
    """A TCP server on another loopback address that answers 404 and records each request line (`.requests`).

    Tests use it as the place an off-host request would land: it must see nothing.
    """
    server = socketserver.ThreadingTCPServer((host, port), _SinkHandler)
    server.daemon_threads = True
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def kind(path: str) -> str:
    """What a logged request path is: article, list, robots, sitemap, test or other."""
    path = path.split("?", 1)[0]
    if path.startswith("/_"):  # the replica's own /_log and /_truth/, asked by the tests
        return "test"
    if path == "/robots.txt":
        return "robots"
    if path.endswith(".xml") and "sitemap" in path:
        return "sitemap"
    if strict_article_id("http://host" + path) is not None:
        return "article"
    if is_list_url("http://host" + path):
        return "list"
    return "other"


def article_paths(entries: list[dict[str, Any]]) -> list[str]:
    return [entry["path"] for entry in entries if kind(entry["path"]) == "article"]


def sample_page(url: str = SAMPLE_URL, body: bytes = b"<html>raw \xd2\xaa\xc2\xc5</html>") -> ArticlePage:
    """An article response as the spider hands it on."""
    return ArticlePage(
        url=url,
        status=200,
        headers=[("Content-Type", "text/html; charset=gb2312")],
        body=body,
        fetched_at="2025-08-26T00:21:05Z",
        request_headers=[("User-Agent", "newsarchive/0.1")],
        charset="gb2312",
        reason="OK",
    )


def sample_article(text: str = "第一段。\n第二段。", article_id: str | None = None) -> Article:
    """A cleaned article with every field set, its text one paragraph per line."""
    return Article(
        url=None,
        id=article_id,
        title="江蘇細胞和基因技術產業緣何成果頻頻?",
        title_hans="江苏细胞和基因技术产业缘何成果频频?",
        published_at="2025-08-26T08:21:00+08:00",
        source="交匯點新聞",
        reporters=["許愿", "柏麗娟"],
        section="要聞",
        breadcrumb=["首頁", "新聞中心", "要聞"],
        paragraphs=text.split("\n"),
        subheadings=[],
        images=[Image(url="/img/1.jpg", caption="圖")],
        text=text,
        text_hans=text,
        charset="gbk",
        cleaning=CleaningReport(pinyin_removed=3),
        cleaner_version="0.1.0+model.test",
    )


def fake_clean(body: bytes, url: str | None = None, headers: Any = None) -> Article:
    """The stand-in cleaner (CLEAN_FUNCTION=crawling.fake_clean): refuses pages containing b'EMPTY', else returns the
    sample article with the body as its text."""
    if b"EMPTY" in body:
        raise CleanError("no article body")
    return sample_article(text=body.decode("latin-1"))


def table_row(stdout: str, label: str) -> tuple[int, dict[str, int]]:
    """The count on the crawl summary table's row `label` (detail rows: with their two leading spaces), and the
    per-reason rows under it. Detail rows are indented like reasons: ask this only of rows that have reasons."""
    lines = stdout.splitlines()
    (row,) = [n for n, line in enumerate(lines) if re.fullmatch(rf"  {re.escape(label)} +\d+", line)]
    reasons = {}
    for line in lines[row + 1 :]:
        match = re.fullmatch(r"    (\S+) +(\d+)", line)
        if match is None:
            break
        reasons[match[1]] = int(match[2])
    return int(lines[row].split()[-1]), reasons


def slow_or_crashing(body: bytes, url: str | None = None, headers: Any = None) -> Article:
    """The real cleaner, except for pages made to overrun or kill the cleaning worker (tests of the pool).

    By the body: `SLOW` sleeps past any budget, `CRASH` kills the process, `CRASH-ONCE:<path>` kills it
    unless <path> exists (and creates it). By the URL, in a crawl: articles whose id is in the environment
    variable NEWSARCHIVE_TEST_SLOW or NEWSARCHIVE_TEST_CRASH (comma-separated).
    """
    from scraper.cleaner import clean_page

    ident = strict_article_id(url or "") or ""
    if body.startswith(b"SLOW") or (ident and ident in os.environ.get("NEWSARCHIVE_TEST_SLOW", "").split(",")):
        time.sleep(60)
    if ident and ident in os.environ.get("NEWSARCHIVE_TEST_CRASH", "").split(","):
        os._exit(3)
    if body.startswith(b"CRASH-ONCE:"):
        marker = Path(body.split(b":", 1)[1].decode())
        if not marker.exists():
            marker.touch()
            os._exit(3)
        body = b"<html><body><h1>x</h1></body></html>"
    elif body.startswith(b"CRASH"):
        os._exit(3)
    return clean_page(body, url, headers, strict=url is not None and ident != "")


def broken_clean(body: bytes, url: str | None = None, headers: Any = None) -> Article:
    """A cleaner with a bug: its KeyError must reach the crawl, not be booked as a page problem."""
    raise KeyError("bug")
