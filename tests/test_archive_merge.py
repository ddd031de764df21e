"""`newsarchive merge`: crawls of other archives copied as they are, into an archive that verifies; clashing version
chains, damaged sources and a destination in use are refused with nothing copied; an interrupted merge completes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import archive.merge
from archive.cli import merge_main
from archive.ledger import read_ledger
from archive.merge import MergeError, merge_archives
from archive.reader import iter_records
from archive.testing import sample_quarantine, sample_record, write_sample_crawl
from archive.verify import verify_archive
from archive.writer import DirectoryBusyError, DirectoryLock

FIRST = "20250101T000000Z-aaaaaa"
SECOND = "20250102T000000Z-bbbbbb"


def archive_with(root: Path, crawl_id: str, ids: list[str], version: int = 1, started: str = "") -> Path:
    records = [sample_record(ident, version, f"文{ident}。", crawl_id=crawl_id) for ident in ids]
    write_sample_crawl(
        root,
        crawl_id,
        records,
        [sample_quarantine(f"http://h/{crawl_id}", crawl_id=crawl_id)],
        started_at=started or "2025-01-01T00:00:00Z",
    )
    return root


def ids_and_versions(root: Path) -> list[tuple[str, int, str]]:
    return sorted((r["id"], r["version"], r["crawl_id"]) for r in iter_records(root))


def test_crawls_of_two_archives_are_copied_with_their_manifests_and_the_result_verifies(tmp_path: Path) -> None:
    one = archive_with(tmp_path / "one", FIRST, ["1", "2"])
    two = archive_with(tmp_path / "two", SECOND, ["3"], started="2025-01-02T00:00:00Z")
    report = merge_archives(tmp_path / "merged", [one, two])
    merged = tmp_path / "merged"
    assert sorted(report.copied) == [FIRST, SECOND]
    assert ids_and_versions(merged) == [("1", 1, FIRST), ("2", 1, FIRST), ("3", 1, SECOND)]
    report = verify_archive(merged)
    assert report.errors == [] and report.warnings == []
    for source, crawl_id in ((one, FIRST), (two, SECOND)):
        copied = (merged / "manifests" / f"{crawl_id}.json").read_bytes()
        assert copied == (source / "manifests" / f"{crawl_id}.json").read_bytes()
        assert read_ledger(merged).crawls[crawl_id].merged_from == str(source.resolve())
    assert json.loads((merged / "index.json").read_text(encoding="utf-8"))["articles"].keys() == {"1", "2", "3"}


def test_a_later_version_of_another_archive_continues_the_chain(tmp_path: Path) -> None:
    base = archive_with(tmp_path / "base", FIRST, ["1"])
    later = archive_with(tmp_path / "later", SECOND, ["1"], version=2, started="2025-01-02T00:00:00Z")
    merge_archives(base, [later])
    assert ids_and_versions(base) == [("1", 1, FIRST), ("1", 2, SECOND)]
    assert verify_archive(base).errors == []


def test_merging_again_copies_nothing_and_says_the_crawls_are_there(tmp_path: Path) -> None:
    one = archive_with(tmp_path / "one", FIRST, ["1"])
    merge_archives(tmp_path / "merged", [one])
    ledger = (tmp_path / "merged" / "ledger.jsonl").read_bytes()
    again = merge_archives(tmp_path / "merged", [one])
    assert again.copied == {} and again.present == [FIRST]
    assert (tmp_path / "merged" / "ledger.jsonl").read_bytes() == ledger


def test_archives_that_numbered_one_article_apart_are_refused_and_nothing_is_copied(tmp_path: Path) -> None:
    one = archive_with(tmp_path / "one", FIRST, ["1", "2"])
    two = archive_with(tmp_path / "two", SECOND, ["2"], started="2025-01-02T00:00:00Z")
    with pytest.raises(MergeError, match=rf"article 2 version 1 in {SECOND}-00001.jsonl.gz and in {FIRST}-00001"):
        merge_archives(one, [two])
    assert ids_and_versions(one) == [("1", 1, FIRST), ("2", 1, FIRST)]
    assert read_ledger(one).crawls.keys() == {FIRST}


def test_a_source_that_does_not_verify_is_refused(tmp_path: Path) -> None:
    one = archive_with(tmp_path / "one", FIRST, ["1"])
    damaged = archive_with(tmp_path / "two", SECOND, ["2"])
    path = next((damaged / "articles").glob("*.jsonl.gz"))
    data = bytearray(path.read_bytes())
    data[-12] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(MergeError, match=r"two does not verify .*newsarchive verify"):
        merge_archives(one, [damaged])
    assert ids_and_versions(one) == [("1", 1, FIRST)]


def test_a_destination_a_crawl_writes_to_is_refused(tmp_path: Path) -> None:
    one = archive_with(tmp_path / "one", FIRST, ["1"])
    dest = archive_with(tmp_path / "dest", SECOND, ["2"])
    running = DirectoryLock(dest / "articles")
    running.acquire()
    try:
        with pytest.raises(DirectoryBusyError, match="another writer"):
            merge_archives(dest, [one])
    finally:
        running.release()


def test_an_interrupted_merge_completes_when_run_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one = archive_with(tmp_path / "one", FIRST, ["1", "2"])
    copy_file = archive.merge.copy_file
    calls = []

    def failing_copy(source: Path, target: Path) -> None:
        calls.append(target.name)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        copy_file(source, target)

    monkeypatch.setattr(archive.merge, "copy_file", failing_copy)
    with pytest.raises(OSError):
        merge_archives(tmp_path / "merged", [one])
    assert [p.severity for p in verify_archive(tmp_path / "merged").problems] == ["warning"]  # a crawl unfinished
    monkeypatch.setattr(archive.merge, "copy_file", copy_file)
    merge_archives(tmp_path / "merged", [one])
    report = verify_archive(tmp_path / "merged")
    assert report.errors == [] and report.warnings == []
    assert ids_and_versions(tmp_path / "merged") == [("1", 1, FIRST), ("2", 1, FIRST)]


def test_the_command_prints_what_it_merged_and_refuses_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one = archive_with(tmp_path / "one", FIRST, ["1"])
    assert merge_main([str(tmp_path / "merged"), str(one)]) == 0
    assert f"merged crawl {FIRST} (" in capsys.readouterr().out
    assert merge_main([str(tmp_path / "merged"), str(tmp_path / "missing")]) == 1
    assert "missing: no such directory" in capsys.readouterr().err
