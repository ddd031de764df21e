"""Forged and missing crawls: the ledger and the manifests catch them, and the readers never serve a forged file."""

from __future__ import annotations

import gzip
import io
import json
import multiprocessing
from pathlib import Path

import pytest

from archive.export import export_latest
from archive.layout import ArchiveRootError
from archive.ledger import STARTED, append_event, read_ledger
from archive.schema import text_sha256
from archive.stats import archive_stats
from archive.testing import sample_record, write_sample_crawl
from archive.verify import verify_archive
from archive.warc import WarcCapture

CRAWL = "20250101T000000Z-aaaaaa"
LATER = "20250201T000000Z-bbbbbb"


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    archive = tmp_path / "archive"
    write_sample_crawl(archive, CRAWL, [sample_record("1001", 1, "原文。", crawl_id=CRAWL)])
    return archive


def errors(root: Path) -> list[str]:
    return [p.format() for p in verify_archive(root).errors]


def warnings(root: Path) -> list[str]:
    return [p.format() for p in verify_archive(root).warnings]


def test_a_finished_crawl_is_written_to_the_ledger_with_its_manifest_hash(root: Path) -> None:
    ledger = read_ledger(root)
    assert ledger.exists and ledger.problems == []
    assert ledger.finished(CRAWL) and ledger.crawls[CRAWL].manifest_sha256
    assert verify_archive(root).problems == []


def test_a_forged_records_file_under_a_finished_crawl_is_an_error_and_never_exported(root: Path) -> None:
    forged = sample_record("1001", 2, "偽造的文字。", crawl_id=CRAWL)
    assert forged["text_sha256"] == text_sha256("偽造的文字。")
    line = (json.dumps(forged, ensure_ascii=False) + "\n").encode("utf-8")
    (root / "articles" / f"{CRAWL}-00099.jsonl.gz").write_bytes(gzip.compress(line))
    assert any(f"{CRAWL}-00099.jsonl.gz: not listed in the manifest of crawl {CRAWL}" in e for e in errors(root))
    out = io.StringIO()
    assert export_latest(root, out) == 1
    assert json.loads(out.getvalue())["text"] == "原文。"
    assert archive_stats(root)["records"] == 1


def test_a_manifest_deleted_with_its_records_is_caught_by_the_ledger(root: Path) -> None:
    with WarcCapture(root / "warc", CRAWL) as warc:
        warc.write_exchange("http://h/a.html", 200, "OK", [("Content-Type", "text/html")], b"<html></html>", [])
    (root / "manifests" / f"{CRAWL}.json").unlink()
    for path in (root / "articles").iterdir():
        path.unlink()
    found = errors(root)
    assert any(f"crawl {CRAWL} finished, but manifests/{CRAWL}.json is missing" in e for e in found), found


def test_a_replaced_manifest_is_caught_by_the_ledger(root: Path) -> None:
    path = root / "manifests" / f"{CRAWL}.json"
    path.write_text(path.read_text(encoding="utf-8").replace('"source": "sample"', '"source": "edited"'))
    assert any("manifest differs from the one crawl" in e for e in errors(root))


