"""Character error rate of a restoration against the truth, markers counted as honest gaps.

A U+FFFD in the output may stand for up to MARKER_SPAN truth characters at no cost.
"""

from __future__ import annotations

MARKER = "\ufffd"
MARKER_SPAN = 3  # the most a lost-byte spot can hide: a few bytes, so one or two characters


RESYNC_WINDOW = 12  # restorations differ locally; a longer gap means the texts diverged
RESYNC_CONFIRM = 3  # characters that must agree after a gap to call the texts in step again


def _resync(truth: str, output: str, i: int, j: int) -> tuple[int, int, int]:
    """Smallest local gap after which both texts agree again: (truth skip, output skip, errors)."""
    best: tuple[int, int, int] | None = None
    for a in range(RESYNC_WINDOW + 1):
        for b in range(RESYNC_WINDOW + 1):
            gap_out = output[j : j + b]
            markers = gap_out.count(MARKER)
            errors = max(0, max(a - markers * MARKER_SPAN, 0), b - markers) if markers else max(a, b)
            if best is not None and errors >= best[2]:
                continue
            ahead = min(RESYNC_CONFIRM, len(truth) - i - a, len(output) - j - b)
            if ahead < 0 or truth[i + a : i + a + ahead] != output[j + b : j + b + ahead]:
                continue
            if ahead < RESYNC_CONFIRM and (i + a + ahead < len(truth) or j + b + ahead < len(output)):
                continue
            best = (a, b, errors)
    if best is None:  # no local resynchronisation: count the rest as wrong
        return len(truth) - i, len(output) - j, max(len(truth) - i, len(output) - j)
    return best


def errors_outside_markers(truth: str, output: str) -> int:
    """Edits needed to turn the output into the truth, markers excused.

    Walks both texts in step and resynchronises locally after each difference,
    so repeated sentences cannot mislead the alignment.

    >>> errors_outside_markers("潛力。”10年后", "潛力。”\\ufffd0年后")
    0
    >>> errors_outside_markers("規模化", "規。化")
    1
    >>> errors_outside_markers("甲乙丙丁戊己庚辛", "甲乙丁戊己庚辛")
    1
    """
    i = j = errors = 0
    while i < len(truth) or j < len(output):
        if i < len(truth) and j < len(output) and truth[i] == output[j]:
            i += 1
            j += 1
            continue
        a, b, gap_errors = _resync(truth, output, i, j)
        if a == b == 0:  # only possible at the very end
            break
        i, j, errors = i + a, j + b, errors + gap_errors
    return errors


def char_error_rate(truth: str, output: str) -> float:
    """Errors outside markers per truth character."""
    return errors_outside_markers(truth, output) / max(len(truth), 1)
