"""What a URL of the portal is: an article (its id and date), a list page (and its column), on the crawl's host or not.
Pure functions over URL strings, shared by the spider, the pipelines and the tests; no Scrapy."""

from __future__ import annotations

import re
from datetime import date, datetime
from urllib.parse import urlsplit, urlunsplit

# /<channel>/<column>/<YYYYMM>/t<YYYYMMDD>_<id>.html; the id is the portal's article number.
ARTICLE_PATH_RE = re.compile(
    r"^/(?P<channel>[A-Za-z0-9_-]+)/(?P<column>[A-Za-z0-9_-]+)/(?P<month>\d{6})/"
    r"t(?P<date>\d{8})_(?P<id>\d+)\.html$"
)
# Home, channel and column pages, with TRS pagination (index.html, index_1.html, ...).
LIST_PATH_RE = re.compile(r"^/(?:[A-Za-z0-9_-]+/){0,2}(?:index(?:_\d+)?\.html?)?$")
# What a link is to a crawl (link_kind).
ARTICLE = "article"
LIST_PAGE = "list"
OFF_SCOPE = "off_scope"
IGNORED = "ignored"
# Request meta: the URL as the crawl learned it, so an outcome after redirects is booked against it.
LEARNED_URL = "newsarchive_url"


def strict_article_id(url: str) -> str | None:
    """The article number if `url` has the portal's own article path, else None.

    Strict: the whole path must be /<channel>/<column>/<YYYYMM>/t<YYYYMMDD>_<id>.html, so that the spider fetches
    (and the archive files) only the portal's article pages. The cleaner's `scraper.cleaner.loose_article_id` is
    loose: it takes the number from any path ending in t<YYYYMMDD>_<id>.htm(l) or .shtml, as sister sites write
    them, to name a page that was already fetched.

    >>> strict_article_id("http://www.zhaoenyun.cn/news/yw/202508/t20250826_254967.html")
    '254967'
    >>> strict_article_id("http://www.zhaoenyun.cn/news/yw/index_1.html") is None
    True
    >>> strict_article_id("http://www.zhaoenyun.cn/t20250826_254967.shtml") is None
    True
    """
    match = ARTICLE_PATH_RE.match(urlsplit(url).path)
    return match.group("id") if match else None


def article_date(url: str) -> date | None:
    """The publication date TRS writes into an article URL (`t<YYYYMMDD>_`), if valid.

    >>> article_date("http://www.zhaoenyun.cn/news/yw/202508/t20250826_254967.html")
    datetime.date(2025, 8, 26)
    >>> article_date("http://www.zhaoenyun.cn/news/yw/202508/t20250231_254967.html") is None
    True
    """
    match = ARTICLE_PATH_RE.match(urlsplit(url).path)
    if not match:
        return None
    try:
        return datetime.strptime(match.group("date"), "%Y%m%d").date()
    except ValueError:
        return None


def canonical_article_url(url: str) -> str:
    """An article URL without query or fragment: TRS article pages are static files, so a query is tracking.

    >>> canonical_article_url("http://h/news/yw/202508/t20250826_254967.html?utm_source=wechat#top")
    'http://h/news/yw/202508/t20250826_254967.html'
    """
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def is_list_url(url: str) -> bool:
    """True for the home page, channel pages and column list pages (any page of them).

    TRS list pages are static files: a query string means a search or a script, not a list.

    >>> is_list_url("http://h/news/yw/index_3.html"), is_list_url("http://h/"), is_list_url("http://h/search?q=1")
    (True, True, False)
    """
    parts = urlsplit(url)
    return not parts.query and bool(LIST_PATH_RE.match(parts.path or "/"))


def column_of(url: str) -> str:
    """The list a page belongs to: its directory, which every page of a TRS pagination shares.

    >>> column_of("http://h/news/yw/index_7.html")
    '/news/yw/'
    """
    path = urlsplit(url).path or "/"
    return path[: path.rfind("/") + 1]


def host_key(url: str) -> tuple[str, int | None]:
    """Host and effective port of `url`; two URLs are on the same site when these match.

    >>> host_key("http://Example.org/a"), host_key("https://example.org:8443/")
    (('example.org', 80), ('example.org', 8443))
    """
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return (parts.hostname or "", parts.port or default)


def link_kind(url: str, host: tuple[str, int | None]) -> str:
    """What a link (without its fragment) is to a crawl pinned to `host` (a host_key): an article or a list page
    of the portal, off scope (another host or port), or ignored (not http(s), or a page that is neither).

    >>> host = host_key("http://h/")
    >>> [link_kind(url, host) for url in ("http://h/a/b/202508/t20250826_1.html", "http://h/a/", "http://h:81/a/")]
    ['article', 'list', 'off_scope']
    >>> [link_kind(url, host) for url in ("mailto:x@h", "javascript:void(0)", "http://h/about.html", "")]
    ['ignored', 'ignored', 'ignored', 'ignored']
    """
    if not url or urlsplit(url).scheme not in ("http", "https"):
        return IGNORED
    if host_key(url) != host:
        return OFF_SCOPE
    if strict_article_id(url) is not None:
        return ARTICLE
    return LIST_PAGE if is_list_url(url) else IGNORED
