"""GBK byte facts the repair steps share: lead and trail ranges, pair decoding.

Pairs decode with `gb18030` so user-defined GBK pairs round-trip as private-use characters.
"""

from __future__ import annotations

from functools import lru_cache

# Byte ranges, inclusive. The hot loops of the repair test them inline (a call per byte costs); each such test
# names the function here that says the same.
ASCII_END = 0x80  # bytes below are ASCII, one byte a character
LEAD_FIRST, LEAD_LAST = 0x81, 0xFE  # is_lead
TRAIL_ASCII_FIRST, TRAIL_ASCII_LAST = 0x40, 0x7E  # is_trail, the part inside ASCII (`@` to `~`)
TRAIL_HIGH_FIRST, TRAIL_HIGH_LAST = 0x80, 0xFE  # is_trail, the part above ASCII
SWAPPABLE_FIRST, SWAPPABLE_LAST = 0x21, 0x7E  # the printable ASCII the full-width step swaps (ASCII_TO_FULLWIDTH)
FULLWIDTH_OFFSET = 0x80  # a swapped ASCII byte b comes back as the trail b + 0x80 of row A3

# The portal's full-width step: ASCII byte -> the GBK pair (row A3) it replaced.
ASCII_TO_FULLWIDTH: dict[int, bytes] = {
    b: bytes((0xA3, b + FULLWIDTH_OFFSET)) for b in range(SWAPPABLE_FIRST, SWAPPABLE_LAST + 1)
}


def is_lead(byte: int) -> bool:
    """True for a byte that starts a two-byte GBK character."""
    return LEAD_FIRST <= byte <= LEAD_LAST


def is_trail(byte: int) -> bool:
    """True for a byte that may end a two-byte GBK character (ASCII `@`-`~` included)."""
    return TRAIL_ASCII_FIRST <= byte <= TRAIL_ASCII_LAST or TRAIL_HIGH_FIRST <= byte <= TRAIL_HIGH_LAST


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
