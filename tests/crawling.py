"""Helpers for the crawl tests: run `newsarchive crawl` in a subprocess and read the replica's request log by kind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from scraper.spiders.portal import article_id, is_list_url

REPO = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
CRAWL_TIMEOUT = 300  # seconds; a 40-article loopback crawl takes a few
# A stand-in cleaner: these tests are about what is fetched, not about the text.
FAKE_CLEAN = ("-s", "CLEAN_FUNCTION=test_pipelines.fake_clean")
# On loopback AutoThrottle's 1 s start delay only makes the tests slow.
LOOPBACK = ("-s", "AUTOTHROTTLE_START_DELAY=0.05")


def crawl_command(start_url: str, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "scraper", "crawl", "--start-url", start_url, "--out", str(out), "--loglevel", "WARNING", *LOOPBACK, *extra]


def crawl_env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), str(REPO)]))


def crawl(start_url: str, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run the crawl CLI from the archive's parent directory (not the repo root)."""
    return subprocess.run(
        crawl_command(start_url, out, *extra), cwd=out.parent, env=crawl_env(), capture_output=True, text=True, timeout=CRAWL_TIMEOUT
    )


def kind(path: str) -> str:
    """What a logged request path is: article, list, robots, sitemap, test or other."""
    path = path.split("?", 1)[0]
    if path.startswith("/_"):  # the replica's own /_log and /_truth/, asked by the tests
        return "test"
    if path == "/robots.txt":
        return "robots"
    if path.endswith(".xml") and "sitemap" in path:
        return "sitemap"
    if article_id("http://host" + path) is not None:
        return "article"
    if is_list_url("http://host" + path):
        return "list"
    return "other"


def article_paths(entries: list[dict[str, Any]]) -> list[str]:
    return [entry["path"] for entry in entries if kind(entry["path"]) == "article"]
