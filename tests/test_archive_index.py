"""ArchiveIndex decides new / unchanged / new_version from what is committed, and its cache never outranks the files."""

from __future__ import annotations

import json
import tracemalloc
import uuid
from pathlib import Path

import pytest

from archive.index import ArchiveIndex, IndexEntry, PackedEntries
from archive.layout import ArchiveLayout
from archive.schema import text_sha256
from archive.testing import sample_record, write_sample_crawl
from archive.writer import JsonlWriter


def test_unseen_id_is_new_version_one(tmp_path: Path) -> None:
    assert ArchiveIndex.open(tmp_path).decide("1", text_sha256("a")) == ("new", 1)


def test_same_text_is_unchanged_and_changed_text_is_the_next_version(tmp_path: Path) -> None:
    write_sample_crawl(tmp_path, "c1", [sample_record("1", 1, "a", crawl_id="c1")], started_at="2025-01-01T00:00:00Z")
    write_sample_crawl(tmp_path, "c2", [sample_record("1", 2, "b", crawl_id="c2")], started_at="2025-02-01T00:00:00Z")
    index = ArchiveIndex.open(tmp_path)
    assert index.decide("1", text_sha256("b")) == ("unchanged", 2)
    assert index.decide("1", text_sha256("a")) == ("new_version", 3)  # reverting to old text is still a new version
    assert index.get("1").url.endswith("/1.html")


def test_record_updates_decisions_within_a_crawl(tmp_path: Path) -> None:
    index = ArchiveIndex(tmp_path)
    index.record("5", text_sha256("x"), 1, "http://u/5")
    assert index.decide("5", text_sha256("x")) == ("unchanged", 1)
    index.record("5", text_sha256("old"), 0, "http://u/5")  # an older version never replaces a newer one
    assert index.get("5").version == 1


def test_index_is_persisted_and_reused_when_files_are_unchanged(tmp_path: Path) -> None:
    write_sample_crawl(tmp_path, "c1", [sample_record("1", 1, "a", crawl_id="c1")])
    ArchiveIndex.open(tmp_path)
    path = ArchiveLayout(tmp_path).index_path
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["articles"]["1"][:2] == [text_sha256("a"), 1]
    # Plant a marker that only a reused (not rebuilt) index would return.
    data["articles"]["1"][0] = "f" * 64
    path.write_text(json.dumps(data), encoding="utf-8")
    assert ArchiveIndex.open(tmp_path).get("1").text_sha256 == "f" * 64


def test_stale_index_is_rebuilt_when_new_files_were_committed(tmp_path: Path) -> None:
    write_sample_crawl(tmp_path, "c1", [sample_record("1", 1, "a", crawl_id="c1")], started_at="2025-01-01T00:00:00Z")
    ArchiveIndex.open(tmp_path)
    write_sample_crawl(
        tmp_path,
        "c2",
        [sample_record("1", 2, "b", crawl_id="c2"), sample_record("2", 1, "c", crawl_id="c2")],
        started_at="2025-02-01T00:00:00Z",
    )
    index = ArchiveIndex.open(tmp_path)
    assert index.decide("1", text_sha256("b")) == ("unchanged", 2)
    assert "2" in index and len(index) == 2


def test_unreadable_index_is_rebuilt(tmp_path: Path) -> None:
    write_sample_crawl(tmp_path, "c1", [sample_record("1", 1, "a", crawl_id="c1")])
    ArchiveLayout(tmp_path).index_path.write_text("{not json", encoding="utf-8")
    assert ArchiveIndex.open(tmp_path).decide("1", text_sha256("a")) == ("unchanged", 1)


def test_saving_while_an_article_file_is_still_open_is_refused(tmp_path: Path) -> None:
    index = ArchiveIndex.open(tmp_path)
    writer = JsonlWriter(ArchiveLayout(tmp_path).articles_dir, "c1")
    writer.write(sample_record("1", crawl_id="c1"))
    index.record("1", text_sha256("x"), 1, "http://u/1")
    with pytest.raises(RuntimeError, match="close the JsonlWriter"):
        index.save()
    writer.close()
    index.save()
    assert ArchiveIndex.open(tmp_path).get("1") is not None


