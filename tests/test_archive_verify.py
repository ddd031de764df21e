"""verify_archive proves wholeness: each kind of damage is reported with its file (and line), warnings stay warnings."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from archive.cli import verify_main
from archive.testing import sample_quarantine, sample_record, write_sample_crawl
from archive.verify import verify_archive

DATA = Path(__file__).parent / "data" / "archive"
CRAWL = "20250101T000000Z-aaaaaa"


@pytest.fixture()
def archive_root(tmp_path: Path) -> Path:
    records = [sample_record(str(1000 + i), crawl_id=CRAWL) for i in range(4)]
    write_sample_crawl(tmp_path, CRAWL, records, [sample_quarantine(crawl_id=CRAWL)], max_records=2)
    return tmp_path


def messages(root: Path, severity: str = "error") -> list[str]:
    report = verify_archive(root)
    return [p.format() for p in report.problems if p.severity == severity]


def article_file(root: Path, seq: int = 1, suffix: str = ".jsonl.gz") -> Path:
    return root / "articles" / f"{CRAWL}-{seq:05d}{suffix}"


def rewrite_manifest(root: Path, change, as_written: bool = True) -> None:
    """Edit the crawl's manifest; `as_written` also records it in the ledger, as if the crawl had written it so
    (the summary checks are tested apart from the ledger's)."""
    path = root / "manifests" / f"{CRAWL}.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    change(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")
    if as_written:
        ledger = root / "ledger.jsonl"
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        lines = [json.loads(line) for line in ledger.read_text(encoding="utf-8").splitlines()]
        for line in lines:
            if line["crawl_id"] == CRAWL and line["event"] == "finished":
                line["manifest_sha256"] = sha
        ledger.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


def test_freshly_written_archive_verifies_without_errors_or_warnings(archive_root: Path) -> None:
    report = verify_archive(archive_root)
    assert report.ok and report.problems == []
    assert report.records_checked == 5


def test_known_good_fixture_verifies_clean() -> None:
    report = verify_archive(DATA / "good")
    assert report.problems == []


def test_known_broken_fixture_reports_each_planted_fault() -> None:
    broken = DATA / "broken"
    report = verify_archive(broken)
    text = "\n".join(p.format() for p in report.errors)
    assert f"{broken}/articles/20250101T000000Z-aaaaaa-00001.jsonl:2: truncated last line" in text
    assert "20250101T000000Z-aaaaaa-00001.jsonl: checksum mismatch" in text
    assert (
        f"{broken}/quarantine/20250101T000000Z-aaaaaa-00001.jsonl: listed in 20250101T000000Z-aaaaaa.json but missing"
        in text
    )
    assert "20250201T000000Z-bbbbbb-00002.jsonl:1: duplicate id 1002 version 2" in text
    assert "20250201T000000Z-bbbbbb.json: summary says quarantined = 1" in text
    assert "20250201T000000Z-bbbbbb.json: manifest differs from the one crawl 20250201T000000Z-bbbbbb wrote" in text
    assert "20250201T000000Z-bbbbbb-00002.jsonl: not listed in the manifest of crawl 20250201T000000Z-bbbbbb" in text
    assert len(report.errors) == 7
    assert report.warnings == []
    assert verify_main([str(broken), "-q"]) == 1


def test_flipped_byte_is_caught_by_the_checksum(archive_root: Path) -> None:
    path = article_file(archive_root)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    errors = messages(archive_root)
    assert any(e.startswith(f"{path}: checksum mismatch") for e in errors)


def test_truncated_line_is_reported_with_file_and_line(tmp_path: Path) -> None:
    write_sample_crawl(tmp_path, CRAWL, [sample_record(str(i), crawl_id=CRAWL) for i in range(3)], compress=False)
    path = article_file(tmp_path, suffix=".jsonl")
    path.write_bytes(path.read_bytes()[:-25])
    errors = messages(tmp_path)
    assert any(e.startswith(f"{path}:3: truncated last line") for e in errors)


def test_truncated_gzip_member_is_reported(archive_root: Path) -> None:
    path = article_file(archive_root)
    path.write_bytes(path.read_bytes()[:-12])
    errors = messages(archive_root)
    assert any(e.startswith(f"{path}:") and "compressed stream is damaged" in e for e in errors)


