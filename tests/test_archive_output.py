"""export and stats on hostile paths: never writing inside the archive, atomic output, clear errors for missing paths."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from archive.cli import export_main, stats_main
from archive.output import OutputPathError, atomic_output, check_output_path
from archive.testing import sample_record, write_sample_crawl

CRAWL = "20250101T000000Z-aaaaaa"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    archive = tmp_path / "archive"
    write_sample_crawl(archive, CRAWL, [sample_record(str(1000 + i), crawl_id=CRAWL) for i in range(3)])
    return archive


def digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()
    }


def test_export_onto_an_archive_file_is_refused_and_the_file_is_untouched(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = digests(root)
    target = root / "articles" / f"{CRAWL}-00001.jsonl.gz"
    assert export_main([str(root), "--latest", "--out", str(target)]) == 1
    assert "is inside the archive" in capsys.readouterr().err
    assert digests(root) == before


def test_export_into_the_archive_through_a_link_is_refused(root: Path, tmp_path: Path) -> None:
    link = tmp_path / "elsewhere"
    link.symlink_to(root / "manifests")
    with pytest.raises(OutputPathError, match="inside the archive"):
        check_output_path(link / "new.jsonl", root)


def test_export_into_a_missing_directory_or_onto_a_directory_says_what_to_do(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert export_main([str(root), "--latest", "--out", str(tmp_path / "no" / "such" / "out.jsonl")]) == 1
    assert "does not exist; create it first" in capsys.readouterr().err
    assert export_main([str(root), "--latest", "--out", str(tmp_path)]) == 1
    assert f"is a directory; give a file name, e.g. {tmp_path / 'export.jsonl'}" in capsys.readouterr().err


@pytest.mark.parametrize(("option", "extension"), [("--wacz", "wacz"), ("--format=parquet", "parquet")])
def test_a_binary_export_onto_a_directory_suggests_a_file_of_its_format(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, extension: str
) -> None:
    assert export_main([str(root), option, "--out", str(tmp_path)]) == 1
    assert f"is a directory; give a file name, e.g. {tmp_path / ('export.' + extension)}" in capsys.readouterr().err


def test_a_failed_export_leaves_the_previous_output_whole(root: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("previous export\n", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_output(target, root) as out:
        out.write("half of a new ")
        raise RuntimeError("disk trouble")
    assert target.read_text(encoding="utf-8") == "previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive", "out.jsonl"]  # no temporary left behind


@pytest.mark.parametrize("command", [stats_main, lambda argv: export_main([*argv, "--latest"])])
def test_stats_and_export_refuse_a_missing_directory_a_file_and_a_non_archive(
    command, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert command([str(tmp_path / "missing")]) == 1
    assert "no such directory" in capsys.readouterr().err
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    assert command([str(tmp_path / "file.txt")]) == 1
    assert "is a file, not an archive directory" in capsys.readouterr().err
    assert command([str(tmp_path)]) == 1
    assert "not an archive" in capsys.readouterr().err


def test_stats_into_a_closed_pipe_ends_quietly(root: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader (`| head`) is gone before anything is written
    try:
        result = subprocess.run(
            [sys.executable, "-m", "scraper", "stats", "--json", str(root)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            cwd=REPO,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 141
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr
