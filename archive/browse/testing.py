"""Sample archives and running apps for tests and tools.
A small archive with every kind of repair, `newsarchive browse` in a subprocess (its URL read from the first line
it prints, as with the replica portal), and Debian's Chromium through Playwright."""

from __future__ import annotations

import logging
import re
import selectors
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import opencc

from ..testing import (
    damaged_text,
    sample_page,
    sample_quarantine,
    sample_record,
    write_captured_crawl,
    write_sample_crawl,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

logger = logging.getLogger(__name__)

CHROMIUM = Path("/usr/bin/chromium")
# Without the networking switches Chromium keeps trying to reach Google's services, which this closed
# network refuses; the rest keep a root, headless, GPU-less run quiet and deterministic.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
START_TIMEOUT = 300.0  # seconds: indexing a large archive comes before the URL is printed
STOP_TIMEOUT = 10.0
_SERVING = re.compile(r"Browsing .* at (http://\S+/)")
FIRST_CRAWL = "20250827T000000Z-aaaaaa"
SECOND_CRAWL = "20250901T000000Z-bbbbbb"
THIRD_CRAWL = "20250902T000000Z-cccccc"


class BrowseStartError(RuntimeError):
    """The browse server did not print its URL; carries what it said."""


@contextmanager
def start_browse(directory: Path, cache_dir: Path | None = None, extra: Sequence[str] = ()) -> Iterator[str]:
    """Run `python -m archive.browse DIR --port 0` until the block ends; yield its base URL."""
    command = [sys.executable, "-m", "archive.browse", str(directory), "--port", "0", *extra]
    command += ["--cache-dir", str(cache_dir)] if cache_dir is not None else ["--no-cache"]
    # Its log goes to a file, not a pipe nobody reads while it serves (a full pipe would block it).
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)
        assert process.stdout is not None
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(process.stdout, selectors.EVENT_READ)
                ready = selector.select(timeout=START_TIMEOUT)
            line = process.stdout.readline() if ready else ""
            match = _SERVING.search(line)
            if not match:
                process.kill()
                process.wait()
                log.seek(0)
                said = log.read().decode("utf-8", "replace")[-3000:]
                raise BrowseStartError(
                    f"newsarchive browse did not start (exit {process.returncode}): {line.strip()}\n{said}"
                )
            yield match.group(1)
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            process.stdout.close()


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless; a missing browser is an error that says how to install it."""
    if not CHROMIUM.exists():
        raise FileNotFoundError(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
            "(run 'make browser', or 'apt-get install chromium fonts-wqy-microhei')"
        )
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))


@dataclass(frozen=True)
class BrowseSample:
    """A small archive for the browse tests, and what went into it.

    Article `damaged` (two versions, the second with a paragraph more) has every kind of repair and a GBK page whose
    HTTP header wrongly says utf-8; `old` is a schema version 1 record (no repairs) captured as UTF-8; `plain` has no
    raw capture. The first crawl also quarantined one page (captured) and skipped one article.
    """

    root: Path
    data: dict[str, Any]
    damaged: str
    old: str
    plain: str
    latest: dict[str, Any]


def _damaged_record(data: dict[str, Any], version: int, crawl_id: str, fetched_at: str) -> tuple[dict[str, Any], str]:
    """A record of the sample article, and the page it was cleaned from."""
    paragraphs = data["paragraphs"] + ([data["changed_paragraph"]] if version > 1 else [])
    damage = damaged_text(paragraphs, spam=[data["spam_top"], data["spam_keywords"]])
    to_hans = opencc.OpenCC("t2s").convert
    kinds = [r["kind"] for r in damage.repairs]
    record = sample_record(
        data["id"],
        version,
        damage.text,
        crawl_id,
        url=f"http://www.zhaoenyun.cn/news/yw/202508/t20250826_{data['id']}.html",
        fetched_at=fetched_at,
        title=data["title"],
        title_hans=to_hans(data["title"]),
        text_hans=to_hans(damage.text),
        published_at=data["published_at"],
        source=data["source"],
        reporters=data["reporters"],
        section=data["section"],
        breadcrumb=["首頁", "新聞中心", data["section"]],
        paragraphs=damage.text.split("\n"),
        cleaning={
            "spam_blocks": kinds.count("spam"),
            "pinyin_removed": kinds.count("reading"),
            "mojibake_runs": kinds.count("bytes"),
            "bytes_restored": kinds.count("bytes"),
            "punctuation_restored": kinds.count("punctuation"),
            "unrecoverable": damage.unrecoverable,
            "repairs": damage.repairs,
        },
    )
    page = sample_page(data["title_shown"], damage.shown, spam=data["spam_top"], keywords=data["spam_keywords"])
    return record, page


def build_browse_sample(root: Path, data: dict[str, Any]) -> BrowseSample:
    """Write the sample archive (see BrowseSample) from the article described by `data`
    (tests/data/browse/damaged_article.json)."""
    gbk_page_headers = [("Content-Type", "text/html; charset=utf-8")]  # contradicted by the page's <meta>
    first, first_page = _damaged_record(data, 1, FIRST_CRAWL, "2025-08-27T00:00:00Z")
    old = sample_record(
        "1002",
        1,
        "舊格式的記錄，沒有修復清單。",
        FIRST_CRAWL,
        title="舊記錄",
        title_hans="旧记录",
        text_hans="旧格式的记录，没有修复清单。",
        section="財經",
        published_at="2025-07-01T09:00:00+08:00",
        fetched_at="2025-08-27T00:00:01Z",
        schema_version=1,
    )
    del old["cleaner_version"], old["cleaning"]["repairs"]
    old_page = sample_page("舊記錄", ["舊格式的記錄,沒有修復清單。"], meta_charset="utf-8")
    quarantine: list[dict[str, Any] | tuple[dict[str, Any], bytes, list[tuple[str, str]]]] = [
        (
            sample_quarantine(
                "http://www.zhaoenyun.cn/news/yw/202508/t20250826_9.html", FIRST_CRAWL, reason="clean_error"
            ),
            "<html><body><p>頁面殘缺</p></body></html>".encode("gb18030"),
            [("Content-Type", "text/html; charset=gbk")],
        ),
        sample_quarantine(
            "http://www.zhaoenyun.cn/news/yw/202508/t20250826_10.html",
            FIRST_CRAWL,
            reason="skipped:http_503",
            detail="HTTP 503 after 2 retries",
            outcome="skipped",
            http_status=503,
        ),
    ]
    write_captured_crawl(
        root,
        FIRST_CRAWL,
        [
            (first, first_page.encode("gb18030"), gbk_page_headers),
            (old, old_page.encode("utf-8"), [("Content-Type", "text/html; charset=utf-8")]),
        ],
        quarantine,
        started_at="2025-08-27T00:00:00Z",
    )
    second, second_page = _damaged_record(data, 2, SECOND_CRAWL, "2025-09-01T00:00:00Z")
    plain = sample_record(
        "1003", 1, "沒有原始抓取的文章。", THIRD_CRAWL, title="無抓取", title_hans="无抓取", section="科技"
    )
    write_captured_crawl(
        root,
        SECOND_CRAWL,
        [(second, second_page.encode("gb18030"), gbk_page_headers)],
        started_at="2025-09-01T00:00:00Z",
    )
    write_sample_crawl(root, THIRD_CRAWL, [plain], started_at="2025-09-02T00:00:00Z")
    return BrowseSample(root, data, data["id"], "1002", "1003", second)
