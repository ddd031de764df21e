"""The replica portal generates deterministic, GBK-safe articles and serves every page the spiders need."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime
from urllib.parse import urljoin

import pytest

from scraper.replica.damage import server_decode
from scraper.replica.site import COLUMNS, PAGE_SIZE, Portal
from scraper.replica.variants import BOM, VARIANT_NAMES, damage_page

TRUTH_KEYS = {
    "id",
    "url",
    "title",
    "published_at",
    "source",
    "reporters",
    "section",
    "breadcrumb",
    "paragraphs",
    "subheadings",
    "captions",
    "images",
    "text",
    "charset_variant",
}
BASE = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def portal() -> Portal:
    return Portal(seed=5, articles=130, base_url=BASE)


def test_generation_is_deterministic_for_a_seed_and_differs_across_seeds() -> None:
    one, two, other = Portal(seed=3, articles=20), Portal(seed=3, articles=20), Portal(seed=4, articles=20)
    assert [one.truth(i) for i in one.ids] == [two.truth(i) for i in two.ids]
    assert one.page(one.articles[0].path) == two.page(two.articles[0].path)
    assert [one.truth(i)["text"] for i in one.ids] != [other.truth(i)["text"] for i in other.ids]


def test_every_truth_has_the_record_fields_and_gbk_encodable_text(portal: Portal) -> None:
    for ident in portal.ids:
        truth = portal.truth(ident)
        assert set(truth) == TRUTH_KEYS
        for field in ("title", "text", "source"):
            truth[field].encode("gbk")
        assert " ".join(truth["reporters"]).encode("gbk")
        assert "\xa0" not in truth["text"]


def test_truth_is_consistent_with_the_article_shape(portal: Portal) -> None:
    times = []
    for ident in portal.ids:
        truth = portal.truth(ident)
        published = datetime.fromisoformat(truth["published_at"])
        times.append(published)
        assert published.year == 2025 and truth["published_at"].endswith("+08:00")
        assert re.fullmatch(
            rf"{BASE}/(news|finance|tech)/(yw|sh|cj|kj)/{published:%Y%m}/t{published:%Y%m%d}_{ident}\.html",
            truth["url"],
        )
        assert 3 <= len(truth["paragraphs"]) <= 30
        assert len(truth["subheadings"]) <= 4 and len(truth["captions"]) <= 3
        assert 1 <= len(truth["reporters"]) <= 3
        assert truth["breadcrumb"][0] == "首頁" and truth["breadcrumb"][-1] == truth["section"]
        blocks = truth["text"].split("\n")
        assert sorted(blocks) == sorted(truth["paragraphs"] + truth["subheadings"] + truth["captions"])
        assert [i["caption"] for i in truth["images"]] == truth["captions"]
    assert times == sorted(times) and [int(i) for i in portal.ids] == sorted(int(i) for i in portal.ids)
    assert len(set(portal.ids)) == len(portal.ids)


def test_about_one_article_in_five_has_a_real_full_width_parenthetical() -> None:
    big = Portal(seed=0, articles=300)
    share = sum(any("（" in p for p in big.truth(i)["paragraphs"]) for i in big.ids) / 300
    assert 0.1 < share < 0.3


def test_changed_edits_exactly_the_oldest_articles() -> None:
    plain, edited = Portal(seed=9, articles=40), Portal(seed=9, articles=40, changed=10)
    differing = [i for i in plain.ids if plain.truth(i) != edited.truth(i)]
    assert differing == plain.ids[:10]
    assert plain.ids == edited.ids


def test_list_pages_paginate_and_link_every_article_of_a_column_once(portal: Portal) -> None:
    for column in COLUMNS:
        linked: list[str] = []
        name, pages_seen, total = "index.html", 0, None
        while name:
            url = column.path + name
            status, _, body = portal.page(url)
            assert status == 200
            script = re.search(rb'createPageHTML\((\d+), (\d+), "index", "html"\)', body)
            assert script and int(script.group(2)) == pages_seen
            total = int(script.group(1))
            hrefs = re.findall(rb'<li><a href="(\./\d{6}/t\d{8}_\d+\.html)"', body)
            assert len(hrefs) <= PAGE_SIZE
            linked += [urljoin(url, h.decode("ascii")) for h in hrefs]
            following = re.search(rb'<a href="(index_\d+\.html)">', body[body.find(b"</script>") :])
            nxt = following.group(1).decode() if following and pages_seen + 1 < total else ""
            name, pages_seen = nxt, pages_seen + 1
        expected = [a.path for a in portal.column_articles(column)]
        assert linked == expected and len(set(linked)) == len(linked)
        assert pages_seen == total
    assert portal.page("/news/yw/index_99.html")[0] == 404


def test_sitemap_lists_every_article_with_lastmod(portal: Portal) -> None:
    _status, _headers, body = portal.page("/sitemap.xml")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    urls = ET.fromstring(body).findall("s:url", ns)
    assert [u.findtext("s:loc", namespaces=ns) for u in urls] == [portal.absolute(a.path) for a in portal.articles]
    assert all(u.findtext("s:lastmod", namespaces=ns) for u in urls)


def test_robots_disallows_truth_and_names_the_sitemap(portal: Portal) -> None:
    robots = portal.page("/robots.txt")[2].decode("ascii")
    assert "Disallow: /_truth/" in robots.splitlines()
    assert f"Sitemap: {BASE}/sitemap.xml" in robots


def test_unknown_paths_are_not_found(portal: Portal) -> None:
    for path in ("/nope", "/news/zz/", "/_truth/1.json", "/news/yw/202501/t20250101_1.html"):
        assert portal.page(path)[0] == 404


def test_home_links_channels_columns_and_the_20_latest(portal: Portal) -> None:
    body = portal.page("/")[2]
    for column in COLUMNS:
        assert f'href="{column.path}"'.encode() in body and f'href="{column.channel_path}"'.encode() in body
    latest = re.findall(rb'<li><a href="(/[^"]+\.html)"', body)
    assert [h.decode() for h in latest] == [a.path for a in reversed(portal.articles)][:20]


def test_images_of_the_truth_are_served(portal: Portal) -> None:
    article = next(a for a in portal.articles if portal.truth(a.id)["images"])
    for image in portal.truth(article.id)["images"]:
        status, headers, _body = portal.page(image["url"][len(BASE) :])
        assert status == 200 and ("Content-Type", "image/jpeg") in headers


def test_article_page_has_spam_decor_and_the_clean_layout(portal: Portal) -> None:
    article = portal.articles[0]
    html = portal.clean_html(article.id)
    truth = portal.truth(article.id)
    assert f">{truth['title']}</h1>" in html.replace("&quot;", '"')
    assert '<div style="display:none">' in html and ".example/" in html
    assert "document.referrer" in html and 'name="keywords"' in html
    assert '<div class="position"><a href="/">首頁</a>&nbsp;&gt;&nbsp;' in html
    assert "\xa0" not in html
    assert html.count("<p>&nbsp;&nbsp;") == len(truth["paragraphs"]) + len(truth["subheadings"])


def test_charset_variants_are_assigned_in_equal_shares(portal: Portal) -> None:
    shares = Counter(a.charset_variant for a in portal.articles)
    assert set(shares) == set(VARIANT_NAMES)
    assert max(shares.values()) - min(shares.values()) <= 1


def _served(portal: Portal, variant: str) -> tuple[str, str, bytes]:
    article = next(a for a in portal.articles if a.charset_variant == variant)
    status, headers, body = portal.page(article.path)
    assert status == 200
    return dict(headers)["Content-Type"], article.title, body


@pytest.mark.parametrize(
    ("variant", "header", "meta"),
    [
        ("gb2312", "text/html; charset=gb2312", b"charset=gb2312"),
        ("gbk-meta-only", "text/html", b"charset=gbk"),
        ("header-meta-disagree", "text/html; charset=utf-8", b"charset=gb2312"),
        ("no-charset", "text/html", None),
    ],
)
def test_raw_variants_send_damaged_gbk_bytes_with_their_declarations(
    portal: Portal,
    variant: str,
    header: str,
    meta: bytes | None,
) -> None:
    content_type, title, body = _served(portal, variant)
    assert content_type == header
    if meta is None:
        assert b"charset" not in body
    else:
        assert meta in body[:200]
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert damage_page(title) in body


@pytest.mark.parametrize(
    ("variant", "header"),
    [
        ("utf8-decoded", "text/html; charset=utf-8"),
        ("utf8-bom-decoded", "text/html; charset=gb2312"),
    ],
)
def test_decoded_variants_send_the_servers_lossy_text_as_utf8(portal: Portal, variant: str, header: str) -> None:
    content_type, title, body = _served(portal, variant)
    assert content_type == header
    assert body.startswith(BOM) == (variant == "utf8-bom-decoded")
    text = body.removeprefix(BOM).decode("utf-8")
    assert "?" in text
    assert server_decode(damage_page(title)) in text
