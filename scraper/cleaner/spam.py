"""Recognise the keyword spam the portal injects: header lines, hidden link farms, redirects.

A spam line is a list of short keywords (commas, `丨`, a trailing ` ?`) or a lone `?`;
a real title with one keyword-like word is not a list, so it stays.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bs4 import BeautifulSoup, Tag

_SEPARATORS = re.compile(r"[,，丨|]")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_REDIRECT = re.compile(r"location\s*\.\s*(?:href|replace)|window\.location|document\.referrer", re.I)
MIN_KEYWORDS = 3  # a title may hold one `|`; spam lists hold many keywords
MAX_KEYWORD_CHARS = 24
# Words that only SEO spam of this family uses; a list needs one of them to be spam
# when it is not at the very top of the page.
SPAM_WORDS = (
    "無碼",
    "无码",
    "字幕",
    "視頻",
    "视频",
    "亚洲",
    "亞洲",
    "精品",
    "在线",
    "在線",
    "免费",
    "免費",
    "国产",
    "國產",
    "人妻",
    "偷拍",
    "自拍",
    "乱码",
    "亂碼",
    "高清",
    "毛片",
    "av",
    "aⅴ",
)


def is_spam_line(line: str, at_top: bool = False) -> bool:
    """True for a keyword-spam line.

    >>> is_spam_line("中文字幕欧美日韩va免费视频,亚洲aⅴ在线无码播放毛片一线天,亚洲无码一区二区三区")
    True
    >>> is_spam_line("江蘇TOP級未來產業觀察①|江蘇細胞和基因技術產業緣何成果頻頻？")
    False
    >>> is_spam_line("?", at_top=True)
    True
    """
    stripped = line.strip().rstrip("?？").strip()
    if not stripped:
        return at_top and line.strip() in ("?", "？")
    keywords = [k.strip() for k in _SEPARATORS.split(stripped) if k.strip()]
    if len(keywords) < MIN_KEYWORDS or "。" in stripped:
        return False
    if max(len(k) for k in keywords) > MAX_KEYWORD_CHARS:
        return False
    return at_top or any(word in stripped.lower() for word in SPAM_WORDS)


def strip_title_spam(title: str) -> str:
    """`<title>` holds `keywords_title`: keep the part after the keyword list.

    >>> strip_title_spam("亚洲无码,中文字幕,免费视频_江蘇細胞產業")
    '江蘇細胞產業'
    """
    head, sep, tail = title.rpartition("_")
    return tail.strip() if sep and is_spam_line(head, at_top=True) else title.strip()


INJECTED_TAGS = frozenset({"script", "noscript", "style", "iframe"})
_SPAM_META = re.compile("^(keywords|description)$", re.I)


def injected_spam(tag: Tag) -> tuple[bool, str | None]:
    """Whether `tag` is injected junk to drop, and the spam text it carries, if it counts as spam.

    Scripts, styles and hidden blocks go; redirect scripts, hidden link farms and keyword
    `<meta>` count as spam (a `<meta>` stays: it holds no text).
    """
    if tag.name in INJECTED_TAGS:
        text = tag.get_text()
        return True, text.strip() if tag.name != "style" and tag.name != "iframe" and _REDIRECT.search(text) else None
    if not tag.attrs:  # neither hidden nor a keyword `<meta>`: most tags stop here
        return False, None
    if _is_hidden(tag):
        return True, " ".join(tag.get_text(" ").split()) if tag.find("a") is not None else None
    if tag.name == "meta" and _SPAM_META.match(str(tag.get("name", ""))):
        content = str(tag.get("content", ""))
        return False, content if is_spam_line(content, at_top=True) else None
    return False, None


def kept_tags(soup: BeautifulSoup, spam: list[str], dropped: list[Tag]) -> Iterator[Tag]:
    """Every tag in document order less the injected junk and all inside it.

    The junk goes to `dropped` (outermost tags only, to decompose once the walk is over: tearing
    the tree apart while walking it would skip tags) and the spam texts to `spam`.
    """
    gone: set[int] = set()
    for tag in soup.find_all(True):
        if id(tag.parent) in gone:  # inside a dropped block
            gone.add(id(tag))
            continue
        drop, text = injected_spam(tag)
        if text is not None:
            spam.append(text)
        if drop:
            gone.add(id(tag))
            dropped.append(tag)
            continue
        yield tag


def remove_injected(soup: BeautifulSoup) -> list[str]:
    """Drop scripts, styles and hidden blocks (link farms); returns the text of each spam block that went."""
    spam: list[str] = []
    dropped: list[Tag] = []
    for _ in kept_tags(soup, spam, dropped):
        pass
    for tag in dropped:
        tag.decompose()
    return spam


def _is_hidden(tag: Tag) -> bool:
    style = tag.attrs.get("style")
    return "hidden" in tag.attrs or (style is not None and _HIDDEN_STYLE.search(str(style)) is not None)
