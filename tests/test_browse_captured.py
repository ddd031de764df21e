"""The captured page: read back from the WARC, decoded as the portal declared it, rendered as the reader saw it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from archive.browse.captured import CaptureError, captured_page, choose_charset, page_text, read_response
from archive.reader import iter_records

GBK_PAGE = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312"><p>治療\ue20b</p>'.encode("gb18030")


def test_a_utf8_header_contradicted_by_gbk_bytes_gives_way_to_the_meta() -> None:
    charset = choose_charset([("Content-Type", "text/html; charset=utf-8")], GBK_PAGE)
    assert (charset.codec, charset.source) == ("gb18030", "meta")
    assert charset.declared == {"header": "utf-8", "meta": "gb2312"}


def test_gbk_family_declarations_are_read_as_gb18030_so_private_use_characters_survive() -> None:
    charset = choose_charset([("Content-Type", "text/html; charset=GBK")], GBK_PAGE)
    assert (charset.codec, charset.source) == ("gb18030", "header")
    assert "\ue20b" in GBK_PAGE.decode(charset.codec)


def test_without_a_usable_declaration_utf8_is_detected_and_anything_else_read_as_gb18030() -> None:
    assert choose_charset([], "<p>新聞</p>".encode()).codec == "utf-8"
    assert choose_charset([], "<p>新聞</p>".encode("gbk")).source == "detected"
    assert choose_charset([], "<p>新聞</p>".encode("gbk")).codec == "gb18030"
    assert choose_charset([], b"\xef\xbb\xbf<p>x</p>").source == "bom"


def test_page_text_keeps_title_and_keywords_apart_and_drops_scripts() -> None:
    html = (
        "<html><head><title>垃圾_標題</title><meta name=keywords content='垃圾,廣告'>"
        "<script>var a = '<p>不是正文</p>';</script></head>"
        "<body><div>垃圾</div><p>&nbsp;&nbsp;第一段  文字</p><p>第二段<br>下一行</p><style>p{}</style></body></html>"
    )
    blocks = page_text(html)
    assert [(b.label, b.text) for b in blocks] == [
        ("title", "垃圾_標題"),
        ("keywords", "垃圾,廣告"),
        (None, "垃圾"),
        (None, "\xa0\xa0第一段 文字"),
        (None, "第二段"),
        (None, "下一行"),
    ]


def test_the_sample_capture_reads_back_whole_and_hashes_to_the_record(browse_sample: Any) -> None:
    record = next(r for r in iter_records(browse_sample.root) if r["id"] == browse_sample.damaged)
    response = read_response(browse_sample.root, record["warc_file"], record["warc_offset"])
    assert hashlib.sha256(response.body).hexdigest() == record["content_sha256"]
    assert response.record.startswith(b"WARC/1.1\r\n") and response.body in response.record
    page = captured_page(response)
    assert page.charset.codec == "gb18030"
    assert browse_sample.data["title_shown"] in page.text
    assert "?!崩钕鑼⒛抗饧\ue20b" in page.text
    assert page.text[page.body_start :].startswith(browse_sample.data["spam_top"])


def test_a_missing_warc_says_so_and_how_to_fix_it(sample_copy: Path) -> None:
    record = next(iter_records(sample_copy))
    (sample_copy / "warc" / record["warc_file"]).unlink()
    with pytest.raises(CaptureError, match=r"the raw capture is missing.*fix: restore it"):
        read_response(sample_copy, record["warc_file"], record["warc_offset"])


def test_a_truncated_warc_or_a_wrong_offset_is_a_capture_error(sample_copy: Path) -> None:
    record = next(iter_records(sample_copy))
    path = sample_copy / "warc" / record["warc_file"]
    with pytest.raises(CaptureError, match="no readable record"):
        read_response(sample_copy, record["warc_file"], record["warc_offset"] + 3)
    path.write_bytes(path.read_bytes()[: record["warc_offset"] + 100])
    with pytest.raises(CaptureError, match="truncated"):
        read_response(sample_copy, record["warc_file"], record["warc_offset"])


def test_a_warc_name_that_leaves_the_archive_is_refused(browse_sample: Any) -> None:
    with pytest.raises(CaptureError, match="not a plain file name"):
        read_response(browse_sample.root, "../manifests/" + json.dumps("x"), 0)
