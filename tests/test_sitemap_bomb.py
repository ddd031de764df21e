"""Sitemaps are parsed without entity expansion: the replica's billion-laughs sitemap stays small.

The memory bound is checked in a child process under an address-space limit, so a regression fails, not swaps.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable

import pytest
from lxml import etree
from scrapy.crawler import Crawler
from scrapy.http import Request, XmlResponse

from scraper.replica.faults import malformed_sitemap, xml_bomb
from scraper.replica.testing import REPO_ROOT
from scraper.spiders.portal import PortalSpider

BASE = "http://127.0.0.1:8123"
# Room above the child's own footprint; the expanded bomb needs about 3 GB.
HEADROOM_BYTES = 256 * 1024 * 1024


@pytest.fixture
def spider(project_crawler: Callable[..., Crawler]) -> PortalSpider:
    return PortalSpider.from_crawler(project_crawler(), start_url=BASE + "/")


def sitemap_response(path: str, body: bytes) -> XmlResponse:
    return XmlResponse(url=BASE + path, body=body, request=Request(BASE + path))


def test_the_bomb_is_a_bomb_for_a_resolving_parser() -> None:
    # A parser that resolves entities gives up on it (libxml2's amplification guard):
    # proof that the fixture would expand, which the spider must never try.
    with pytest.raises(etree.XMLSyntaxError, match=r"amplification|loop"):
        etree.fromstring(xml_bomb(), parser=etree.XMLParser(resolve_entities=True))


def test_spider_reads_the_bomb_sitemap_without_expanding_it(spider: PortalSpider) -> None:
    requests = list(spider.parse_sitemap(sitemap_response("/sitemap-bomb.xml", xml_bomb())))
    assert requests == []
    assert all("lol" not in r.url for r in requests)


def test_bomb_sitemap_parses_within_a_memory_limit() -> None:
    child = textwrap.dedent(f"""
        import resource
        from scrapy.utils.sitemap import Sitemap
        from scraper.replica.faults import xml_bomb
        with open("/proc/self/status") as status:
            vm = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
        resource.setrlimit(resource.RLIMIT_AS, (vm + {HEADROOM_BYTES}, vm + {HEADROOM_BYTES}))
        entries = list(Sitemap(xml_bomb()))
        print(sum(len(value) for entry in entries for value in entry.values()))
    """)
    done = subprocess.run([sys.executable, "-c", child], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) < 1024  # characters of text the parser produced: nothing was expanded


def test_malformed_sitemap_yields_the_urls_before_the_break(spider: PortalSpider) -> None:
    urls = [f"{BASE}/news/yw/202501/t20250101_{n}.html" for n in (254001, 254002)]
    requests = list(spider.parse_sitemap(sitemap_response("/sitemap-malformed.xml", malformed_sitemap(urls))))
    assert [r.url for r in requests] == urls
