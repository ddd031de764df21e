"""The page as captured, read back from its WARC response record.
Its body decoded as the portal declared it, and the text a reader of the page saw (title, keywords, then the body's
blocks), where the damage is visible."""

from __future__ import annotations

import codecs
import logging
import re
import zlib
from dataclasses import dataclass
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from ..layout import WARC, ArchiveLayout, UnsafeNameError

logger = logging.getLogger(__name__)

READ_CHUNK = 256 * 1024
GBK_FAMILY = frozenset({"gb2312", "gbk", "gb18030", "cp936", "euc-cn", "csgb2312", "ms936", "windows-936", "x-gbk"})
# GB18030 is a superset of GBK that keeps the user-defined byte pairs as private-use characters,
# which is where the damaged pages hide their lost bytes; plain gbk would turn them into U+FFFD.
GBK_CODEC = "gb18030"
META_SNIFF_BYTES = 4096
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "td",
        "th",
        "tr",
        "ul",
    }
)
_SKIPPED_TAGS = frozenset({"script", "style", "template"})
_SPACES = re.compile(r"[ \t\r\n\f]+")  # HTML collapses these; NBSP is not among them, so indentation stays


class CaptureError(Exception):
    """A raw capture that cannot be read; the message says what is wrong and how to fix it."""


@dataclass(frozen=True)
class WarcResponse:
    """One response record: the record's bytes as stored (uncompressed) and what they hold."""

    record: bytes
    target_uri: str
    date: str
    status_line: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class Charset:
    """The codec a body is read with, where that came from, and what the portal declared."""

    codec: str
    source: str  # bom | header | meta | detected
    declared: dict[str, str]  # header/meta -> the charset named there


@dataclass(frozen=True)
class Block:
    """A line of the captured page: `label` names head parts (title, keywords, description); None is body text."""

    label: str | None
    text: str


@dataclass(frozen=True)
class CapturedPage:
    """The readable rendition of a capture: head blocks, then body blocks."""

    charset: Charset
    blocks: list[Block]

    @property
    def text(self) -> str:
        """The blocks joined by newlines: what repairs are searched in."""
        return "\n".join(block.text for block in self.blocks)

    @property
    def body_start(self) -> int:
        """Offset in `text` of the first body block (after the head)."""
        offset = 0
        for block in self.blocks:
            if block.label is None:
                return offset
            offset += len(block.text) + 1
        return offset


def warc_path(root: Path, warc_file: str) -> Path:
    """The WARC file a record points to; the name must be a plain file name inside warc/."""
    try:
        return ArchiveLayout(root).resolve(WARC, warc_file)
    except UnsafeNameError as exc:
        raise CaptureError(f"the record's warc_file is not a plain file name: {exc}") from exc


def read_gzip_member(path: Path, offset: int) -> bytes:
    """The uncompressed bytes of the gzip member starting at `offset` (a WARC file holds one record per member)."""
    inflater = zlib.decompressobj(wbits=31)
    parts = []
    try:
        with open(path, "rb") as stream:
            stream.seek(offset)
            while not inflater.eof:
                chunk = stream.read(READ_CHUNK)
                if not chunk:
                    raise CaptureError(
                        f"{path.name} ends inside the record at offset {offset}: the file is truncated "
                        f"(fix: run 'newsarchive verify' on the archive and restore the file from a copy)"
                    )
                parts.append(inflater.decompress(chunk))
    except FileNotFoundError as exc:
        raise CaptureError(
            f"the raw capture is missing: {path.name} is not in the archive's warc/ directory "
            f"(fix: restore it from a copy of the archive; 'newsarchive verify' lists every missing file)"
        ) from exc
    except zlib.error as exc:
        raise CaptureError(
            f"{path.name} has no readable record at offset {offset} ({exc}); the file is damaged or the pointer is "
            f"wrong (fix: run 'newsarchive verify' on the archive)"
        ) from exc
    except OSError as exc:
        raise CaptureError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return b"".join(parts)


def read_response(root: Path, warc_file: str, offset: int) -> WarcResponse:
    """The response record at `offset` of `warc_file` in the archive at `root`."""
    path = warc_path(root, warc_file)
    raw = read_gzip_member(path, offset)
    try:
        record = next(iter(ArchiveIterator(BytesIO(raw))))
        if record.rec_type != "response":
            raise CaptureError(
                f"{warc_file} at offset {offset} holds a {record.rec_type!r} record, not a response "
                f"(fix: the record's WARC pointer is wrong; run 'newsarchive verify')"
            )
        http = record.http_headers
        body = record.content_stream().read()
    except (ArchiveLoadFailed, StopIteration, ValueError) as exc:
        raise CaptureError(
            f"{warc_file} at offset {offset} is not a WARC record ({exc}); run 'newsarchive verify'"
        ) from exc
    return WarcResponse(
        record=raw,
        target_uri=record.rec_headers.get_header("WARC-Target-URI") or "",
        date=record.rec_headers.get_header("WARC-Date") or "",
        status_line=http.statusline if http else "",
        headers=list(http.headers) if http else [],
        body=body,
    )


