"""A crawl of the replica with every fault on at once, checked against the replica's own /_faults and /_log.
Every article ends archived once, or quarantined or skipped with the right reason; nothing off-host is ever asked for."""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadCancelledError, DownloadTimeoutError, IgnoreRequest, ResponseDataLossError
from scrapy.http import HtmlResponse, Request, Response
from scrapy.settings import Settings
from scrapy.spidermiddlewares.httperror import HttpError
from warcio.archiveiterator import ArchiveIterator

from archive.stats import archive_stats
from scraper.items import SkippedUrl
from scraper.middlewares import ScopeMiddleware, SkipRequest
from scraper.replica.testing import Replica, start_replica
from scraper.spiders.accounting import classify_failure
from scraper.spiders.portal import PortalSpider
from scraper.urls import strict_article_id

ARTICLES = 40
FAULT_RETRIES = 2  # the replica fails a transient URL this often, then serves it
HOLD = 2.0  # the replica's hold for `timeout`: above the client timeout below
CLIENT = (
    "-s",
    "DOWNLOAD_TIMEOUT=1.2",
    "-s",
    f"RETRY_TIMES={FAULT_RETRIES + 1}",  # one spare: every transient fault must heal within the retries
    "-s",
    "DOWNLOAD_MAXSIZE=200000",
    "-s",
    "DOWNLOAD_WARNSIZE=0",
)
OVERSIZE = 300_000  # > DOWNLOAD_MAXSIZE above
# The outcome each permanent fault must end in: a skip reason, or quarantine by the cleaner.
SKIPPED_AS = {
    "robots": "robots",
    "redirect_loop": "redirect_loop",
    "offhost_redirect": "off_scope",
    "oversize": "too_large",
}
QUARANTINED_AS = {"junk": "clean_error", "empty": "clean_error"}


@dataclass
class FaultedCrawl:
    """One all-faults crawl and what the replica and the traps saw of it."""

    result: subprocess.CompletedProcess[str]
    seconds: float
    out: Path
    faults: dict[str, dict[str, Any]]
    log: list[dict[str, Any]]
    index: list[dict[str, str]]
    proxy_requests: list[str]
    offhost_requests: list[str]
    records: list[dict[str, Any]]  # the committed article records
    entries: list[dict[str, Any]]  # the committed quarantine entries

    @property
    def manifest(self) -> dict[str, Any]:
        (path,) = (self.out / "manifests").glob("*.json")
        return json.loads(path.read_text(encoding="utf-8"))

    def with_fault(self, *names: str) -> dict[str, dict[str, Any]]:
        return {url: f for url, f in self.faults.items() if f["fault"] in names}


