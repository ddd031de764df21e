"""Raw captures as WARC 1.1 (request, response and revisit records) written with warcio, plus a CDXJ index per file.
WARC files follow the same commit rule as JSONL: hidden .part while open, final name only once complete."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from surt import surt as surt_key
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date, iso_date_to_timestamp
from warcio.warcwriter import WARCWriter

from .layout import CDXJ, WARC, check_name, committed_warcs, parse_warc_name
from .writer import ClosedFile, DirectoryWriter, HashingSink, commit_file, next_seq, write_bytes_atomic

logger = logging.getLogger(__name__)

GiB = 1024 * 1024 * 1024
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
# Scrapy hands over decoded bodies; these headers would describe bytes the WARC does not contain.
_TRANSFER_HEADERS = ("content-encoding", "transfer-encoding", "content-length")
# The HTTP version written when the client did not say which one the server spoke.
DEFAULT_PROTOCOL = "HTTP/1.1"
_PROTOCOL = re.compile(r"^HTTP/[0-9](\.[0-9])?$")
# What HTTP clients call the versions (Scrapy's h2 handler says "h2"), as the status line writes them.
_PROTOCOL_NAMES = {"h2": "HTTP/2", "h2c": "HTTP/2", "h3": "HTTP/3", "http/2.0": "HTTP/2", "http/3.0": "HTTP/3"}

Headers = list[tuple[str, str]]
# What warcio raises on a record it cannot read: a damaged or truncated file, an offset that is not a record's start
# (a truncated header makes it fail inside its parser, hence AttributeError), or a file that is gone.
CAPTURE_READ_ERRORS = (ArchiveLoadFailed, EOFError, OSError, zlib.error, ValueError, AttributeError, StopIteration)


@dataclass(frozen=True)
class WarcPointer:
    """Where a response (or revisit) record lives: file name, WARC-Record-ID and byte offset of its gzip member."""

    warc_file: str
    warc_record_id: str
    warc_offset: int


def payload_digest(body: bytes) -> str:
    """The WARC-Payload-Digest warcio writes for `body` (sha1, base32), for use in revisit records."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def warc_date(value: str | None) -> str:
    """WARC-Date (UTC, 'Z', microseconds if any) from an ISO 8601 string; now if None.

    >>> warc_date("2025-08-26T08:21:05+08:00"), warc_date("2025-08-26T08:21:05.25+08:00")
    ('2025-08-26T00:21:05Z', '2025-08-26T00:21:05.250000Z')
    """
    moment = datetime.fromisoformat(value) if value else datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    stamp: str = datetime_to_iso_date(moment.astimezone(UTC).replace(tzinfo=None), use_micros=True)
    return stamp


def surt(url: str) -> str:
    """The CDXJ key of a URL, made by the `surt` package as pywb and cdxj-indexer make theirs, so that pywb finds every
    capture through our indexes: host reversed, lower case, `www.` and default ports dropped, query sorted, and a path's
    trailing slash dropped ('http://www.Example.com/news/?b=2&a=1' -> 'com,example)/news?a=1&b=2')."""
    key: str = surt_key(url)
    return key


def http_protocol(protocol: str | None) -> str:
    """The HTTP version for a WARC status or request line, from what the client reported; HTTP/1.1 if unknown.

    >>> http_protocol("HTTP/1.0"), http_protocol("h2"), http_protocol(None)
    ('HTTP/1.0', 'HTTP/2', 'HTTP/1.1')
    """
    if not protocol:
        return DEFAULT_PROTOCOL
    name = _PROTOCOL_NAMES.get(protocol.strip().lower(), protocol.strip().upper())
    if not _PROTOCOL.match(name):
        raise ValueError(f"{protocol!r} is not an HTTP version; pass e.g. 'HTTP/1.1', 'HTTP/1.0' or 'h2' (or None)")
    return name


def _capture_headers(when: str, ip_address: str | None, **more: str) -> dict[str, str]:
    headers = {"WARC-Date": when, **more}
    if ip_address:
        headers["WARC-IP-Address"] = ip_address
    return headers


def _response_headers(headers: Headers, body: bytes, decoded: bool) -> Headers:
    if not decoded:
        return list(headers)
    kept = [(k, v) for k, v in headers if k.lower() not in _TRANSFER_HEADERS]
    kept += [(f"X-Archive-Orig-{k}", v) for k, v in headers if k.lower() in _TRANSFER_HEADERS]
    return [*kept, ("Content-Length", str(len(body)))]


def _request_line(method: str, url: str) -> str:
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return f"{method} {target}"


