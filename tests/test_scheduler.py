"""The crawl's scheduler keeps waiting requests on disk, with or without a JOBDIR, and leaves no files behind."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

from scraper.replica.testing import Replica


def enqueued(stderr: str, where: str = "") -> int:
    """The crawl's `scheduler/enqueued[/where]` count from its stats dump (0 when absent)."""
    key = f"scheduler/enqueued/{where}" if where else "scheduler/enqueued"
    match = re.search(rf"'{key}': (\d+)", stderr)
    return int(match.group(1)) if match else 0


def test_without_a_jobdir_waiting_requests_go_to_a_temporary_disk_queue_removed_at_the_end(
    replica: Replica,
    tmp_path: Path,
    crawl: Callable[..., subprocess.CompletedProcess[str]],
    fake_clean: tuple[str, ...],
) -> None:
    spill = tmp_path / "tmp"
    spill.mkdir()
    result = crawl(replica.url, tmp_path / "archive", *fake_clean, "--loglevel", "INFO", env={"TMPDIR": str(spill)})
    assert result.returncode == 0, result.stderr[-2000:]
    # Every request the crawl scheduled went to disk, none to memory.
    assert enqueued(result.stderr) > 0
    assert enqueued(result.stderr, "disk") == enqueued(result.stderr) and enqueued(result.stderr, "memory") == 0
    assert not [p for p in spill.iterdir() if p.name.startswith("newsarchive-requests-")]


def test_with_a_jobdir_the_queues_are_kept_there_for_a_resume(
    replica: Replica,
    tmp_path: Path,
    crawl: Callable[..., subprocess.CompletedProcess[str]],
    fake_clean: tuple[str, ...],
) -> None:
    jobdir = tmp_path / "job"
    result = crawl(replica.url, tmp_path / "archive", *fake_clean, "--loglevel", "INFO", "--jobdir", str(jobdir))
    assert result.returncode == 0, result.stderr[-2000:]
    assert enqueued(result.stderr) > 0 and enqueued(result.stderr, "disk") == enqueued(result.stderr)
    assert (jobdir / "requests.queue" / "active.json").is_file()