@pytest.fixture(scope="module")
def faulted(
    tmp_path_factory: pytest.TempPathFactory,
    crawl: Callable[..., subprocess.CompletedProcess[str]],
    loopback_sink: Callable[..., AbstractContextManager[Any]],
    read_jsonl: Callable[[Path], list[dict[str, Any]]],
) -> Iterator[FaultedCrawl]:
    """Crawl a 40-article replica with all faults (two URLs per fault) once for the module.

    An HTTP proxy on 127.0.0.2 catches any request not for the replica (no_proxy=127.0.0.1), so nothing
    can leave loopback; a second server on 127.0.0.2 at the replica's port is where the off-host redirect points.
    """
    out = tmp_path_factory.mktemp("faults") / "archive"
    with (
        start_replica(
            ARTICLES,
            seed=7,
            faults="all",
            fault_seed=1,
            fault_retries=FAULT_RETRIES,
            fault_hold=HOLD,
            fault_drip=0.4,
            fault_oversize=OVERSIZE,
            fault_share=0.8,
        ) as replica,
        loopback_sink() as proxy,
        loopback_sink(port=urlsplit(replica.url).port or 80) as offhost,
    ):
        proxy_url = f"http://127.0.0.2:{proxy.server_address[1]}"
        env = {name: proxy_url for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")}
        env.update(no_proxy="127.0.0.1", NO_PROXY="127.0.0.1")
        started = time.monotonic()
        result = crawl(replica.url, out, *CLIENT, "--crawl-id", "faults-1", env=env)
        seconds = time.monotonic() - started
        log = replica.log()  # before the test's own /_faults and /_truth/ requests
        yield FaultedCrawl(
            result,
            seconds,
            out,
            replica.faults(),
            log,
            replica.index(),
            list(proxy.requests),
            list(offhost.requests),
            read_jsonl(out / "articles"),
            read_jsonl(out / "quarantine"),
        )


def test_the_crawl_finishes_and_its_table_states_the_manifests_counts(
    faulted: FaultedCrawl, table_row: Callable[[str, str], tuple[int, dict[str, int]]]
) -> None:
    assert faulted.result.returncode == 0, faulted.result.stdout + faulted.result.stderr
    assert faulted.seconds < 120, f"the all-faults crawl took {faulted.seconds:.0f} s"
    stdout, summary = faulted.result.stdout, faulted.manifest["summary"]
    assert stdout.splitlines()[0] == f"crawl faults-1 -> {faulted.out}"
    assert table_row(stdout, "articles found")[0] == summary["articles_found"]
    assert table_row(stdout, "archived")[0] == summary["archived"]
    assert table_row(stdout, "quarantined") == (summary["quarantined"], summary["quarantined_by_reason"])
    assert table_row(stdout, "skipped") == (summary["skipped"], summary["skipped_by_reason"])
    assert summary["skipped"] > 0 and len(summary["skipped_by_reason"]) > 1  # the faults did skip articles


def test_every_fault_is_on_for_at_least_one_url(faulted: FaultedCrawl) -> None:
    served = Counter(f["fault"] for f in faulted.faults.values())
    for fault in (
        "5xx",
        "429",
        "reset",
        "timeout",
        "truncated",
        "drip",
        "redirect_chain",
        "tracking_duplicate",
        "redirect_loop",
        "offhost_redirect",
        "junk",
        "empty",
        "oversize",
        "robots",
        "sitemap_malformed",
        "sitemap_bomb",
    ):
        assert served[fault] >= 1, fault


def test_every_obtainable_article_is_archived_exactly_once(faulted: FaultedCrawl) -> None:
    archived = Counter(record["id"] for record in faulted.records)
    for entry in faulted.index:
        fault = faulted.faults.get(entry["url"])
        if fault is None or fault["obtainable"]:
            assert archived[entry["id"]] == 1, (entry["url"], fault)
    assert all(count == 1 for count in archived.values())


def test_every_unobtainable_article_has_one_entry_with_the_reason_its_fault_calls_for(faulted: FaultedCrawl) -> None:
    by_id: dict[str, list[dict[str, Any]]] = {}
    for entry in faulted.entries:
        by_id.setdefault(entry["id"], []).append(entry)
    archived = {record["id"] for record in faulted.records}
    unobtainable = 0
    for entry in faulted.index:
        fault = faulted.faults.get(entry["url"])
        if fault is None or fault["obtainable"]:
            assert entry["id"] not in by_id, (entry["url"], by_id.get(entry["id"]))
            continue
        unobtainable += 1
        assert entry["id"] not in archived
        (found,) = by_id[entry["id"]]  # exactly one: nothing counted twice
        assert found["url"] == entry["url"]
        if fault["fault"] in SKIPPED_AS:
            assert (found["outcome"], found["reason"]) == ("skipped", "skipped:" + SKIPPED_AS[fault["fault"]]), found
        else:
            assert (found["outcome"], found["reason"]) == ("quarantined", QUARANTINED_AS[fault["fault"]]), found
    assert len(faulted.entries) == unobtainable


def test_the_manifest_summary_adds_up_by_outcome_and_reason(faulted: FaultedCrawl) -> None:
    summary = faulted.manifest["summary"]
    duplicates = len(faulted.with_fault("tracking_duplicate"))  # each a second URL of an article, skipped
    assert summary["articles_found"] == ARTICLES + duplicates
    assert sum(summary["outcomes"].values()) == summary["articles_found"]
    assert summary["unaccounted"] == 0
    expected_skips = Counter(SKIPPED_AS[f["fault"]] for f in faulted.with_fault(*SKIPPED_AS).values())
    expected_skips["duplicate"] = duplicates
    assert summary["skipped_by_reason"] == dict(expected_skips)
    assert summary["quarantined_by_reason"] == {"clean_error": len(faulted.with_fault(*QUARANTINED_AS))}
    # The five counts are the outcomes; quarantine/ holds the quarantined pages and every skip but the duplicates.
    assert summary["quarantined"] == summary["outcomes"]["quarantined"] == len(faulted.with_fault(*QUARANTINED_AS))
    assert summary["skipped"] == summary["outcomes"]["skipped"] == sum(expected_skips.values())
    assert summary["skip_entries"] == summary["skipped"] - duplicates
    assert summary["skip_entries"] == sum(1 for entry in faulted.entries if entry["outcome"] == "skipped")
    assert len(faulted.entries) == summary["quarantined"] + summary["skip_entries"]
    assert summary["archived"] == len(faulted.records)
    five = ("archived", "unchanged", "new_version", "quarantined", "skipped")
    assert summary["items"] == sum(summary[key] for key in five) == summary["articles_found"]
    pages = summary["pages"]
    assert pages["found"] == pages["fetched"] + pages["skipped"]
    assert pages["skipped_by_reason"].get("robots", 0) >= 1  # the disallowed column's own list page


def test_requests_match_what_each_fault_calls_for(faulted: FaultedCrawl, request_kind: Callable[[str], str]) -> None:
    """From the replica's log: transient faults retried until they heal, robots obeyed, duplicates not fetched."""
    requests = Counter(
        entry["path"].split("?", 1)[0] for entry in faulted.log if request_kind(entry["path"]) == "article"
    )
    # The attempt number is taken when a request arrives; a held request is logged only when its hold ends,
    # which may be after the crawl, so transient faults are checked by the attempt that was served.
    served_ok: dict[str, list[int]] = {}
    for entry in faulted.log:
        if entry["status"] == 200 and entry["fault"] is None:  # a truncated body is a 200 too, with its fault
            served_ok.setdefault(entry["path"].split("?", 1)[0], []).append(entry["attempt"])
    for url, fault in faulted.faults.items():
        path = urlsplit(url).path
        if fault["fault"] == "robots":
            assert requests[path] == 0, url
        elif fault["transient"]:
            assert served_ok.get(path) == [FAULT_RETRIES + 1], (url, fault, served_ok.get(path))
    for entry in faulted.index:
        if entry["url"] not in faulted.faults:
            assert requests[urlsplit(entry["url"]).path] == 1, entry["url"]  # fetched once, never again
    assert not [entry for entry in faulted.log if "utm_" in entry["path"]]  # the tracking variant is not fetched
    bad_sitemaps = {urlsplit(url).path for url in faulted.with_fault("sitemap_malformed", "sitemap_bomb")}
    assert bad_sitemaps <= {entry["path"] for entry in faulted.log}


def test_the_archive_verifies(
    faulted: FaultedCrawl, verify_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    checked = verify_cli(faulted.out, "--strict")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_stats_count_quarantined_pages_and_skip_entries_as_the_manifest_does(faulted: FaultedCrawl) -> None:
    stats = archive_stats(faulted.out)
    summary = faulted.manifest["summary"]
    assert (stats["quarantined"], stats["skipped"]) == (summary["quarantined"], summary["skip_entries"])


def test_off_host_urls_are_never_requested(faulted: FaultedCrawl) -> None:
    """Link farms, the off-host redirect target: the traps on 127.0.0.2 see nothing, the WARC holds only the portal."""
    assert faulted.proxy_requests == []
    assert faulted.offhost_requests == []
    hosts = set()
    for path in (faulted.out / "warc").glob("*.warc.gz"):
        with open(path, "rb") as stream:
            hosts |= {
                urlsplit(r.rec_headers.get_header("WARC-Target-URI")).netloc
                for r in ArchiveIterator(stream)
                if r.rec_type in ("request", "response")
            }
    assert hosts == {urlsplit(faulted.index[0]["url"]).netloc}
    assert not [entry for entry in faulted.log if "/vod/" in entry["path"]]


def test_link_farm_links_on_a_page_are_counted_not_followed(
    replica: Replica, project_crawler: Callable[..., Crawler]
) -> None:
    """An article page read as if it were a list page: its hidden farm links become counts, not requests."""
    entry = replica.index()[0]
    body = replica.get(urlsplit(entry["url"]).path)
    assert b'style="display:none"' in body and b".example/vod/" in body  # the farm is there
    crawler = project_crawler(ROBOTSTXT_OBEY=False)
    spider = PortalSpider.from_crawler(crawler, start_url=replica.url)
    crawler.stats.open_spider()
    out = list(spider.parse_list(HtmlResponse(entry["url"], body=body)))
    requests = [r for r in out if isinstance(r, Request)]
    assert all(spider.on_host(r.url) for r in requests)
    assert crawler.stats.get_value("newsarchive/links/off_scope") == 8  # the distinct farm links of that page


# --- hardening -------------------------------------------------------------------------------------


def test_slow_drip_beyond_the_timeout_and_an_oversize_page_are_skipped_with_their_reasons(
    tmp_path: Path,
    crawl: Callable[..., subprocess.CompletedProcess[str]],
    verify_cli: Callable[..., subprocess.CompletedProcess[str]],
    read_jsonl: Callable[[Path], list[dict[str, Any]]],
) -> None:
    out = tmp_path / "archive"
    with start_replica(
        12, seed=3, faults="drip,oversize", fault_drip=4.0, fault_oversize=OVERSIZE, fault_share=0.2
    ) as replica:
        result = crawl(
            replica.url,
            out,
            "-s",
            "DOWNLOAD_TIMEOUT=1",
            "-s",
            "RETRY_TIMES=1",
            "-s",
            "DOWNLOAD_MAXSIZE=200000",
            "-s",
            "DOWNLOAD_WARNSIZE=0",
            "-s",
            "CLEAN_FUNCTION=crawling.fake_clean",
        )
        faults = replica.faults()
    assert result.returncode == 0, result.stdout + result.stderr
    reasons = {entry["url"]: entry["reason"] for entry in read_jsonl(out / "quarantine")}
    expected = {
        url: {"drip": "skipped:timeout", "oversize": "skipped:too_large"}[f["fault"]] for url, f in faults.items()
    }
    assert reasons == expected
    assert verify_cli(out).returncode == 0


def test_a_crawl_id_that_is_a_path_is_refused_before_anything_is_written(
    tmp_path: Path, crawl: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    out = tmp_path / "archive"
    result = crawl("http://127.0.0.1:9/", out, "--crawl-id", "../escaped")
    assert result.returncode == 2
    assert "--crawl-id" in result.stderr and "'../escaped'" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_every_download_is_bounded_in_time_and_size() -> None:
    settings = Settings()
    settings.setmodule("scraper.settings")
    assert 0 < settings.getfloat("DOWNLOAD_TIMEOUT") <= 60
    assert 0 < settings.getint("DOWNLOAD_MAXSIZE") <= 64 * 1024 * 1024
    assert "scraper.middlewares.ScopeMiddleware" in settings.getdict("DOWNLOADER_MIDDLEWARES")


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (DownloadTimeoutError("Getting http://h/ took longer than 1 seconds."), "timeout"),
        (
            DownloadCancelledError("Expected to receive 300000 bytes which is larger than download max size (200000)"),
            "too_large",
        ),
        (ResponseDataLossError(), "truncated"),
        (IgnoreRequest("Forbidden by robots.txt"), "robots"),
        (IgnoreRequest("max redirections reached"), "redirect_loop"),
        (
            IgnoreRequest(
                "Ignored response <200 http://h/a.html> because its body (10485760 B compressed, 16842752 B "
                "decompressed so far) exceeded DOWNLOAD_MAXSIZE (16777216 B) during decompression."
            ),
            "too_large",
        ),
        (IgnoreRequest("Filtered offsite request to 'elsewhere.example'"), "off_scope"),
        (SkipRequest("off_scope", "redirected off host"), "off_scope"),
        (HttpError(Response("http://h/a", status=503), "503"), "http_503"),
    ],
)
def test_download_failures_map_to_skip_reasons(exc: BaseException, reason: str) -> None:
    skip = classify_failure(exc, attempts=3)
    assert skip is not None and skip.reason == reason


def test_an_unexpected_error_is_not_passed_off_as_a_skip() -> None:
    assert classify_failure(ZeroDivisionError()) is None


def test_scope_middleware_fails_a_redirect_off_the_host_and_a_redirect_back(
    project_crawler: Callable[..., Crawler],
) -> None:
    crawler = project_crawler()
    crawler.spider = PortalSpider.from_crawler(crawler, start_url="http://127.0.0.1:8000/")
    middleware = ScopeMiddleware.from_crawler(crawler)
    request = Request(
        "http://127.0.0.1:8000/a/b/202501/t20250101_1.html?loop=1",
        meta={"redirect_urls": ["http://127.0.0.1:8000/a/b/202501/t20250101_1.html"]},
    )
    off = Response(request.url, status=302, headers={"Location": "http://127.0.0.2:8000/x.html"})
    with pytest.raises(SkipRequest, match="off_scope"):
        middleware.process_response(request, off)
    other_port = Response(request.url, status=302, headers={"Location": "http://127.0.0.1:8001/x.html"})
    with pytest.raises(SkipRequest, match="off_scope"):
        middleware.process_response(request, other_port)
    back = Response(request.url, status=302, headers={"Location": "/a/b/202501/t20250101_1.html"})
    with pytest.raises(SkipRequest, match="redirect_loop"):
        middleware.process_response(request, back)
    onward = Response(request.url, status=302, headers={"Location": "/a/b/202501/t20250101_1.html?loop=2"})
    assert middleware.process_response(request, onward) is onward


def test_a_tracking_variant_is_found_and_skipped_as_a_duplicate_of_the_plain_url(
    project_crawler: Callable[..., Crawler],
) -> None:
    crawler = project_crawler()
    spider = PortalSpider.from_crawler(crawler, start_url="http://127.0.0.1:8000/")
    crawler.stats.open_spider()
    plain = "http://127.0.0.1:8000/a/b/202501/t20250101_1.html"
    out = list(spider.follow_links([plain + "?utm_source=x", plain, plain + "?utm_source=x"]))
    skips = [item for item in out if isinstance(item, SkippedUrl)]
    requests = [item for item in out if isinstance(item, Request)]
    assert [(s.url, s.reason) for s in skips] == [(plain + "?utm_source=x", "duplicate")]
    assert [r.url for r in requests] == [plain]
    assert crawler.stats.get_value("newsarchive/articles_found") == 2
    assert strict_article_id(plain) == "1"
