"""Charset variants: turn a clean page into the damaged bytes and headers the portal serves.

Every variant starts from the same GBK bytes damaged by `damage.damage_bytes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from scraper.replica.damage import SEED_READINGS, damage_bytes, reading_table, server_decode

SEED_TABLE = MappingProxyType(reading_table(SEED_READINGS))
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class CharsetVariant:
    """How one variant declares (or misdeclares) its charset, and what it sends."""

    name: str
    header_charset: str | None
    meta_charset: str | None
    decoded: bool
    bom: bool = False


VARIANTS: tuple[CharsetVariant, ...] = (
    CharsetVariant("gb2312", "gb2312", "gb2312", decoded=False),
    CharsetVariant("gbk-meta-only", None, "gbk", decoded=False),
    # Raw GBK bytes: the meta is right, the header is wrong.
    CharsetVariant("header-meta-disagree", "utf-8", "gb2312", decoded=False),
    CharsetVariant("no-charset", None, None, decoded=False),
    # Decoded on the server (the seed's `?`), then sent as UTF-8.
    CharsetVariant("utf8-decoded", "utf-8", "utf-8", decoded=True),
    # Both declarations are wrong; only the BOM tells the truth.
    CharsetVariant("utf8-bom-decoded", "gb2312", "gb2312", decoded=True, bom=True),
)
VARIANT_NAMES: tuple[str, ...] = tuple(v.name for v in VARIANTS)
_BY_NAME = MappingProxyType({v.name: v for v in VARIANTS})


def insert_meta(html: str, charset: str | None) -> str:
    """Put an ASCII charset <meta> right after `<head>` (nothing for no charset)."""
    if charset is None:
        return html
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">\n'
    return html.replace("<head>\n", "<head>\n" + meta, 1)


def damage_page(html: str) -> bytes:
    """The portal's damage over the whole page's GBK bytes (ASCII markup is never hit)."""
    return damage_bytes(html.encode("gbk"), SEED_TABLE)


def content_type(charset: str | None) -> str:
    return "text/html" if charset is None else f"text/html; charset={charset}"


def encode_page(html: str, variant: str) -> tuple[list[tuple[str, str]], bytes]:
    """Headers and body of a clean page served in a charset variant."""
    spec = _BY_NAME[variant]
    damaged = damage_page(insert_meta(html, spec.meta_charset))
    body = server_decode(damaged).encode("utf-8") if spec.decoded else damaged
    if spec.bom:
        body = BOM + body
    return [("Content-Type", content_type(spec.header_charset))], body
