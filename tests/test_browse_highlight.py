"""Repairs become highlights: read from the record, placed in the restored text, found in the captured page."""

from __future__ import annotations

from typing import Any

import opencc

from archive.browse.highlight import (
    Repair,
    Segment,
    convert_lines,
    explain,
    locate,
    parse_repairs,
    segment_lines,
    text_spans,
)
from archive.testing import damaged_text, sample_record

READING = {"kind": "reading", "shown": "(chǎn)", "restored": ""}
COMMA = {"kind": "punctuation", "shown": ",", "restored": "，"}


def record_with(paragraphs: list[list[Any]], **extra: Any) -> dict[str, Any]:
    damage = damaged_text(paragraphs)
    cleaning = {
        "spam_blocks": 0,
        "pinyin_removed": 0,
        "mojibake_runs": 0,
        "bytes_restored": 0,
        "punctuation_restored": 0,
        "unrecoverable": damage.unrecoverable,
        "repairs": damage.repairs,
        **extra,
    }
    return sample_record(text=damage.text, cleaning=cleaning)


def test_a_version_1_record_has_no_repair_list_rather_than_an_empty_one() -> None:
    old = sample_record(schema_version=1)
    del old["cleaning"]["repairs"]
    assert parse_repairs(old).repairs is None
    assert parse_repairs(sample_record()).repairs == []


def test_malformed_repairs_are_left_out_and_reported() -> None:
    record = record_with([["產", READING, "業"]])
    record["cleaning"]["repairs"] += [
        {"kind": "bytes", "offset": 99, "length": 5, "original": "?"},
        {"kind": "bytes", "offset": "1", "length": 1, "original": "?"},
    ]
    parsed = parse_repairs(record)
    assert [r.kind for r in parsed.repairs or []] == ["reading"]
    assert len(parsed.problems) == 2
    assert "runs past the end of the text" in parsed.problems[0]


def test_unrecoverable_repairs_take_their_reason_from_cleaning_unrecoverable() -> None:
    spot = {"kind": "unrecoverable", "shown": "?", "restored": "\ufffd", "reason": "a digit was swallowed"}
    [repair] = parse_repairs(record_with([["潛力", spot, "0年"]])).repairs or []
    assert (repair.offset, repair.reason) == (2, "a digit was swallowed")
    assert "a digit was swallowed" in explain(repair, "潛力\ufffd0年")


def test_explanations_name_the_change_and_the_candidates_weighed() -> None:
    repair = Repair(0, "bytes", 2, 2, "?!", ("集", "建", "進"))
    said = explain(repair, "治療。”")
    assert "「?!」" in said and "「。”」" in said and "「集」" in said and "建, 進" in said
    assert explain(Repair(1, "reading", 1, 0, "(chǎn)"), "產業").startswith("Pinyin reading removed")


def test_removals_become_markers_and_spans_split_at_line_breaks() -> None:
    text = "產業\n發展"
    spans = [(1, 1, 0), (1, 4, 1)]
    lines = segment_lines(text, spans)
    assert lines == [
        [Segment("產"), Segment("", 0), Segment("業", 1)],
        [Segment("發", 1, 1), Segment("展")],
    ]


def test_a_repair_inside_another_is_not_highlighted_twice() -> None:
    repairs = [Repair(0, "bytes", 0, 4, "?!xx"), Repair(1, "punctuation", 1, 1, ","), Repair(2, "reading", 4, 0, "(a)")]
    spans, overlapping = text_spans(repairs)
    assert spans == [(0, 4, 0), (4, 4, 2)] and overlapping == [1]


def test_each_line_is_found_on_the_page_where_it_is_whole_not_in_the_title_that_starts_alike() -> None:
    record = record_with([["江蘇細胞產", READING, "業", COMMA, "成果頻頻"], ["記者了解到", COMMA, "投入"]])
    repairs = parse_repairs(record).repairs or []
    title = "江蘇細胞產(chǎn)業緣何?"
    captured = f"{title}\n江蘇細胞產(chǎn)業,成果頻頻\n記者了解到,投入"
    found = locate(captured, 0, record["text"], repairs)
    body = captured.index("\n") + 1
    assert found[0] == (body + 5, body + 11)  # the reading in the paragraph, not the one in the title
    assert captured[found[1][0] : found[1][1]] == "," and found[1][0] > body
    assert found[2][0] > captured.rindex("\n")


def test_a_line_the_page_shows_otherwise_is_searched_repair_by_repair_with_what_context_matches() -> None:
    record = record_with([["一,二,段落", COMMA, "完"]])  # the ASCII commas before are kept, as in numbers
    repairs = parse_repairs(record).repairs or []
    captured = "一,二, 段落,完"  # a space the record does not account for: the line cannot be rebuilt
    [(start, end)] = locate(captured, 0, record["text"], repairs).values()
    assert (start, captured[start - 2 : end]) == (7, "段落,")


def test_spam_is_found_from_the_top_even_before_the_body() -> None:
    spam = Repair(0, "spam", 0, 0, "澳门葡京赌场")
    captured = "澳门葡京赌场_標題\n正文"
    assert locate(captured, captured.index("\n") + 1, "正文", [spam]) == {0: (0, 6)}


def test_a_repair_the_page_does_not_show_is_not_located() -> None:
    record = record_with([["產", READING, "業"]])
    assert locate("完全不同的頁面", 0, record["text"], parse_repairs(record).repairs or []) == {}


def test_simplified_lines_keep_the_highlights_where_the_record_lines_up() -> None:
    text = "產業發展\n國際"
    lines = segment_lines(text, [(1, 2, 0)])
    convert = opencc.OpenCC("t2s").convert
    hans = convert_lines(lines, text, convert(text), convert)
    assert hans == [[Segment("产"), Segment("业", 0), Segment("发展")], [Segment("国际")]]
    # Without a text_hans that lines up, each segment is converted on its own.
    assert convert_lines(lines, text, None, convert) == hans
