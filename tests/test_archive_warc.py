"""WarcCapture writes valid WARC 1.1 (checked by warcio itself) whose CDXJ lines lead back to the stored bodies."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.layout import committed_warcs
from archive.warc import (
    REVISIT_PROFILE,
    WarcCapture,
    cdxj_lookup,
    http_protocol,
    payload_digest,
    read_response_body,
    record_date,
    surt,
)

CRAWL = "20250101T000000Z-aaaaaa"
URL = "http://www.news.example.cn/a/1001.html?b=2&a=1"
BODY = "<html><title>新聞</title></html>".encode("gbk")
RESPONSE_HEADERS = [
    ("Content-Type", "text/html; charset=gbk"),
    ("Content-Encoding", "gzip"),
    ("Transfer-Encoding", "chunked"),
]
REQUEST_HEADERS = [("User-Agent", "newsarchive-test"), ("Accept", "text/html")]


def warcio_command() -> str:
    command = Path(sys.executable).with_name("warcio")
    found = str(command) if command.exists() else shutil.which("warcio")
    if not found:
        pytest.fail("the warcio console script is missing; install warcio into the venv")
    return found


def http_version(kind: str, http: Any) -> str:
    """The HTTP version of a record: its status line's first word, or a request line's last."""
    return str(http.statusline.rsplit(" ", 1)[-1] if kind == "request" else http.protocol)


def records_of(path: Path) -> list[tuple[str, dict[str, str]]]:
    with open(path, "rb") as stream:
        return [(r.rec_type, dict(r.rec_headers.headers)) for r in ArchiveIterator(stream)]


def test_warc_files_pass_warcio_check(tmp_path: Path) -> None:
    with WarcCapture(tmp_path, CRAWL) as capture:
        pointer = capture.write_exchange(
            URL, 200, "OK", RESPONSE_HEADERS, BODY, REQUEST_HEADERS, date="2025-01-01T00:00:00Z"
        )
        capture.write_revisit(
            URL,
            200,
            "OK",
            RESPONSE_HEADERS,
            REQUEST_HEADERS,
            pointer.warc_record_id,
            URL,
            "2025-01-01T00:00:00Z",
            payload_digest(BODY),
        )
    [warc] = committed_warcs(tmp_path)
    result = subprocess.run(
        [warcio_command(), "check", "-v", str(warc.path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("digest pass") == 4  # warcinfo, response, 2 requests


def test_each_file_starts_with_warcinfo_and_holds_response_then_request(tmp_path: Path) -> None:
    with WarcCapture(tmp_path, CRAWL) as capture:
        pointer = capture.write_exchange(URL, 200, "OK", RESPONSE_HEADERS, BODY, REQUEST_HEADERS)
    records = records_of(tmp_path / pointer.warc_file)
    assert [kind for kind, _ in records] == ["warcinfo", "response", "request"]
    assert records[0][1]["WARC-Filename"] == pointer.warc_file
    assert records[2][1]["WARC-Concurrent-To"] == pointer.warc_record_id
    assert all(headers.get("WARC-Date") for _, headers in records)


def test_cdxj_lookup_returns_the_response_whose_offset_reads_back_the_body(tmp_path: Path) -> None:
    with WarcCapture(tmp_path, CRAWL) as capture:
        capture.write_exchange("http://news.example.cn/other.html", 404, "Not Found", [], b"gone", REQUEST_HEADERS)
        pointer = capture.write_exchange(
            URL, 200, "OK", RESPONSE_HEADERS, BODY, REQUEST_HEADERS, date="2025-01-01T00:00:00Z"
        )
    # Lookup ignores scheme, www., and query order.
    [entry] = cdxj_lookup(tmp_path, "https://news.example.cn/a/1001.html?a=1&b=2")
    assert (entry["filename"], entry["offset"], entry["record_id"]) == (
        pointer.warc_file,
        pointer.warc_offset,
        pointer.warc_record_id,
    )
    assert (entry["status"], entry["mime"], entry["timestamp"]) == ("200", "text/html", "20250101000000")
    assert read_response_body(tmp_path / entry["filename"], entry["offset"]) == BODY
    with open(tmp_path / entry["filename"], "rb") as stream:
        stream.seek(entry["offset"])
        record = next(iter(ArchiveIterator(stream)))
        assert record.rec_headers.get_header("WARC-Target-URI") == URL
        assert record.content_stream().read() == BODY


def test_cdxj_lines_are_sorted_and_cover_responses_and_revisits(tmp_path: Path) -> None:
    with WarcCapture(tmp_path, CRAWL) as capture:
        for n in (3, 1, 2):
            pointer = capture.write_exchange(f"http://news.example.cn/a/{n}.html", 200, "OK", [], b"x%d" % n, [])
        capture.write_revisit(
            "http://news.example.cn/a/2.html",
            200,
            "OK",
            [],
            [],
            pointer.warc_record_id,
            "http://news.example.cn/a/2.html",
            "2025-01-01T00:00:00Z",
            payload_digest(b"x2"),
        )
    [cdxj] = [f for f in capture.closed_files if f.kind == "cdxj"]
    lines = (tmp_path / cdxj.name).read_text(encoding="utf-8").splitlines()
    assert lines == sorted(lines) and len(lines) == cdxj.records == 4
    assert [e["mime"] for e in cdxj_lookup(tmp_path, "http://news.example.cn/a/2.html")] == ["", "warc/revisit"]


def test_revisit_record_uses_the_warc_1_1_identical_payload_profile(tmp_path: Path) -> None:
    with WarcCapture(tmp_path, CRAWL) as capture:
        first = capture.write_exchange(
            URL, 200, "OK", RESPONSE_HEADERS, BODY, REQUEST_HEADERS, date="2025-01-01T00:00:00Z"
        )
        again = capture.write_revisit(
            URL,
            200,
            "OK",
            RESPONSE_HEADERS,
            REQUEST_HEADERS,
            first.warc_record_id,
            URL,
            "2025-01-01T00:00:00Z",
            payload_digest(BODY),
        )
    records = dict(
        (headers["WARC-Record-ID"], (kind, headers)) for kind, headers in records_of(tmp_path / again.warc_file)
    )
    kind, headers = records[again.warc_record_id]
    assert kind == "revisit"
    assert headers["WARC-Profile"] == REVISIT_PROFILE
    assert headers["WARC-Refers-To"] == first.warc_record_id
    assert headers["WARC-Refers-To-Date"] == "2025-01-01T00:00:00Z"
    assert headers["WARC-Payload-Digest"] == records[first.warc_record_id][1]["WARC-Payload-Digest"]


def test_a_revisit_refers_to_the_warc_date_of_the_original_record(tmp_path: Path) -> None:
    with WarcCapture(tmp_path, CRAWL) as capture:
        # The original's WARC-Date is when it was written (now), not the record's fetched_at.
        first = capture.write_exchange(URL, 200, "OK", RESPONSE_HEADERS, BODY, REQUEST_HEADERS)
        original_date = record_date(tmp_path / f".{first.warc_file}.part", first.warc_offset)
        again = capture.write_revisit(
            URL,
            200,
            "OK",
            RESPONSE_HEADERS,
            REQUEST_HEADERS,
            first.warc_record_id,
            URL,
            original_date,
            payload_digest(BODY),
        )
    records = {headers["WARC-Record-ID"]: headers for _, headers in records_of(tmp_path / again.warc_file)}
    assert original_date == records[first.warc_record_id]["WARC-Date"]
    assert original_date.endswith("Z") and "." in original_date  # microseconds, as written
    assert records[again.warc_record_id]["WARC-Refers-To-Date"] == original_date


def test_response_revisit_and_request_records_carry_the_http_version_and_ip_address(tmp_path: Path) -> None:
    with WarcCapture(tmp_path, CRAWL) as capture:
        first = capture.write_exchange(
            URL, 200, "OK", RESPONSE_HEADERS, BODY, REQUEST_HEADERS, protocol="HTTP/1.0", ip_address="127.0.0.1"
        )
        capture.write_revisit(
            URL,
            200,
            "OK",
            RESPONSE_HEADERS,
            REQUEST_HEADERS,
            first.warc_record_id,
            URL,
            "2025-01-01T00:00:00Z",
            payload_digest(BODY),
            protocol="HTTP/1.0",
            ip_address="::1",
        )
        capture.write_exchange("http://news.example.cn/unknown.html", 200, "OK", [], b"x", [])
    with open(tmp_path / first.warc_file, "rb") as stream:
        records = [
            (r.rec_type, r.rec_headers.get_header("WARC-IP-Address"), http_version(r.rec_type, r.http_headers))
            for r in ArchiveIterator(stream)
            if r.rec_type != "warcinfo"
        ]
    assert records == [
        ("response", "127.0.0.1", "HTTP/1.0"),
        ("request", "127.0.0.1", "HTTP/1.0"),
        ("revisit", "::1", "HTTP/1.0"),
        ("request", "::1", "HTTP/1.0"),
        ("response", None, "HTTP/1.1"),  # neither known: no address, and HTTP/1.1
        ("request", None, "HTTP/1.1"),
    ]


def test_http_protocol_names_the_version_as_a_status_line_does() -> None:
    assert [http_protocol(p) for p in ("HTTP/1.0", "http/1.1", "h2", "HTTP/2.0", None, "")] == [
        "HTTP/1.0",
        "HTTP/1.1",
        "HTTP/2",
        "HTTP/2",
        "HTTP/1.1",
        "HTTP/1.1",
    ]
    with pytest.raises(ValueError, match="not an HTTP version"):
        http_protocol("SPDY/3")


def test_decoded_body_keeps_original_encoding_headers_under_another_name(tmp_path: Path) -> None:
    with WarcCapture(tmp_path, CRAWL) as capture:
        pointer = capture.write_exchange(URL, 200, "OK", RESPONSE_HEADERS, BODY, REQUEST_HEADERS)
    with open(tmp_path / pointer.warc_file, "rb") as stream:
        stream.seek(pointer.warc_offset)
        http = next(iter(ArchiveIterator(stream))).http_headers
        assert http.get_header("Content-Encoding") is None
        assert http.get_header("X-Archive-Orig-Content-Encoding") == "gzip"
        assert http.get_header("Content-Length") == str(len(BODY))


def test_no_warc_under_its_final_name_until_closed_and_rotation_by_size(tmp_path: Path) -> None:
    capture = WarcCapture(tmp_path, CRAWL, max_bytes=1)
    capture.write_exchange(URL, 200, "OK", [], BODY, [])
    assert committed_warcs(tmp_path) == [] and len(list(tmp_path.glob(".*.warc.gz.part"))) == 1
    capture.write_exchange(URL, 200, "OK", [], BODY, [])
    closed = capture.close()
    names = sorted(f.name for f in closed)
    assert names == [
        f"{CRAWL}-00001.warc.gz",
        f"{CRAWL}-00001.warc.gz.cdxj",
        f"{CRAWL}-00002.warc.gz",
        f"{CRAWL}-00002.warc.gz.cdxj",
    ]
    assert next(kind for kind, _ in records_of(tmp_path / f"{CRAWL}-00002.warc.gz")) == "warcinfo"
    assert list(tmp_path.glob(".*.part")) == []


def test_abort_commits_no_warc_or_index_and_the_next_capture_sets_the_part_aside(tmp_path: Path) -> None:
    capture = WarcCapture(tmp_path, CRAWL)
    capture.write_exchange("http://news.example.cn/a/1.html", 200, "OK", [], b"<html>1</html>", [])
    capture.abort()
    assert committed_warcs(tmp_path) == [] and list(tmp_path.glob("*.cdxj")) == []
    assert [p.name for p in tmp_path.glob(".*.part")] == [f".{CRAWL}-00001.warc.gz.part"]
    with pytest.raises(RuntimeError, match="closed"):
        capture.write_exchange("http://news.example.cn/a/2.html", 200, "OK", [], b"<html>2</html>", [])
    with WarcCapture(tmp_path, CRAWL) as after:  # the lock is free again
        after.write_exchange("http://news.example.cn/a/2.html", 200, "OK", [], b"<html>2</html>", [])
    assert [w.name for w in committed_warcs(tmp_path)] == [f"{CRAWL}-00001.warc.gz"]
    assert [p.name for p in tmp_path.glob(".*.abandoned-*")] == [f".{CRAWL}-00001.warc.gz.abandoned-1"]


def test_surt_is_host_reversed_lowercase_with_sorted_query_and_no_trailing_slash() -> None:
    assert surt("http://www.Example.COM:80/Path?b=2&a=1#frag") == "com,example)/path?a=1&b=2"
    assert surt("http://example.com:8080") == "com,example:8080)/"
    # As pywb's own index keys them: a column page's trailing slash is dropped, the root's kept.
    assert surt("http://127.0.0.1:8000/news/yw/") == "1,0,0,127:8000)/news/yw"
    assert surt("http://127.0.0.1:8000/") == "1,0,0,127:8000)/"


def test_cdxj_lost_by_a_crash_after_the_warc_commit_is_rebuilt_by_the_next_capture(tmp_path: Path) -> None:
    with WarcCapture(tmp_path, CRAWL) as capture:
        capture.write_exchange(URL, 200, "OK", RESPONSE_HEADERS, BODY, REQUEST_HEADERS)
    [warc] = committed_warcs(tmp_path)
    index = warc.path.with_name(warc.name + ".cdxj")
    expected = index.read_bytes()
    index.unlink()
    WarcCapture(tmp_path, "20250102T000000Z-bbbbbb").close()
    assert index.read_bytes() == expected
