"""SIGKILL at random moments of a real crawl: each time the archive still verifies, and a rerun completes it.
The kill moment is a random number of requests seen in the replica's /_log (seeded), not a timer."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from archive.reader import iter_records
from archive.verify import verify_archive
from scraper.replica.testing import Replica, start_replica

ARTICLES = 40
KILLS = 6
RNG_SEED = 20250826
# About 55 requests make a full crawl of 40 articles; kill somewhere among the first 50.
KILL_AFTER_REQUESTS = (3, 50)
MAX_RECORDS = "3"
RUN_TIMEOUT = 120  # seconds for one crawl process; a whole crawl takes about five


@pytest.fixture(scope="module")
def replica() -> Iterator[Replica]:
    with start_replica(articles=ARTICLES, seed=11) as server:
        yield server


def crawler_requests(replica: Replica) -> int:
    """Requests served so far, not counting the test's own reads of /_log."""
    return sum(1 for entry in replica.log() if not entry["path"].startswith("/_"))


def run_and_kill(replica: Replica, command: list[str], cwd: Path, env: dict[str, str], after: int) -> bool:
    """Start the crawl and SIGKILL it once the replica has served `after` more requests; False if it finished first."""
    baseline = crawler_requests(replica)
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + RUN_TIMEOUT
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if crawler_requests(replica) - baseline >= after:
                process.kill()
                process.wait()
                return True
            time.sleep(0.005)  # polling interval only; correctness does not depend on it
        assert process.poll() is not None, f"crawl did not end within {RUN_TIMEOUT} s"
        return False
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def indexed_ids(root: Path) -> set[str]:
    path = root / "index.json"
    return set(json.loads(path.read_text(encoding="utf-8"))["articles"]) if path.exists() else set()


def test_sigkill_at_random_moments_then_rerun_gives_every_article_once(
    replica: Replica,
    tmp_path: Path,
    crawl_command: Callable[..., list[str]],
    crawl_env: Callable[..., dict[str, str]],
) -> None:
    root = tmp_path / "archive"
    # The same command every time: no crawl id, so each run names itself; small files, so that commits (and kills
    # between them) happen throughout the crawl, not only at its end.
    command = crawl_command(replica.url, root, "-s", f"ARCHIVE_MAX_RECORDS={MAX_RECORDS}")
    env = crawl_env()
    rng = random.Random(RNG_SEED)
    kills = 0
    for _ in range(KILLS):
        if not run_and_kill(replica, command, tmp_path, env, rng.randint(*KILL_AFTER_REQUESTS)):
            continue
        kills += 1
        if not root.exists():  # killed before the archive pipeline opened: nothing written, nothing to check
            continue
        report = verify_archive(root)
        assert report.ok, [p.format() for p in report.errors]
        committed = Counter(record["id"] for record in iter_records(root))
        assert all(count == 1 for count in committed.values()), committed.most_common(3)
        # index.json may be stale, but it must never claim an article no committed file holds.
        assert indexed_ids(root) <= set(committed)
    assert kills >= 5
    held_before = {record["id"] for record in iter_records(root)}

    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert done.returncode == 0, done.stdout + done.stderr

    records = list(iter_records(root))
    ids = Counter(record["id"] for record in records)
    assert set(ids) == {entry["id"] for entry in replica.index()}
    assert all(count == 1 for count in ids.values()), ids.most_common(3)
    assert {record["version"] for record in records} == {1}
    report = verify_archive(root)
    assert report.ok, [p.format() for p in report.errors]
    verify = subprocess.run(
        [sys.executable, "-m", "scraper", "verify", str(root)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    # The finishing run re-fetched what the killed runs lost and counted what they had committed as unchanged.
    first_line = done.stdout.splitlines()[0]
    named = re.fullmatch(rf"crawl (\d{{8}}T\d{{6}}Z-[0-9a-f]{{6}}) -> {re.escape(str(root.resolve()))}", first_line)
    assert named is not None, first_line
    crawl_id = named[1]
    summary = json.loads((root / "manifests" / f"{crawl_id}.json").read_text(encoding="utf-8"))["summary"]
    assert summary["unchanged"] == len(held_before)
    assert summary["archived"] == ARTICLES - len(held_before)
