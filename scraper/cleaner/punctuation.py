"""Give Chinese text back the full-width punctuation the portal turned into ASCII.

ASCII stays inside Latin words and numbers (`10:30`, `1,000`, `CanScan?`).
"""

from __future__ import annotations

import re

FULLWIDTH = {",": "，", ":": "：", ";": "；", "!": "！", "?": "？", "(": "（", ")": "）"}
_CJK_PUNCT = "，。、；：？！“”‘’（）《》「」『』…—·"


def is_cjk(ch: str) -> bool:
    """A Han character or Chinese punctuation (what makes a context Chinese)."""
    return len(ch) == 1 and (
        "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or ch in _CJK_PUNCT or ch == "\ufffd"
    )


def _is_swappable(ch: str) -> bool:
    return ch in FULLWIDTH or ch == " "


def _closing_paren(text: str, start: int) -> int | None:
    depth = 0
    for i in range(start, min(len(text), start + 80)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    return None


def _is_number_separator(text: str, index: int) -> bool:
    """`1,000` and `10:30` keep ASCII; `45,20余` is a clause break between two numbers."""
    digits = 0
    while index + 1 + digits < len(text) and text[index + 1 + digits].isdigit():
        digits += 1
    return digits == 3 if text[index] == "," else digits == 2 if text[index] == ":" else True


def _before_number(text: str, index: int) -> str:
    i = index - 1
    while i >= 0 and (text[i].isdigit() or text[i] in ".%"):
        i -= 1
    return text[i] if i >= 0 else ""


def _opened_fullwidth(text: str, index: int) -> bool:
    """True when the nearest unclosed bracket before `index` is a full-width `（`."""
    depth = 0
    for i in range(index - 1, max(-1, index - 81), -1):
        if text[i] in ")）":
            depth += 1
        elif text[i] in "(（":
            if depth == 0:
                return text[i] == "（"
            depth -= 1
    return False


_CANDIDATE = re.compile(r"[,:;!?()]")


def fullwidth_swaps(text: str) -> list[tuple[int, str]]:
    """Where ASCII punctuation sits in Chinese text: (index, full-width form), in text order.

    Only the punctuation is visited and each stretch between is read once: linear in the text.

    >>> fullwidth_swaps("去年8月,2024年(試行)")
    [(4, '，'), (10, '（'), (13, '）')]
    """
    swapped: dict[int, str] = {}
    before, visited = "", 0  # nearest decided non-swappable character left of `visited`
    after_at, after = -1, ""  # the nearest non-swappable character right of the last candidate, and where
    for match in _CANDIDATE.finditer(text):
        i = match.start()
        before = _last_significant(text, visited, i, swapped) or before
        visited = i
        if i >= after_at:
            after_at, after = _next_significant(text, i)
        if i not in swapped:  # else a `)` its `(` already decided
            swap = _swap_at(text, i, before, after)
            if swap is not None:
                swapped[i] = swap
                if text[i] == "(":
                    end = _closing_paren(text, i)
                    assert end is not None
                    swapped[end] = "）"
    return sorted(swapped.items())


def _last_significant(text: str, start: int, end: int, swapped: dict[int, str]) -> str:
    """The last character of text[start:end] that is not swappable, swaps applied (`）,` is Chinese).

    `start` is the previous candidate (or 0) and `end` the next: between them stand no candidates,
    so only spaces are swappable there and only text[start] can have been swapped.
    """
    between = text[start + 1 : end].rstrip(" ")
    if between:
        return between[-1]
    if start >= end:
        return ""
    ch = swapped.get(start, text[start])
    return "" if _is_swappable(ch) else ch


_SIGNIFICANT = re.compile(r"[^,:;!?() ]")


def _next_significant(text: str, index: int) -> tuple[int, str]:
    found = _SIGNIFICANT.search(text, index + 1)
    return (found.start(), found.group()) if found else (len(text), "")


def _swap_at(text: str, i: int, before: str, after: str) -> str | None:
    """The full-width form of text[i] if its context is Chinese, else None."""
    ch = text[i]
    if ch == "(":
        end = _closing_paren(text, i)
        if end is not None and (is_cjk(before) or is_cjk(_next_significant(text, end)[1])):
            return "（"
        return None
    if ch == ")":
        return "）" if _opened_fullwidth(text, i) else None  # `（` came back whole from a straddling pair
    if before.isdigit() and after.isdigit():
        return None if _is_number_separator(text, i) else FULLWIDTH[ch]  # 10:30, 1,000 keep ASCII
    if ch in "?!" and before.isascii() and before.isalpha():
        return None  # a Latin question stays Latin
    context = _before_number(text, i) if before.isdigit() else before  # `45？` ends a Chinese sentence
    return FULLWIDTH[ch] if is_cjk(context) or is_cjk(after) else None


def restore_fullwidth(text: str) -> tuple[str, int]:
    """Swap ASCII punctuation for full-width where it sits in Chinese text.

    Returns the text and the number of characters swapped.

    >>> restore_fullwidth("去年8月,2024年(試行)啟動:FDA,不僅如此?")
    ('去年8月，2024年（試行）啟動：FDA，不僅如此？', 6)
    >>> restore_fullwidth("10:30 at 1,000 CanScan?")
    ('10:30 at 1,000 CanScan?', 0)
    >>> restore_fullwidth("常（2024)州")
    ('常（2024）州', 1)
    >>> restore_fullwidth("覆蓋10萬45,20余項45?")
    ('覆蓋10萬45，20余項45？', 2)
    """
    swaps = fullwidth_swaps(text)
    return swapped(text, swaps), len(swaps)


def swapped(text: str, swaps: list[tuple[int, str]]) -> str:
    """`text` with the character at each index of `swaps` (ascending, as `fullwidth_swaps` gives them) replaced.

    Joined from the stretches between the swaps: a list of every character costs a string per Han character.

    >>> swapped("甲,乙?", [(1, "，"), (3, "？")])
    '甲，乙？'
    """
    pieces: list[str] = []
    after = 0
    for i, new in swaps:
        pieces.append(text[after:i])
        pieces.append(new)
        after = i + 1
    pieces.append(text[after:])
    return "".join(pieces)


_LEAKED_TAG = re.compile(r"<?/(?:p|div|span|strong|a|b|i|em|font|td|tr|li)>")


def leaked_markup(text: str) -> list[tuple[int, int]]:
    """Spans of closing tags that leaked into the text, with or without their `<` (`?/p>`).

    Parsed HTML holds no tags in its text, so any left there leaked.

    >>> leaked_markup("有限。”/p>特異型/通用型")
    [(4, 7)]
    """
    if ">" not in text:  # every leaked tag ends with one, and prose seldom holds it: most blocks skip the regex
        return []
    return [m.span() for m in _LEAKED_TAG.finditer(text)]
