"""Repairs as highlights in the restored text and in the captured page.
Each repair of `cleaning.repairs` is placed in both, which are cut into lines of segments that a template renders,
with an explanation for each repair."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

KIND_LABELS = {
    "reading": "reading removed",
    "bytes": "bytes restored",
    "punctuation": "punctuation restored",
    "markup": "markup removed",
    "spam": "spam removed",
    "unrecoverable": "unrecoverable spot",
}
# Text just before a repair that must match too, so that a "," is found where it belongs and not at the
# first comma of the page. A few characters are enough to be unambiguous within a paragraph.
CONTEXT_CHARS = 6
SHORT_CONTEXT_CHARS = 2
# A rebuilt line shorter than this could match by chance anywhere (a one-character caption): searched only
# through its repairs.
MIN_LINE_ANCHOR = 4
QUOTE_LIMIT = 160  # longer originals (spam blocks) are shortened in explanations


@dataclass(frozen=True)
class Repair:
    """One entry of `cleaning.repairs`, numbered in text order; `reason` comes from `cleaning.unrecoverable`."""

    number: int
    kind: str
    offset: int
    length: int
    original: str
    candidates: tuple[str, ...] = ()
    reason: str | None = None

    @property
    def end(self) -> int:
        return self.offset + self.length

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


@dataclass(frozen=True)
class Segment:
    """A piece of a line; `repair` is the number of the repair it shows, None for plain text.

    A repair that spans a line break is cut in parts; `part` counts them, so only part 0 carries its explanation.
    """

    text: str
    repair: int | None = None
    part: int = 0


Line = list[Segment]


@dataclass(frozen=True)
class RepairList:
    """The repairs of a record: None when the record predates them (schema version 1), and entries skipped as bad."""

    repairs: list[Repair] | None
    problems: list[str]


def _shorten(text: str, limit: int = QUOTE_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_repairs(record: dict[str, Any]) -> RepairList:
    """The record's repairs sorted by offset; malformed entries are left out and described in `problems`."""
    cleaning = record.get("cleaning")
    if not isinstance(cleaning, dict) or "repairs" not in cleaning:
        return RepairList(None, [])
    entries = cleaning["repairs"]
    if not isinstance(entries, list):
        return RepairList([], ["cleaning.repairs is not a list; no repair can be shown"])
    reasons = {
        spot.get("offset"): str(spot.get("reason", ""))
        for spot in cleaning.get("unrecoverable") or []
        if isinstance(spot, dict)
    }
    text_length = len(record.get("text") or "")
    repairs, problems = [], []
    for position, entry in enumerate(entries):
        problem = _entry_problem(entry, text_length)
        if problem:
            problems.append(f"cleaning.repairs[{position}]: {problem}; it is not shown")
            continue
        candidates = entry.get("candidates") or []
        repairs.append(
            Repair(
                number=0,
                kind=entry["kind"],
                offset=entry["offset"],
                length=entry["length"],
                original=entry["original"],
                candidates=tuple(str(c) for c in candidates) if isinstance(candidates, list) else (),
                reason=reasons.get(entry["offset"]) if entry["kind"] == "unrecoverable" else None,
            )
        )
    # Removals at an offset come before a span starting there; otherwise the record's order is kept.
    repairs.sort(key=lambda r: (r.offset, r.length))
    numbered = [
        Repair(n, r.kind, r.offset, r.length, r.original, r.candidates, r.reason) for n, r in enumerate(repairs)
    ]
    return RepairList(numbered, problems)


def _entry_problem(entry: Any, text_length: int) -> str | None:
    if not isinstance(entry, dict):
        return "not an object"
    kind, offset, length, original = (entry.get(k) for k in ("kind", "offset", "length", "original"))
    if not isinstance(kind, str) or not isinstance(original, str):
        return "kind and original must be strings"
    if not isinstance(offset, int) or not isinstance(length, int) or offset < 0 or length < 0:
        return "offset and length must be integers >= 0"
    if offset + length > text_length:
        return f"span {offset}+{length} runs past the end of the text ({text_length} characters)"
    return None


