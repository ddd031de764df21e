"""Helpers for the crawl tests: run `newsarchive crawl` in a subprocess, read the replica's request log by kind,
and a loopback sink that records any request that should never have been made."""

from __future__ import annotations

import gzip
import json
import os
import socketserver
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from scraper.urls import is_list_url, strict_article_id

REPO = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
CRAWL_TIMEOUT = 300  # seconds; a 40-article loopback crawl takes a few
# A stand-in cleaner: these tests are about what is fetched, not about the text.
FAKE_CLEAN = ("-s", "CLEAN_FUNCTION=test_pipelines.fake_clean")
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