def _codec_name(name: str) -> str | None:
    """Python's codec for a declared charset, the GBK family read as gb18030; None if unknown."""
    name = name.strip().lower()
    if name in GBK_FAMILY:
        return GBK_CODEC
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    return GBK_CODEC if codec in GBK_FAMILY else codec


def declared_charsets(headers: list[tuple[str, str]], body: bytes) -> dict[str, str]:
    """What the response's Content-Type header and the page's <meta> name, as written."""
    declared = {}
    for key, value in headers:
        if key.lower() == "content-type":
            in_header = _HEADER_CHARSET.search(value)
            if in_header:
                declared["header"] = in_header.group(1)
            break
    in_meta = _META_CHARSET.search(body[:META_SNIFF_BYTES])
    if in_meta:
        declared["meta"] = in_meta.group(1).decode("ascii", "replace")
    return declared


def _agrees(body: bytes, codec: str) -> bool:
    """Whether the bytes can be in `codec`: a GBK-family page is damaged by design, so only others must decode."""
    if codec == GBK_CODEC:
        return True
    try:
        body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def choose_charset(headers: list[tuple[str, str]], body: bytes) -> Charset:
    """BOM, then the header, then <meta>, each only if the bytes agree; else UTF-8 if valid, else gb18030.

    >>> choose_charset([("Content-Type", "text/html; charset=utf-8")], "<meta charset=gb2312>治療".encode("gbk")).source
    'meta'
    """
    declared = declared_charsets(headers, body)
    for bom, name in _BOMS:
        if body.startswith(bom):
            return Charset(name, "bom", declared)
    for source in ("header", "meta"):
        codec = _codec_name(declared[source]) if source in declared else None
        if codec and _agrees(body, codec):
            return Charset(codec, source, declared)
    return Charset("utf-8" if _agrees(body, "utf-8") else GBK_CODEC, "detected", declared)


class _PageText(HTMLParser):
    """Collects the head's title and keywords/description, and the body's text one block per line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.head: list[Block] = []
        self.lines: list[str] = []
        self._parts: list[str] = []
        self._title: list[str] | None = None
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping += 1
        elif tag == "title":
            self._title = []
        elif tag == "meta":
            values = {name.lower(): value or "" for name, value in attrs}
            name = values.get("name", "").lower()
            if name in ("keywords", "description") and values.get("content"):
                self.head.append(Block(name, _collapse(values["content"])))
        elif tag in _BLOCK_TAGS:
            self._break()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in _SKIPPED_TAGS:
            self._skipping -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag == "title" and self._title is not None:
            self.head.insert(0, Block("title", _collapse("".join(self._title))))
            self._title = None
        elif tag in _BLOCK_TAGS:
            self._break()

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        if self._title is not None:
            self._title.append(data)
        else:
            self._parts.append(data)

    def _break(self) -> None:
        line = _collapse("".join(self._parts))
        if line:
            self.lines.append(line)
        self._parts = []

    def blocks(self) -> list[Block]:
        self._break()
        head = [block for block in self.head if block.text]
        return head + [Block(None, line) for line in self.lines]


def _collapse(text: str) -> str:
    return _SPACES.sub(" ", text).strip(" ")


def page_text(html: str) -> list[Block]:
    """The head's title, keywords and description, then the body's text, one block per line."""
    parser = _PageText()
    parser.feed(html)
    parser.close()
    return parser.blocks()


def captured_page(response: WarcResponse) -> CapturedPage:
    """Decode a response as the portal declared it and render its text."""
    charset = choose_charset(response.headers, response.body)
    body = response.body
    for bom, _ in _BOMS:
        if body.startswith(bom):
            body = body[len(bom) :]
            break
    html = body.decode(charset.codec, "replace")
    content_type = next((value for key, value in response.headers if key.lower() == "content-type"), "")
    if content_type and "html" not in content_type.lower() and "<html" not in html[:2048].lower():
        return CapturedPage(charset, [Block(None, line) for line in html.splitlines() if line.strip()])
    return CapturedPage(charset, page_text(html))
