"""HTTP header helpers shared by the spider and the pipelines.
Headers as ordered str pairs, the declared charset, the reason phrase of a status; duck-typed over Scrapy's Headers,
so this module imports no Scrapy."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus

CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)


def header_pairs(headers: Mapping[bytes, Iterable[bytes]]) -> list[tuple[str, str]]:
    """Headers (bytes, multi-valued, as Scrapy keeps them) as (name, value) str pairs in order.

    >>> header_pairs({b"Set-Cookie": [b"a=1", b"b=2"], b"Server": [b"TRS"]})
    [('Set-Cookie', 'a=1'), ('Set-Cookie', 'b=2'), ('Server', 'TRS')]
    """
    pairs = []
    for name, values in headers.items():
        for value in values:
            pairs.append((name.decode("latin-1"), value.decode("latin-1")))
    return pairs


def declared_charset(headers: list[tuple[str, str]]) -> str | None:
    """The charset named by the Content-Type header, lower-cased, if any.

    >>> declared_charset([("content-type", "text/html; charset=GB2312")])
    'gb2312'
    """
    for name, value in headers:
        if name.lower() == "content-type":
            match = CHARSET_RE.search(value)
            if match:
                return match.group(1).lower()
    return None


def reason_phrase(status: int) -> str:
    """The standard reason phrase of an HTTP status, "" for a status HTTP does not define.

    >>> reason_phrase(404), reason_phrase(299)
    ('Not Found', '')
    """
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