def test_missing_file_is_reported(archive_root: Path) -> None:
    path = article_file(archive_root, 2)
    path.unlink()
    errors = messages(archive_root)
    assert any(e.startswith(f"{path}: listed in {CRAWL}.json but missing") for e in errors)


def test_wrong_record_count_in_manifest_is_reported(archive_root: Path) -> None:
    rewrite_manifest(archive_root, lambda m: m["files"][0].update(records=3))
    errors = messages(archive_root)
    assert any("2 records on disk but" in e and "lists 3" in e for e in errors)


def test_wrong_summary_count_in_manifest_is_reported(archive_root: Path) -> None:
    rewrite_manifest(archive_root, lambda m: m["summary"].update(archived=5))
    errors = messages(archive_root)
    assert any("archived + new_version = 5 but the crawl's article files hold 4 records" in e for e in errors)


def test_file_dropped_from_manifest_is_caught_by_summary_and_flagged_as_unlisted(archive_root: Path) -> None:
    rewrite_manifest(archive_root, lambda m: m["files"].pop(1))
    report = verify_archive(archive_root)
    assert any("hold 2 records" in p.message for p in report.errors)
    assert any(p.file.endswith("-00002.jsonl.gz") and "not listed" in p.message for p in report.errors)


def test_duplicate_id_and_version_is_reported(tmp_path: Path) -> None:
    write_sample_crawl(
        tmp_path, CRAWL, [sample_record("7", crawl_id=CRAWL), sample_record("7", crawl_id=CRAWL, text="其他")]
    )
    errors = messages(tmp_path)
    assert any(":2: duplicate id 7 version 1" in e for e in errors)


def test_record_failing_the_schema_is_reported_with_its_line(tmp_path: Path) -> None:
    write_sample_crawl(tmp_path, CRAWL, [sample_record("1", crawl_id=CRAWL)], compress=False)
    path = article_file(tmp_path, suffix=".jsonl")
    record = json.loads(path.read_text(encoding="utf-8"))
    record["version"] = 0
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    errors = messages(tmp_path)
    assert any(e.startswith(f"{path}:1: record does not match the schema: version") for e in errors)


def test_crawl_without_manifest_is_a_warning_not_an_error(tmp_path: Path) -> None:
    write_sample_crawl(tmp_path, CRAWL, [sample_record(crawl_id=CRAWL)], manifest=False)
    report = verify_archive(tmp_path)
    assert report.ok
    assert any("no manifest" in p.message and "crawl did not finish" in p.message for p in report.warnings)
    assert verify_main([str(tmp_path)]) == 0
    assert verify_main([str(tmp_path), "--strict"]) == 1


def test_partial_file_left_by_a_crash_is_only_a_warning(archive_root: Path) -> None:
    (archive_root / "articles" / f".{CRAWL}-00009.jsonl.gz.part").write_bytes(b"\x1f\x8b garbage")
    report = verify_archive(archive_root)
    assert report.ok and any("interrupted write" in p.message for p in report.warnings)


def test_record_pointing_to_a_missing_warc_file_is_reported(tmp_path: Path) -> None:
    write_sample_crawl(
        tmp_path,
        CRAWL,
        [
            sample_record(
                crawl_id=CRAWL, warc_file=f"{CRAWL}-00001.warc.gz", warc_record_id="<urn:uuid:x>", warc_offset=0
            )
        ],
    )
    assert any("not in warc/" in e for e in messages(tmp_path))


def test_manifest_listing_a_path_outside_the_root_is_refused(archive_root: Path) -> None:
    rewrite_manifest(archive_root, lambda m: m["files"][0].update(name="../../etc/passwd"))
    assert any("refused" in e for e in messages(archive_root))


def test_cli_prints_file_line_message_and_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(DATA / "broken", tmp_path / "a")
    assert verify_main([str(tmp_path / "a")]) == 1
    out = capsys.readouterr().out.splitlines()
    assert f"{tmp_path / 'a'}/articles/20250101T000000Z-aaaaaa-00001.jsonl:2: truncated last line" in out[0]
    assert all("(fix: " in line and line.endswith(")") for line in out)
    assert verify_main([str(DATA / "good")]) == 0


