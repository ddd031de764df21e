"""Find the article's parts in repaired HTML (BeautifulSoup + lxml) or in captured page text.

Both readers return the same `Extracted` shape; selectors and patterns are kept as data. Block
texts keep the repair's anchors; every field and every decision reads the text without them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Tag

from scraper.cleaner.anchors import CLOSE, OPEN, strip_anchors
from scraper.cleaner.spam import is_spam_line, kept_tags, strip_title_spam

NBSP = "\xa0"
TIME_PATTERN = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?")
SOURCE_PATTERN = re.compile(r"來源\s*[:：]\s*([^\s|｜]+)")
HOME = re.compile("首[頁页]")
BREADCRUMB_CLASSES = re.compile(r"position|crumb|location|path|nav-?bar", re.I)
BODY_CLASSES = re.compile(r"TRS_|article-?content|content|article-?body|text", re.I)
TITLE_CLASSES = re.compile(r"title", re.I)
BYLINE_CLASSES = re.compile(r"^(?:editor|author|byline)")  # not TRS_Editor, the body
MAX_CAPTION_CHARS = 60  # captions are a phrase; paragraphs run to sentences
MAX_SUBHEADING_CHARS = 40
MAX_BREADCRUMB_CHARS = 120
BREADCRUMB_LEVELS = 4  # a breadcrumb's text sits a few elements below the element that holds it all
SPAM_LINES_AT_TOP = 5


@dataclass
class Block:
    kind: str  # paragraph | subheading | caption | image
    text: str  # with the repair's anchors
    image_url: str | None = None


@dataclass
class Extracted:
    """The article's parts before their text is finished (punctuation, repairs placed)."""

    title: str = ""
    published: str | None = None
    source: str | None = None
    byline: str | None = None
    breadcrumb: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    spam: list[str] = field(default_factory=list)  # the text of each spam block dropped
    layout: str = "portal"  # portal | generic


def _clean(text: str) -> str:
    return text.replace(NBSP, " ").strip()


def _visible(text: str) -> str:
    return _clean(strip_anchors(text))


_SHOWN = re.compile(r"[^\s\ufdd0-\ufdef]")  # `\s` is what str.strip() removes, NBSP too


def _shows_text(text: str) -> bool:
    """Whether `_visible(text)` holds anything, told by its first such character instead of building it."""
    if OPEN in text or CLOSE in text:  # as in strip_anchors: only then are noncharacters removed
        return _SHOWN.search(text) is not None
    return bool(text) and not text.isspace()


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
    return [part for part in (_clean(p) for p in strip_anchors(text).replace(NBSP, " ").split(">")) if part]


# ---- HTML -----------------------------------------------------------------


@dataclass
class _Landmarks:
    """What one walk over the tags finds: candidates for each part of the page."""

    body: Tag | None = None  # the first <body>: what `soup.body` finds once the junk is gone, without a search
    heading: Tag | None = None  # the first <h1>, else the first element of a title class
    titled: Tag | None = None
    crumbs: list[Tag] = field(default_factory=list)
    byline: Tag | None = None
    body_divs: list[Tag] = field(default_factory=list)
    divs: list[Tag] = field(default_factory=list)
    dropped: list[Tag] = field(default_factory=list)  # injected junk, outermost only


def _classes(tag: Tag) -> str:
    value = tag.get("class")
    return " ".join(value) if isinstance(value, list) else str(value or "")


def _walk(soup: BeautifulSoup, spam: list[str]) -> _Landmarks:
    """One pass over every tag: injected junk dropped (its spam text kept), landmarks noted."""
    found = _Landmarks()
    for tag in kept_tags(soup, spam, found.dropped):
        classes = _classes(tag)
        if tag.name == "h1" and found.heading is None:
            found.heading = tag
        elif tag.name == "body" and found.body is None:
            found.body = tag
        if classes:
            if found.titled is None and TITLE_CLASSES.search(classes):
                found.titled = tag
            if BREADCRUMB_CLASSES.search(classes):
                found.crumbs.append(tag)
            if found.byline is None and BYLINE_CLASSES.search(classes):
                found.byline = tag
        if tag.name == "div":
            found.divs.append(tag)
            if classes and BODY_CLASSES.search(classes):
                found.body_divs.append(tag)
    return found