def explain(repair: Repair, text: str) -> str:
    """What the cleaner did at this repair, in one sentence for a tooltip."""
    restored = text[repair.offset : repair.end]
    original = _shorten(repair.original)
    if repair.kind == "reading":
        said = f"Pinyin reading removed: the page had 「{original}」 here."
    elif repair.kind == "bytes":
        said = f"Bytes restored: the page showed 「{original}」, restored as 「{restored}」."
        if repair.candidates:
            weighed = ", ".join(repair.candidates[1:])
            said += f" The model chose 「{repair.candidates[0]}」" + (f" over {weighed}." if weighed else ".")
    elif repair.kind == "punctuation":
        said = f"Punctuation restored: 「{original}」 became 「{restored}」."
    elif repair.kind == "markup":
        said = f"Markup removed: a leaked tag 「{original}」."
    elif repair.kind == "spam":
        said = f"Spam removed (not part of the article): 「{original}」."
    elif repair.kind == "unrecoverable":
        said = f"Unrecoverable: the page showed 「{original}」; marked {restored or '�'} in the text, nothing guessed."
        if repair.reason:
            said += f" Reason: {repair.reason}."
    else:
        said = f"{repair.kind}: the page showed 「{original}」, the text has 「{restored}」."
    return said


def text_spans(repairs: Sequence[Repair]) -> tuple[list[tuple[int, int, int]], list[int]]:
    """(start, end, number) of each repair shown in the text, and the numbers left out because they overlap another.

    Spam is not in the text, so it has no span here. A removal marker at the end of a span is beside it, not in it.
    """
    spans: list[tuple[int, int, int]] = []
    overlapping = []
    covered_to = 0
    for repair in repairs:
        if repair.kind == "spam":
            continue
        if repair.offset < covered_to:
            overlapping.append(repair.number)
            continue
        spans.append((repair.offset, repair.end, repair.number))
        covered_to = repair.end
    return spans, overlapping


def locate(captured: str, body_start: int, text: str, repairs: Sequence[Repair]) -> dict[int, tuple[int, int]]:
    """Where each repair's `original` is in the captured text: number -> (start, end).

    Offsets in `text` do not map to the page, so each line of the text is first rebuilt as the page showed
    it (every repaired span put back to its original) and searched whole, after the previous line found: where
    the record lists every change of a line, that places its repairs exactly. Otherwise each repair of the
    line is searched on its own, after the previous match, with the restored text just before it as context.
    Spam is searched from the top, so spam in the <title> is found too. A repair not found is left out.
    """
    found: dict[int, tuple[int, int]] = {}
    claimed: list[tuple[int, int]] = []
    for repair in repairs:
        if repair.kind == "spam" and repair.original:
            span = _find_free(captured, repair.original, 0, claimed)
            if span:
                found[repair.number] = span
                claimed.append(span)
    cursor = body_start
    in_text = [r for r in repairs if r.kind != "spam"]
    line_start = 0
    for line in text.split("\n"):
        line_end = line_start + len(line)
        mine = [r for r in in_text if line_start <= r.offset and r.end <= line_end]
        rebuilt = _as_shown(text, line_start, line_end, mine)
        shown, spans = rebuilt if rebuilt else ("", {})
        position = captured.find(shown, cursor) if len(shown) >= MIN_LINE_ANCHOR else -1
        if position >= 0 and _free((position, position + len(shown)), claimed):
            for number, (start, end) in spans.items():
                found[number] = (position + start, position + end)
            claimed.append((position, position + len(shown)))
            cursor = position + len(shown)
        else:
            cursor = _locate_each(captured, cursor, text, mine, found, claimed)
        line_start = line_end + 1
    return found


