"""newsarchive export --wacz: the archive's WARC files and a page per article in one WACZ that py-wacz's own
`wacz validate` accepts, each page titled with the article's restored title and dated by its capture."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from warcio.timeutils import iso_date_to_timestamp

from archive.cli import export_main
from archive.reader import iter_records, readable_warcs
from archive.testing import sample_record, write_sample_crawl
from archive.wacz import capture_dates, packed_pages

REPO = Path(__file__).resolve().parents[1]


def newsarchive(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scraper", *argv], capture_output=True, text=True, timeout=300, cwd=REPO
    )


@pytest.fixture(scope="module")
def wacz_file(crawled_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wacz") / "news.wacz"
    result = newsarchive("export", str(crawled_archive), "--wacz", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "article pages" in result.stderr
    return out


def test_wacz_validate_accepts_the_export_of_a_real_crawl(wacz_file: Path) -> None:
    wacz = Path(sys.executable).with_name("wacz")
    result = subprocess.run([str(wacz), "validate", "-f", str(wacz_file)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation succeeded" in result.stdout


def test_wacz_pages_list_every_article_under_its_restored_title_at_its_capture(
    crawled_archive: Path, wacz_file: Path
) -> None:
    latest = list(iter_records(crawled_archive, latest_only=True))
    pages = packed_pages(wacz_file)
    assert sorted((page["url"], page["title"]) for page in pages) == sorted((r["url"], r["title"]) for r in latest)
    by_url = {page["url"]: page for page in pages}
    for record in latest:
        [date] = capture_dates(crawled_archive / "warc" / record["warc_file"], [record["warc_offset"]]).values()
        # The page's date is its capture's (to the second, as WACZ pages give it), so a replay opens that capture.
        assert iso_date_to_timestamp(by_url[record["url"]]["ts"]) == iso_date_to_timestamp(date)


def test_wacz_holds_every_warc_file_of_the_archive_byte_for_byte(crawled_archive: Path, wacz_file: Path) -> None:
    warcs = readable_warcs(crawled_archive)
    assert len(warcs) == 2  # one per crawl
    with zipfile.ZipFile(wacz_file) as packed:
        for warc in warcs:
            assert packed.read(f"archive/{warc.name}") == warc.path.read_bytes()


def test_wacz_of_an_archive_without_captures_is_refused_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "archive"
    write_sample_crawl(root, "20250101T000000Z-aaaaaa", [sample_record(crawl_id="20250101T000000Z-aaaaaa")])
    out = tmp_path / "out.wacz"
    assert export_main([str(root), "--wacz", "--out", str(out)]) == 1
    assert "holds no WARC files" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [root]


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--wacz"], "give --out FILE"),
        (["--wacz", "--format", "parquet", "--out", "x.wacz"], "drop --all-versions and --format"),
        (["--wacz", "--all-versions", "--out", "x.wacz"], "drop --all-versions and --format"),
    ],
)
def test_wacz_usage_mistakes_are_usage_errors(argv: list[str], says: str, tmp_path: Path) -> None:
    result = newsarchive("export", str(tmp_path), *argv)
    assert result.returncode == 2 and says in result.stderr and "Traceback" not in result.stderr
