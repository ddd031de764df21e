"""The end of a crawl: files committed in the order given (the WARC first), the index saved, the settings kept."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import scrapy
from scrapy.crawler import Crawler

from archive.index import ArchiveIndex
from archive.quarantine import QuarantineWriter
from archive.warc import WarcCapture
from archive.writer import JsonlWriter
from scraper.cleaner.article import Article
from scraper.items import ArticlePage
from scraper.pipelines.manifest import MANIFEST_SETTINGS, commit_files, manifest_settings
from scraper.pipelines.records import build_quarantine, build_record
from scraper.spiders.portal import PortalSpider


def test_files_are_committed_in_the_order_given_then_the_index_is_saved(
    tmp_path: Path, make_page: Callable[..., ArticlePage], make_article: Callable[..., Article]
) -> None:
    page = make_page()
    warc = WarcCapture(tmp_path / "warc", "end-1")
    warc.write_exchange(page.url, 200, "OK", [], page.body, [])
    articles = JsonlWriter(tmp_path / "articles", "end-1")
    articles.write(build_record(make_article().to_dict(), page, "end-1"))
    quarantine = QuarantineWriter(tmp_path / "quarantine", "end-1")
    quarantine.write(build_quarantine(page, "clean_error", "no article body", "end-1"))
    index = ArchiveIndex(tmp_path)
    files = commit_files((warc, articles, None, quarantine), index)
    assert [(file.kind, file.name, file.records) for file in files] == [
        ("warc", "end-1-00001.warc.gz", 3),  # warcinfo, response, request
        ("cdxj", "end-1-00001.warc.gz.cdxj", 1),
        ("articles", "end-1-00001.jsonl.gz", 1),
        ("quarantine", "end-1-00001.jsonl.gz", 1),
    ]
    saved = json.loads((tmp_path / "index.json").read_text(encoding="utf-8"))
    assert saved["files"] == {"end-1-00001.jsonl.gz": (tmp_path / "articles" / "end-1-00001.jsonl.gz").stat().st_size}
    assert not list(tmp_path.rglob(".*.part"))


def test_a_manifest_keeps_the_settings_that_shaped_the_crawl_and_the_start_url(
    project_crawler: Callable[..., Crawler],
) -> None:
    crawler = project_crawler(DOWNLOAD_DELAY=2, ARCHIVE_DIR="/srv/archive")
    spider = PortalSpider.from_crawler(crawler, start_url="http://127.0.0.1:8000/")
    kept = manifest_settings(crawler.settings, spider)
    assert list(kept) == [*MANIFEST_SETTINGS, "scrapy_version", "start_url"]
    assert (kept["DOWNLOAD_DELAY"], kept["ARCHIVE_DIR"], kept["PORTAL_MAX_LIST_PAGES"]) == (2, "/srv/archive", 1000)
    assert (kept["scrapy_version"], kept["start_url"]) == (scrapy.__version__, "http://127.0.0.1:8000/")


def test_without_a_crawler_a_manifest_keeps_only_the_scrapy_version() -> None:
    assert manifest_settings(None, None) == {"scrapy_version": scrapy.__version__}
