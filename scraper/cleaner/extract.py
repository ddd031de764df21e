"""Find the article's parts in repaired HTML (lxml, read as BeautifulSoup reads it) or in captured page text.

Both readers return the same `Extracted` shape; selectors and patterns are kept as data. Block
texts keep the repair's anchors; every field and every decision reads the text without them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

from scraper.cleaner.anchors import strip_anchors
from scraper.cleaner.spam import is_spam_line, kept_tags, strip_title_spam
from scraper.cleaner.tree import Document, Node, classes, parse

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

    heading: Node | None = None  # the first <h1>, else the first element of a title class
    titled: Node | None = None
    crumbs: list[Node] = field(default_factory=list)
    byline: Node | None = None
    body_divs: list[Node] = field(default_factory=list)
    divs: list[Node] = field(default_factory=list)
    dropped: list[Node] = field(default_factory=list)  # injected junk, outermost only


def _walk(page: Document, spam: list[str]) -> _Landmarks:
    """One pass over every tag: injected junk dropped (its spam text kept), landmarks noted."""
    found = _Landmarks()
    for tag in kept_tags(page, spam, found.dropped):
        names = classes(tag)
        if tag.tag == "h1" and found.heading is None:
            found.heading = tag
        if names:
            if found.titled is None and TITLE_CLASSES.search(names):
                found.titled = tag
            if BREADCRUMB_CLASSES.search(names):
                found.crumbs.append(tag)
            if found.byline is None and BYLINE_CLASSES.search(names):
                found.byline = tag
        if tag.tag == "div":
            found.divs.append(tag)
            if names and BODY_CLASSES.search(names):
                found.body_divs.append(tag)
    return found


def extract_html(html: str, url: str | None = None) -> Extracted:
    page = parse(html)
    spam: list[str] = []
    marks = _walk(page, spam)
    page.drop(marks.dropped)
    found = Extracted(spam=spam)
    body = page.find("body") or page.document
    found.title = _html_title(page, marks)
    crumb = _breadcrumb_element(page, body, marks.crumbs)
    if crumb is not None:
        found.breadcrumb = split_breadcrumb(page.text(crumb))
    page_text = page.text(body, "\n")
    visible = strip_anchors(page_text)
    found.published = published_iso(visible)
    source = SOURCE_PATTERN.search(visible)
    found.source = source.group(1) if source else None
    found.byline = _visible(page.text(marks.byline, " ")) if marks.byline is not None else None
    container = _content_element(page, marks)
    if container is None:
        found.layout = "generic"
        found.blocks, spam_lines = _generic_blocks(page_text)
    else:
        found.blocks = _html_blocks(page, container, url)
        spam_lines = _spam_lines(page_text)
    found.spam.extend(spam_lines)
    return found


def _html_title(page: Document, marks: _Landmarks) -> str:
    heading = marks.heading if marks.heading is not None else marks.titled
    if heading is not None and _visible(page.text(heading)):
        return _visible(page.text(heading))
    title = page.find("title")
    return strip_title_spam(strip_anchors(page.text(title))) if title is not None else ""


def _breadcrumb_element(page: Document, body: Node, crumbs: list[Node]) -> Node | None:
    """The element holding `首頁 > ...`: found from its text, a few levels up at most (linear in the page)."""
    for tag in crumbs:
        if HOME.search(strip_anchors(page.text(tag))):
            return tag
    for parent in page.strings_matching(body, HOME):
        element: Node | None = parent
        for _ in range(BREADCRUMB_LEVELS):
            if element is None or element is body:
                break
            text = strip_anchors(page.text(element))
            if len(text) > MAX_BREADCRUMB_CHARS:
                break
            if element.tag in ("div", "p", "span") and ">" in text:
                return element
            element = element.parent
    return None


def _direct_paragraphs(page: Document, tag: Node) -> int:
    return sum(1 for child in page.children(tag) if child.tag == "p")


def _content_element(page: Document, marks: _Landmarks) -> Node | None:
    """The body: the div of a body class holding the most paragraphs, else the div with most of them.

    Nested candidates are counted from the innermost out, so deep nesting stays linear.
    """
    candidates = marks.body_divs
    if not candidates:
        candidates = [t for t in marks.divs if _direct_paragraphs(page, t) >= 2]
    counts = _nested_paragraph_counts(page, candidates)
    candidates = [t for t in candidates if counts[t]]
    if not candidates:
        return None
    return max(candidates, key=lambda t: counts[t])


def _nested_paragraph_counts(page: Document, candidates: list[Node]) -> dict[Node, int]:
    """`<p>` descendants of each candidate, reusing the count of a candidate nested inside another."""
    counts: dict[Node, int] = {}
    wanted = set(candidates)
    for tag in reversed(candidates):  # document order reversed: inner candidates first
        total = 0
        stack = list(page.children(tag))
        while stack:
            node = stack.pop()
            if node in counts and node in wanted:
                total += counts[node]
                continue
            if node.tag == "p":
                total += 1
            stack.extend(page.children(node))
        counts[tag] = total
    return counts


def _first_descendants(page: Document, para: Node) -> tuple[Node | None, Node | None]:
    """The first <img> and the first <strong>/<b> inside a paragraph, in one walk."""
    image = strong = None
    for node in page.tags(para):
        if node is para:
            continue
        if image is None and node.tag == "img":
            image = node
        elif strong is None and node.tag in ("strong", "b"):
            strong = node
    return image, strong


def _html_blocks(page: Document, container: Node, url: str | None) -> list[Block]:
    blocks: list[Block] = []
    after_image = False
    for para in page.tags(container):
        if para.tag != "p" or para is container:
            continue
        image, strong = _first_descendants(page, para)
        if image is not None:
            src_text = image.attrib.get("src") or None
            blocks.append(Block("image", "", urljoin(url, src_text) if url and src_text else src_text))
            after_image = True
            continue
        text = page.text(para)
        visible = _visible(text)
        if not visible:
            continue
        if strong is not None and _visible(page.text(strong)) == visible:
            blocks.append(Block("subheading", text))
        elif after_image and len(visible) <= MAX_CAPTION_CHARS:
            blocks.append(Block("caption", text))
        else:
            blocks.append(Block("paragraph", text))
        after_image = False
    return blocks


def _spam_lines(page_text: str) -> list[str]:
    lines = [_visible(line) for line in page_text.splitlines()[: SPAM_LINES_AT_TOP * 8]]
    lines = [line for line in lines if line][:SPAM_LINES_AT_TOP]
    return [line for i, line in enumerate(lines) if is_spam_line(line, at_top=(i == 0))]


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
