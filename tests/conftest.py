"""Shared fixtures: a replica portal served from a subprocess for the whole session; a small archive with every
kind of repair and real WARC captures, served by `newsarchive browse`; Debian's Chromium driven by Playwright."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import opencc
import pytest
from hypothesis import HealthCheck, settings

from archive.browse.app import create_app
from archive.browse.index import BrowseIndex
from archive.browse.testing import launch_chromium, start_browse
from archive.testing import (
    damaged_text,
    sample_page,
    sample_quarantine,
    sample_record,
    write_captured_crawl,
    write_sample_crawl,
)
from scraper.replica.testing import Replica, start_replica

BROWSE_DATA = Path(__file__).parent / "data" / "browse" / "damaged_article.json"
FIRST_CRAWL = "20250827T000000Z-aaaaaa"
SECOND_CRAWL = "20250901T000000Z-bbbbbb"
THIRD_CRAWL = "20250902T000000Z-cccccc"


@pytest.fixture(scope="session")
def replica() -> Iterator[Replica]:
    """A running replica portal (40 articles, seed 7): `.url`, `.articles`, `.truth(id)`."""
    with start_replica(articles=40, seed=7) as running:
        yield running


# Hypothesis profiles (tests/test_cleaner_fuzz.py scales its per-test example counts
# from the loaded profile's max_examples). `ci` is the default and is derandomized so
# CI stays reproducible; `long` is the documented long run (docs/fuzzing.md):
#   HYPOTHESIS_PROFILE=long .venv/bin/pytest -q tests/test_cleaner_fuzz.py
_FUZZ_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large]
# A cleaner call that takes this long on one small input is a hang, not noise.
settings.register_profile(
    "ci",
    max_examples=1000,
    deadline=timedelta(seconds=5),
    derandomize=True,
    suppress_health_check=_FUZZ_HEALTH,
    print_blob=True,
)
settings.register_profile(
    "long", max_examples=20000, deadline=timedelta(seconds=5), suppress_health_check=_FUZZ_HEALTH, print_blob=True
)
settings.register_profile("dev", max_examples=50, deadline=timedelta(seconds=5), suppress_health_check=_FUZZ_HEALTH)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@dataclass(frozen=True)
class BrowseSample:
    """A small archive for the browse tests, and what went into it.

    Article `damaged` (two versions, the second with a paragraph more) has every kind of repair and a GBK page whose
    HTTP header wrongly says utf-8; `old` is a schema version 1 record (no repairs) captured as UTF-8; `plain` has no
    raw capture. The first crawl also quarantined one page and skipped one article.
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


def build_browse_sample(root: Path) -> BrowseSample:
    data = json.loads(BROWSE_DATA.read_text(encoding="utf-8"))
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
    quarantine = [
        sample_quarantine("http://www.zhaoenyun.cn/news/yw/202508/t20250826_9.html", FIRST_CRAWL, reason="clean_error"),
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


@pytest.fixture(scope="session")
def browse_sample(tmp_path_factory: pytest.TempPathFactory) -> BrowseSample:
    """The browse sample archive (see BrowseSample); tests must not change it: copy it first."""
    return build_browse_sample(tmp_path_factory.mktemp("browse") / "archive")


@pytest.fixture
def sample_copy(browse_sample: BrowseSample, tmp_path: Path) -> Path:
    """A copy of the sample archive that a test may damage."""
    return Path(shutil.copytree(browse_sample.root, tmp_path / "archive"))


@pytest.fixture
def browse_client() -> Callable[..., Any]:
    """browse_client(root, cache_dir=None) -> a Flask test client of the browse app (index in memory by default)."""

    def make(root: Path, cache_dir: Path | None = None) -> Any:
        convert = opencc.OpenCC("t2s").convert
        index = BrowseIndex(root, convert, cache_dir)
        return create_app(root, index, convert).test_client()

    return make


@pytest.fixture(scope="session")
def browse_url(browse_sample: BrowseSample, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`newsarchive browse` serving the sample archive in a subprocess (index cached outside the archive)."""
    with start_browse(browse_sample.root, cache_dir=tmp_path_factory.mktemp("browse-cache")) as url:
        yield url


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's headless Chromium through Playwright; missing Chromium fails the test (make test installs it)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


SCREENSHOTS = pytest.StashKey[list[Path]]()


@pytest.fixture
def screenshot(tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    """screenshot(page, name) saves a PNG in the test's tmp_path and lists it at the end of the run."""
    taken = request.config.stash.setdefault(SCREENSHOTS, [])

    def take(page: Any, name: str, full_page: bool = True) -> Path:
        path = tmp_path / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        taken.append(path)
        return path

    return take


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    taken = config.stash.get(SCREENSHOTS, [])
    if taken:
        terminalreporter.write_sep("-", "browser screenshots")
        for path in taken:
            terminalreporter.write_line(str(path))
