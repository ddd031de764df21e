"""Find the article's parts in repaired HTML (BeautifulSoup + lxml) or in captured page text.

Both readers return the same `Extracted` shape; selectors and patterns are kept as data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Tag

from scraper.cleaner.spam import is_spam_line, remove_injected, strip_title_spam

NBSP = "\xa0"
TIME_PATTERN = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?")
SOURCE_PATTERN = re.compile(r"來源\s*[:：]\s*([^\s|｜]+)")
BREADCRUMB_CLASSES = re.compile(r"position|crumb|location|path|nav-?bar", re.I)
BODY_CLASSES = re.compile(r"TRS_|article-?content|content|article-?body|text", re.I)
TITLE_CLASSES = re.compile(r"title", re.I)
BYLINE_CLASSES = re.compile(r"^(?:editor|author|byline)")  # not TRS_Editor, the body
MAX_CAPTION_CHARS = 60  # captions are a phrase; paragraphs run to sentences
MAX_SUBHEADING_CHARS = 40


@dataclass
class Block:
    kind: str  # paragraph | subheading | caption | image
    text: str
    image_url: str | None = None


@dataclass
class Extracted:
    """The article's parts before their text is finished (punctuation, markers)."""

    title: str = ""
    published: str | None = None
    source: str | None = None
    byline: str | None = None
    breadcrumb: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    spam_blocks: int = 0
    layout: str = "portal"  # portal | generic


def _clean(text: str) -> str:
    return text.replace(NBSP, " ").strip()


def published_iso(text: str) -> str | None:
    """`2025-08-26 08:21:00` (Beijing time) as ISO 8601 with +08:00.

    >>> published_iso("2025-08-26 08:21:00")
    '2025-08-26T08:21:00+08:00'
    """
    match = TIME_PATTERN.search(text)
    if not match:
        return None
    y, mo, d, h, mi, s = match.groups()
    return f"{int(y):04d}-{int(mo):02d}-{int(d):02d}T{int(h):02d}:{mi}:{s or '00'}+08:00"


def split_breadcrumb(text: str) -> list[str]:
    return [part for part in (_clean(p) for p in text.replace(NBSP, " ").split(">")) if part]


# ---- HTML -----------------------------------------------------------------


def extract_html(html: str, url: str | None = None) -> Extracted:
    soup = BeautifulSoup(html, "lxml")
    found = Extracted(spam_blocks=remove_injected(soup))
    body = soup.body or soup
    found.title = _html_title(soup)
    crumb = _breadcrumb_element(body)
    if crumb is not None:
        found.breadcrumb = split_breadcrumb(crumb.get_text())
    page_text = body.get_text("\n")
    found.published = published_iso(page_text)
    source = SOURCE_PATTERN.search(page_text)
    found.source = source.group(1) if source else None
    byline = body.find(class_=BYLINE_CLASSES)
    found.byline = _clean(byline.get_text(" ")) if isinstance(byline, Tag) else None
    container = _content_element(body)
    if container is None:
        found.layout = "generic"
        found.blocks = _generic_blocks(page_text)
    else:
        found.blocks = _html_blocks(container, url)
    found.spam_blocks += _count_spam_lines(body)
    return found


def _html_title(soup: BeautifulSoup) -> str:
    heading = soup.find("h1") or soup.find(class_=TITLE_CLASSES)
    if isinstance(heading, Tag) and _clean(heading.get_text()):
        return _clean(heading.get_text())
    return strip_title_spam(soup.title.get_text()) if soup.title else ""


def _breadcrumb_element(body: Tag) -> Tag | None:
    for tag in body.find_all(class_=BREADCRUMB_CLASSES):
        if "首頁" in tag.get_text() or "首页" in tag.get_text():
            return tag
    for tag in body.find_all(["div", "p", "span"]):
        text = tag.get_text()
        if ("首頁" in text or "首页" in text) and ">" in text and len(text) < 120:
            return tag
    return None


def _content_element(body: Tag) -> Tag | None:
    candidates = [t for t in body.find_all("div", class_=BODY_CLASSES) if t.find("p")]
    if not candidates:
        candidates = [t for t in body.find_all("div") if len(t.find_all("p", recursive=False)) >= 2]
    if not candidates:
        return None
    return max(candidates, key=lambda t: len(t.find_all("p")))


def _html_blocks(container: Tag, url: str | None) -> list[Block]:
    blocks: list[Block] = []
    after_image = False
    for para in container.find_all("p"):
        image = para.find("img")
        if isinstance(image, Tag):
            src = image.get("src")
            src_text = str(src) if src else None
            blocks.append(Block("image", "", urljoin(url, src_text) if url and src_text else src_text))
            after_image = True
            continue
        text = _clean(para.get_text())
        if not text:
            continue
        strong = para.find(["strong", "b"])
        if isinstance(strong, Tag) and _clean(strong.get_text()) == text:
            blocks.append(Block("subheading", text))
        elif after_image and len(text) <= MAX_CAPTION_CHARS:
            blocks.append(Block("caption", text))
        else:
            blocks.append(Block("paragraph", text))
        after_image = False
    return blocks


def _count_spam_lines(body: Tag) -> int:
    lines = [_clean(line) for line in body.get_text("\n").splitlines() if _clean(line)]
    return sum(1 for i, line in enumerate(lines[:5]) if is_spam_line(line, at_top=(i == 0)))


def _generic_blocks(text: str) -> list[Block]:
    lines = [_clean(line) for line in text.splitlines()]
    lines = [line for line in lines if line]
    while lines and is_spam_line(lines[0], at_top=True):
        lines.pop(0)
    return [Block("paragraph", line) for line in lines]


# ---- captured text (the seed) ---------------------------------------------


def extract_text(text: str) -> Extracted:
    """Read the portal's page as a crawler's text capture (PORTAL.md's layout table)."""
    lines = text.splitlines()
    found = Extracted()
    start = 0
    while start < len(lines) and (not lines[start].strip() or is_spam_line(lines[start], at_top=True)):
        found.spam_blocks += 1 if lines[start].strip() else 0
        start += 1
    crumb = next((i for i in range(start, len(lines)) if "首頁" in lines[i] and ">" in lines[i]), None)
    time_at = next((i for i in range(start, len(lines)) if TIME_PATTERN.search(lines[i])), None)
    if crumb is None or time_at is None:
        found.layout = "generic"
        found.blocks = _generic_blocks("\n".join(lines[start:]))
        found.title = found.blocks.pop(0).text if found.blocks else ""
        return found
    found.breadcrumb = split_breadcrumb(lines[crumb])
    header = [line for line in lines[crumb + 1 : time_at] if line.strip()]
    for line in header:
        source = SOURCE_PATTERN.search(line)
        if source:
            found.source = source.group(1)
        elif not found.title:
            found.title = _clean(line)
    found.published = published_iso(lines[time_at])
    body = [line for line in lines[time_at + 1 :] if line.strip()]
    if body and "記者" in body[-1]:
        found.byline = _clean(body.pop())
    found.blocks = [_text_block(line) for line in body]
    return found


def _text_block(line: str) -> Block:
    text = _clean(line)
    if not line.startswith(" "):
        return Block("caption", text)
    if line.rstrip(" ").endswith(NBSP) and "。" not in text and len(text) <= MAX_SUBHEADING_CHARS:
        return Block("subheading", text)
    return Block("paragraph", text)
