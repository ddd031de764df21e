"""Everything the article page shows, gathered from one record and its raw capture.
The restored text and the captured page cut into highlighted segments, the explanations, the fields and what could
not be read."""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .captured import CapturedPage, CaptureError, captured_page, read_response
from .highlight import (
    KIND_LABELS,
    Line,
    Repair,
    convert_lines,
    explain,
    locate,
    parse_repairs,
    segment_lines,
    text_spans,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CapturedView:
    """The captured column: the decoded page cut into labelled lines, or why it cannot be shown."""

    page: CapturedPage | None = None
    lines: list[tuple[str | None, Line]] = field(default_factory=list)
    located: frozenset[int] = frozenset()
    error: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ArticleView:
    record: dict[str, Any]
    script: str  # "hant" (the record's Traditional text) or "hans"
    title: str
    lines: list[Line]
    repairs: list[Repair] | None
    problems: list[str]
    explanations: dict[int, str]
    overlapping: frozenset[int]
    captured: CapturedView
    fields: list[tuple[str, str]]
    kind_counts: list[tuple[str, str, int]]

    @property
    def spam(self) -> list[Repair]:
        return [r for r in self.repairs or [] if r.kind == "spam"]

    @property
    def counted_changes(self) -> int:
        """The sum of the cleaner's counts (pinyin removed, bytes restored, ...)."""
        cleaning = self.record.get("cleaning")
        if not isinstance(cleaning, dict):
            return 0
        return sum(v for v in cleaning.values() if isinstance(v, int) and not isinstance(v, bool))

    @property
    def by_number(self) -> dict[int, Repair]:
        return {r.number: r for r in self.repairs or []}


def _join(value: Any, separator: str) -> str:
    if isinstance(value, list):
        return separator.join(str(item) for item in value if item is not None)
    return "" if value is None else str(value)


def record_fields(record: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) of the article's fields, as the record holds them."""
    captions = [image.get("caption") for image in record.get("images") or [] if isinstance(image, dict)]
    return [
        ("published", _join(record.get("published_at"), "")),
        ("source", _join(record.get("source"), "")),
        ("reporters", _join(record.get("reporters"), "、")),
        ("section", _join(record.get("section"), "")),
        ("breadcrumb", _join(record.get("breadcrumb"), " › ")),
        ("captions", _join([c for c in captions if c], " / ")),
        ("subheadings", _join(record.get("subheadings"), " / ")),
        ("url", _join(record.get("url"), "")),
        ("fetched", _join(record.get("fetched_at"), "")),
        ("crawl", _join(record.get("crawl_id"), "")),
        ("HTTP status", _join(record.get("http_status"), "")),
        ("charset read", _join(record.get("charset"), "")),
        ("cleaner", _join(record.get("cleaner_version"), "") or "(not recorded)"),
        ("schema version", _join(record.get("schema_version"), "")),
        ("content_sha256", _join(record.get("content_sha256"), "")),
    ]


def captured_view(root: Path, record: dict[str, Any], repairs: list[Repair] | None) -> CapturedView:
    """Read the record's raw capture and find each repair's original in it."""
    warc_file, offset = record.get("warc_file"), record.get("warc_offset")
    if not isinstance(warc_file, str) or not isinstance(offset, int):
        return CapturedView(error="This record has no raw capture (the crawl ran with WARC capture off).")
    try:
        response = read_response(root, warc_file, offset)
    except CaptureError as exc:
        return CapturedView(error=str(exc))
    notes = []
    if response.target_uri and response.target_uri != record.get("url"):
        notes.append(f"The capture is of {response.target_uri}, not of the record's URL; run 'newsarchive verify'.")
    digest = hashlib.sha256(response.body).hexdigest()
    if digest != record.get("content_sha256"):
        notes.append(
            "The captured body does not hash to the record's content_sha256: it is not the page the text was made "
            "from (run 'newsarchive verify')."
        )
    page = captured_page(response)
    text = page.text
    found = locate(text, page.body_start, str(record.get("text") or ""), repairs or [])
    spans = sorted((start, end, number) for number, (start, end) in found.items())
    lines = segment_lines(text, spans)
    labelled = [(block.label, line) for block, line in zip(page.blocks, lines, strict=False)]
    return CapturedView(page, labelled, frozenset(found), None, notes)


def article_view(root: Path, record: dict[str, Any], script: str, convert: Callable[[str], str]) -> ArticleView:
    """The article page of one record; `script` "hans" shows the text in Simplified characters."""
    text = str(record.get("text") or "")
    parsed = parse_repairs(record)
    spans, overlapping = text_spans(parsed.repairs or [])
    lines = segment_lines(text, spans)
    title = str(record.get("title") or "")
    if script == "hans":
        hans = record.get("text_hans")
        lines = convert_lines(lines, text, hans if isinstance(hans, str) else None, convert)
        title = str(record.get("title_hans") or convert(title))
    explanations = {r.number: explain(r, text) for r in parsed.repairs or []}
    counts = Counter(r.kind for r in parsed.repairs or [])
    kind_counts = [(kind, label, counts[kind]) for kind, label in KIND_LABELS.items() if counts[kind]]
    return ArticleView(
        record=record,
        script=script,
        title=title,
        lines=lines,
        repairs=parsed.repairs,
        problems=parsed.problems,
        explanations=explanations,
        overlapping=frozenset(overlapping),
        captured=captured_view(root, record, parsed.repairs),
        fields=record_fields(record),
        kind_counts=kind_counts,
    )
