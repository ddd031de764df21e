"""RawCapture: every downloaded exchange into the WARC, as a revisit where the archive holds the same article body.
It keeps where each article response went until the article's item arrives, so that records point at their capture."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from archive.index import ArchiveIndex
from archive.warc import CAPTURE_READ_ERRORS, WarcCapture, WarcPointer, payload_digest
from scraper.headers import header_pairs, reason_phrase
from scraper.items import ArticlePage
from scraper.summary import Counters, Stat
from scraper.urls import strict_article_id

logger = logging.getLogger(__name__)


def pointer_fields(pointer: WarcPointer | None) -> dict[str, Any]:
    """The record fields that point at a WARC record (all None without a capture).

    >>> pointer_fields(WarcPointer("c-00001.warc.gz", "<urn:uuid:1>", 0))["warc_offset"]
    0
    """
    if pointer is None:
        return {"warc_file": None, "warc_record_id": None, "warc_offset": None}
    return {
        "warc_file": pointer.warc_file,
        "warc_record_id": pointer.warc_record_id,
        "warc_offset": pointer.warc_offset,
    }


class RawCapture:
    """Writes responses (each followed by its request) to the WARC and says which WARC record holds a body.

    An article whose body is byte for byte the body of its latest archived version gets a revisit record that refers
    to the original response, and its pointer is the original's.
    """

    def __init__(self, warc: WarcCapture, index: ArchiveIndex, counters: Counters) -> None:
        self.warc = warc
        self.index = index
        self.counters = counters
        # Article URL -> where its body is in the WARC, from the download until the article's item arrives.
        self._pointers: dict[str, WarcPointer] = {}

    def capture_response(self, response: Any, request: Any) -> None:
        """Capture one downloaded Scrapy response and its request; remember where an article's body went."""
        pointer = self.capture(
            response.url,
            response.status,
            reason_phrase(response.status),
            header_pairs(response.headers),
            response.body,
            header_pairs(request.headers),
            request.method,
            protocol=response.protocol,
            ip_address=str(response.ip_address) if response.ip_address is not None else None,
        )
        if strict_article_id(response.url) is not None:
            self._pointers[response.url] = pointer

    def capture(
        self,
        url: str,
        status: int,
        reason: str,
        headers: list[tuple[str, str]],
        body: bytes,
        request_headers: list[tuple[str, str]],
        method: str = "GET",
        date: str | None = None,
        *,
        protocol: str | None = None,
        ip_address: str | None = None,
    ) -> WarcPointer:
        """Write a response record, or a revisit when the archived latest version of this article has the same body.

        Returns the pointer to the response record that holds `body` (for a revisit: the original). `protocol` is the
        HTTP version the server answered in and `ip_address` its address, where the download handler knows them.
        """
        ident = strict_article_id(url)
        entry = self.index.get(ident) if ident is not None else None
        if (
            entry is not None
            and status == 200
            and entry.warc_file
            and entry.warc_record_id
            and entry.warc_offset is not None
            and entry.content_sha256 == hashlib.sha256(body).hexdigest()
        ):
            self.warc.write_revisit(
                url,
                status,
                reason,
                headers,
                request_headers,
                entry.warc_record_id,
                entry.url,
                self.original_date(entry.warc_file, entry.warc_offset, entry.fetched_at),
                payload_digest(body),
                method,
                date=date,
                protocol=protocol,
                ip_address=ip_address,
            )
            self.counters.add(Stat.WARC_REVISITS)
            return WarcPointer(entry.warc_file, entry.warc_record_id, entry.warc_offset)
        pointer = self.warc.write_exchange(
            url,
            status,
            reason,
            headers,
            body,
            request_headers,
            method,
            date=date,
            protocol=protocol,
            ip_address=ip_address,
        )
        self.counters.add(Stat.WARC_RESPONSES)
        return pointer

    def original_date(self, warc_file: str, offset: int, fetched_at: str | None) -> str:
        """The WARC-Date of the response a revisit refers to; its record's fetched_at if that WARC cannot be read."""
        try:
            return self.warc.date_of(warc_file, offset)
        except CAPTURE_READ_ERRORS as exc:
            logger.warning(
                "cannot read the WARC-Date of %s:%d (%s); the revisit refers to fetched_at", warc_file, offset, exc
            )
            return fetched_at or ""

    def pointer_for(self, page: ArticlePage) -> WarcPointer:
        """Where the page's body is: captured when it was downloaded, or now (a page that came without a download)."""
        pointer = self._pointers.pop(page.url, None)
        if pointer is None:
            pointer = self.capture(
                page.url, page.status, page.reason, page.headers, page.body, page.request_headers, date=page.fetched_at
            )
        return pointer

    def last_response(self, url: str, final_url: str | None = None) -> WarcPointer | None:
        """The last response captured for an article URL given up on (a 5xx, a redirect), if any; forgotten after."""
        pointer = self._pointers.pop(url, None)
        if final_url:
            self._pointers.pop(final_url, None)
        return pointer
