"""GBK byte facts the repair steps share: lead and trail ranges, pair decoding.

Pairs decode with `gb18030` so user-defined GBK pairs round-trip as private-use characters.
"""

from __future__ import annotations

from functools import lru_cache

# The portal's full-width step: ASCII byte -> the GBK pair (row A3) it replaced.
ASCII_TO_FULLWIDTH: dict[int, bytes] = {b: bytes((0xA3, b + 0x80)) for b in range(0x21, 0x7F)}


def is_lead(byte: int) -> bool:
    """True for a byte that starts a two-byte GBK character."""
    return 0x81 <= byte <= 0xFE


def is_trail(byte: int) -> bool:
    """True for a byte that may end a two-byte GBK character (ASCII `@`-`~` included)."""
    return 0x40 <= byte <= 0x7E or 0x80 <= byte <= 0xFE


@lru_cache(maxsize=65536)
def decode_pair(lead: int, trail: int) -> str | None:
    """The character a lead/trail pair encodes, or None when it encodes none.

    >>> decode_pair(0xA1, 0xA3), decode_pair(0xA1, 0x21)
    ('。', None)
    """
    if not (is_lead(lead) and is_trail(trail)):
        return None
    try:
        return bytes((lead, trail)).decode("gb18030")
    except UnicodeDecodeError:
        return None


def is_private_use(ch: str) -> bool:
    """True for the private-use characters that unpaired GBK bytes decode to."""
    return "\ue000" <= ch <= "\uf8ff"