def extract_html(html: str, url: str | None = None) -> Extracted:
    soup = BeautifulSoup(html, "lxml")
    spam: list[str] = []
    marks = _walk(soup, spam)
    for tag in marks.dropped:
        tag.decompose()
    found = Extracted(spam=spam)
    body = marks.body or soup
    found.title = _html_title(soup, marks)
    crumb = _breadcrumb_element(body, marks.crumbs)
    if crumb is not None:
        found.breadcrumb = split_breadcrumb(crumb.get_text())
    page_text = body.get_text("\n")
    visible = strip_anchors(page_text)
    found.published = published_iso(visible)
    source = SOURCE_PATTERN.search(visible)
    found.source = source.group(1) if source else None
    found.byline = _visible(marks.byline.get_text(" ")) if marks.byline is not None else None
    container = _content_element(marks)
    if container is None:
        found.layout = "generic"
        found.blocks, spam_lines = _generic_blocks(page_text)
    else:
        found.blocks = _html_blocks(container, url)
        spam_lines = _spam_lines(page_text)
    found.spam.extend(spam_lines)
    return found


def _html_title(soup: BeautifulSoup, marks: _Landmarks) -> str:
    heading = marks.heading or marks.titled
    if heading is not None and _visible(heading.get_text()):
        return _visible(heading.get_text())
    return strip_title_spam(strip_anchors(soup.title.get_text())) if soup.title else ""


def _breadcrumb_element(body: Tag, crumbs: list[Tag]) -> Tag | None:
    """The element holding `首頁 > ...`: found from its text, a few levels up at most (linear in the page)."""
    for tag in crumbs:
        if HOME.search(strip_anchors(tag.get_text())):
            return tag
    for string in body.find_all(string=HOME):
        element = string.parent
        for _ in range(BREADCRUMB_LEVELS):
            if not isinstance(element, Tag) or element is body:
                break
            text = strip_anchors(element.get_text())
            if len(text) > MAX_BREADCRUMB_CHARS:
                break
            if element.name in ("div", "p", "span") and ">" in text:
                return element
            element = element.parent
    return None


def _direct_paragraphs(tag: Tag) -> int:
    return sum(1 for child in tag.children if isinstance(child, Tag) and child.name == "p")


def _content_element(marks: _Landmarks) -> Tag | None:
    """The body: the div of a body class holding the most paragraphs, else the div with most of them.

    Nested candidates are counted from the innermost out, so deep nesting stays linear.
    """
    candidates = marks.body_divs
    if not candidates:
        candidates = [t for t in marks.divs if _direct_paragraphs(t) >= 2]
    counts = _nested_paragraph_counts(candidates)
    candidates = [t for t in candidates if counts[id(t)]]
    if not candidates:
        return None
    return max(candidates, key=lambda t: counts[id(t)])


def _nested_paragraph_counts(candidates: list[Tag]) -> dict[int, int]:
    """`<p>` descendants of each candidate, reusing the count of a candidate nested inside another."""
    counts: dict[int, int] = {}
    wanted = {id(t) for t in candidates}
    for tag in reversed(candidates):  # document order reversed: inner candidates first
        total = 0
        stack = list(tag.children)
        while stack:
            node = stack.pop()
            if not isinstance(node, Tag):
                continue
            if id(node) in counts and id(node) in wanted:
                total += counts[id(node)]
                continue
            if node.name == "p":
                total += 1
            stack.extend(node.children)
        counts[id(tag)] = total
    return counts


def _first_descendants(para: Tag) -> tuple[Tag | None, Tag | None]:
    """The first <img> and the first <strong>/<b> inside a paragraph, in one walk."""
    image = strong = None
    for node in para.descendants:
        if isinstance(node, Tag):
            if image is None and node.name == "img":
                image = node
            elif strong is None and node.name in ("strong", "b"):
                strong = node
    return image, strong


