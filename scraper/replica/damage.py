"""The portal's damage model: what its software does to clean Traditional text.

Pinyin insertion and full-width-to-ASCII run on GBK bytes, so they hit pairs that straddle two characters;
`server_decode` is the lossy decoder behind `?` pages such as the seed (PORTAL.md, "How the text is damaged").
"""

from __future__ import annotations

from collections.abc import Mapping

# Characters the portal annotates, with the reading it inserts: every one the
# seed shows, plus 驅 whose reading appears only on a straddling pair there.
SEED_READINGS: dict[str, str] = {
    "業": "yè",
    "產": "chǎn",
    "發": "fā",
    "醫": "yī",
    "創": "chuàng",
    "區": "qū",
    "現": "xiàn",
    "續": "xù",
    "內": "nèi",
    "戰": "zhàn",
    "經": "jīng",
    "態": "tài",
    "質": "zhì",
    "數": "shù",
    "統": "tǒng",
    "轉": "zhuǎn",
    "協": "xié",
    "優": "yōu",
    "規": "guī",
    "監": "jiān",
    "貿": "mào",
    "驅": "qū",
}

# The portal's full-width step turns the whole full-width row of GBK (A3 A1-A3 FE,
# U+FF01-U+FF5E) into ASCII. PORTAL.md lists `，：？！；（＠`; the seed also shows
# `①|`, `12.8%` and `10+X`, and `①|` (bytes D9 7C = 質) would have drawn a `(zhì)`
# had the `|` been ASCII before the pinyin step: it was `｜`.
FULLWIDTH_TO_ASCII: dict[bytes, bytes] = {bytes((0xA3, b)): bytes((b - 0x80,)) for b in range(0xA1, 0xFF)}

ReadingTable = Mapping[bytes, bytes]


def reading_table(readings: Mapping[str, str]) -> dict[bytes, bytes]:
    """Map each annotated character's GBK pair to the bytes inserted after it.

    >>> reading_table({"產": "chǎn"})[b"\\xae\\x61"]
    b'(ch\\xa8\\xa3n)'
    """
    return {ch.encode("gbk"): f"({py})".encode("gbk") for ch, py in readings.items()}


def _replace_pairs(data: bytes, table: Mapping[bytes, bytes], keep_pair: bool) -> bytes:
    """Scan byte by byte, leftmost first, replacing (or annotating) matching pairs.

    The scan ignores character boundaries on purpose: that is the portal's bug.
    """
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        pair = data[i : i + 2]
        hit = table.get(pair) if data[i] >= 0x80 else None
        if hit is None:
            out.append(data[i])
            i += 1
            continue
        if keep_pair:
            out += pair
        out += hit
        i += 2
    return bytes(out)


def insert_readings(data: bytes, table: ReadingTable) -> bytes:
    """Step 2: insert `(reading)` after every byte pair found in `table`.

    >>> insert_readings("產業".encode("gbk"), reading_table({"產": "chǎn"})).decode("gbk")
    '產(chǎn)業'
    """
    return _replace_pairs(data, table, keep_pair=True)


def fullwidth_to_ascii(data: bytes) -> bytes:
    """Step 3: replace every `A3 xx` pair of FULLWIDTH_TO_ASCII by its ASCII byte.

    >>> fullwidth_to_ascii("治療。”".encode("gbk"))
    b'\\xd6\\xce\\xaf\\x9f\\xa1!\\xb1'
    """
    return _replace_pairs(data, FULLWIDTH_TO_ASCII, keep_pair=False)


def damage_bytes(data: bytes, table: ReadingTable) -> bytes:
    """Apply steps 2 and 3, in the portal's order, to GBK bytes."""
    return fullwidth_to_ascii(insert_readings(data, table))


def _is_trail(byte: int) -> bool:
    return 0x40 <= byte <= 0x7E or 0x80 <= byte <= 0xFE


def server_decode(data: bytes) -> str:
    """Decode damaged GBK bytes the way the portal's server did (the seed's `?`).

    A lead byte without a valid trail becomes `?`. The ASCII byte after it is
    swallowed when the byte after that is ASCII too, and kept when a high byte
    follows: the rule that fits every example in PORTAL.md (`?!崩`, `?;`
    kept; `(`, `1`, `<` swallowed).

    >>> server_decode(fullwidth_to_ascii("潛力。”10年".encode("gbk")))
    '潛力?!?0年'
    """
    out: list[str] = []
    i, n = 0, len(data)
    while i < n:
        byte = data[i]
        if byte < 0x80:
            out.append(chr(byte))
            i += 1
        elif 0x81 <= byte <= 0xFE and i + 1 < n and _is_trail(data[i + 1]):
            out.append(data[i : i + 2].decode("gb18030"))
            i += 2
        else:
            out.append("?")
            i += 1
            if 0x81 <= byte <= 0xFE and i < n and data[i] < 0x80:
                after = data[i + 1] if i + 1 < n else 0
                if after < 0x80:
                    i += 1
    return "".join(out)
