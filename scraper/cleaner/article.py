"""The cleaner's output: a restored article and the report of what was repaired.

Plain dataclasses, no Scrapy: the pipelines turn them into archive records.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
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


@dataclass
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
        record = asdict(self)
        record["cleaning"]["unrecoverable_count"] = len(self.cleaning.unrecoverable)
        record["cleaning"]["repairs"] = [_repair_dict(r) for r in self.cleaning.repairs]
        return record


def _repair_dict(repair: Repair) -> dict[str, Any]:
    entry = asdict(repair)
    if entry["candidates"] is None:
        del entry["candidates"]
    return entry