def test_full_crawl_with_warc_verifies_and_a_damaged_warc_is_caught(tmp_path: Path) -> None:
    from archive.layout import ArchiveLayout
    from archive.manifest import write_manifest
    from archive.warc import WarcCapture
    from archive.writer import JsonlWriter

    layout = ArchiveLayout(tmp_path)
    with WarcCapture(layout.warc_dir, CRAWL) as capture, JsonlWriter(layout.articles_dir, CRAWL) as articles:
        pointer = capture.write_exchange("http://news.example.cn/a/1.html", 200, "OK", [], b"<html/>", [])
        articles.write(
            sample_record(
                "1",
                crawl_id=CRAWL,
                url="http://news.example.cn/a/1.html",
                content_sha256=hashlib.sha256(b"<html/>").hexdigest(),
                warc_file=pointer.warc_file,
                warc_record_id=pointer.warc_record_id,
                warc_offset=pointer.warc_offset,
            )
        )
    summary = {"archived": 1, "unchanged": 0, "new_version": 0, "quarantined": 0, "skipped": 0}
    write_manifest(
        tmp_path,
        CRAWL,
        "2025-01-01T00:00:00Z",
        "2025-01-01T00:10:00Z",
        {},
        capture.closed_files + articles.closed_files,
        summary,
    )
    assert verify_archive(tmp_path).problems == []
    warc = layout.warc_dir / pointer.warc_file
    (layout.warc_dir / (pointer.warc_file + ".cdxj")).unlink()
    data = bytearray(warc.read_bytes())
    data[-5] ^= 0xFF
    warc.write_bytes(bytes(data))
    errors = messages(tmp_path)
    assert any(e.startswith(f"{warc}: checksum mismatch") for e in errors)
    assert any(
        e.endswith(
            ".cdxj: listed in "
            + CRAWL
            + ".json but missing (fix: restore it from a replica; if it is lost for good, record the loss next to the manifest)"
        )
        for e in errors
    )
    assert any("no CDXJ index" in w for w in messages(tmp_path, "warning"))


def write_captured_crawl(root: Path, body: bytes = b"<html>1</html>", change=None) -> None:
    """A WARC (home page, then the article) and one record pointing at the article's response.

    `change(fields, offsets)` may alter the record's pointer fields; `offsets` maps (type, url) to record offsets.
    """
    from warcio.archiveiterator import ArchiveIterator

    from archive.layout import ArchiveLayout
    from archive.warc import WarcCapture
    from archive.writer import JsonlWriter

    layout = ArchiveLayout(root)
    url = "http://news.example.cn/a/1.html"
    with WarcCapture(layout.warc_dir, CRAWL) as capture:
        capture.write_exchange("http://news.example.cn/", 200, "OK", [], b"<html>home</html>", [])
        pointer = capture.write_exchange(url, 200, "OK", [], body, [])
    offsets = {}
    with open(layout.warc_dir / pointer.warc_file, "rb") as stream:
        iterator = ArchiveIterator(stream)
        for record in iterator:
            iterator.read_to_end(record)
            offsets[(record.rec_type, record.rec_headers.get_header("WARC-Target-URI"))] = iterator.get_record_offset()
    fields = {
        "url": url,
        "content_sha256": hashlib.sha256(body).hexdigest(),
        "warc_file": pointer.warc_file,
        "warc_record_id": pointer.warc_record_id,
        "warc_offset": pointer.warc_offset,
    }
    if change is not None:
        change(fields, offsets)
    with JsonlWriter(layout.articles_dir, CRAWL) as articles:
        articles.write(sample_record("1", crawl_id=CRAWL, **fields))


def test_warc_pointer_that_agrees_with_the_record_verifies(tmp_path: Path) -> None:
    write_captured_crawl(tmp_path)
    assert messages(tmp_path) == []


def test_warc_pointer_to_a_body_with_another_hash_is_reported(tmp_path: Path) -> None:
    write_captured_crawl(tmp_path, change=lambda fields, _: fields.update(content_sha256="1" * 64))
    (error,) = messages(tmp_path)
    assert ":1: warc_offset" in error and "hashes to" in error and "1" * 64 in error


def test_warc_pointer_to_the_request_record_is_reported(tmp_path: Path) -> None:
    write_captured_crawl(
        tmp_path, change=lambda fields, offsets: fields.update(warc_offset=offsets[("request", fields["url"])])
    )
    (error,) = messages(tmp_path)
    assert "'request' record, not a response" in error


