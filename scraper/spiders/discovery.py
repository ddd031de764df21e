"""Where a portal page links, read from its raw bytes.
`<a href>` values, the list pages a TRS pager names, a sitemap's URLs, the sitemaps robots.txt names (the pages'
charsets lie, but URLs are ASCII); the spider decides what to follow."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

from scrapy.utils.sitemap import Sitemap

HREF_RE = re.compile(rb"""<a\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""", re.I)
# createPageHTML(TOTAL, CUR, "index", "html"): TRS writes the pager from this call.
PAGER_RE = re.compile(rb"""createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*["']([\w-]+)["']\s*,\s*["'](\w+)["']\s*\)""")
SITEMAP_LINE_RE = re.compile(rb"^\s*sitemap\s*:\s*(\S+)", re.I | re.M)
# A pager claiming more pages than this is broken; follow the 下一頁 links instead.
MAX_PAGER_PAGES = 1000


def extract_hrefs(body: bytes) -> list[str]:
    """Every `<a href>` value in the markup, entity-decoded, in document order.

    >>> extract_hrefs(b"<a href='a.html?x=1&amp;y=2'>1</a> <A HREF=b.html>2</A>")
    ['a.html?x=1&y=2', 'b.html']
    """
    hrefs = []
    for match in HREF_RE.finditer(body):
        raw = next(group for group in match.groups() if group is not None)
        hrefs.append(html.unescape(raw.decode("latin-1")).strip())
    return hrefs


def pager_urls(body: bytes, page_url: str) -> list[str]:
    """The list pages named by a `createPageHTML(total, cur, prefix, ext)` call.

    TRS numbers them prefix.ext, prefix_1.ext, ..., prefix_{total-1}.ext.

    >>> pager_urls(b'createPageHTML(2, 0, "index", "html")', "http://h/news/yw/")
    ['http://h/news/yw/index.html', 'http://h/news/yw/index_1.html']
    """
    urls: list[str] = []
    for match in PAGER_RE.finditer(body):
        total = min(int(match.group(1)), MAX_PAGER_PAGES)
        prefix, ext = match.group(3).decode(), match.group(4).decode()
        for page in range(total):
            name = f"{prefix}.{ext}" if page == 0 else f"{prefix}_{page}.{ext}"
            urls.append(urljoin(page_url, name))
    return urls


def robots_sitemaps(body: bytes, robots_url: str) -> list[str]:
    """The sitemaps a robots.txt names on its `Sitemap:` lines, as absolute URLs.

    >>> robots_sitemaps(b"User-agent: *\\nSitemap: /s.xml\\n", "http://h/robots.txt")
    ['http://h/s.xml']
    """
    return [urljoin(robots_url, match.group(1).decode("latin-1")) for match in SITEMAP_LINE_RE.finditer(body)]


@dataclass
class SitemapLinks:
    """The URLs a sitemap lists: further sitemaps (a sitemap index) or pages, with their <lastmod> where given."""

    is_index: bool
    urls: list[str]
    lastmods: dict[str, str] = field(default_factory=dict)


def read_sitemap(body: bytes) -> SitemapLinks | None:
    """The links of a sitemap or sitemap index (lxml through Scrapy's Sitemap, no entity expansion); None if empty.

    >>> read_sitemap(b"<urlset><url><loc>http://h/a/</loc><lastmod>2025-08-26</lastmod></url></urlset>")
    SitemapLinks(is_index=False, urls=['http://h/a/'], lastmods={'http://h/a/': '2025-08-26'})
    """
    try:
        sitemap = Sitemap(body)
    except StopIteration:  # an empty document
        return None
    if sitemap.type == "sitemapindex":
        return SitemapLinks(True, [entry.get("loc", "") for entry in sitemap])
    links = SitemapLinks(False, [])
    for entry in sitemap:  # one entry at a time: a sitemap may list every article of the portal
        loc = entry.get("loc")
        if loc:
            links.urls.append(loc)
            if entry.get("lastmod"):
                links.lastmods[loc] = entry["lastmod"]
    return links
