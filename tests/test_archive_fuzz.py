"""Fuzzing verify: randomly damaged copies of a small archive. Every damage is either reported as an error or harmless:
the archive's readers still give the same records. verify itself never raises, whatever it is given."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from archive.cli import export_main, stats_main, verify_main
from archive.export import export_latest
from archive.layout import ArchiveLayout, ArchiveRootError
from archive.manifest import write_manifest
from archive.quarantine import QuarantineWriter
from archive.reader import ArchiveReadError, iter_quarantine, iter_records
from archive.testing import sample_quarantine, sample_record
from archive.verify import verify_archive
from archive.warc import WarcCapture
from archive.writer import JsonlWriter

# A share of the loaded profile's max_examples (tests/conftest.py): each case copies the archive and reads it whole.
BASE = settings().max_examples
FIRST = "20250101T000000Z-aaaaaa"
SECOND = "20250201T000000Z-bbbbbb"


def write_crawl(root: Path, crawl_id: str, texts: dict[str, tuple[int, str]], compress: bool, started: str) -> None:
    """A finished crawl: one WARC response per article, records pointing at them, a quarantined page and a skip."""
    layout = ArchiveLayout(root)
    layout.ensure_dirs()
    records = []
    with WarcCapture(layout.warc_dir, crawl_id) as warc:
        for ident, (version, text) in texts.items():
            url = f"http://news.example.cn/a/{ident}.html"
            body = f"<html>{text}</html>".encode()
            pointer = warc.write_exchange(url, 200, "OK", [("Content-Type", "text/html")], body, [])
            records.append(
                sample_record(
                    ident,
                    version,
                    text,
                    crawl_id=crawl_id,
                    url=url,
                    content_sha256=hashlib.sha256(body).hexdigest(),
                    warc_file=pointer.warc_file,
                    warc_record_id=pointer.warc_record_id,
                    warc_offset=pointer.warc_offset,
                )
            )
    with JsonlWriter(layout.articles_dir, crawl_id, max_records=2, compress=compress) as articles:
        for record in records:
            articles.write(record)
    with QuarantineWriter(layout.quarantine_dir, crawl_id, compress=compress) as quarantine:
        quarantine.write(sample_quarantine(crawl_id=crawl_id, outcome="quarantined"))
        quarantine.write(
            sample_quarantine(
                "http://news.example.cn/a/9.html", crawl_id=crawl_id, reason="skipped:robots", outcome="skipped"
            )
        )
    summary = {
        "archived": sum(1 for version, _ in texts.values() if version == 1),
        "unchanged": 0,
        "new_version": sum(1 for version, _ in texts.values() if version > 1),
        "quarantined": 1,
        "skipped": 1,
        "skip_entries": 1,
    }
    files = warc.closed_files + articles.closed_files + quarantine.closed_files
    write_manifest(root, crawl_id, started, started, {"source": "fuzz"}, files, summary)


def readings(root: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """What the archive's readers give: every record, every quarantine line, the latest export."""
    out = io.StringIO()
    export_latest(root, out)
    return list(iter_records(root)), list(iter_quarantine(root)), out.getvalue()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any]]:
    root = tmp_path_factory.mktemp("fuzz") / "archive"
    write_crawl(
        root, FIRST, {"1": (1, "第一篇。"), "2": (1, "第二篇。"), "3": (1, "第三篇。")}, True, "2025-01-01T00:00:00Z"
    )
    write_crawl(root, SECOND, {"2": (2, "第二篇（更正）。")}, False, "2025-02-01T00:00:00Z")
    assert verify_archive(root).problems == []
    yield root, readings(root)


def files_of(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


# One damage: (kind, which file, where in it, bytes). Files and offsets are picked modulo what exists.
DAMAGE = st.tuples(
    st.sampled_from(["flip", "truncate", "delete", "append", "insert", "empty", "copy", "drop_line", "dup_line"]),
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=0, max_value=1 << 20),
    st.binary(min_size=1, max_size=48),
)


def forged_name(name: str) -> str:
    """Another name for a copy: the next sequence numbers of the same crawl for a data file, else a suffix."""
    return name.replace("-0000", "-0009", 1) if "-0000" in name else name + ".copy"