def _html_blocks(container: Tag, url: str | None) -> list[Block]:
    blocks: list[Block] = []
    after_image = False
    for para in container.find_all("p"):
        image, strong = _first_descendants(para)
        if image is not None:
            src = image.get("src")
            src_text = str(src) if src else None
            blocks.append(Block("image", "", urljoin(url, src_text) if url and src_text else src_text))
            after_image = True
            continue
        text = para.get_text()
        if not _shows_text(text):
            continue
        visible = _visible(text) if strong is not None or after_image else ""  # else never read
        if strong is not None and _visible(strong.get_text()) == visible:
            blocks.append(Block("subheading", text))
        elif after_image and len(visible) <= MAX_CAPTION_CHARS:
            blocks.append(Block("caption", text))
        else:
            blocks.append(Block("paragraph", text))
        after_image = False
    return blocks


def _spam_lines(page_text: str) -> list[str]:
    lines: list[str] = []
    for line in _first_lines(page_text, SPAM_LINES_AT_TOP * 8):
        visible = _visible(line)
        if visible:
            lines.append(visible)
            if len(lines) == SPAM_LINES_AT_TOP:
                break
    return [line for i, line in enumerate(lines) if is_spam_line(line, at_top=(i == 0))]


def _first_lines(text: str, count: int) -> list[str]:
    """`text.splitlines()[:count]`, splitting only as far into the text as those lines reach.

    A prefix's lines are the text's lines but for its last, which the cut may shorten: once a prefix
    holds more than `count` lines, its first `count` are the text's.

    >>> _first_lines("a\\r\\nb\\n\\nc", 2)
    ['a', 'b']
    """
    reach = 1024  # a page's first 40 lines, mostly empty, end within a few hundred characters
    while reach < len(text):
        lines = text[:reach].splitlines()
        if len(lines) > count:
            return lines[:count]
        reach *= 2
    return text.splitlines()[:count]


def _generic_blocks(text: str) -> tuple[list[Block], list[str]]:
    """Every non-empty line a paragraph, less the spam lines at the top."""
    lines = [line for line in text.splitlines() if _visible(line)]
    spam: list[str] = []
    while lines and is_spam_line(_visible(lines[0]), at_top=True):
        spam.append(_visible(lines.pop(0)))
    return [Block("paragraph", line) for line in lines], spam


# ---- captured text (the seed) ---------------------------------------------


def extract_text(text: str) -> Extracted:
    """Read a page captured as text: the portal's layout (PORTAL.md's table), or any other.

    On another layout every line is a paragraph and the first is the title.
    """
    lines = text.splitlines()
    visible = [strip_anchors(line) for line in lines]
    found = Extracted()
    start = 0
    while start < len(lines) and (not visible[start].strip() or is_spam_line(visible[start], at_top=True)):
        if visible[start].strip():
            found.spam.append(visible[start].strip())
        start += 1
    crumb = next((i for i in range(start, len(lines)) if HOME.search(visible[i]) and ">" in visible[i]), None)
    time_at = next((i for i in range(start, len(lines)) if TIME_PATTERN.search(visible[i])), None)
    if crumb is None or time_at is None or time_at < crumb:
        found.layout = "generic"
        found.blocks, _ = _generic_blocks("\n".join(lines[start:]))
        found.title = _visible(found.blocks.pop(0).text) if found.blocks else ""
        return found
    found.breadcrumb = split_breadcrumb(visible[crumb])
    for line in visible[crumb + 1 : time_at]:
        if not line.strip():
            continue
        source = SOURCE_PATTERN.search(line)
        if source:
            found.source = source.group(1)
        elif not found.title:
            found.title = _clean(line)
    found.published = published_iso(visible[time_at])
    body = [line for line in lines[time_at + 1 :] if _visible(line)]
    if body and "記者" in strip_anchors(body[-1]):
        found.byline = _visible(body.pop())
    found.blocks = [_text_block(line) for line in body]
    return found


def _text_block(line: str) -> Block:
    shown = strip_anchors(line)
    text = _clean(shown)
    if not shown.startswith(" "):
        return Block("caption", line)
    if shown.rstrip(" ").endswith(NBSP) and "。" not in text and len(text) <= MAX_SUBHEADING_CHARS:
        return Block("subheading", line)
    return Block("paragraph", line)
