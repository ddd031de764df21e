"""Stopping and resuming crawls: SIGINT with a JOBDIR resumes the queue; after SIGKILL a rerun still ends complete."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from archive.reader import iter_records
from scraper.replica.testing import Replica, start_replica

ARTICLES = 40
STOP_AFTER = 10  # article requests seen by the replica before the crawl is stopped
WAIT = 60.0  # seconds, at most, for those requests and for the stopped crawl to exit
# One request at a time, 0.1 s apart: the stop lands in the middle of the articles.
SLOW = ("-s", "AUTOTHROTTLE_ENABLED=false", "-s", "DOWNLOAD_DELAY=0.1", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1")


@pytest.fixture(scope="module")
def replica() -> Iterator[Replica]:
    with start_replica(articles=ARTICLES, seed=13) as server:
        yield server


@pytest.fixture
def start_and_stop(
    fake_clean: tuple[str, ...],
    crawl_command: Callable[..., list[str]],
    crawl_env: Callable[..., dict[str, str]],
    article_paths: Callable[[list[dict[str, Any]]], list[str]],
) -> Callable[..., tuple[int, list[str]]]:
    def run(replica: Replica, out: Path, jobdir: Path, signum: int) -> tuple[int, list[str]]:
        """Start a slow crawl, send `signum` once STOP_AFTER article requests reached the replica; exit code and articles fetched."""
        before = len(replica.log())
        command = crawl_command(replica.url, out, *fake_clean, *SLOW, "--jobdir", str(jobdir))
        process = subprocess.Popen(
            command, cwd=out.parent, env=crawl_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            deadline = time.monotonic() + WAIT
            while len(article_paths(replica.log()[before:])) < STOP_AFTER:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "the crawl did not reach the articles in time"
                time.sleep(0.05)
            process.send_signal(signum)
            _stdout, _stderr = process.communicate(timeout=WAIT)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
        return process.returncode, article_paths(replica.log()[before:])

    return run


def latest_manifest(out: Path) -> dict[str, Any]:
    manifests = [json.loads(path.read_text(encoding="utf-8")) for path in (out / "manifests").glob("*.json")]
    return max(manifests, key=lambda manifest: (manifest["started_at"], manifest["finished_at"]))


def archived_ids(out: Path) -> set[str]:
    return {record["id"] for record in iter_records(out)}


def test_sigint_stops_and_the_jobdir_resumes_where_it_stopped(
    replica: Replica,
    tmp_path: Path,
    fake_clean: tuple[str, ...],
    crawl: Callable[..., subprocess.CompletedProcess[str]],
    request_kind: Callable[[str], str],
    article_paths: Callable[[list[dict[str, Any]]], list[str]],
    start_and_stop: Callable[..., tuple[int, list[str]]],
) -> None:
    out, jobdir = tmp_path / "archive-data", tmp_path / "job"
    code, first = start_and_stop(replica, out, jobdir, signal.SIGINT)
    assert code == 130
    assert STOP_AFTER <= len(first) < ARTICLES
    assert len(archived_ids(out)) == len(set(first))  # a clean stop commits what it fetched

    before = len(replica.log())
    resumed = crawl(replica.url, out, *fake_clean, "--jobdir", str(jobdir))
    assert resumed.returncode == 0, resumed.stderr
    served = replica.log()[before:]
    second = article_paths(served)
    assert not set(first) & set(second)  # nothing fetched twice
    assert not [entry for entry in served if request_kind(entry["path"]) == "list"]  # the queue, not a new discovery
    assert archived_ids(out) == {entry["id"] for entry in replica.index()}
    # The resumed run accounts like a fresh one: the articles the stopped run left pending are found again here.
    assert "UNACCOUNTED" not in resumed.stdout
    summary = latest_manifest(out)["summary"]
    assert summary["unaccounted"] == 0 and summary["pages"]["unaccounted"] == 0
    assert summary["articles_found"] == len(second) == summary["archived"] + summary["skipped"]


def test_after_sigkill_a_rerun_with_the_same_jobdir_ends_complete(
    replica: Replica,
    tmp_path: Path,
    fake_clean: tuple[str, ...],
    crawl: Callable[..., subprocess.CompletedProcess[str]],
    start_and_stop: Callable[..., tuple[int, list[str]]],
) -> None:
    out, jobdir = tmp_path / "archive-data", tmp_path / "job"
    code, _first = start_and_stop(replica, out, jobdir, signal.SIGKILL)
    assert code == -signal.SIGKILL
    rerun = crawl(replica.url, out, *fake_clean, "--jobdir", str(jobdir))
    assert rerun.returncode == 0, rerun.stderr
    assert "did not stop cleanly" in rerun.stderr  # the killed crawl's stale queue was discarded
    assert archived_ids(out) == {entry["id"] for entry in replica.index()}
    verify = subprocess.run(
        [sys.executable, "-m", "scraper", "verify", str(out)], capture_output=True, text=True, timeout=120
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
