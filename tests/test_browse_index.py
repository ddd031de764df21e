"""The browse index: built once from the committed files, kept outside the archive, rebuilt when they change."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import opencc
import pytest

from archive.browse.index import BrowseIndex, Filters, cache_file
from archive.testing import sample_record, write_sample_crawl

T2S = opencc.OpenCC("t2s").convert


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_list_holds_the_latest_version_of_each_article_newest_first(browse_sample: Any) -> None:
    index = BrowseIndex(browse_sample.root, T2S)
    page = index.articles(Filters())
    assert [row.id for row in page.rows] == [browse_sample.damaged, browse_sample.old, browse_sample.plain]
    damaged = page.rows[0]
    assert (damaged.version, damaged.versions, damaged.section) == (2, 2, "要聞")
    repairs = browse_sample.latest["cleaning"]["repairs"]
    assert damaged.repairs == sum(1 for r in repairs if r["kind"] != "unrecoverable")
    assert damaged.unrecoverable == 1
    assert page.rows[1].repairs is None  # schema version 1: not recorded
    assert index.counts() == {"articles": 3, "records": 4, "quarantined": 1, "skipped": 1, "problems": 0}


@pytest.mark.parametrize("query", ["細胞治療", "细胞治疗", "產業觀察", "产业观察", "舊記錄"])
def test_search_finds_title_and_text_in_either_script(browse_sample: Any, query: str) -> None:
    index = BrowseIndex(browse_sample.root, T2S)
    assert index.articles(Filters(query=query)).total == 1


def test_filters_by_section_and_publication_day(browse_sample: Any) -> None:
    index = BrowseIndex(browse_sample.root, T2S)
    assert [r.id for r in index.articles(Filters(section="財經")).rows] == [browse_sample.old]
    assert [r.id for r in index.articles(Filters(day_from="2025-08-26", day_to="2025-08-26")).rows] == [
        browse_sample.damaged
    ]
    assert [r.id for r in index.articles(Filters(day_to="2025-06-30")).rows] == [browse_sample.plain]  # 2024-12-31
    assert index.articles(Filters(day_from="2026-01-01")).total == 0
    assert sorted(index.sections()) == [("科技", 1), ("要聞", 1), ("財經", 1)]


def test_pages_split_a_long_list(tmp_path: Path) -> None:
    records = [
        sample_record(str(5000 + n), published_at=f"2025-01-{1 + n % 28:02d}T08:00:00+08:00") for n in range(120)
    ]
    write_sample_crawl(tmp_path, "20250101T000000Z-aaaaaa", records)
    index = BrowseIndex(tmp_path, T2S)
    pages = [index.articles(Filters(page=n), page_size=50) for n in (1, 2, 3)]
    assert [len(p.rows) for p in pages] == [50, 50, 20] and pages[0].pages == 3
    assert len({row.id for p in pages for row in p.rows}) == 120


def test_the_cached_index_is_reused_until_a_crawl_adds_files(browse_sample: Any, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = BrowseIndex(browse_sample.root, T2S, cache)
    assert first.built_seconds is not None and first.cache_path and first.cache_path.parent == cache
    first.close()
    again = BrowseIndex(browse_sample.root, T2S, cache)
    assert again.built_seconds is None  # opened, not rebuilt
    assert again.counts()["articles"] == 3


def test_a_new_crawl_is_picked_up_on_the_next_request(sample_copy: Path, tmp_path: Path) -> None:
    index = BrowseIndex(sample_copy, T2S, tmp_path / "cache")
    assert index.refresh() is False
    write_sample_crawl(
        sample_copy, "20251001T000000Z-dddddd", [sample_record("7007", crawl_id="20251001T000000Z-dddddd")]
    )
    assert index.refresh() is True
    assert index.counts()["articles"] == 4


def test_building_and_reading_the_index_writes_nothing_into_the_archive(browse_sample: Any, tmp_path: Path) -> None:
    before = snapshot(browse_sample.root)
    index = BrowseIndex(browse_sample.root, T2S, tmp_path / "cache")
    index.articles(Filters(query="細胞"))
    index.close()
    assert snapshot(browse_sample.root) == before


def test_a_cache_directory_inside_the_archive_is_never_used(browse_sample: Any) -> None:
    assert cache_file(browse_sample.root, browse_sample.root / "cache") is None
    assert cache_file(browse_sample.root, browse_sample.root) is None
    index = BrowseIndex(browse_sample.root, T2S, browse_sample.root / "cache")
    assert index.cache_path is None and not (browse_sample.root / "cache").exists()


def test_an_unwritable_cache_directory_falls_back_to_memory(browse_sample: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    index = BrowseIndex(browse_sample.root, T2S, blocker / "cache")
    assert index.cache_path is None and index.counts()["articles"] == 3


def test_a_truncated_gzip_keeps_what_was_read_and_names_the_damage(sample_copy: Path) -> None:
    path = next((sample_copy / "articles").glob("20250827*.jsonl.gz"))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    index = BrowseIndex(sample_copy, T2S)
    [problem] = index.problems()
    assert problem.file == f"articles/{path.name}" and "damaged gzip stream" in problem.message
    assert index.counts()["articles"] >= 2  # the later crawls are whole


def test_a_bad_line_is_stepped_over_and_the_lines_after_it_are_kept(tmp_path: Path) -> None:
    write_sample_crawl(tmp_path, "20250101T000000Z-aaaaaa", [sample_record("1"), sample_record("2")], compress=False)
    path = next((tmp_path / "articles").glob("*.jsonl"))
    first, second = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(first + b'{"id": "broken\n' + b'{"title": "no id"}\n' + second)
    index = BrowseIndex(tmp_path, T2S)
    assert [r.id for r in index.articles(Filters()).rows] == ["1", "2"]
    assert [(p.line, p.message.split(":")[0]) for p in index.problems()] == [
        (2, "not valid UTF-8 JSON"),
        (3, "record has no string 'id'; it is not shown"),
    ]


def test_a_duplicate_version_is_shown_once_and_reported(tmp_path: Path) -> None:
    write_sample_crawl(tmp_path, "20250101T000000Z-aaaaaa", [sample_record("1"), sample_record("1", text="另一個")])
    index = BrowseIndex(tmp_path, T2S)
    assert index.counts()["records"] == 1
    assert "duplicate of article 1 version 1" in index.problems()[0].message


def test_gzip_member_of_an_empty_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    write_sample_crawl(tmp_path, "20250101T000000Z-aaaaaa", [sample_record("1")])
    path = next((tmp_path / "articles").glob("*.jsonl.gz"))
    path.write_bytes(gzip.compress(b"")[:5])
    index = BrowseIndex(tmp_path, T2S)
    assert index.counts()["articles"] == 0 and len(index.problems()) == 1


def test_flipped_bytes_in_a_crawl_without_manifest_are_a_problem_not_a_crash(tmp_path: Path) -> None:
    records = [sample_record(str(n), text="正文" * 200 + str(n)) for n in range(20)]
    write_sample_crawl(tmp_path, "20250101T000000Z-aaaaaa", records, manifest=False)
    path = next((tmp_path / "articles").glob("*.jsonl.gz"))
    damaged = bytearray(path.read_bytes())
    damaged[30:60] = bytes(b ^ 0xFF for b in damaged[30:60])
    path.write_bytes(bytes(damaged))
    index = BrowseIndex(tmp_path, T2S)
    [problem] = index.problems()
    assert "damaged gzip stream" in problem.message
