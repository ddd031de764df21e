"""Builders of valid sample records and small finished crawls, for tests of this package and of its users.
Not used by the archive code itself; kept in the package so scraper tests can build archives too."""

from __future__ import annotations

import hashlib
import html
import logging
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from .layout import CDXJ, WARC, ArchiveLayout
from .manifest import write_manifest
from .quarantine import QuarantineWriter
from .reader import iter_records, readable_warcs
from .schema import SCHEMA_VERSION, normalize_record, text_sha256
from .warc import WarcCapture
from .writer import ClosedFile, JsonlWriter

logger = logging.getLogger(__name__)


def sample_record(
    article_id: str = "1001",
    version: int = 1,
    text: str = "新闻正文。",
    crawl_id: str = "20250101T000000Z-aaaaaa",
    **overrides: Any,
) -> dict[str, Any]:
    """A schema-valid article record; `overrides` replace fields (text_sha256 follows `text`)."""
    record = {
        "schema_version": SCHEMA_VERSION,
        "id": article_id,
        "url": f"http://news.example.cn/a/{article_id}.html",
        "version": version,
        "crawl_id": crawl_id,
        "fetched_at": "2025-01-01T00:00:00Z",
        "http_status": 200,
        "charset": "gbk",
        "content_sha256": "0" * 64,
        "text_sha256": text_sha256(text),
        "title": "標題",
        "title_hans": "标题",
        "published_at": "2024-12-31T08:00:00+08:00",
        "source": "本報",
        "reporters": ["記者甲"],
        "section": "要聞",
        "breadcrumb": ["首頁", "要聞"],
        "paragraphs": [text],
        "subheadings": [],
        "images": [{"url": None, "caption": None}],
        "text": text,
        "text_hans": text,
        "cleaning": {
            "spam_blocks": 0,
            "pinyin_removed": 0,
            "mojibake_runs": 0,
            "bytes_restored": 0,
            "punctuation_restored": 0,
            "unrecoverable": [],
            "repairs": [],
        },
        "cleaner_version": "0.1.0+model.000000000000",
        "warc_file": None,
        "warc_record_id": None,
        "warc_offset": None,
    }
    record.update(overrides)
    return normalize_record(record)


def sample_quarantine(
    url: str = "http://news.example.cn/a/bad.html", crawl_id: str = "20250101T000000Z-aaaaaa", **overrides: Any
) -> dict[str, Any]:
    """A schema-valid quarantine record."""
    record = {
        "url": url,
        "reason": "no_title",
        "detail": "title element missing",
        "fetched_at": "2025-01-01T00:00:00Z",
        "crawl_id": crawl_id,
        "http_status": 200,
        "warc_file": None,
        "warc_record_id": None,
        "warc_offset": None,
    }
    record.update(overrides)
    return record


def write_sample_crawl(
    root: Path | str,
    crawl_id: str,
    records: Iterable[dict[str, Any]],
    quarantine: Iterable[dict[str, Any]] = (),
    *,
    manifest: bool = True,
    compress: bool = True,
    max_records: int = 10_000,
    started_at: str = "2025-01-01T00:00:00Z",
    extra_files: Iterable[ClosedFile] = (),
) -> Path | None:
    """Write a finished crawl (articles, quarantine, manifest) and return the manifest path (None if manifest=False).

    Summary counts treat version 1 as 'archived' and higher versions as 'new_version', and quarantine records
    with outcome "skipped" as skip entries. `extra_files` (the crawl's WARC files) are listed in the manifest too.
    """
    layout = ArchiveLayout(Path(root))
    layout.ensure_dirs()
    records = list(records)
    with JsonlWriter(layout.articles_dir, crawl_id, max_records=max_records, compress=compress) as articles:
        for record in records:
            articles.write(record)
    with QuarantineWriter(layout.quarantine_dir, crawl_id, compress=compress) as bad:
        quarantined = skip_entries = 0
        for record in quarantine:
            bad.write(record)
            if record.get("outcome") == "skipped":
                skip_entries += 1
            else:
                quarantined += 1
    if not manifest:
        return None
    summary = {
        "archived": sum(1 for r in records if r["version"] == 1),
        "unchanged": 0,
        "new_version": sum(1 for r in records if r["version"] > 1),
        "quarantined": quarantined,
        "skipped": skip_entries,
        "skip_entries": skip_entries,
    }
    files = [*extra_files, *articles.closed_files, *bad.closed_files]
    return write_manifest(layout.root, crawl_id, started_at, started_at, {"source": "sample"}, files, summary)


@dataclass(frozen=True)
class DamagedText:
    """Body paragraphs as a damaged page shows them, the text restored from them, and the repairs between the two."""

    shown: list[str]
    text: str
    repairs: list[dict[str, Any]]
    unrecoverable: list[dict[str, Any]]


def damaged_text(paragraphs: Sequence[Sequence[str | dict[str, Any]]], spam: Sequence[str] = ()) -> DamagedText:
    """Build a restored text and its `cleaning.repairs` from pieces, so that tests can state damage plainly.

    Each paragraph is a list of pieces: a string is text the page shows as it is; a dict
    `{"kind", "shown", "restored"}` (plus `candidates`, or `reason` for an unrecoverable spot) is a repair.
    `spam` blocks become spam repairs (offset 0, length 0).
    """
    shown, lines, repairs, unrecoverable = [], [], [], []
    offset = 0
    for paragraph in paragraphs:
        page, line = [], []
        for piece in paragraph:
            if isinstance(piece, str):
                page.append(piece)
                line.append(piece)
                offset += len(piece)
                continue
            repair: dict[str, Any] = {
                "kind": piece["kind"],
                "offset": offset,
                "length": len(piece["restored"]),
                "original": piece["shown"],
            }
            if piece.get("candidates"):
                repair["candidates"] = list(piece["candidates"])
            if piece["kind"] == "unrecoverable":
                unrecoverable.append({"offset": offset, "reason": piece.get("reason", "not recoverable from the page")})
            repairs.append(repair)
            page.append(piece["shown"])
            line.append(piece["restored"])
            offset += len(piece["restored"])
        shown.append("".join(page))
        lines.append("".join(line))
        offset += 1  # the newline between paragraphs
    spam_repairs = [{"kind": "spam", "offset": 0, "length": 0, "original": block} for block in spam]
    return DamagedText(shown, "\n".join(lines), spam_repairs + repairs, unrecoverable)


