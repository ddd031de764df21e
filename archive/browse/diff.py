"""What changed between two versions of an article.
The fields that differ, and the text line by line with the changed characters of each replaced line marked (Chinese
has no spaces, so words are no unit to diff by)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

logger = logging.getLogger(__name__)

COMPARED_FIELDS = (
    "title",
    "published_at",
    "source",
    "reporters",
    "section",
    "breadcrumb",
    "images",
    "subheadings",
    "charset",
    "content_sha256",
    "text_sha256",
    "cleaner_version",
    "crawl_id",
    "fetched_at",
)


@dataclass(frozen=True)
class Piece:
    """A run of characters: kept ("equal"), only in the older version ("delete") or only in the newer ("insert")."""

    kind: str
    text: str


@dataclass(frozen=True)
class DiffLine:
    """One line of the diff: "equal", "delete", "insert" or "change" (a line edited in place, with pieces)."""

    kind: str
    pieces: list[Piece]


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def field_changes(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(field, old value, new value) for each compared field whose value differs."""
    return [
        (name, _show(old.get(name)), _show(new.get(name))) for name in COMPARED_FIELDS if old.get(name) != new.get(name)
    ]


def char_pieces(old: str, new: str) -> list[Piece]:
    """The characters of `old` and `new` as kept, deleted and inserted runs."""
    pieces = []
    for tag, a1, a2, b1, b2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            pieces.append(Piece("equal", old[a1:a2]))
            continue
        if a2 > a1:
            pieces.append(Piece("delete", old[a1:a2]))
        if b2 > b1:
            pieces.append(Piece("insert", new[b1:b2]))
    return pieces


def text_diff(old: str, new: str) -> list[DiffLine]:
    """Line-level diff; a replaced block is paired line by line and diffed by character."""
    old_lines, new_lines = old.split("\n"), new.split("\n")
    result = []
    for tag, a1, a2, b1, b2 in SequenceMatcher(None, old_lines, new_lines, autojunk=False).get_opcodes():
        if tag == "equal":
            result += [DiffLine("equal", [Piece("equal", line)]) for line in old_lines[a1:a2]]
            continue
        paired = min(a2 - a1, b2 - b1) if tag == "replace" else 0
        for offset in range(paired):
            result.append(DiffLine("change", char_pieces(old_lines[a1 + offset], new_lines[b1 + offset])))
        result += [DiffLine("delete", [Piece("delete", line)]) for line in old_lines[a1 + paired : a2]]
        result += [DiffLine("insert", [Piece("insert", line)]) for line in new_lines[b1 + paired : b2]]
    return result
