"""Decide how to read a raw body: its charset from BOM, HTTP header, `<meta>` or the bytes.

GBK-family pages stay bytes for the repair (bytes hold more than decoded text);
others become text, where a `?` may stand for a byte the server lost.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass

from scraper.cleaner.charmodel import common_chars

GBK_FAMILY = frozenset({"gb2312", "gbk", "gb18030", "x-gbk", "cp936", "euc-cn", "csgb2312", "ms936", "windows-936"})
_CHARSET_IN_HEADER = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.I)
META_SNIFF_BYTES = 4096  # browsers look for <meta charset> within the first 1024+ bytes
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose BOM it starts with
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
UTF16_SNIFF_BYTES = 4096
UTF16_ORDINARY_SHARE = 0.9  # a real text's characters are nearly all common ones; a wrong decoding's are not


@dataclass(frozen=True)
class Decoded:
    """How a body is to be read: `gbk` bytes for the repair, or `text`."""

    charset: str  # the charset the page is actually in
    source: str  # bom | header | meta | detected
    gbk_bytes: bytes | None
    text: str | None


def _normalise(name: str) -> str:
    name = name.strip().lower()
    try:
        name = codecs.lookup(name).name
    except LookupError:
        return name
    return "gbk" if name in GBK_FAMILY else name


def header_charset(headers: Mapping[str, str] | None) -> str | None:
    """The charset named by a Content-Type header, if any."""
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == "content-type":
            match = _CHARSET_IN_HEADER.search(value)
            return _normalise(match.group(1)) if match else None
    return None


def meta_charset(body: bytes) -> str | None:
    """The charset named by a `<meta>` tag near the top of the page, if any."""
    match = _META_CHARSET.search(body[:META_SNIFF_BYTES])
    return _normalise(match.group(1).decode("ascii", "replace")) if match else None


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _read(body: bytes, charset: str, source: str) -> Decoded | None:
    if charset == "gbk":
        return Decoded("gbk", source, body, None)
    if charset == "utf-8":
        return Decoded("utf-8", source, None, body.decode("utf-8")) if _is_utf8(body) else None
    try:
        return Decoded(charset, source, None, body.decode(charset))
    except (LookupError, UnicodeDecodeError):
        return None


def decode_body(body: bytes, headers: Mapping[str, str] | None = None) -> Decoded:
    """Pick the charset: BOM, then header, then meta, each only if the bytes agree.

    A declaration the bytes contradict (a `utf-8` header on GBK bytes) is skipped;
    with nothing usable, valid UTF-8 is UTF-8 and anything else is GBK.

    >>> decode_body("治療".encode("gbk"), {"Content-Type": "text/html; charset=utf-8"}).charset
    'gbk'
    """
    for bom, name in _BOMS:
        if body.startswith(bom):
            return Decoded(name, "bom", None, body[len(bom) :].decode(name, "replace"))
    for charset, source in ((header_charset(headers), "header"), (meta_charset(body), "meta")):
        if charset:
            decoded = _read(body, charset, source)
            if decoded is not None:
                return decoded
    if _is_utf8(body):
        return Decoded("utf-8", "detected", None, body.decode("utf-8"))
    return Decoded("gbk", "detected", body, None)


def _ordinary_share(text: str) -> float:
    ordinary = common_chars()
    return sum(1 for ch in text if " " <= ch < "\x7f" or ch in "\t\n\r" or ch in ordinary) / max(len(text), 1)


def _utf16_without_bom(data: bytes) -> str | None:
    """`utf-16-le` or `-be` when the head reads as ordinary text that way and not as GBK, else None.

    UTF-16 without a BOM has no mark of its own: Chinese in it holds few NUL bytes. It is told
    from GBK by which reading of the first bytes gives common characters.
    """
    head = data[:UTF16_SNIFF_BYTES]
    if len(data) % 2 or len(head) < 4:
        return None
    gbk_share = _ordinary_share(head.decode("gb18030", "replace"))
    best: tuple[float, str] | None = None
    for name in ("utf-16-le", "utf-16-be"):
        try:
            share = _ordinary_share(head.decode(name))
        except UnicodeDecodeError:
            continue
        if share >= UTF16_ORDINARY_SHARE and share > gbk_share and (best is None or share > best[0]):
            best = (share, name)
    return best[1] if best else None


def decode_text_bytes(data: bytes) -> Decoded:
    """How to read a page captured as text: BOM, then UTF-8, then UTF-16 that reads as text, else raw GBK.

    Raw GBK stays bytes, as a page body does: the repair reads every byte.

    >>> decode_text_bytes("細胞治療".encode("gbk")).charset, decode_text_bytes("細胞".encode("utf-16")).text
    ('gbk', '細胞')
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            return Decoded(name, "bom", None, data[len(bom) :].decode(name, "replace"))
    # NUL bytes are valid UTF-8 but never text: with them, UTF-16 is the likelier reading.
    utf16 = _utf16_without_bom(data) if b"\x00" in data[:UTF16_SNIFF_BYTES] or not _is_utf8(data) else None
    if utf16 is not None:
        return Decoded(utf16, "detected", None, data.decode(utf16, "replace"))
    if _is_utf8(data):
        return Decoded("utf-8", "detected", None, data.decode("utf-8"))
    return Decoded("gbk", "detected", data, None)