def _as_shown(
    text: str, start: int, end: int, repairs: Sequence[Repair]
) -> tuple[str, dict[int, tuple[int, int]]] | None:
    """text[start:end] with each repaired span put back to its original, and where each original lands in it;
    None when repairs overlap (then the line cannot be rebuilt)."""
    parts, spans, position, length = [], {}, start, 0
    for repair in repairs:
        if repair.offset < position:
            return None
        plain = text[position : repair.offset]
        parts += [plain, repair.original]
        length += len(plain)
        if repair.original:
            spans[repair.number] = (length, length + len(repair.original))
        length += len(repair.original)
        position = repair.end
    parts.append(text[position:end])
    return "".join(parts), spans


def _locate_each(
    captured: str,
    cursor: int,
    text: str,
    repairs: Sequence[Repair],
    found: dict[int, tuple[int, int]],
    claimed: list[tuple[int, int]],
) -> int:
    """Search the repairs of one line one by one (see locate); returns the cursor after the last match."""
    previous_end = 0
    for repair in repairs:
        if not repair.original:
            continue
        line_start = text.rfind("\n", 0, repair.offset) + 1
        context = text[max(line_start, previous_end, repair.offset - CONTEXT_CHARS) : repair.offset]
        span = None
        # The longest context first; a shorter one still anchors where the page differs a little further back.
        for size in sorted({len(context), min(len(context), SHORT_CONTEXT_CHARS), 0}, reverse=True):
            needle = context[len(context) - size :] + repair.original
            span = span or _find_free(captured, needle, cursor, claimed, skip=size)
        previous_end = max(previous_end, repair.end)
        if span is None:
            continue
        found[repair.number] = span
        claimed.append(span)
        cursor = span[1]
    return cursor


def _free(span: tuple[int, int], claimed: Sequence[tuple[int, int]]) -> bool:
    return not any(span[0] < end and start < span[1] for start, end in claimed)


def _find_free(
    haystack: str, needle: str, start: int, claimed: Sequence[tuple[int, int]], skip: int = 0
) -> tuple[int, int] | None:
    """The first occurrence of `needle` at or after `start` whose part after `skip` overlaps no claimed span."""
    position = haystack.find(needle, start)
    while position >= 0:
        span = (position + skip, position + len(needle))
        if _free(span, claimed):
            return span
        position = haystack.find(needle, position + 1)
    return None


def segment_lines(text: str, spans: Sequence[tuple[int, int, int]]) -> list[Line]:
    """Cut `text` into lines of segments; a span becomes a segment (split at newlines), an empty span a marker.

    `spans` are (start, end, number), sorted by start and not overlapping.
    """
    pieces: list[Segment | None] = []  # None stands for a line break
    position = 0
    for start, end, number in sorted(spans):
        if start < position:
            continue
        pieces += _plain(text[position:start])
        if start == end:
            pieces.append(Segment("", number))
        else:
            for index, part in enumerate(text[start:end].split("\n")):
                if index:
                    pieces.append(None)
                pieces.append(Segment(part, number, index))
        position = end
    pieces += _plain(text[position:])
    lines: list[Line] = [[]]
    for piece in pieces:
        if piece is None:
            lines.append([])
        elif piece.text or piece.repair is not None:
            lines[-1].append(piece)
    return lines


def _plain(text: str) -> list[Segment | None]:
    pieces: list[Segment | None] = []
    for index, part in enumerate(text.split("\n")):
        if index:
            pieces.append(None)
        pieces.append(Segment(part))
    return pieces


def convert_lines(lines: list[Line], text: str, converted: str | None, convert: Callable[[str], str]) -> list[Line]:
    """The same lines in another script: sliced from `converted` when it lines up with `text` character for
    character (the record's own text_hans), else each segment converted on its own."""
    if converted is not None and len(converted) == len(text) and converted.count("\n") == text.count("\n"):
        result, position = [], 0
        for line in lines:
            new_line = []
            for segment in line:
                new_line.append(
                    Segment(converted[position : position + len(segment.text)], segment.repair, segment.part)
                )
                position += len(segment.text)
            result.append(new_line)
            position += 1  # the newline
        return result
    return [[Segment(convert(s.text) if s.text else "", s.repair, s.part) for s in line] for line in lines]
