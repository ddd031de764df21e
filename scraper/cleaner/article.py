"""The cleaner's output: a restored article and the report of what was repaired.

Plain dataclasses, no Scrapy: the pipelines turn them into archive records.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


class CleanError(ValueError):
    """A page the cleaner cannot turn into an article; the message says why.

    `reason` names the kind for a quarantine (`clean_error`, `too_large`); `text` keeps what was restored, if anything.
    """

    def __init__(self, message: str, reason: str = "clean_error", text: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.text = text


@dataclass
class Unrecoverable:
    """A spot of the text that could not be restored; `text` holds U+FFFD there."""

    offset: int
    reason: str


@dataclass(slots=True)
class Repair:
    """One change to the body text: what the page showed and where the result stands in `text`.

    `kind` is reading | bytes | punctuation | markup | spam | unrecoverable. Spam is not in the
    text, so its offset is 0 and its length 0; `candidates` lists what the model weighed.
    """

    kind: str
    offset: int
    length: int
    original: str
    candidates: list[str] | None = None


@dataclass
class CleaningReport:
    """Counts of what each cleaning step changed."""

    spam_blocks: int = 0
    pinyin_removed: int = 0
    mojibake_runs: int = 0
    bytes_restored: int = 0
    punctuation_restored: int = 0
    markup_removed: int = 0
    model_choices: list[dict[str, Any]] = field(default_factory=list)
    unrecoverable: list[Unrecoverable] = field(default_factory=list)
    repairs: list[Repair] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        report = {f.name: getattr(self, f.name) for f in fields(self)}
        report["model_choices"] = [dict(choice) for choice in self.model_choices]
        report["unrecoverable"] = [{"offset": u.offset, "reason": u.reason} for u in self.unrecoverable]
        report["unrecoverable_count"] = len(self.unrecoverable)
        report["repairs"] = [_repair_dict(r) for r in self.repairs]
        return report


@dataclass
class Image:
    url: str | None
    caption: str | None


@dataclass
class Article:
    """A cleaned article page (field names are the archive's)."""

    url: str | None
    id: str | None
    title: str
    title_hans: str
    published_at: str | None
    source: str | None
    reporters: list[str]
    section: str | None
    breadcrumb: list[str]
    paragraphs: list[str]
    subheadings: list[str]
    images: list[Image]
    text: str
    text_hans: str
    charset: str | None
    cleaning: CleaningReport
    cleaner_version: str

    def to_dict(self) -> dict[str, Any]:
        """The article as plain JSON values, in field order (built directly: `asdict` deep-copies
        every one of a page's hundreds of repairs, which cost more than cleaning it)."""
        record = {f.name: getattr(self, f.name) for f in fields(self)}
        record["reporters"] = list(self.reporters)
        record["breadcrumb"] = list(self.breadcrumb)
        record["paragraphs"] = list(self.paragraphs)
        record["subheadings"] = list(self.subheadings)
        record["images"] = [{"url": image.url, "caption": image.caption} for image in self.images]
        record["cleaning"] = self.cleaning.to_dict()
        return record


def _repair_dict(repair: Repair) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "kind": repair.kind,
        "offset": repair.offset,
        "length": repair.length,
        "original": repair.original,
    }
    if repair.candidates is not None:
        entry["candidates"] = list(repair.candidates)
    return entry
