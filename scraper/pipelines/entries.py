"""EntryWriter: each item's one outcome, written and counted.
A new or changed article record goes to articles/, a page that did not become a record to quarantine/ with its
reason, an article URL given up on to quarantine/ as a skip entry."""

from __future__ import annotations

from typing import Any

from archive.index import NEW, UNCHANGED, ArchiveIndex
from archive.quarantine import QuarantineWriter
from archive.writer import JsonlWriter
from scraper.items import ArticleRecord, QuarantineRecord, SkippedUrl
from scraper.pipelines.capture import RawCapture, pointer_fields
from scraper.pipelines.records import build_skip_entry
from scraper.summary import Counters, Stat

# Skips recorded by a count only: a second URL (or copy) of an article the crawl handles anyway.
UNRECORDED_SKIPS = frozenset({"duplicate"})


class EntryWriter:
    """Writes articles (deduped within the crawl, versioned through the archive index), quarantine and skip entries.

    Outcomes (stats `newsarchive/<outcome>`, docs/archive.md): `archived` a new article written as version 1,
    `new_version` a changed text written as the next version, `unchanged` a text the archive holds (not written),
    `quarantined` a page written to quarantine/ (per reason too), `skipped` an article URL given up on or a second copy
    of an article id within this crawl (per reason too). Each skip but a duplicate is written to quarantine/ as well,
    counted in `skip_entries`. Records point at the WARC record holding their body when `capture` is on.
    """

    def __init__(
        self,
        articles: JsonlWriter,
        quarantine: QuarantineWriter,
        index: ArchiveIndex,
        capture: RawCapture | None,
        crawl_id: str,
        counters: Counters,
    ) -> None:
        self.articles = articles
        self.quarantine = quarantine
        self.index = index
        self.capture = capture
        self.crawl_id = crawl_id
        self.counters = counters
        self._ids_this_crawl: set[str] = set()

    def write(self, item: Any) -> dict[str, Any] | None:
        """Write the entry of an ArticleRecord, a QuarantineRecord or a SkippedUrl (other items are left alone);
        the record if one was written to articles/, else None."""
        if isinstance(item, ArticleRecord):
            return item.record if self.write_article(item) else None
        if isinstance(item, QuarantineRecord):
            self.write_quarantined(item)
        elif isinstance(item, SkippedUrl):
            self.write_skip(item)
        return None

    def write_article(self, item: ArticleRecord) -> bool:
        """A record ValidatePipeline passed: written if new or changed (True); a writer refusing it now is a bug, and
        raises."""
        record = item.record
        if self.capture is not None and item.page is not None:
            record.update(pointer_fields(self.capture.pointer_for(item.page)))
        ident = record["id"]
        if ident in self._ids_this_crawl:
            self.counters.add(Stat.SKIPPED, reason="duplicate")
            return False
        self._ids_this_crawl.add(ident)
        decision, version = self.index.decide(ident, record["text_sha256"])
        if decision == UNCHANGED:
            self.counters.add(Stat.UNCHANGED)
            return False
        record["version"] = version
        self.articles.write(record)
        # Tagged with its (uncommitted) file, so the index cannot be saved claiming it before that file commits.
        self.index.add_record(record, self.articles.current_name)
        self.counters.add(Stat.ARCHIVED if decision == NEW else Stat.NEW_VERSION)
        return True

    def write_quarantined(self, item: QuarantineRecord) -> None:
        if self.capture is not None and item.page is not None:
            item.record.update(pointer_fields(self.capture.pointer_for(item.page)))
        self.quarantine.write(item.record)
        self.counters.add(Stat.QUARANTINED, reason=str(item.record.get("reason")))

    def write_skip(self, item: SkippedUrl) -> None:
        """Count a skipped article URL by its reason and, unless it is a duplicate, write its skip entry."""
        pointer = self.capture.last_response(item.url, item.final_url) if self.capture is not None else None
        if item.reason not in UNRECORDED_SKIPS:
            entry = build_skip_entry(item, self.crawl_id)
            if pointer is not None:
                entry.update(pointer_fields(pointer))
            self.quarantine.write(entry)
            self.counters.add(Stat.SKIP_ENTRIES)
        self.counters.add(Stat.SKIPPED, reason=item.reason)
