"""The pointer check: each record's WARC pointer reaches the response that holds its body.
That response is for the record's URL and its body hashes to content_sha256; each WARC file is opened once and read
only at the offsets records name."""

from __future__ import annotations

import hashlib
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from ..layout import ArchiveLayout
from .content import Pointer
from .report import WARC_READ_ERRORS, VerifyReport


def check_pointers(report: VerifyReport, layout: ArchiveLayout, pointers: dict[str, list[Pointer]]) -> None:
    """Each pointer must reach a response record for the record's URL whose payload hashes to content_sha256.

    Each WARC file is opened once and read only at the offsets that records name.
    """
    for warc_file, named in sorted(pointers.items()):
        path = layout.warc_dir / warc_file
        with open(path, "rb") as stream:
            for pointer in sorted(named, key=lambda p: p.offset):
                problem = pointer_problem(stream, pointer)
                if problem:
                    report.add(
                        pointer.path,
                        pointer.line,
                        f"warc_offset {pointer.offset} in {warc_file}: {problem}",
                        "the record and its raw capture disagree: restore both from a replica, or re-crawl the article",
                    )


def pointer_problem(stream: Any, pointer: Pointer) -> str | None:
    """What is wrong at the offset a record names, or None if the response there is the record's."""
    stream.seek(pointer.offset)
    start = stream.read(5)
    # Records start a gzip member (or "WARC/" uncompressed); anything else is mid-record,
    # where a reader would silently skip ahead to some later record.
    if start[:2] != b"\x1f\x8b" and start != b"WARC/":
        return "no readable WARC record there (the offset is not the start of a record)"
    stream.seek(pointer.offset)
    try:
        record = next(iter(ArchiveIterator(stream)), None)
        if record is None:
            return "no WARC record starts there (offset past the end)"
        if record.rec_type != "response":
            return f"points to a {record.rec_type!r} record, not a response"
        uri = record.rec_headers.get_header("WARC-Target-URI")
        if uri != pointer.url:
            return f"the response there is for {uri!r}, not {pointer.url!r}"
        record_id = record.rec_headers.get_header("WARC-Record-ID")
        if pointer.record_id is not None and record_id != pointer.record_id:
            return f"the response there is {record_id}, not the record's warc_record_id {pointer.record_id}"
        digest = hashlib.sha256(record.content_stream().read()).hexdigest()
    except WARC_READ_ERRORS as exc:
        return f"no readable WARC record there ({exc})"
    if pointer.content_sha256 is not None and digest != pointer.content_sha256:
        return f"the response body hashes to {digest}, not the record's content_sha256 {pointer.content_sha256}"
    return None
