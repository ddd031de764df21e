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


def _next_significant(text: str) -> list[str]:
    """For each index, the nearest character to its right that is not swappable punctuation."""
    result = [""] * (len(text) + 1)
    for i in range(len(text) - 1, -1, -1):
        result[i] = result[i + 1] if _is_swappable(text[i]) else text[i]
    # result[i] covers text[i:]; callers ask for what follows i, so shift by one.
    return [*result[1:], ""]


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
    chars = list(text)
    following = _next_significant(text)
    count = 0
    before = ""  # nearest decided character to the left that is not swappable punctuation
    for i, ch in enumerate(text):
        if i and not _is_swappable(chars[i - 1]):
            before = chars[i - 1]  # `）,` is Chinese once `)` became `）`
        if ch not in FULLWIDTH or chars[i] != ch:
            continue
        after = following[i]
        if ch == "(":
            end = _closing_paren(text, i)
            if end is not None and (is_cjk(before) or is_cjk(following[end])):
                chars[i], chars[end] = "（", "）"
                count += 2
            continue
        if ch == ")":
            if _opened_fullwidth(text, i):  # `（` came back whole from a straddling pair
                chars[i] = "）"
                count += 1
            continue
        if before.isdigit() and after.isdigit():
            if not _is_number_separator(text, i):
                chars[i] = FULLWIDTH[ch]
                count += 1
            continue  # 10:30, 1,000 keep ASCII
        if ch in "?!" and before.isascii() and before.isalpha():
            continue  # a Latin question stays Latin
        context = _before_number(text, i) if before.isdigit() else before  # `45？` ends a Chinese sentence
        if is_cjk(context) or is_cjk(after):
            chars[i] = FULLWIDTH[ch]
            count += 1
    return "".join(chars), count


_LEAKED_TAG = re.compile(r"<?/(?:p|div|span|strong|a|b|i|em|font|td|tr|li)>")


def remove_leaked_markup(text: str) -> tuple[str, int]:
    """Drop closing tags that leaked into the text, with or without their `<` (`?/p>`).

    Parsed HTML holds no tags in its text, so any left there leaked.

    >>> remove_leaked_markup("有限。”/p>特異型/通用型")
    ('有限。”特異型/通用型', 1)
    """
    return _LEAKED_TAG.subn("", text)