class WarcCapture(DirectoryWriter):
    """Writes <crawl_id>-<seq:05d>.warc.gz files of at most about `max_bytes`, each starting with a warcinfo record."""

    def __init__(
        self,
        directory: Path | str,
        crawl_id: str,
        max_bytes: int = GiB,
        info: dict[str, str] | None = None,
        lock_group: str | None = None,
    ):
        self.crawl_id = check_name(crawl_id)
        self.max_bytes = max_bytes
        self.info = {"software": "newsarchive", "format": "WARC File Format 1.1", "isPartOf": crawl_id, **(info or {})}
        super().__init__(directory, lock_group)
        if self.alone:  # another worker's WARC may be between its commit and its CDXJ
            rebuild_missing_cdxj(self.directory)
        self._seq = next_seq(self.directory, self.crawl_id, parse_warc_name)
        self._sink: HashingSink | None = None
        self._writer: WARCWriter | None = None
        self._name = ""
        self._records = 0

    def _ensure_open(self) -> None:
        if self._closed:
            raise RuntimeError("WarcCapture is closed; create a new one to capture more responses")
        if self._sink is not None and self._sink.tell() >= self.max_bytes:
            self.rotate()
        if self._sink is None:
            self._name = f"{self.crawl_id}-{self._seq:05d}.warc.gz"
            self._seq += 1
            self._sink = HashingSink(self.directory / f".{self._name}.part")
            self._writer = WARCWriter(self._sink, gzip=True, warc_version="1.1")
            self._records = 0
            self._write(self._writer.create_warcinfo_record(self._name, self.info))

    def _write(self, record: ArcWarcRecord) -> int:
        assert self._writer is not None and self._sink is not None
        offset = self._sink.tell()
        self._writer.write_record(record)
        self._records += 1
        return offset

    def write_exchange(
        self,
        url: str,
        status: int,
        reason: str,
        response_headers: Headers,
        body: bytes,
        request_headers: Headers,
        method: str = "GET",
        *,
        date: str | None = None,
        decoded: bool = True,
        protocol: str | None = None,
        ip_address: str | None = None,
    ) -> WarcPointer:
        """Write a response record and its request record; return where the response is.

        `decoded=True` (Scrapy's default) means `body` has had Content-/Transfer-Encoding removed, so those
        headers are kept as X-Archive-Orig-* and Content-Length is set to the stored length. `protocol` is the
        HTTP version the server answered in (see http_protocol); `ip_address`, where known, the server's address
        (WARC-IP-Address on both records).
        """
        self._ensure_open()
        assert self._writer is not None
        when = warc_date(date)
        version = http_protocol(protocol)
        http = StatusAndHeaders(
            f"{status} {reason}".strip(), _response_headers(response_headers, body, decoded), protocol=version
        )
        response = self._writer.create_warc_record(
            url,
            "response",
            payload=BytesIO(body),
            length=len(body),
            http_headers=http,
            warc_headers_dict=_capture_headers(when, ip_address),
        )
        return self._write_with_request(response, url, method, request_headers, when, version, ip_address)

    def write_revisit(
        self,
        url: str,
        status: int,
        reason: str,
        response_headers: Headers,
        request_headers: Headers,
        refers_to_record_id: str,
        refers_to_uri: str,
        refers_to_date: str,
        payload_digest: str,
        method: str = "GET",
        *,
        date: str | None = None,
        decoded: bool = True,
        protocol: str | None = None,
        ip_address: str | None = None,
    ) -> WarcPointer:
        """Write a revisit record (identical-payload-digest profile) and its request, for content already archived.

        `payload_digest` is the original response's WARC-Payload-Digest (see payload_digest(body)); `refers_to_date`
        the original record's WARC-Date (see record_date), so that a replay tool finds that record by URL and date.
        `protocol` and `ip_address` as for write_exchange.
        """
        self._ensure_open()
        assert self._writer is not None
        when = warc_date(date)
        version = http_protocol(protocol)
        headers = [
            (k, v) for k, v in _response_headers(response_headers, b"", decoded) if k.lower() != "content-length"
        ]
        http = StatusAndHeaders(f"{status} {reason}".strip(), headers, protocol=version)
        revisit = self._writer.create_revisit_record(
            url,
            payload_digest,
            refers_to_uri,
            warc_date(refers_to_date),
            http_headers=http,
            warc_headers_dict=_capture_headers(when, ip_address, **{"WARC-Refers-To": refers_to_record_id}),
        )
        revisit.rec_headers.replace_header("WARC-Profile", REVISIT_PROFILE)
        return self._write_with_request(revisit, url, method, request_headers, when, version, ip_address)

    def _write_with_request(
        self,
        record: ArcWarcRecord,
        url: str,
        method: str,
        headers: Headers,
        when: str,
        protocol: str,
        ip_address: str | None,
    ) -> WarcPointer:
        """Write a response or revisit record, then the request record concurrent to it; return where the first is."""
        record_id = record.rec_headers.get_header("WARC-Record-ID")
        offset = self._write(record)
        assert self._writer is not None
        http = StatusAndHeaders(f"{_request_line(method, url)} {protocol}", list(headers), is_http_request=True)
        request = self._writer.create_warc_record(
            url,
            "request",
            http_headers=http,
            warc_headers_dict=_capture_headers(when, ip_address, **{"WARC-Concurrent-To": record_id}),
        )
        self._write(request)
        return WarcPointer(self._name, record_id, offset)

    def date_of(self, warc_file: str, offset: int) -> str:
        """The WARC-Date of a record in this directory: in a committed file, or in the file being written."""
        path = self.directory / check_name(warc_file)
        if warc_file == self._name and self._sink is not None:
            self._sink.flush()
            path = self._sink.path
        return record_date(path, offset)

    def rotate(self) -> list[ClosedFile]:
        """Complete the current WARC and its CDXJ; return both descriptions (empty if no file is open)."""
        if self._sink is None:
            return []
        sha = self._sink.sync_and_close()
        final = self.directory / self._name
        commit_file(self._sink.path, final)
        warc_file = ClosedFile(self._name, WARC, self._records, self._sink.position, sha)
        self._sink = self._writer = None
        closed = [warc_file, build_cdxj(final)]
        logger.info("committed %s (%d records, %d bytes)", warc_file.name, warc_file.records, warc_file.bytes)
        self.closed_files += closed
        return closed

    def _drop_open(self) -> None:
        if self._sink is not None:
            self._sink.abort()  # no CDXJ either: the index is built only from a committed WARC
        self._sink = self._writer = None


