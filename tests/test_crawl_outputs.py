"""What a real crawl hands to Scrapy users and replay tools: a feed export (`-o`) of exactly the records written to
articles/, in the same field order, and WARC records that carry the server's address, the HTTP version it answered
in, and revisits that refer to their original by its WARC-Date."""

from __future__ import annotations

import gzip
import ipaddress
import json
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scrapy.http import HtmlResponse, Request
from warcio.archiveiterator import ArchiveIterator

from archive.layout import committed_jsonl, committed_warcs
from scraper.pipelines.store import ArchivePipeline
from scraper.replica.server import ReplicaHandler, ReplicaServer
from scraper.replica.testing import Replica

REPO = Path(__file__).resolve().parents[1]
FIRST, AGAIN = "20250101T000000Z-first0", "20250102T000000Z-again0"  # the crawls of the crawled_archive fixture


def warc_records(root: Path, crawl_id: str) -> list[tuple[str, dict[str, str], Any]]:
    """(type, WARC headers, HTTP headers) of every record of a crawl's WARC files."""
    found = []
    for warc in committed_warcs(root / "warc"):
        if warc.prefix == crawl_id:
            with open(warc.path, "rb") as stream:
                found += [(r.rec_type, dict(r.rec_headers.headers), r.http_headers) for r in ArchiveIterator(stream)]
    return found


def archive_lines(root: Path) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for archive_file in committed_jsonl(root / "articles"):
        with gzip.open(archive_file.path, "rb") as handle:
            lines += [json.loads(line) for line in handle.read().split(b"\n") if line]
    return lines


def test_scrapy_feed_export_holds_exactly_the_records_written_in_the_same_field_order(
    replica: Replica,
    tmp_path: Path,
    crawl_env: Callable[..., dict[str, str]],
    loopback_options: tuple[str, ...],
) -> None:
    out, feed = tmp_path / "archive", tmp_path / "feed.jsonl"
    scrapy = Path(REPO / ".venv" / "bin" / "scrapy")
    command = [str(scrapy) if scrapy.exists() else "scrapy", "crawl", "portal", "-a", f"start_url={replica.url}"]
    command += ["-s", f"ARCHIVE_DIR={out}", "-s", "LOG_LEVEL=INFO", *loopback_options, "-o", str(feed)]
    result = subprocess.run(command, cwd=REPO, env=crawl_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (
        "TypeError" not in result.stderr and "] ERROR:" not in result.stderr
    )  # what the exporter once logged per article
    assert f"Stored jsonl feed ({replica.articles} items)" in result.stderr
    exported = [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines()]
    written = archive_lines(out)
    assert len(written) == replica.articles
    key = lambda record: record["id"]  # noqa: E731
    assert sorted(exported, key=key) == sorted(written, key=key)
    assert all(list(a) == list(b) for a, b in zip(sorted(exported, key=key), sorted(written, key=key), strict=True))


def test_warc_records_of_a_real_crawl_name_the_server_address_and_its_http_version(crawled_archive: Path) -> None:
    records = [r for r in warc_records(crawled_archive, FIRST) if r[0] in ("response", "request")]
    assert records and all(headers.get("WARC-IP-Address") == "127.0.0.1" for _, headers, _ in records)
    versions = {
        http.protocol if kind == "response" else http.statusline.rsplit(" ", 1)[-1] for kind, _, http in records
    }
    assert versions == {ReplicaHandler.protocol_version}


class Http10Handler(ReplicaHandler):
    protocol_version = "HTTP/1.0"


def test_warc_records_carry_the_version_the_server_answered_in_not_a_fixed_one(
    tmp_path: Path, crawl: Callable[..., subprocess.CompletedProcess[str]], fake_clean: tuple[str, ...]
) -> None:
    server = ReplicaServer("127.0.0.1", 0, seed=7, articles=5, changed=0)
    server.RequestHandlerClass = Http10Handler  # the replica, answering in HTTP/1.0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = crawl(server.url, tmp_path / "archive", *fake_clean, "--crawl-id", "http10-1")
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stdout + result.stderr
    records = [r for r in warc_records(tmp_path / "archive", "http10-1") if r[0] in ("response", "request")]
    assert sum(1 for kind, _, _ in records if kind == "response") > 5  # the articles, list pages and robots.txt
    versions = {
        http.protocol if kind == "response" else http.statusline.rsplit(" ", 1)[-1] for kind, _, http in records
    }
    assert versions == {"HTTP/1.0"}


def test_a_revisit_refers_to_the_warc_date_of_the_response_it_repeats(crawled_archive: Path) -> None:
    dates = {headers["WARC-Record-ID"]: headers["WARC-Date"] for _, headers, _ in warc_records(crawled_archive, FIRST)}
    revisits = [headers for kind, headers, _ in warc_records(crawled_archive, AGAIN) if kind == "revisit"]
    assert len(revisits) == 40  # every article of the replica, fetched again unchanged
    for headers in revisits:
        assert headers["WARC-Refers-To-Date"] == dates[headers["WARC-Refers-To"]]


def test_the_http_version_and_address_come_from_the_response(
    tmp_path: Path, archive_pipeline: Callable[..., ArchivePipeline]
) -> None:
    pipeline = archive_pipeline(tmp_path, "proto-1")
    pipeline.open_spider()
    url = "http://[::1]:8123/"
    for protocol, address in (("HTTP/1.0", ipaddress.ip_address("::1")), (None, None)):
        response = HtmlResponse(url, body=b"<html></html>", protocol=protocol, ip_address=address)
        pipeline.response_received(response, Request(url))
    pipeline.close_spider()
    responses = [
        (h.get("WARC-IP-Address"), http.protocol) for k, h, http in warc_records(tmp_path, "proto-1") if k == "response"
    ]
    assert responses == [("::1", "HTTP/1.0"), (None, "HTTP/1.1")]
