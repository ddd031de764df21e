"""Every route of the browse app over HTTP (Flask's test client): what each page says, the errors, damaged archives."""

from __future__ import annotations

import gzip
import hashlib
import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from archive.reader import iter_records
from archive.testing import sample_record
from archive.writer import JsonlWriter


def text_of(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def words_of(response: Any) -> str:
    """The page's text without tags, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def marks(page: str, side: str) -> list[str]:
    """Numbers of the repairs highlighted in one column ("t" restored text, "c" captured page)."""
    return re.findall(rf'<mark class="repair [^"]*" tabindex="0" data-repair="(\d+)" id="{side}-r\d+"', page)


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def client(browse_client: Callable[..., Any], browse_sample: Any) -> Any:
    return browse_client(browse_sample.root)


def test_the_list_shows_each_article_with_its_counts(client: Any, browse_sample: Any) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = text_of(response)
    assert browse_sample.data["title"] in page and "舊記錄" in page and "無抓取" in page
    words = words_of(response)
    assert "3 articles" in words and "Quarantined 1 · skipped 1" in words
    row = page[page.index(browse_sample.data["title"]) :].split("</tr>")[0]
    repairs = browse_sample.latest["cleaning"]["repairs"]
    cells = re.findall(r'<td class="num">([^<]*)', row)
    assert cells == ["2", str(sum(1 for r in repairs if r["kind"] != "unrecoverable")), "1"]
    assert "not recorded: schema version 1 record" in page


@pytest.mark.parametrize(("query", "found"), [("产业观察", True), ("產業觀察", True), ("沒有這個詞", False)])
def test_search_in_simplified_or_traditional(client: Any, browse_sample: Any, query: str, found: bool) -> None:
    page = text_of(client.get("/", query_string={"q": query}))
    assert (browse_sample.data["title"] in page) is found
    assert ("1 article" in page) is found and ("No article matches." in page) is not found


def test_filters_and_a_bad_date_says_it_is_ignored(client: Any, browse_sample: Any) -> None:
    page = text_of(client.get("/", query_string={"section": "財經", "from": "2025-13"}))
    assert "舊記錄" in page and browse_sample.data["title"] not in page
    assert "'2025-13' is not a date like 2025-08-26; the from filter is ignored." in page


def test_quarantine_page_lists_both_kinds_with_their_reasons(client: Any) -> None:
    page = text_of(client.get("/quarantine"))
    assert "t20250826_9.html" in page and "clean_error" in page
    assert "t20250826_10.html" in page and "skipped:http_503" in page and "HTTP 503 after 2 retries" in page
    assert 'href="/raw/quarantine/1"' in page and 'href="/raw/quarantine/2"' not in page
    raw = client.get("/raw/quarantine/1")
    assert raw.status_code == 200 and raw.get_data().endswith("<p>頁面殘缺</p></body></html>\r\n\r\n".encode("gb18030"))
    skipped = text_of(client.get("/quarantine", query_string={"outcome": "skipped"}))
    assert "skipped:http_503" in skipped and "t20250826_9.html" not in skipped


def test_article_page_highlights_every_repair_in_both_columns(client: Any, browse_sample: Any) -> None:
    response = client.get(f"/article/{browse_sample.damaged}")
    assert response.status_code == 200
    page = text_of(response)
    repairs = browse_sample.latest["cleaning"]["repairs"]
    assert len(marks(page, "t")) == len(repairs)  # spam as chips above the text, the rest in it
    assert len(marks(page, "c")) == len(repairs)  # every original found in the capture
    for said in (
        "Pinyin reading removed:",
        "Bytes restored:",
        "Punctuation restored:",
        "Markup removed:",
        "Spam removed",
    ):
        assert page.count(said) >= 2, said  # in the restored text and on the captured page
    assert "Pinyin reading removed: the page had 「(chǎn)」 here." in page
    assert "The model chose 「集」 over 建." in page
    assert "Reason: a digit was swallowed with an orphaned lead byte." in page
    assert "decoded as gb18030 (declared “gb2312” in the <meta>; the HTTP header said “utf-8”)" in page
    assert 'class="pua" title="U+E20B' in response.get_data(as_text=True)


def test_article_page_shows_fields_versions_and_links(client: Any, browse_sample: Any) -> None:
    page = text_of(client.get(f"/article/{browse_sample.damaged}"))
    for value in ("交匯點新聞", "許愿、柏麗娟", "2025-08-26T08:21:00+08:00", "首頁 › 新聞中心 › 要聞"):
        assert value in page
    assert "version 2 of 2" in page and "changes from 1" in page
    assert f'href="/article/{browse_sample.damaged}.json?version=2"' in page
    assert f'href="/raw/{browse_sample.damaged}?version=2"' in page


def test_simplified_toggle_converts_the_text_and_keeps_the_highlights(client: Any, browse_sample: Any) -> None:
    page = text_of(client.get(f"/article/{browse_sample.damaged}", query_string={"script": "hans"}))
    assert "江苏细胞和基因技术产" in page and "江蘇細胞和基因技術產" not in page.split('class="column captured"')[0]
    assert len(marks(page, "t")) == len(browse_sample.latest["cleaning"]["repairs"])


def test_an_older_version_can_be_viewed(client: Any, browse_sample: Any) -> None:
    page = text_of(client.get(f"/article/{browse_sample.damaged}", query_string={"version": "1"}))
    assert "version 1 of 2" in page and "latest is 2" in page
    assert browse_sample.data["changed_paragraph"][0] not in page


def test_a_version_1_record_is_shown_without_highlights(client: Any, browse_sample: Any) -> None:
    page = text_of(client.get(f"/article/{browse_sample.old}"))
    assert "written before repairs were recorded (schema version 1)" in page
    assert marks(page, "t") == [] and "舊格式的記錄,沒有修復清單。" in page  # the capture, decoded as UTF-8


def test_a_record_without_capture_says_so(client: Any, browse_sample: Any) -> None:
    response = client.get(f"/article/{browse_sample.plain}")
    assert response.status_code == 200
    assert "This record has no raw capture" in text_of(response)
    raw = client.get(f"/raw/{browse_sample.plain}")
    assert raw.status_code == 404 and "has no raw capture" in text_of(raw)


def test_record_json_is_the_line_as_stored(client: Any, browse_sample: Any) -> None:
    response = client.get(f"/article/{browse_sample.damaged}.json", query_string={"version": "1"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    path = next((browse_sample.root / "articles").glob("20250827*.jsonl.gz"))
    lines = gzip.decompress(path.read_bytes()).split(b"\n")
    assert response.get_data() in [line + b"\n" for line in lines]
    assert response.get_json()["version"] == 1


def test_raw_capture_is_the_warc_record_with_its_headers_and_body(client: Any, browse_sample: Any) -> None:
    response = client.get(f"/raw/{browse_sample.damaged}")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert response.headers["Content-Type"] == "text/plain; charset=gb18030"
    data = response.get_data()
    assert data.startswith(b"WARC/1.1\r\n") and b"\r\nHTTP/1.1 200 OK\r\n" in data
    body = data.split(b"\r\n\r\n", 2)[2].removesuffix(b"\r\n\r\n")
    latest = next(r for r in iter_records(browse_sample.root) if r["id"] == browse_sample.damaged and r["version"] == 2)
    assert hashlib.sha256(body).hexdigest() == latest["content_sha256"]


def test_diff_marks_what_changed_between_versions(client: Any, browse_sample: Any) -> None:
    response = client.get(f"/article/{browse_sample.damaged}/diff")
    assert response.status_code == 200
    page = text_of(response)
    assert f"<ins>{browse_sample.data['changed_paragraph'][0]}</ins>" in page
    assert "Version 1 (20250827T000000Z-aaaaaa" in page and "text_sha256" in page
    single = client.get(f"/article/{browse_sample.old}/diff")
    assert single.status_code == 404 and "one version only" in text_of(single)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/article/424242", "No article with id '424242' in this archive."),
        ("/article/424242.json", "No article with id '424242' in this archive."),
        ("/raw/424242", "No article with id '424242' in this archive."),
        ("/article/254967?version=9", "Article 254967 has no version '9'; it has version(s) 1, 2."),
        ("/raw/quarantine/99", "No quarantine entry number 99."),
        ("/raw/quarantine/2", "has no raw capture"),
        ("/nowhere", "not found on the server"),
    ],
)
def test_a_missing_thing_is_a_404_with_a_message(client: Any, path: str, message: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    page = text_of(response)
    assert message in page and "Traceback" not in page


def test_pages_load_nothing_from_elsewhere(client: Any, browse_sample: Any) -> None:
    response = client.get(f"/article/{browse_sample.damaged}")
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert not re.search(r'(src|href)="https?://', response.get_data(as_text=True))


def test_browsing_every_route_leaves_the_archive_byte_identical(
    browse_client: Callable[..., Any], browse_sample: Any, tmp_path: Path
) -> None:
    before = snapshot(browse_sample.root)
    client = browse_client(browse_sample.root, tmp_path / "cache")
    article = browse_sample.damaged
    for path in ("/", "/?q=細胞", "/quarantine", f"/article/{article}", f"/article/{article}?script=hans"):
        assert client.get(path).status_code == 200
    for path in (f"/article/{article}.json", f"/article/{article}/diff", f"/raw/{article}", "/static/browse.css"):
        assert client.get(path).status_code == 200
    assert snapshot(browse_sample.root) == before


def test_a_truncated_article_file_gives_a_page_naming_the_damage(
    browse_client: Callable[..., Any], sample_copy: Path
) -> None:
    path = next((sample_copy / "articles").glob("20250901*.jsonl.gz"))
    path.write_bytes(path.read_bytes()[:-20])
    response = browse_client(sample_copy).get("/")
    assert response.status_code == 200
    page = text_of(response)
    assert "This archive is damaged: 1 spot could not be read" in page
    assert f"articles/{path.name}: damaged gzip stream" in page and "newsarchive verify" in page


def test_a_bad_line_gives_a_page_naming_file_and_line(browse_client: Callable[..., Any], sample_copy: Path) -> None:
    path = next((sample_copy / "articles").glob("20250827*.jsonl.gz"))
    path.write_bytes(gzip.compress(b"{not json\n" + gzip.decompress(path.read_bytes())))
    page = text_of(browse_client(sample_copy).get("/"))
    assert f"articles/{path.name}:1: not valid UTF-8 JSON" in page
    assert "舊記錄" in page  # the lines after the bad one are still there


def test_a_missing_warc_gives_a_clear_article_page_and_raw_404(
    browse_client: Callable[..., Any], sample_copy: Path, browse_sample: Any
) -> None:
    for warc in (sample_copy / "warc").glob("*.warc.gz"):
        warc.unlink()
    client = browse_client(sample_copy)
    response = client.get(f"/article/{browse_sample.damaged}")
    assert response.status_code == 200
    page = text_of(response)
    assert "the raw capture is missing" in page and "fix: restore it from a copy of the archive" in page
    assert len(marks(page, "t")) == len(browse_sample.latest["cleaning"]["repairs"])  # the text keeps its highlights
    raw = client.get(f"/raw/{browse_sample.damaged}")
    assert raw.status_code == 404 and "the raw capture is missing" in text_of(raw)


def test_a_record_that_breaks_the_schema_still_renders(browse_client: Callable[..., Any], tmp_path: Path) -> None:
    record = sample_record("1", text="短文")
    record["cleaning"]["repairs"] = [{"kind": "bytes", "offset": 9, "length": 3, "original": "?"}, "nonsense"]
    record["reporters"] = "not a list"
    with JsonlWriter(tmp_path / "articles", "20250101T000000Z-aaaaaa", validate=None) as writer:
        writer.write(record)
    page = text_of(browse_client(tmp_path).get("/article/1"))
    assert "cleaning.repairs[0]: span 9+3 runs past the end of the text" in page
    assert "cleaning.repairs[1]: not an object" in page and "短文" in page


@pytest.mark.parametrize(
    ("asked", "shown", "rows", "links"),
    [("", 1, 50, ["next"]), ("2", 2, 50, ["prev", "next"]), ("3", 3, 20, ["prev"]), ("9", 3, 20, ["prev"])],
)
def test_a_long_list_is_paginated_and_a_page_past_the_end_shows_the_last(
    browse_client: Callable[..., Any], tmp_path: Path, asked: str, shown: int, rows: int, links: list[str]
) -> None:
    with JsonlWriter(tmp_path / "articles", "20250101T000000Z-aaaaaa") as writer:
        for number in range(120):
            writer.write(sample_record(str(1000 + number), text=f"第{number}篇。", title=f"標題{number:03d}"))
    page = text_of(browse_client(tmp_path).get("/", query_string={"page": asked} if asked else {}))
    assert f"page {shown} of 3" in page and "120 articles" in page
    assert len(re.findall(r"標題\d{3}", page)) == rows
    assert re.findall(r'rel="(prev|next)"', page) == links