def test_a_manifest_the_ledger_never_saw_finish_is_an_error(root: Path) -> None:
    write_sample_crawl(root, LATER, [sample_record("1002", 1, crawl_id=LATER)])
    ledger = root / "ledger.jsonl"
    ledger.write_text(ledger.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    assert any(f"the ledger does not record crawl {LATER} finishing" in e for e in errors(root))


def test_files_of_a_crawl_the_ledger_never_saw_start_are_an_error_but_a_started_one_is_a_warning(root: Path) -> None:
    write_sample_crawl(root, LATER, [sample_record("1002", 1, crawl_id=LATER)], manifest=False)
    assert any("which the ledger never saw start" in e for e in errors(root))
    append_event(root, STARTED, LATER, "2025-02-01T00:00:00Z")
    assert errors(root) == []
    assert any("crawl did not finish" in w for w in warnings(root))


def test_a_damaged_ledger_line_is_reported_with_its_line(root: Path) -> None:
    with open(root / "ledger.jsonl", "ab") as ledger:
        ledger.write(b'{"event": "finis')
    assert any("ledger.jsonl:2: ledger line unreadable" in e for e in errors(root))


def test_unknown_files_in_the_archive_are_warned_about(root: Path) -> None:
    (root / "notes.txt").write_text("my notes", encoding="utf-8")
    (root / "warc").mkdir(exist_ok=True)
    (root / "warc" / "extra.warc.gz").write_bytes(b"")
    found = warnings(root)
    assert any(w.startswith(f"{root / 'notes.txt'}: warning: not a file of the archive") for w in found), found
    assert any(w.startswith(f"{root / 'warc' / 'extra.warc.gz'}: warning: not a file of the archive") for w in found)


def test_a_symlinked_articles_directory_is_refused_and_never_read(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (root / "articles").rename(outside)
    (root / "articles").symlink_to(outside)
    report = verify_archive(root)
    assert any("symbolic link inside the archive" in p.message and p.file.endswith("articles") for p in report.errors)
    assert report.records_checked == 0  # nothing read through the link
    with pytest.raises(ArchiveRootError, match="symbolic link"):
        archive_stats(root)
    with pytest.raises(ArchiveRootError, match="symbolic link"):
        export_latest(root, io.StringIO())


def test_a_symlinked_records_file_is_refused(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.jsonl.gz"
    original = root / "articles" / f"{CRAWL}-00001.jsonl.gz"
    original.rename(outside)
    original.symlink_to(outside)
    found = errors(root)
    assert any(e.startswith(f"{original}: symbolic link inside the archive") for e in found), found
    with pytest.raises(ArchiveRootError, match="symbolic link"):
        export_latest(root, io.StringIO())


def test_a_crawl_deleted_with_the_ledger_is_caught_by_a_later_manifest(root: Path) -> None:
    append_event(root, STARTED, LATER, "2025-02-01T00:00:00Z")
    write_sample_crawl(root, LATER, [sample_record("1002", 1, crawl_id=LATER)])
    (root / "ledger.jsonl").unlink()
    (root / "manifests" / f"{CRAWL}.json").unlink()
    for path in (root / "articles").glob(f"{CRAWL}-*"):
        path.unlink()
    assert any(f"the crawl ledger is missing, though crawl {LATER} recorded it" in e for e in errors(root))


def test_a_ledger_line_removed_before_a_later_crawl_is_caught(root: Path) -> None:
    append_event(root, STARTED, LATER, "2025-02-01T00:00:00Z")
    write_sample_crawl(root, LATER, [sample_record("1002", 1, crawl_id=LATER)])
    ledger = root / "ledger.jsonl"
    lines = ledger.read_text(encoding="utf-8").splitlines(keepends=True)
    ledger.write_text("".join(lines[1:]), encoding="utf-8")  # the first crawl's finished line is gone
    assert any(f"are not the ledger crawl {LATER} left" in e for e in errors(root))


def append_many(root: str, worker: int, count: int) -> None:
    for n in range(count):
        append_event(root, STARTED, f"{CRAWL}-w{worker:03d}", f"2025-01-01T00:00:{n % 60:02d}Z", note="x" * 300)


def test_workers_appending_at_once_leave_every_line_whole(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=append_many, args=(str(tmp_path), worker, 150)) for worker in range(4)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(60)
    assert [process.exitcode for process in workers] == [0, 0, 0, 0]
    ledger = read_ledger(tmp_path)
    assert ledger.problems == [] and sorted(ledger.crawls) == [f"{CRAWL}-w{worker:03d}" for worker in range(4)]
    assert len((tmp_path / "ledger.jsonl").read_bytes().splitlines()) == 600
