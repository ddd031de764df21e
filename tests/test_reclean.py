"""newsarchive reclean: records made by another cleaner are re-derived from their WARC captures on every core; a
changed text becomes a new version saying why, an unchanged one writes nothing; verify passes after it, and a run
killed midway leaves an archive that verifies and that the next run completes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from archive.layout import committed_jsonl, parse_jsonl_name
from archive.ledger import read_ledger
from archive.manifest import read_manifest
from archive.reader import iter_records
from archive.testing import sample_record, write_captured_crawl, write_restamped_crawl, write_sample_crawl
from archive.verify import verify_archive
from archive.writer import DirectoryLock
from scraper.cleaner.version import cleaner_version
from scraper.reclean import reclean_archive

FIRST = "20250101T000000Z-first0"  # the first crawl of the crawled_archive fixture
OLD = "0.0.9+model.0123456789ab"
REPO = Path(__file__).resolve().parents[1]
ARTICLES = 40


def versions(root: Path) -> Counter[str]:
    return Counter(record["id"] for record in iter_records(root))


def run_files(root: Path, run_id: str) -> list[Path]:
    return [f.path for f in committed_jsonl(root / "articles") if f.prefix == run_id]


@pytest.fixture
def stale(crawled_archive: Path, tmp_path: Path) -> Path:
    """The first crawl of a real crawl, stamped as made by an older cleaner; every fourth text as that cleaner left it."""
    root = tmp_path / "archive"
    write_restamped_crawl(crawled_archive, root, FIRST, OLD, alter_every=4)
    return root


def test_a_changed_text_becomes_a_new_version_saying_why_and_an_unchanged_one_writes_nothing(
    stale: Path, crawled_archive: Path
) -> None:
    before = {r["id"]: r for r in iter_records(stale)}
    report = reclean_archive(stale, workers=2)
    assert (report.articles, report.recleaned, report.new_version, report.unchanged) == (ARTICLES, ARTICLES, 10, 30)
    truth = {r["id"]: r for r in iter_records(crawled_archive, latest_only=True)}
    derived = [r for r in iter_records(stale) if r["version"] == 2]
    assert len(derived) == 10 and versions(stale) == Counter(
        {**dict.fromkeys(before, 1), **{r["id"]: 2 for r in derived}}
    )
    for record in derived:
        old = before[record["id"]]
        assert record["text"] == truth[record["id"]]["text"] != old["text"]  # what the current cleaner makes of it
        assert record["cleaner_version"] == cleaner_version()
        assert record["derived_from"] == {"crawl_id": FIRST, "version": 1, "cleaner_version": OLD}
        assert OLD in record["reason"] and cleaner_version() in record["reason"]
        assert record["crawl_id"] == report.run_id and "-reclean-" in report.run_id
        same = ("url", "fetched_at", "content_sha256", "warc_file", "warc_record_id", "warc_offset")
        assert {k: record[k] for k in same} == {k: old[k] for k in same}  # the same fetch, the same capture
        assert list(record)[-2:] == ["derived_from", "reason"]
    check = verify_archive(stale)
    assert check.ok and not check.warnings, [p.format() for p in check.problems]
    manifest = read_manifest(stale / "manifests" / f"{report.run_id}.json")
    assert manifest["summary"]["new_version"] == 10 and manifest["summary"]["unchanged"] == 30
    assert manifest["settings"]["cleaner_version"] == cleaner_version()
    assert read_ledger(stale).finished(report.run_id)


def test_a_second_reclean_skips_what_is_current_and_writes_nothing_for_a_confirmed_text(stale: Path) -> None:
    reclean_archive(stale, workers=2)
    again = reclean_archive(stale, workers=1)
    # The ten new versions are the current cleaner's; the thirty confirmed texts still carry the old stamp.
    assert (again.already_current, again.recleaned, again.unchanged, again.new_version) == (10, 30, 30, 0)
    assert run_files(stale, again.run_id) == []
    assert read_manifest(stale / "manifests" / f"{again.run_id}.json")["files"] == []
    assert verify_archive(stale).ok


def test_articles_the_cleaner_cannot_rederive_are_kept_as_they_are_and_counted(stale: Path) -> None:
    other = "20250103T000000Z-other0"
    no_capture = sample_record("900001", crawl_id=other, cleaner_version=OLD)
    write_sample_crawl(stale, other, [no_capture], started_at="2025-01-03T00:00:00Z")
    refused = sample_record("900002", crawl_id="20250104T000000Z-other1", cleaner_version=OLD)
    page = b"<html><body><p>no article here</p></body></html>"
    write_captured_crawl(
        stale, "20250104T000000Z-other1", [(refused, page, [("Content-Type", "text/html")])], started_at="2025-01-04"
    )
    report = reclean_archive(stale, workers=2)
    assert dict(report.skipped) == {"no_capture": 1, "clean_error": 1}
    assert report.summary()["items"] == report.articles == ARTICLES + 2
    assert versions(stale)["900001"] == versions(stale)["900002"] == 1
    assert verify_archive(stale).ok


def reclean_command(root: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "scraper", "reclean", str(root), *options]


def test_reclean_cli_prints_its_summary_and_verify_passes_after_it(stale: Path) -> None:
    result = subprocess.run(reclean_command(stale, "--workers", "2"), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "new versions" in result.stdout and "2 workers" in result.stdout
    verified = subprocess.run(
        [sys.executable, "-m", "scraper", "verify", str(stale)], capture_output=True, text=True, timeout=300
    )
    assert verified.returncode == 0, verified.stdout


@pytest.mark.parametrize(
    ("options", "code", "says"),
    [(("--workers", "0"), 2, "--workers needs a positive number"), ((), 1, "not an archive")],
)
def test_reclean_cli_mistakes_are_clear_errors(tmp_path: Path, options: tuple[str, ...], code: int, says: str) -> None:
    (tmp_path / "notes.txt").write_text("not an archive", encoding="utf-8")
    result = subprocess.run(reclean_command(tmp_path, *options), capture_output=True, text=True, timeout=120)
    assert result.returncode == code and says in result.stderr and "Traceback" not in result.stderr


def test_reclean_refuses_an_archive_a_crawl_is_writing_to(stale: Path) -> None:
    lock = DirectoryLock(stale / "articles")
    lock.acquire()
    try:
        result = subprocess.run(reclean_command(stale), capture_output=True, text=True, timeout=120)
    finally:
        lock.release()
    assert result.returncode == 1 and "another writer is active" in result.stderr
    assert versions(stale) == Counter(dict.fromkeys(versions(stale), 1))


def test_a_killed_reclean_leaves_an_archive_that_verifies_and_the_next_run_completes(
    crawled_archive: Path, tmp_path: Path
) -> None:
    root = tmp_path / "archive"
    write_restamped_crawl(crawled_archive, root, FIRST, OLD, alter_every=1)  # every text changes
    # Files of two records, one worker: the run commits early and has most of its work ahead when it is killed.
    script = f"from scraper.reclean import reclean_archive; reclean_archive({str(root)!r}, 1, max_records=2)"
    process = subprocess.Popen([sys.executable, "-c", script], cwd=REPO)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if any("-reclean-" in (parse_jsonl_name(f.name) or ("",))[0] for f in (root / "articles").iterdir()):
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    assert process.wait(timeout=60) == -signal.SIGKILL, "the run finished before it could be killed"
    killed = verify_archive(root)
    assert killed.ok, [p.format() for p in killed.errors]
    assert any("did not finish" in p.message for p in killed.warnings)
    written = versions(root)
    assert 0 < sum(written.values()) - ARTICLES < ARTICLES
    reclean_archive(root, workers=2)
    assert versions(root) == Counter(dict.fromkeys(written, 2))
    final = verify_archive(root)
    assert final.ok, [p.format() for p in final.errors]
    derived = [r for r in iter_records(root) if r["version"] == 2]
    assert all(r["derived_from"]["version"] == 1 for r in derived)
    assert json.dumps(sorted(r["id"] for r in derived)) == json.dumps(sorted(written))