def damaged(content: bytes, kind: str, at: int, data: bytes) -> bytes:
    """`content` after one byte-level damage at offset `at` (taken modulo the length)."""
    at %= len(content) + 1
    lines = content.splitlines(keepends=True)
    line = at % len(lines) if lines else 0
    if kind == "flip" and content:
        at %= len(content)
        return content[:at] + bytes([content[at] ^ (data[0] or 1)]) + content[at + 1 :]
    if kind == "truncate":
        return content[:at]
    if kind == "append":
        return content + data
    if kind == "empty":
        return b""
    if kind == "drop_line":
        return b"".join(lines[:line] + lines[line + 1 :])
    if kind == "dup_line":
        return b"".join(lines + lines[line : line + 1])
    return content[:at] + data + content[at:]  # insert (and a flip of an empty file)


def damage(root: Path, kind: str, which: int, where: int, data: bytes) -> str:
    """Apply one damage to a file of the archive at `root`; return what was done (for the failure message)."""
    files = files_of(root)
    if not files:
        return "nothing left to damage"
    path = files[which % len(files)]
    if kind == "delete":
        path.unlink()
    elif kind == "copy":  # a forged file beside the real ones, under a name no manifest lists
        shutil.copyfile(path, path.with_name(forged_name(path.name)))
    else:
        path.write_bytes(damaged(path.read_bytes(), kind, where, data))
    return f"{kind} {path.relative_to(root)} at {where} ({data[:8]!r})"


@settings(max_examples=max(20, BASE // 4))
@given(damages=st.lists(DAMAGE, min_size=1, max_size=3))
@example(damages=[("copy", 1, 0, b"x")])  # a forged records file
@example(damages=[("delete", 0, 0, b"x")])  # the first file (an articles file)
@example(damages=[("truncate", 0, 17, b"x")])
def test_every_damage_is_reported_or_harmless(pristine: tuple[Path, Any], damages: list[tuple[Any, ...]]) -> None:
    source, expected = pristine
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "archive"
        shutil.copytree(source, root)
        done = [damage(root, *one) for one in damages]
        report = verify_archive(root)  # must not raise, whatever the damage
        if report.errors:
            event("reported")
            return
        event("harmless")
        try:
            got = readings(root)
        except (ArchiveReadError, ArchiveRootError) as exc:
            pytest.fail(f"verify found no error after {done}, but reading failed: {exc}")
        assert got == expected, f"verify found no error after {done}, but the readers give other records"


def run_command(main: Any, argv: list[str]) -> tuple[int, str, str]:
    """A command's exit status and what it printed (stdout, stderr), run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@settings(max_examples=max(20, BASE // 8))
@given(damages=st.lists(DAMAGE, min_size=1, max_size=3))
@example(damages=[("copy", 1, 0, b"x")])
@example(damages=[("flip", 2, 40, b"\x01")])
def test_the_commands_on_a_damaged_archive_say_what_is_wrong_or_give_the_same_records(
    pristine: tuple[Path, Any], damages: list[tuple[Any, ...]]
) -> None:
    source, expected = pristine
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "archive"
        shutil.copytree(source, root)
        done = [damage(root, *one) for one in damages]
        code, out, _ = run_command(verify_main, [str(root)])
        assert code in (0, 1), f"verify exited {code} after {done}"
        if code == 1:  # one line per problem, each naming the fix
            assert out and all("(fix: " in line for line in out.splitlines()), f"after {done}: {out}"
        for main, argv in ((stats_main, [str(root), "--json"]), (export_main, [str(root)])):
            status, _, complaint = run_command(main, argv)
            if status == 0:
                continue
            assert status == 1 and complaint.startswith("error: ") and "Traceback" not in complaint, (done, complaint)
            assert code == 1, f"verify passed after {done}, but {main.__name__} failed: {complaint}"
        if code == 0:
            status, printed, _ = run_command(export_main, [str(root)])
            assert (status, printed) == (0, expected[2]), f"verify passed after {done}, but the export differs"
            status, printed, _ = run_command(stats_main, [str(root), "--json"])
            assert status == 0 and json.loads(printed)["records"] == len(expected[0])
