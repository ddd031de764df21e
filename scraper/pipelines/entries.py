"""EntryWriter: each item's one outcome, written and counted.
A new or changed article record goes to articles/, a page that did not become a record to quarantine/ with its
reason, an article URL given up on to quarantine/ as a skip entry."""

from __future__ import annotations

from typing import Any

from archive.index import NEW, NEW_VERSION, UNCHANGED, ArchiveIndex
from archive.quarantine import QuarantineWriter
from archive.writer import JsonlWriter
from scraper.cluster.index import CLAIMED, Claim
from scraper.cluster.outcomes import ClusterOutcomes
from scraper.items import ArticlePage, ArticleRecord, QuarantineRecord, SkippedUrl
from scraper.pipelines.capture import RawCapture, pointer_fields
from scraper.pipelines.records import build_skip_entry
from scraper.summary import Counters, Stat, counted_keys

# Skips recorded by a count only: a second URL (or copy) of an article the crawl handles anyway.
UNRECORDED_SKIPS = frozenset({"duplicate"})
# The outcome of each of the index's decisions.
DECIDED = {NEW: Stat.ARCHIVED, NEW_VERSION: Stat.NEW_VERSION, UNCHANGED: Stat.UNCHANGED}


class EntryWriter:
    """Writes articles (deduped within the crawl, versioned through the archive index), quarantine and skip entries.

    Outcomes (stats `newsarchive/<outcome>`, docs/archive.md): `archived` a new article written as version 1,
    `new_version` a changed text written as the next version, `unchanged` a text the archive holds (not written),
    `quarantined` a page written to quarantine/ (per reason too), `skipped` an article URL given up on or a second copy
    of an article id within this crawl (per reason too). Each skip but a duplicate is written to quarantine/ as well,
    counted in `skip_entries`. Records point at the WARC record holding their body when `capture` is on.

    In a worker of a distributed crawl (`cluster`), the crawl's shared index decides instead of `index` (a second copy
    is one another worker claimed), and every outcome is recorded in the crawl's books once its file is committed.
    """

    def __init__(
        self,
        articles: JsonlWriter,
        quarantine: QuarantineWriter,
        index: ArchiveIndex | None,
        capture: RawCapture | None,
        crawl_id: str,
        counters: Counters,
        cluster: ClusterOutcomes | None = None,
    ) -> None:
        self.articles = articles
        self.quarantine = quarantine
        self.index = index
        self.capture = capture
        self.crawl_id = crawl_id
        self.counters = counters
        self.cluster = cluster
        # A dict, not a set: a set grown one id at a time takes 4x the slots, 16 bytes each (2 MB at 20,000 ids).
        self._ids_this_crawl: dict[str, None] = {}

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
        url = learned_url(item.page, record)
        if self.cluster is not None:
            claim = self.cluster.claim(record, url)
            if claim.decision == CLAIMED:
                self.counters.add(Stat.SKIPPED, reason="duplicate")
                self.cluster.outcome(url, claimed_counts(claim, url), None)
                return False
            decision, version = claim.decision, claim.version
        elif ident in self._ids_this_crawl:
            self.counters.add(Stat.SKIPPED, reason="duplicate")
            return False
        else:
            assert self.index is not None  # a crawl of its own has its archive's index
            self._ids_this_crawl[ident] = None
            decision, version = self.index.decide(ident, record["text_sha256"])
        if decision == UNCHANGED:
            self.count(url, Stat.UNCHANGED)
            return False
        record["version"] = version
        self.articles.write(record)
        if self.cluster is not None:
            assert self.articles.current_name is not None
            self.cluster.wrote(ident, self.articles.current_name)
        elif self.index is not None:
            # Tagged with its (uncommitted) file, so the index cannot be saved claiming it before that file commits.
            self.index.add_record(record, self.articles.current_name)
        self.count(url, Stat.ARCHIVED if decision == NEW else Stat.NEW_VERSION, file=self.articles.current_name)
        return True

    def write_quarantined(self, item: QuarantineRecord) -> None:
        if self.capture is not None and item.page is not None:
            item.record.update(pointer_fields(self.capture.pointer_for(item.page)))
        self.quarantine.write(item.record)
        reason = str(item.record.get("reason"))
        self.count(learned_url(item.page, item.record), Stat.QUARANTINED, reason, file=self.quarantine.current_name)

    def write_skip(self, item: SkippedUrl) -> None:
        """Count a skipped article URL by its reason and, unless it is a duplicate, write its skip entry."""
        pointer = self.capture.last_response(item.url, item.final_url) if self.capture is not None else None
        file = None
        if item.reason not in UNRECORDED_SKIPS:
            entry = build_skip_entry(item, self.crawl_id)
            if pointer is not None:
                entry.update(pointer_fields(pointer))
            self.quarantine.write(entry)
            self.counters.add(Stat.SKIP_ENTRIES)
            file = self.quarantine.current_name
        self.count(item.url, Stat.SKIPPED, item.reason, file=file, entry=file is not None)

    def count(
        self, url: str, stat: Stat, reason: str | None = None, file: str | None = None, entry: bool = False
    ) -> None:
        """Count an item's outcome; in a distributed crawl also in the crawl's books, once `file` (if any) commits."""
        self.counters.add(stat, reason=reason)
        if self.cluster is not None:
            counts = counted_keys(stat, reason) + ([Stat.SKIP_ENTRIES.key] if entry else [])
            self.cluster.outcome(url, counts, file)


def learned_url(page: ArticlePage | None, record: dict[str, Any]) -> str:
    """The URL the crawl learned for an item's page (its outcome is booked against it)."""
    if page is not None:
        return page.learned_url or page.url
    return str(record.get("url", ""))


def claimed_counts(claim: Claim, url: str) -> list[str]:
    """What the crawl counts for an article a worker of it claimed already: a second URL of it is a duplicate; the same
    URL again (its worker died after committing the record) ends as that worker decided."""
    earlier = claim.earlier or {}
    if earlier.get("url") != url:
        return counted_keys(Stat.SKIPPED, "duplicate")
    return [DECIDED[str(earlier.get("decision"))].key]
