"""The cleaner: a pure function from a raw page (bytes, URL, headers) to a restored Article.

Steps, in order: decode (decoding) -> repair bytes (repair) -> parse and drop spam
(extract, spam) -> finish text: leaked markup, full-width punctuation, markers
(punctuation, markers) -> Simplified form (OpenCC t2s). No Scrapy here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

import opencc

from scraper.cleaner.article import Article, CleanError, CleaningReport, Image, Unrecoverable
from scraper.cleaner.decoding import decode_body
from scraper.cleaner.extract import Extracted, extract_html, extract_text
from scraper.cleaner.markers import resolve_markers, strip_marker_tags
from scraper.cleaner.punctuation import remove_leaked_markup, restore_fullwidth
from scraper.cleaner.repair import RepairResult, repair_gbk_bytes, repair_text
from scraper.cleaner.version import cleaner_version

__all__ = ["Article", "CleanError", "article_id", "clean_page", "clean_text", "restore_fragment"]

ARTICLE_ID = re.compile(r"/t\d{8}_(\d+)\.s?html?$")
MAX_BODY_BYTES = 8 * 1024 * 1024  # far above any article page; bounds the repair's work
REPORTER_AFTER = re.compile(r"記者[:：\s]*(.+)$")
NAME = re.compile(r"^[\u4e00-\u9fff]{2,4}$")


def article_id(url: str | None) -> str | None:
    """The portal's article number from its URL.

    >>> article_id("http://www.zhaoenyun.cn/news/yw/202508/t20250826_254967.html")
    '254967'
    """
    match = ARTICLE_ID.search(url or "")
    return match.group(1) if match else None


@lru_cache(maxsize=1)
def _to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def reporters_from_byline(byline: str | None) -> list[str]:
    """Names after `記者` in a byline.

    >>> reporters_from_byline("新華日報·交匯點記者 許愿 柏麗娟")
    ['許愿', '柏麗娟']
    """
    match = REPORTER_AFTER.search(byline or "")
    if not match:
        return []
    return [name for name in re.split(r"[\s,，、]+", match.group(1)) if NAME.match(name)]


def clean_page(
    body: bytes, url: str | None = None, headers: Mapping[str, str] | None = None, strict: bool = True
) -> Article:
    """Restore an article from a raw HTTP body.

    Raises CleanError when the page holds no article (with `strict`, also when its
    layout is not the portal's) or is too large to be one.
    """
    if len(body) > MAX_BODY_BYTES:
        raise CleanError(f"body of {len(body)} bytes exceeds {MAX_BODY_BYTES}: not an article page")
    decoded = decode_body(body, headers)
    if decoded.gbk_bytes is not None:
        repaired = repair_gbk_bytes(decoded.gbk_bytes)
    else:
        assert decoded.text is not None
        repaired = repair_text(decoded.text)
    extracted = extract_html(repaired.text, url)
    return _finish(extracted, repaired, url, decoded.charset, strict)


def clean_text(text: str, url: str | None = None, strict: bool = False) -> Article:
    """Restore an article from text captured off a page (like the seed)."""
    repaired = repair_text(text)
    return _finish(extract_text(repaired.text), repaired, url, None, strict)


def _finish(found: Extracted, repaired: RepairResult, url: str | None, charset: str | None, strict: bool) -> Article:
    if strict and found.layout != "portal":
        raise CleanError("no article body found (layout is not the portal's)")
    if not found.title or not any(b.kind == "paragraph" for b in found.blocks):
        raise CleanError("no title" if not found.title else "no body paragraphs")
    report = CleaningReport(
        spam_blocks=found.spam_blocks,
        pinyin_removed=repaired.report.pinyin_removed,
        mojibake_runs=repaired.report.mojibake_runs,
        bytes_restored=repaired.report.bytes_restored,
        markup_removed=repaired.report.markup_restored,  # tags whose swallowed `<` came back
        model_choices=repaired.report.model_choices,
    )

    def finish(text: str) -> str:
        text, leaked = remove_leaked_markup(text)
        text, swapped = restore_fullwidth(text)
        report.markup_removed += leaked
        report.punctuation_restored += swapped
        return text

    title = finish(found.title)
    blocks = [(b.kind, finish(b.text), b.image_url) for b in found.blocks]
    tagged_text = "\n".join(text for kind, text, _ in blocks if kind != "image")
    text, spots = resolve_markers(tagged_text, repaired.report.marker_reasons)
    report.unrecoverable = [Unrecoverable(offset, reason) for offset, reason in spots]
    title = strip_marker_tags(title)
    blocks = [(kind, strip_marker_tags(t), u) for kind, t, u in blocks]
    images = _images(blocks)
    simplified = _to_simplified()
    return Article(
        url=url,
        id=article_id(url),
        title=title,
        title_hans=simplified.convert(title),
        published_at=found.published,
        source=found.source,
        reporters=reporters_from_byline(found.byline),
        section=found.breadcrumb[-1] if found.breadcrumb else None,
        breadcrumb=found.breadcrumb,
        paragraphs=[t for kind, t, _ in blocks if kind == "paragraph"],
        subheadings=[t for kind, t, _ in blocks if kind == "subheading"],
        images=images,
        text=text,
        text_hans=simplified.convert(text),
        charset=charset,
        cleaning=report,
        cleaner_version=cleaner_version(),
    )


def _images(blocks: list[tuple[str, str, str | None]]) -> list[Image]:
    """Images with the caption that follows them; a caption with no image keeps url None."""
    images: list[Image] = []
    for kind, text, url in blocks:
        if kind == "image":
            images.append(Image(url=url, caption=None))
        elif kind == "caption":
            if images and images[-1].caption is None and images[-1].url is not None:
                images[-1].caption = text
            else:
                images.append(Image(url=None, caption=text))
    return images


def restore_fragment(data: str | bytes) -> tuple[str, RepairResult]:
    """Restore a bare fragment (a line, not a page): repair, leaked markup, punctuation.

    Bytes are raw GBK as served; str is text the server already decoded.

    >>> restore_fragment("產(chǎn)業(yè)發(fā)展,規(guī)?;\\ue209鲩L")[0]
    '產業發展，規模化增長'
    """
    repaired = repair_gbk_bytes(data) if isinstance(data, bytes) else repair_text(data)
    text, _ = remove_leaked_markup(repaired.text)
    text, _ = restore_fullwidth(text)
    text, _ = resolve_markers(text, repaired.report.marker_reasons)
    return text, repaired