def cdxj_lines(warc_path: Path) -> list[str]:
    """Sorted CDXJ lines for the response and revisit records of a WARC file."""
    lines = []
    with open(warc_path, "rb") as stream:
        iterator = ArchiveIterator(stream)
        for record in iterator:
            if record.rec_type not in ("response", "revisit"):
                continue
            headers = record.rec_headers
            url = headers.get_header("WARC-Target-URI")
            http = record.http_headers
            entry = {
                "url": url,
                "mime": "warc/revisit"
                if record.rec_type == "revisit"
                else (http.get_header("Content-Type", "") if http else "").split(";")[0].strip(),
                "status": http.get_statuscode() if http else "",
                "digest": headers.get_header("WARC-Payload-Digest"),
                "record_id": headers.get_header("WARC-Record-ID"),
            }
            iterator.read_to_end(record)
            entry.update(
                length=iterator.get_record_length(), offset=iterator.get_record_offset(), filename=warc_path.name
            )
            timestamp = iso_date_to_timestamp(headers.get_header("WARC-Date"))
            lines.append(f"{surt(url)} {timestamp} {json.dumps(entry, ensure_ascii=False, separators=(', ', ': '))}")
    return sorted(lines)


def build_cdxj(warc_path: Path) -> ClosedFile:
    """Write <warc name>.cdxj beside a committed WARC (atomically); also regenerates a lost or damaged index."""
    lines = cdxj_lines(warc_path)
    data = "".join(line + "\n" for line in lines).encode("utf-8")
    target = warc_path.with_name(warc_path.name + ".cdxj")
    sha = write_bytes_atomic(target, data)
    return ClosedFile(target.name, CDXJ, len(lines), len(data), sha)


def rebuild_missing_cdxj(directory: Path) -> list[ClosedFile]:
    """Index committed WARC files that have no CDXJ (a crash between the WARC's commit and its index)."""
    rebuilt = []
    for warc in committed_warcs(directory):
        if not warc.path.with_name(warc.name + ".cdxj").exists():
            logger.warning("rebuilding the missing CDXJ index of %s", warc.path)
            rebuilt.append(build_cdxj(warc.path))
    return rebuilt


def cdxj_lookup(directory: Path | str, url: str) -> list[dict[str, Any]]:
    """Every CDXJ entry for `url` in a WARC directory, oldest first; each has urlkey, timestamp and the JSON fields."""
    key = surt(url)
    found = []
    for warc in committed_warcs(Path(directory)):
        index = warc.path.with_name(warc.name + ".cdxj")
        if not index.exists():
            logger.warning("%s has no CDXJ index; rebuild it with archive.warc.build_cdxj", warc.path)
            continue
        with open(index, encoding="utf-8") as handle:
            for line in handle:
                urlkey, timestamp, payload = line.rstrip("\n").split(" ", 2)
                if urlkey == key:
                    found.append({"urlkey": urlkey, "timestamp": timestamp, **json.loads(payload)})
    return sorted(found, key=lambda entry: (entry["timestamp"], entry["filename"], entry["offset"]))


def record_date(warc_path: Path | str, offset: int) -> str:
    """The WARC-Date of the record at `offset` of a WARC file (what a revisit's WARC-Refers-To-Date repeats)."""
    with open(warc_path, "rb") as stream:
        stream.seek(offset)
        record = next(iter(ArchiveIterator(stream)))
        date: str = record.rec_headers.get_header("WARC-Date")
        return date


def read_response_body(warc_path: Path | str, offset: int) -> bytes:
    """The HTTP body stored in the response record at `offset` of a WARC file."""
    with open(warc_path, "rb") as stream:
        stream.seek(offset)
        record = next(iter(ArchiveIterator(stream)))
        if record.rec_type != "response":
            raise ValueError(
                f"record at {warc_path}:{offset} is a {record.rec_type!r}, not a response; follow WARC-Refers-To for revisits"
            )
        body: bytes = record.content_stream().read()
        return body
