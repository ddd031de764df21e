"""RawCapture: every response into the WARC, a revisit for a body the archive holds, pointers kept until the item."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, Request

from archive.index import ArchiveIndex
from archive.warc import WarcCapture, WarcPointer, read_response_body
from scraper.items import ArticlePage
from scraper.pipelines.capture import RawCapture
from scraper.summary import Counters, CrawlSummary

ARTICLE = "http://127.0.0.1:8123/news/yw/202508/t20250826_254967.html"
LIST_PAGE = "http://127.0.0.1:8123/news/yw/"


@dataclass
class Captured:
    raw: RawCapture
    warc: WarcCapture
    index: ArchiveIndex
    crawler: Crawler
    root: Path

    def summary(self) -> CrawlSummary:
        assert self.crawler.stats is not None
        return CrawlSummary.from_stats(self.crawler.stats.get_stats())

    def body_at(self, pointer: WarcPointer) -> bytes:
        self.warc.close()
        return read_response_body(self.root / "warc" / pointer.warc_file, pointer.warc_offset)


@pytest.fixture
def captured(tmp_path: Path, project_crawler: Callable[..., Crawler]) -> Iterator[Captured]:
    crawler = project_crawler()
    warc = WarcCapture(tmp_path / "warc", "cap-1")
    index = ArchiveIndex(tmp_path)
    yield Captured(RawCapture(warc, index, Counters(crawler)), warc, index, crawler, tmp_path)
    warc.abort()


def download(url: str, body: bytes) -> HtmlResponse:
    return HtmlResponse(url, status=200, body=body, headers={"Content-Type": "text/html"}, request=Request(url))


def test_an_article_response_is_captured_and_its_pointer_waits_for_the_item(
    captured: Captured, make_page: Callable[..., ArticlePage]
) -> None:
    page = make_page(url=ARTICLE, body=b"<html>article</html>")
    response = download(ARTICLE, page.body)
    captured.raw.capture_response(response, response.request)
    pointer = captured.raw.pointer_for(page)
    assert pointer.warc_file == "cap-1-00001.warc.gz"
    assert captured.body_at(pointer) == b"<html>article</html>"
    assert (captured.summary().warc_responses, captured.summary().warc_revisits) == (1, 0)


def test_a_page_that_came_without_a_download_is_captured_when_its_item_asks(
    captured: Captured, make_page: Callable[..., ArticlePage]
) -> None:
    page = make_page(url=ARTICLE, body=b"<html>built elsewhere</html>")
    pointer = captured.raw.pointer_for(page)
    assert captured.body_at(pointer) == b"<html>built elsewhere</html>"
    assert captured.summary().warc_responses == 1


def test_a_body_the_archive_holds_becomes_a_revisit_pointing_at_the_original(captured: Captured) -> None:
    body = b"<html>same bytes</html>"
    original = WarcPointer("old-00001.warc.gz", "<urn:uuid:original>", 1234)
    captured.index.record(
        "254967",
        "text-hash",
        1,
        ARTICLE,
        content_sha256=hashlib.sha256(body).hexdigest(),
        warc_file=original.warc_file,
        warc_record_id=original.warc_record_id,
        warc_offset=original.warc_offset,
        fetched_at="2025-08-26T00:21:05Z",
    )
    assert captured.raw.capture(ARTICLE, 200, "OK", [], body, []) == original
    changed = captured.raw.capture(ARTICLE, 200, "OK", [], body + b" ", [])
    assert changed != original and changed.warc_file == "cap-1-00001.warc.gz"
    assert (captured.summary().warc_responses, captured.summary().warc_revisits) == (1, 1)


def test_a_list_page_is_captured_but_no_pointer_is_kept(captured: Captured) -> None:
    response = download(LIST_PAGE, b"<html>list</html>")
    captured.raw.capture_response(response, response.request)
    assert captured.raw.last_response(LIST_PAGE) is None
    assert captured.summary().warc_responses == 1


def test_the_last_response_of_a_url_given_up_on_is_handed_out_once(captured: Captured) -> None:
    redirected = ARTICLE.replace("254967", "254968")
    for url in (ARTICLE, redirected):
        response = download(url, b"<html>503</html>")
        captured.raw.capture_response(response, response.request)
    first = captured.raw.last_response(ARTICLE, final_url=redirected)
    assert first is not None and first.warc_file == "cap-1-00001.warc.gz"
    assert captured.raw.last_response(ARTICLE) is None
    assert captured.raw.last_response(redirected) is None  # the final URL's capture was let go too