def sample_page(
    title: str,
    paragraphs: Sequence[str],
    *,
    spam: str = "",
    keywords: str = "",
    section: str = "要聞",
    source: str = "交匯點新聞",
    published: str = "2025-08-26 08:21:00",
    meta_charset: str = "gb2312",
) -> str:
    """An article page laid out like the portal's (see PORTAL.md): keyword spam in the head and atop the body,
    a breadcrumb, the title, source and time, then one <p> per paragraph indented with two NBSP."""
    e = html.escape
    body = "\n".join(f"<p>&nbsp;&nbsp;{e(paragraph)}</p>" for paragraph in paragraphs)
    head_title = f"{keywords}_{title}" if keywords else title
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n"
        f'<meta http-equiv="Content-Type" content="text/html; charset={e(meta_charset)}">\n'
        f"<title>{e(head_title)}</title>\n"
        f'<meta name="keywords" content="{e(keywords)}">\n'
        '<script>if(/baidu/.test(document.referrer)){location.href="http://spam.example/";}</script>\n'
        "</head>\n<body>\n"
        + (f'<div class="spam-top">{e(spam)}</div>\n' if spam else "")
        + f'<div class="position"><a href="/">首頁</a>&nbsp;&gt;&nbsp;<a href="/news/">新聞中心</a>&nbsp;&gt;&nbsp;{e(section)}</div>\n'
        f'<h1 class="title">{e(title)}</h1>\n'
        f'<div class="article-info"><span class="source">來源:{e(source)}</span> <span class="time">{e(published)}</span></div>\n'
        f'<div class="TRS_Editor">\n{body}\n</div>\n</body>\n</html>\n'
    )


def write_captured_crawl(
    root: Path | str,
    crawl_id: str,
    pages: Iterable[tuple[dict[str, Any], bytes, list[tuple[str, str]]]],
    quarantine: Iterable[dict[str, Any] | tuple[dict[str, Any], bytes, list[tuple[str, str]]]] = (),
    *,
    started_at: str = "2025-01-01T00:00:00Z",
) -> Path | None:
    """A finished crawl whose records point at WARC captures: each page is (record, raw body, response headers).

    Quarantine entries may be captured too, given as (entry, raw body, response headers). The url, fetched_at
    and text fields are kept; content_sha256 (of records) and the WARC pointers are filled in.
    """
    layout = ArchiveLayout(Path(root))
    layout.ensure_dirs()
    records, entries = [], []
    with WarcCapture(layout.warc_dir, crawl_id) as capture:
        for record, body, headers in pages:
            pointer = capture.write_exchange(
                record["url"], 200, "OK", headers, body, [("User-Agent", "newsarchive-test")], date=record["fetched_at"]
            )
            records.append({**record, "content_sha256": hashlib.sha256(body).hexdigest(), **asdict(pointer)})
        for item in quarantine:
            if isinstance(item, dict):
                entries.append(item)
                continue
            entry, body, headers = item
            status = entry.get("http_status") or 200
            pointer = capture.write_exchange(entry["url"], status, "", headers, body, [], date=entry["fetched_at"])
            entries.append({**entry, **asdict(pointer)})
    return write_sample_crawl(root, crawl_id, records, entries, started_at=started_at, extra_files=capture.closed_files)


def _copied(source: Path, directory: Path, kind: str) -> ClosedFile:
    target = Path(shutil.copy2(source, directory / source.name))
    data = target.read_bytes()
    if kind == WARC:
        with open(target, "rb") as stream:
            records = sum(1 for _ in ArchiveIterator(stream))
    else:
        records = data.count(b"\n")
    return ClosedFile(target.name, kind, records, len(data), hashlib.sha256(data).hexdigest())


def write_restamped_crawl(
    source: Path | str, target: Path | str, crawl_id: str, cleaner_version: str, alter_every: int = 0
) -> Path | None:
    """A finished crawl `crawl_id` in `target` made of that crawl of `source`: its WARC files copied, and the latest
    version of each article whose capture is in them, as version 1 stamped with another `cleaner_version`; every
    `alter_every`-th text altered, as that other cleaner might have left it. For tests and benchmarks of reclean."""
    layout = ArchiveLayout(Path(target))
    layout.ensure_dirs()
    files = []
    for warc in readable_warcs(source):
        if warc.prefix == crawl_id:
            files.append(_copied(warc.path, layout.warc_dir, WARC))
            files.append(_copied(warc.path.with_name(warc.name + ".cdxj"), layout.warc_dir, CDXJ))
    copied = {f.name for f in files}
    records: list[dict[str, Any]] = []
    for record in iter_records(source, latest_only=True):
        if record.get("warc_file") not in copied:
            continue
        restamped = {**record, "version": 1, "crawl_id": crawl_id, "cleaner_version": cleaner_version}
        if alter_every and len(records) % alter_every == 0:
            restamped["text"] = record["text"] + "\n（舊稿）"
            restamped["text_sha256"] = text_sha256(restamped["text"])
        records.append(restamped)
    return write_sample_crawl(target, crawl_id, records, extra_files=files)