def test_warc_pointer_to_another_urls_response_is_reported(tmp_path: Path) -> None:
    write_captured_crawl(
        tmp_path,
        change=lambda fields, offsets: fields.update(warc_offset=offsets[("response", "http://news.example.cn/")]),
    )
    (error,) = messages(tmp_path)
    assert "is for 'http://news.example.cn/'" in error


def test_warc_pointer_into_the_middle_of_a_record_is_reported(tmp_path: Path) -> None:
    write_captured_crawl(tmp_path, change=lambda fields, _: fields.update(warc_offset=fields["warc_offset"] + 3))
    (error,) = messages(tmp_path)
    assert "warc_offset" in error and "no readable WARC record there" in error


def test_summary_that_does_not_add_up_to_its_items_is_reported(archive_root: Path) -> None:
    rewrite_manifest(archive_root, lambda m: m["summary"].update(items=7))
    (error,) = messages(archive_root)
    assert "summary does not add up" in error and "items = 7" in error


@pytest.fixture()
def skips_root(tmp_path: Path) -> Path:
    """A crawl whose quarantine/ holds one quarantined page and two skip entries."""
    entries = [
        sample_quarantine(crawl_id=CRAWL, reason="clean_error", outcome="quarantined"),
        sample_quarantine(
            "http://news.example.cn/a/2.html", crawl_id=CRAWL, reason="skipped:robots", outcome="skipped"
        ),
        sample_quarantine(
            "http://news.example.cn/a/3.html", crawl_id=CRAWL, reason="skipped:http_503", outcome="skipped"
        ),
    ]
    write_sample_crawl(tmp_path, CRAWL, [sample_record("1", crawl_id=CRAWL)], entries)
    return tmp_path


def test_quarantined_pages_and_skip_entries_in_one_file_verify_clean(skips_root: Path) -> None:
    summary = json.loads((skips_root / "manifests" / f"{CRAWL}.json").read_text(encoding="utf-8"))["summary"]
    assert (summary["quarantined"], summary["skip_entries"], summary["skipped"]) == (1, 2, 2)
    assert verify_archive(skips_root).problems == []


def test_a_summary_counting_skip_entries_as_quarantined_is_reported(skips_root: Path) -> None:
    rewrite_manifest(skips_root, lambda m: m["summary"].update(quarantined=3))
    (error,) = messages(skips_root)
    assert "summary says quarantined + skip_entries = 3 + 2 but the crawl's quarantine files hold 3 records" in error
    assert "(fix: " in error


def test_skip_entries_that_disagree_with_the_outcomes_on_disk_are_reported(skips_root: Path) -> None:
    # The line total still matches (2 + 1 = 3): only the outcome check can see the miscount.
    rewrite_manifest(skips_root, lambda m: m["summary"].update(quarantined=2, skip_entries=1))
    (error,) = messages(skips_root)
    assert 'summary says skip_entries = 1 but 2 of the crawl\'s quarantine records have outcome "skipped"' in error
    assert "(fix: " in error


def test_a_manifest_from_before_skip_entries_counts_every_quarantine_line_as_quarantined(archive_root: Path) -> None:
    rewrite_manifest(archive_root, lambda m: m["summary"].pop("skip_entries"))
    assert messages(archive_root) == []
    rewrite_manifest(archive_root, lambda m: m["summary"].update(quarantined=2))
    (error,) = messages(archive_root)
    assert "summary says quarantined = 2 but the crawl's quarantine files hold 1 records" in error


def test_skip_lines_under_a_manifest_without_skip_entries_are_reported(skips_root: Path) -> None:
    rewrite_manifest(skips_root, lambda m: (m["summary"].pop("skip_entries"), m["summary"].update(quarantined=3)))
    (error,) = messages(skips_root)
    assert 'summary has no skip_entries but 2 of the crawl\'s quarantine records have outcome "skipped"' in error


def test_a_skip_entries_value_that_is_not_a_count_is_reported(skips_root: Path) -> None:
    rewrite_manifest(skips_root, lambda m: m["summary"].update(skip_entries="2"))
    (error,) = messages(skips_root)
    assert "summary skip_entries is '2', not a count" in error


def test_verify_of_a_directory_that_is_no_archive_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not an archive", encoding="utf-8")
    (error,) = messages(tmp_path)
    assert "not an archive: it holds none of articles/, warc/, manifests/" in error
