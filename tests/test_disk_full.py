"""An archive directory that cannot be written: a file-size limit hit mid-crawl (RLIMIT_FSIZE), a read-only mount, a file.
The crawl stops with an error naming the directory and the cause; what was committed before still verifies."""

from __future__ import annotations

import errno
import json
import os
import resource
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from scrapy.exceptions import DropItem

from archive.verify import verify_archive
from archive.writer import HashingSink
from scraper.items import SkippedUrl
from scraper.pipelines.store import ArchivePipeline
from scraper.replica.testing import Replica, start_replica

# Small enough that the first WARC file of a crawl outgrows it while the list pages are captured.
FILE_SIZE_LIMIT = 16 * 1024


@pytest.fixture(scope="module")
def portal() -> Iterator[Replica]:
    with start_replica(articles=20, seed=5) as running:
        yield running


@pytest.fixture
def archive(
    portal: Replica, tmp_path: Path, fake_clean: tuple[str, ...], crawl: Callable[..., subprocess.CompletedProcess[str]]
) -> Path:
    """An archive holding one finished crawl of the portal."""
    out = tmp_path / "archive"
    first = crawl(portal.url, out, *fake_clean, "--crawl-id", "before")
    assert first.returncode == 0, first.stdout + first.stderr
    return out


def limit_file_size() -> None:
    """preexec_fn: writes past FILE_SIZE_LIMIT fail with EFBIG instead of killing the process with SIGXFSZ."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))


def manifests(out: Path) -> list[str]:
    return sorted(path.stem for path in (out / "manifests").glob("*.json"))


def test_a_full_disk_stops_the_crawl_with_the_cause_and_what_was_committed_still_verifies(
    portal: Replica,
    archive: Path,
    fake_clean: tuple[str, ...],
    crawl: Callable[..., subprocess.CompletedProcess[str]],
    verify_cli: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    result = crawl(portal.url, archive, *fake_clean, "--refresh", "--crawl-id", "full", preexec_fn=limit_file_size)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"cannot write to the archive {archive}" in result.stderr
    assert "File too large (EFBIG)" in result.stderr
    assert manifests(archive) == ["before"]  # no manifest claims the stopped crawl finished
    checked = verify_cli(archive)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "warning" in checked.stdout  # the stopped crawl's .part files, set aside by the next crawl

    # Once there is room again, the same command finishes the job and the archive is whole.
    again = crawl(portal.url, archive, *fake_clean, "--refresh", "--crawl-id", "after")
    assert again.returncode == 0, again.stdout + again.stderr
    summary = json.loads((archive / "manifests" / "after.json").read_text(encoding="utf-8"))["summary"]
    assert summary["unchanged"] == portal.articles
    assert verify_cli(archive).returncode == 0


def unshare_works() -> bool:
    """Whether this machine lets an unprivileged user namespace bind-mount (for a real read-only directory)."""
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=30)
    return probe.returncode == 0


def test_a_read_only_archive_directory_fails_the_crawl_before_any_request(
    portal: Replica,
    archive: Path,
    fake_clean: tuple[str, ...],
    crawl_command: Callable[..., list[str]],
    crawl_env: Callable[..., dict[str, str]],
    crawl_timeout: int,
    verify_cli: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    """A read-only bind mount of the archive in a private mount namespace; without one, permissions (not as root)."""
    command = crawl_command(portal.url, archive, *fake_clean, "--crawl-id", "readonly")
    if unshare_works():
        # `unshare -rm`: a user and mount namespace of our own, where the archive is remounted read-only.
        command = ["unshare", "-rm", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"', str(archive), *command]
    elif os.geteuid() != 0:
        for directory in (archive, *[p for p in archive.iterdir() if p.is_dir()]):
            directory.chmod(0o555)
        for lock in archive.glob("*/.lock"):
            lock.chmod(0o444)
    else:
        pytest.skip("running as root without user namespaces: no way to make a directory read-only here")
    served_before = len(portal.log())
    try:
        result = subprocess.run(
            command, cwd=archive.parent, env=crawl_env(), capture_output=True, text=True, timeout=crawl_timeout
        )
    finally:
        for path in (archive, *archive.rglob("*")):
            if not path.is_symlink():
                path.chmod(0o755 if path.is_dir() else 0o644)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"cannot write to the archive {archive}" in result.stderr
    assert "Read-only file system" in result.stderr or "Permission denied" in result.stderr
    asked = [entry["path"] for entry in portal.log()[served_before:] if not entry["path"].startswith("/_")]
    assert asked == []  # it stopped before asking the portal anything
    assert manifests(archive) == ["before"]
    assert verify_cli(archive, "--strict").returncode == 0


def test_an_archive_path_that_is_a_file_is_refused_with_its_name(
    portal: Replica, tmp_path: Path, fake_clean: tuple[str, ...], crawl: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    out = tmp_path / "archive"
    out.write_text("not a directory\n", encoding="utf-8")
    result = crawl(portal.url, out, *fake_clean)
    assert result.returncode == 1
    assert f"cannot write to the archive {out}" in result.stderr
    assert out.read_text(encoding="utf-8") == "not a directory\n"


def test_a_write_error_while_committing_at_the_end_is_reported_and_no_manifest_is_written(
    tmp_path: Path, archive_pipeline: Callable[..., ArchivePipeline]
) -> None:
    pipeline = archive_pipeline(tmp_path, "end-1", ARCHIVE_MAX_RECORDS=10, ARCHIVE_MAX_BYTES=1 << 20)
    pipeline.open_spider()

    def no_space() -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    pipeline._commit = no_space  # type: ignore[method-assign]
    pipeline.close_spider()
    assert pipeline.write_error is not None
    assert pipeline.write_error.startswith(f"cannot write to the archive {tmp_path}")
    assert pipeline.write_error.endswith("No space left on device (ENOSPC)")
    assert manifests(tmp_path) == []


def test_a_write_error_mid_crawl_aborts_every_writer_and_frees_the_archive_for_the_next_crawl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, archive_pipeline: Callable[..., ArchivePipeline]
) -> None:
    article = "http://127.0.0.1:8123/news/yw/202508/t20250826_{}.html"
    small = {"ARCHIVE_MAX_RECORDS": 10, "ARCHIVE_MAX_BYTES": 1 << 20, "ARCHIVE_COMPRESS": False}
    pipeline = archive_pipeline(tmp_path, "full-1", **small)
    pipeline.open_spider()
    assert pipeline.capture is not None
    pipeline.capture.capture("http://127.0.0.1:8123/", 200, "OK", [], b"<html>home</html>", [])  # the WARC is open
    with pytest.raises(DropItem):  # a skip is written to quarantine/ and goes no further
        pipeline.process_item(SkippedUrl(article.format(1), "robots", None, "2025-01-01T00:00:00Z"))  # quarantine/ open

    def no_space(self: HashingSink, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as full:
        full.setattr(HashingSink, "write", no_space)
        with pytest.raises(DropItem):
            pipeline.process_item(SkippedUrl(article.format(2), "robots", None, "2025-01-01T00:00:01Z"))
    assert pipeline.write_error is not None and pipeline.write_error.endswith("(ENOSPC)")
    pipeline.close_spider()
    assert manifests(tmp_path) == []

    # Every directory lock was released: a second crawl in this process opens the archive and finishes.
    after = archive_pipeline(tmp_path, "after-1", **small)
    after.open_spider()
    after.close_spider()
    assert manifests(tmp_path) == ["after-1"]
    set_aside = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob(".*.abandoned-*"))
    assert set_aside == ["quarantine/.full-1-00001.jsonl.abandoned-1", "warc/.full-1-00001.warc.gz.abandoned-1"]
    report = verify_archive(tmp_path)
    assert report.ok, [p.format() for p in report.errors]
