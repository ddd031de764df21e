"""Finish extracted text: leaked markup out, full-width punctuation back, every repair placed in `text`.

Each block comes with the anchors the repair left in it; they become spans, the finishing
edits keep them in step, and the joined text gives each repair its offset and length.
"""

from __future__ import annotations

from operator import attrgetter

from scraper.cleaner.anchors import Span, Spanned, resolve_stripped, strip_anchors
from scraper.cleaner.article import Repair, Unrecoverable
from scraper.cleaner.punctuation import fullwidth_swaps, leaked_markup, swapped
from scraper.cleaner.repair import MARKER, RepairEntry, RepairReport

_SPAN_ORDER = attrgetter("start", "end")
NBSP = "\xa0"  # not in GBK: pages write it `&nbsp;`, and it reads as a space


def finish_block(text: str, log: RepairReport) -> Spanned:
    """A block's text with anchors resolved, trimmed, leaked markup removed and punctuation restored."""
    block = resolve_stripped(text.replace(NBSP, " "))
    for start, end in reversed(leaked_markup(block.text)):
        original = block.text[start:end]
        block.delete(start, end)
        block.spans.append(Span(start, start, log.log(RepairEntry("markup", original))))
    swaps = fullwidth_swaps(block.text)
    if swaps:
        for i, _ in swaps:
            block.spans.append(Span(i, i + 1, log.log(RepairEntry("punctuation", block.text[i]))))
        block.text = swapped(block.text, swaps)
    return block


def finish_line(text: str) -> str:
    """A line outside the body (title, caption of a field): restored the same way, repairs not placed."""
    return finish_block(strip_anchors(text), RepairReport()).text


def join_blocks(blocks: list[Spanned], log: RepairReport) -> tuple[str, list[Repair], list[Unrecoverable]]:
    """The body text (one block per line), its repairs in text order and its unrecoverable spots."""
    repairs: list[Repair] = []
    spots: list[Unrecoverable] = []
    entries = log.entries
    offset = 0
    for block in blocks:
        for span in sorted(block.spans, key=_SPAN_ORDER):
            entry = entries[span.index]
            start, length = offset + span.start, span.end - span.start
            repairs.append(Repair(entry.kind, start, length, entry.original, entry.candidates))
            if entry.kind == "unrecoverable":
                spots.extend(_markers(block.text, span, offset, entry.reasons))
        offset += len(block.text) + 1
    # Already in text order: each block's spans are sorted and lie within it, and the blocks follow one another.
    return "\n".join(block.text for block in blocks), repairs, spots


def _markers(text: str, span: Span, offset: int, reasons: list[str]) -> list[Unrecoverable]:
    positions = [i for i in range(span.start, span.end) if text[i] == MARKER]
    named = iter(reasons)
    return [Unrecoverable(offset + i, next(named, "unknown")) for i in positions]
