"""Writer/reader pairing: what JsonlWriter commits, the reader gives back; nothing half-written is ever read."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive.cli import export_main, stats_main
from archive.export import export_latest
from archive.layout import ArchiveLayout, UnsafeNameError, check_name, committed_jsonl, new_crawl_id
from archive.quarantine import QUARANTINE_FIELDS, QuarantineWriter
from archive.reader import ArchiveReadError, iter_quarantine, iter_records
from archive.schema import FIELD_ORDER, normalize_record, validate_record
from archive.stats import archive_stats
from archive.testing import sample_quarantine, sample_record, write_sample_crawl
from archive.writer import (
    DirectoryBusyError,
    InvalidRecordError,
    JsonlWriter,
    pretty_json_chunks,
    write_chunks_atomic,
    write_json_atomic,
)

CRAWL = "20250101T000000Z-aaaaaa"


def final_names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if not p.name.startswith("."))


@pytest.mark.parametrize("compress", [True, False])
def test_round_trip_returns_identical_records_with_keys_in_field_order(tmp_path: Path, compress: bool) -> None:
    # U+2028 inside text must not split a JSONL line.
    records = [sample_record(str(1000 + i), text=f"第{i}篇\u2028（含分隔符）", crawl_id=CRAWL) for i in range(5)]
    layout = ArchiveLayout(tmp_path)
    with JsonlWriter(layout.articles_dir, CRAWL, compress=compress) as writer:
        for record in reversed(records):
            writer.write(dict(reversed(list(record.items()))))  # keys in the wrong order on purpose
    back = list(iter_records(tmp_path))
    assert back == list(reversed(records))
    assert all(list(r)[: len(FIELD_ORDER)] == list(FIELD_ORDER) for r in back)


def test_extra_fields_are_kept_after_the_known_ones(tmp_path: Path) -> None:
    record = {"zz_extra": 1, **sample_record(crawl_id=CRAWL), "aa_extra": "x"}
    assert list(normalize_record(record))[-2:] == ["aa_extra", "zz_extra"]
    assert validate_record(record) == []


def test_normalize_record_only_reorders_and_never_alters_text() -> None:
    decomposed = "e\u0301\uff0c\u3000"  # NFC would compose these; the archive must keep bytes as crawled
    record = sample_record(text=decomposed)
    assert normalize_record(record)["text"] == decomposed


def test_validate_record_reports_schema_and_hash_problems() -> None:
    bad = sample_record()
    bad["id"] = "abc"
    bad["text"] = "changed"
    del bad["cleaning"]
    errors = validate_record(bad)
    assert any(e.startswith("id:") for e in errors)
    assert any("cleaning" in e for e in errors)
    tampered = sample_record()
    tampered["text"] = "changed"
    assert any("text_sha256" in e for e in validate_record(tampered))


def test_version_1_records_stay_valid_and_version_2_needs_cleaner_version_and_repairs() -> None:
    old = sample_record(schema_version=1)
    del old["cleaner_version"]
    del old["cleaning"]["repairs"]
    assert validate_record(old) == []
    new = sample_record()
    assert new["schema_version"] == 2
    del new["cleaner_version"]
    del new["cleaning"]["repairs"]
    errors = validate_record(new)
    assert any("'cleaner_version' is a required property" in e for e in errors)
    assert any("'repairs' is a required property" in e for e in errors)


def test_a_repair_needs_its_kind_offset_length_and_original() -> None:
    record = sample_record()
    record["cleaning"]["repairs"] = [{"kind": "reading", "offset": 2, "length": 0, "original": "(chǎn)"}]
    assert validate_record(record) == []
    record["cleaning"]["repairs"] = [{"kind": "guess", "offset": -1, "length": 0}]
    errors = validate_record(record)
    assert any("original" in e for e in errors)
    assert any("guess" in e for e in errors)
    assert any("-1" in e for e in errors)


def test_writer_refuses_invalid_records_and_writes_nothing(tmp_path: Path) -> None:
    with JsonlWriter(tmp_path, CRAWL) as writer, pytest.raises(InvalidRecordError, match="published_at"):
        writer.write(sample_record(published_at="2025-01-01 08:00"))
    assert final_names(tmp_path) == []


def test_rotation_by_record_count(tmp_path: Path) -> None:
    with JsonlWriter(tmp_path, CRAWL, max_records=2, compress=False) as writer:
        for i in range(5):
            writer.write(sample_record(str(i), crawl_id=CRAWL))
    assert [f.records for f in writer.closed_files] == [2, 2, 1]
    assert final_names(tmp_path) == [f"{CRAWL}-0000{i}.jsonl" for i in (1, 2, 3)]


def test_rotation_by_size_keeps_every_file_under_the_limit(tmp_path: Path) -> None:
    line_size = (
        len(json.dumps(sample_record("1", crawl_id=CRAWL), ensure_ascii=False, separators=(",", ":")).encode()) + 1
    )
    with JsonlWriter(tmp_path, CRAWL, max_bytes=line_size * 3 + 10, compress=False) as writer:
        for i in range(7):
            writer.write(sample_record(str(i), crawl_id=CRAWL))
    assert [f.records for f in writer.closed_files] == [3, 3, 1]
    assert all(f.bytes <= line_size * 3 + 10 for f in writer.closed_files)


def test_closed_file_reports_true_bytes_and_sha256(tmp_path: Path) -> None:
    with JsonlWriter(tmp_path, CRAWL) as writer:
        writer.write(sample_record(crawl_id=CRAWL))
    [closed] = writer.closed_files
    data = (tmp_path / closed.name).read_bytes()
    assert (closed.bytes, closed.sha256, closed.records) == (len(data), hashlib.sha256(data).hexdigest(), 1)
    assert gzip.decompress(data).decode("utf-8").count("\n") == 1


def test_no_file_appears_under_its_final_name_until_closed(tmp_path: Path) -> None:
    writer = JsonlWriter(tmp_path, CRAWL)
    writer.write(sample_record(crawl_id=CRAWL))
    assert final_names(tmp_path) == []
    assert list(iter_records(tmp_path.parent)) == [] and committed_jsonl(tmp_path) == []
    assert [p.name for p in tmp_path.glob(".*.part")] == [f".{CRAWL}-00001.jsonl.gz.part"]
    writer.close()
    assert final_names(tmp_path) == [f"{CRAWL}-00001.jsonl.gz"]
    assert list(tmp_path.glob(".*.part")) == []


def test_part_files_are_ignored_by_readers_and_set_aside_by_the_next_writer(tmp_path: Path) -> None:
    layout = ArchiveLayout(tmp_path)
    crashed = JsonlWriter(layout.articles_dir, CRAWL)
    crashed.write(sample_record("1", crawl_id=CRAWL))
    crashed._stream.flush()  # simulate a crash: data on disk, never closed
    crashed._lock.release()
    assert list(iter_records(tmp_path)) == []
    with JsonlWriter(layout.articles_dir, CRAWL) as writer:
        writer.write(sample_record("2", crawl_id=CRAWL))
    assert [r["id"] for r in iter_records(tmp_path)] == ["2"]
    hidden = sorted(p.name for p in layout.articles_dir.glob(".*") if p.name != ".lock")
    assert hidden == [f".{CRAWL}-00001.jsonl.gz.abandoned-1"]


def test_abort_keeps_committed_files_leaves_the_open_one_a_part_and_frees_the_directory(tmp_path: Path) -> None:
    directory = ArchiveLayout(tmp_path).articles_dir
    writer = JsonlWriter(directory, CRAWL, max_records=1)
    writer.write(sample_record("1", crawl_id=CRAWL))
    writer.write(sample_record("2", crawl_id=CRAWL))  # rotates: 00001 committed, 00002 open
    writer.abort()
    assert final_names(directory) == [f"{CRAWL}-00001.jsonl.gz"]
    assert [f.name for f in writer.closed_files] == [f"{CRAWL}-00001.jsonl.gz"]
    assert [p.name for p in directory.glob(".*.part")] == [f".{CRAWL}-00002.jsonl.gz.part"]
    with pytest.raises(RuntimeError, match="closed"):
        writer.write(sample_record("3", crawl_id=CRAWL))
    writer.abort()  # a second abort, or a close after it, commits nothing
    assert writer.close() == writer.closed_files and final_names(directory) == [f"{CRAWL}-00001.jsonl.gz"]
    # The lock is free, and the next writer sets the .part aside like a crashed writer's.
    with JsonlWriter(directory, CRAWL) as after:
        after.write(sample_record("3", crawl_id=CRAWL))
    assert [p.name for p in directory.glob(".*.abandoned-*")] == [f".{CRAWL}-00002.jsonl.gz.abandoned-1"]
    assert [r["id"] for r in iter_records(tmp_path)] == ["1", "3"]


def test_abort_after_close_changes_nothing(tmp_path: Path) -> None:
    with JsonlWriter(tmp_path, CRAWL) as writer:
        writer.write(sample_record(crawl_id=CRAWL))
    writer.abort()
    assert final_names(tmp_path) == [f"{CRAWL}-00001.jsonl.gz"] and list(tmp_path.glob(".*.part")) == []


def test_sequence_continues_after_existing_files_on_restart(tmp_path: Path) -> None:
    for _ in range(2):
        with JsonlWriter(tmp_path, CRAWL, compress=False) as writer:
            writer.write(sample_record(crawl_id=CRAWL))
    assert final_names(tmp_path) == [f"{CRAWL}-00001.jsonl", f"{CRAWL}-00002.jsonl"]


def test_second_writer_in_the_same_directory_is_refused(tmp_path: Path) -> None:
    with JsonlWriter(tmp_path, CRAWL), pytest.raises(DirectoryBusyError, match="another writer"):
        JsonlWriter(tmp_path, "20250102T000000Z-bbbbbb")


def test_workers_of_one_distributed_crawl_share_a_directory_and_only_the_first_is_alone(tmp_path: Path) -> None:
    with (
        JsonlWriter(tmp_path, f"{CRAWL}-w001", lock_group=CRAWL) as first,
        JsonlWriter(tmp_path, f"{CRAWL}-w002", lock_group=CRAWL) as second,
    ):
        first.write(sample_record("1", crawl_id=f"{CRAWL}-w001"))
        second.write(sample_record("2", crawl_id=f"{CRAWL}-w002"))
        assert (first.alone, second.alone) == (True, False)
    assert final_names(tmp_path) == [f"{CRAWL}-w001-00001.jsonl.gz", f"{CRAWL}-w002-00001.jsonl.gz"]


def test_a_crawl_is_refused_while_the_workers_of_a_distributed_crawl_write_and_they_while_it_does(
    tmp_path: Path,
) -> None:
    with JsonlWriter(tmp_path, f"{CRAWL}-w001", lock_group=CRAWL):
        with pytest.raises(DirectoryBusyError, match="another writer"):
            JsonlWriter(tmp_path, "20250102T000000Z-bbbbbb")
        with pytest.raises(DirectoryBusyError, match=rf"another distributed crawl \({CRAWL}\)"):
            JsonlWriter(tmp_path, "20250102T000000Z-bbbbbb-w001", lock_group="20250102T000000Z-bbbbbb")
    with JsonlWriter(tmp_path, "20250102T000000Z-bbbbbb"), pytest.raises(DirectoryBusyError, match="another writer"):
        JsonlWriter(tmp_path, f"{CRAWL}-w001", lock_group=CRAWL)


def test_a_worker_that_is_not_alone_leaves_the_part_files_to_their_writers(tmp_path: Path) -> None:
    running = JsonlWriter(tmp_path, f"{CRAWL}-w001", lock_group=CRAWL)
    running.write(sample_record("1", crawl_id=f"{CRAWL}-w001"))  # open: a .part file of a live worker
    with JsonlWriter(tmp_path, f"{CRAWL}-w002", lock_group=CRAWL):
        assert [p.name for p in tmp_path.glob(".*.part")] == [f".{CRAWL}-w001-00001.jsonl.gz.part"]
    running.abort()  # as if killed: its .part stays
    with JsonlWriter(tmp_path, f"{CRAWL}-w003", lock_group=CRAWL) as alone:
        assert alone.alone
    assert [p.name for p in tmp_path.glob(".*.abandoned-*")] == [f".{CRAWL}-w001-00001.jsonl.gz.abandoned-1"]


def test_reader_orders_by_crawl_start_not_by_name(tmp_path: Path) -> None:
    write_sample_crawl(
        tmp_path, "zzz-late-name", [sample_record("1", crawl_id="zzz-late-name")], started_at="2025-01-01T00:00:00Z"
    )
    write_sample_crawl(
        tmp_path, "aaa-early-name", [sample_record("2", crawl_id="aaa-early-name")], started_at="2025-03-01T00:00:00Z"
    )
    assert [r["id"] for r in iter_records(tmp_path)] == ["1", "2"]


def test_latest_only_yields_the_highest_version_of_each_id(tmp_path: Path) -> None:
    write_sample_crawl(
        tmp_path,
        "c1",
        [sample_record("1", 1, "a", crawl_id="c1"), sample_record("2", 1, "b", crawl_id="c1")],
        started_at="2025-01-01T00:00:00Z",
    )
    write_sample_crawl(tmp_path, "c2", [sample_record("1", 2, "a2", crawl_id="c2")], started_at="2025-02-01T00:00:00Z")
    latest = {r["id"]: (r["version"], r["text"]) for r in iter_records(tmp_path, latest_only=True)}
    assert latest == {"1": (2, "a2"), "2": (1, "b")}


def test_reader_raises_with_file_and_line_on_a_damaged_committed_file(tmp_path: Path) -> None:
    write_sample_crawl(tmp_path, CRAWL, [sample_record(crawl_id=CRAWL)] * 1, compress=False)
    path = tmp_path / "articles" / f"{CRAWL}-00001.jsonl"
    path.write_bytes(path.read_bytes() + b'{"id": "trunc')
    with pytest.raises(ArchiveReadError, match=r"00001\.jsonl:2: .*truncated"):
        list(iter_records(tmp_path))


def test_flipped_bytes_inside_a_gzip_file_are_a_read_error_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = [sample_record(str(n), text="正文" * 200 + str(n), crawl_id=CRAWL) for n in range(20)]
    write_sample_crawl(tmp_path, CRAWL, records, manifest=False)  # no manifest: the reader peeks at the file
    path = tmp_path / "articles" / f"{CRAWL}-00001.jsonl.gz"
    damaged = bytearray(path.read_bytes())
    damaged[30:60] = bytes(b ^ 0xFF for b in damaged[30:60])  # inside the deflate data, past the gzip header
    path.write_bytes(bytes(damaged))
    with pytest.raises(ArchiveReadError, match="damaged gzip stream"):
        list(iter_records(tmp_path))
    assert stats_main([str(tmp_path)]) == 1
    assert "damaged gzip stream" in capsys.readouterr().err


def test_quarantine_round_trip(tmp_path: Path) -> None:
    layout = ArchiveLayout(tmp_path)
    with QuarantineWriter(layout.quarantine_dir, CRAWL) as writer:
        writer.write(sample_quarantine(crawl_id=CRAWL, extra="kept"))
        with pytest.raises(InvalidRecordError, match="reason"):
            writer.write({"url": "http://x"})
    [record] = list(iter_quarantine(tmp_path))
    assert list(record)[:3] == ["url", "reason", "detail"] and record["extra"] == "kept"
    assert writer.closed_files[0].kind == "quarantine"


def test_skip_entries_carry_outcome_and_final_url_after_the_original_fields(tmp_path: Path) -> None:
    skip = sample_quarantine(
        crawl_id=CRAWL,
        reason="skipped:redirect_loop",
        final_url="http://news.example.cn/a/loop.html",
        outcome="skipped",
        id="1",
    )
    with QuarantineWriter(tmp_path / "quarantine", CRAWL) as writer:
        writer.write(dict(reversed(list(skip.items()))))
        with pytest.raises(InvalidRecordError, match="outcome"):
            writer.write(sample_quarantine(crawl_id=CRAWL, outcome="lost"))
        with pytest.raises(InvalidRecordError, match="final_url"):
            writer.write(sample_quarantine(crawl_id=CRAWL, final_url=3))
    [record] = list(iter_quarantine(tmp_path))
    assert list(record) == [*QUARANTINE_FIELDS, "id"]


def test_write_json_atomic_leaves_no_temporary_and_returns_checksum(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    sha = write_json_atomic(target, {"名": 1})
    assert json.loads(target.read_text(encoding="utf-8")) == {"名": 1}
    assert sha == hashlib.sha256(target.read_bytes()).hexdigest()
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


@pytest.mark.parametrize("name", ["../evil", "a/b", ".hidden", "", "a..b", "/abs"])
def test_layout_refuses_names_that_could_escape_the_root(tmp_path: Path, name: str) -> None:
    with pytest.raises(UnsafeNameError):
        ArchiveLayout(tmp_path).resolve("articles", name)
    with pytest.raises(UnsafeNameError):
        check_name(name)


def test_new_crawl_ids_are_valid_names_and_sort_by_time() -> None:
    from datetime import datetime

    early = new_crawl_id(datetime(2025, 1, 1, tzinfo=UTC))
    late = new_crawl_id(datetime(2025, 1, 2, tzinfo=UTC))
    assert check_name(early) and early < late


def test_export_latest_writes_one_line_per_article(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    write_sample_crawl(
        root,
        "c1",
        [sample_record("1", 1, "a", crawl_id="c1"), sample_record("2", 1, "b", crawl_id="c1")],
        started_at="2025-01-01T00:00:00Z",
    )
    write_sample_crawl(root, "c2", [sample_record("1", 2, "a2", crawl_id="c2")], started_at="2025-02-01T00:00:00Z")
    out = io.StringIO()
    assert export_latest(root, out) == 2
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert sorted((r["id"], r["version"]) for r in lines) == [("1", 2), ("2", 1)]
    target = tmp_path / "out.jsonl"
    assert export_main([str(root), "--latest", "--out", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == out.getvalue()


def test_stats_count_articles_records_versions_and_crawls(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_sample_crawl(
        tmp_path,
        "c1",
        [sample_record("1", 1, "a", crawl_id="c1"), sample_record("2", 1, "b", crawl_id="c1", section=None)],
        [sample_quarantine(crawl_id="c1")],
        started_at="2025-01-01T00:00:00Z",
    )
    write_sample_crawl(
        tmp_path,
        "c2",
        [sample_record("1", 2, "a2", crawl_id="c2", published_at="2025-02-01T09:00:00+08:00")],
        started_at="2025-02-01T00:00:00Z",
    )
    stats = archive_stats(tmp_path)
    assert (stats["articles"], stats["records"], stats["quarantined"], stats["skipped"], stats["crawls"]) == (
        2,
        3,
        1,
        0,
        2,
    )
    assert stats["versions"] == {"1": 1, "2": 1}
    assert stats["files"] == 2 + 1 + 2  # article files, quarantine file, manifests
    assert (stats["published_first"], stats["published_last"]) == (
        "2024-12-31T08:00:00+08:00",
        "2025-02-01T09:00:00+08:00",
    )
    assert stats["sections"] == {"要聞": 1, "(none)": 1}
    assert stats_main([str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["articles"] == 2
    assert stats_main([str(tmp_path)]) == 0
    assert "articles" in capsys.readouterr().out


def test_stats_count_quarantined_pages_and_skip_entries_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = [
        sample_quarantine(crawl_id="c1"),  # written before entries had an outcome: a quarantined page
        sample_quarantine(crawl_id="c1", reason="clean_error", outcome="quarantined"),
        sample_quarantine("http://news.example.cn/a/2.html", crawl_id="c1", reason="skipped:robots", outcome="skipped"),
    ]
    write_sample_crawl(tmp_path, "c1", [sample_record("1", crawl_id="c1")], entries)
    stats = archive_stats(tmp_path)
    assert (stats["quarantined"], stats["skipped"]) == (2, 1)
    assert stats_main([str(tmp_path), "--json"]) == 0
    assert {k: v for k, v in json.loads(capsys.readouterr().out).items() if k in ("quarantined", "skipped")} == {
        "quarantined": 2,
        "skipped": 1,
    }
    assert stats_main([str(tmp_path)]) == 0
    table = dict(line.rsplit(None, 1) for line in capsys.readouterr().out.splitlines()[:5])
    assert (table["quarantined"], table["skipped"]) == ("2", "1")


def test_before_commit_runs_while_the_file_is_still_unnamed(tmp_path: Path) -> None:
    seen = []
    writer = JsonlWriter(
        tmp_path, "c1", before_commit=lambda: seen.append(sorted(p.name for p in tmp_path.glob("c1-*")))
    )
    writer.write(sample_record("1", crawl_id="c1"))
    writer.close()
    assert seen == [[]] and [p.name for p in tmp_path.glob("c1-*")] == ["c1-00001.jsonl.gz"]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=12,
)


@given(
    head=st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=3),
    items=st.lists(st.tuples(st.text(max_size=6), JSON_VALUES), max_size=5, unique_by=lambda item: item[0]),
)
def test_a_document_written_piece_by_piece_is_byte_identical_to_one_written_whole(
    tmp_path_factory: pytest.TempPathFactory, head: dict[str, Any], items: list[tuple[str, Any]]
) -> None:
    head.pop("articles", None)
    folder = tmp_path_factory.mktemp("json")
    whole = write_json_atomic(folder / "whole.json", {**head, "articles": dict(items)})
    pieces = write_chunks_atomic(folder / "pieces.json", pretty_json_chunks(head, "articles", items))
    assert (folder / "pieces.json").read_bytes() == (folder / "whole.json").read_bytes() and pieces == whole
