"""Character error rate of a restoration against the truth, markers counted as honest gaps.

A U+FFFD in the output may stand for up to MARKER_SPAN truth characters at no cost.
"""

from __future__ import annotations

from difflib import SequenceMatcher

MARKER = "\ufffd"
MARKER_SPAN = 3  # the most a lost-byte spot can hide: a few bytes, so one or two characters


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions).

    >>> levenshtein("kitten", "sitting")
    3
    """
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _gap_errors(truth: str, output: str) -> int:
    markers = output.count(MARKER)
    if markers:
        rest = output.replace(MARKER, "")
        covered = markers * MARKER_SPAN
        # The markers absorb what they stand for; what is left must still match.
        best = min(levenshtein(truth[:k] + truth[k + m:], rest)
                   for m in range(0, min(covered, len(truth)) + 1)
                   for k in range(0, len(truth) - m + 1))
        return best
    return levenshtein(truth, output)


def errors_outside_markers(truth: str, output: str) -> int:
    """Edits needed to turn the output into the truth, markers excused.

    >>> errors_outside_markers("潛力。”10年后", "潛力。”\\ufffd0年后")
    0
    >>> errors_outside_markers("規模化", "規。化")
    1
    """
    errors = 0
    matcher = SequenceMatcher(None, truth, output, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "equal":
            errors += _gap_errors(truth[i1:i2], output[j1:j2])
    return errors


def char_error_rate(truth: str, output: str) -> float:
    """Errors outside markers per truth character."""
    return errors_outside_markers(truth, output) / max(len(truth), 1)