def test_index_refuses_to_claim_an_article_whose_file_is_not_committed(tmp_path: Path) -> None:
    index = ArchiveIndex.open(tmp_path)
    index.add_record(sample_record("1", crawl_id="c1"), "c1-00001.jsonl.gz")  # never written to disk
    with pytest.raises(RuntimeError, match="not committed"):
        index.save()
    assert (
        not ArchiveLayout(tmp_path).index_path.exists()
        or "1" not in json.loads(ArchiveLayout(tmp_path).index_path.read_text())["articles"]
    )


def test_index_built_from_files_knows_where_each_latest_body_was_captured(tmp_path: Path) -> None:
    record = sample_record(
        "1",
        crawl_id="c1",
        content_sha256="a" * 64,
        warc_file="c1-00001.warc.gz",
        warc_record_id="<urn:uuid:x>",
        warc_offset=7,
    )
    write_sample_crawl(tmp_path, "c1", [record])
    entry = ArchiveIndex.open(tmp_path).get("1")
    assert (entry.content_sha256, entry.warc_file, entry.warc_record_id, entry.warc_offset) == (
        "a" * 64,
        "c1-00001.warc.gz",
        "<urn:uuid:x>",
        7,
    )
    assert entry.file == "c1-00001.jsonl.gz"


def test_index_left_by_an_older_format_is_rebuilt(tmp_path: Path) -> None:
    write_sample_crawl(tmp_path, "c1", [sample_record("1", 1, "a", crawl_id="c1")])
    ArchiveIndex.open(tmp_path)
    path = ArchiveLayout(tmp_path).index_path
    data = json.loads(path.read_text(encoding="utf-8"))
    data.pop("format")
    data["articles"]["1"] = ["f" * 64, 1, "http://u/1"]
    path.write_text(json.dumps(data), encoding="utf-8")
    assert ArchiveIndex.open(tmp_path).get("1").text_sha256 == text_sha256("a")


def test_packed_entries_give_back_each_entry_as_it_was_recorded() -> None:
    written = IndexEntry(
        text_sha256("a"), 3, "http://h/新闻/t1.html", text_sha256("b"), "c-00001.warc.gz", f"<urn:uuid:{uuid.uuid4()}>", 0,
        "2025-01-01T00:00:00Z", "c-00001.jsonl.gz",
    )  # fmt: skip
    bare = IndexEntry(text_sha256("a"), 1, "", fetched_at="")
    # Not packable: kept as they are, as index.json or another archive may hold them.
    odd = [
        IndexEntry("A" * 64, 1, "http://h/1.html"),
        IndexEntry(text_sha256("a"), 1, "http://h/\ud800.html", warc_record_id="<urn:uuid:x>", warc_offset=-1),
        IndexEntry(text_sha256("a"), True, "http://h/1.html"),
        IndexEntry(text_sha256("a"), 1, "http://h/1.html", warc_record_id=f"<urn:uuid:{str(uuid.uuid4()).upper()}>"),
    ]
    entries = PackedEntries({str(number): entry for number, entry in enumerate([written, bare, *odd])})
    assert [entries[str(number)] for number in range(len(odd) + 2)] == [written, bare, *odd]
    assert type(entries["4"].version) is bool and "6" not in entries and len(entries) == 6


def test_an_index_of_20000_articles_holds_under_400_bytes_an_article() -> None:
    """What the index keeps of the records it was given, once they are gone (as in a crawl)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        index = ArchiveIndex("unused")
        for number in range(20_000):
            record = sample_record(
                str(number), crawl_id="c1", content_sha256=text_sha256(str(number)), warc_offset=number * 4096,
                warc_file="c1-00001.warc.gz", warc_record_id=f"<urn:uuid:{uuid.uuid4()}>",
            )  # fmt: skip
            index.add_record(record, "c1-00001.jsonl.gz")
        del record
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held / len(index) < 400
