"""Distributed crawls end to end: workers of `newsarchive crawl --redis` against a real replica and a real Redis.
Three workers archive every article once into one archive; a worker killed mid-crawl leaves nothing undone; archives
written apart merge; and an unreachable Redis is a clear error."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import scraper.settings
from archive.cli import merge_main
from archive.layout import ARTICLES
from archive.manifest import load_manifests
from archive.stats import archive_stats
from archive.writer import DirectoryLock
from scraper.cluster.testing import RedisServer, free_port, start_redis
from scraper.replica.testing import Replica, start_replica

ARTICLES_ON_REPLICA = 500
WAIT_FOR_WORK = 120  # seconds for a worker to start writing records (a few on an idle machine)

Worker = Callable[..., Any]  # crawling.start_worker, through the crawl_worker fixture


@pytest.fixture(scope="module")
def big_replica() -> Iterator[Replica]:
    with start_replica(articles=ARTICLES_ON_REPLICA, seed=3) as running:
        yield running


def finish(workers: list[Any], timeout: int) -> list[tuple[int, str, str]]:
    return [worker.finish(timeout) for worker in workers]


def article_ids(read_jsonl: Callable[[Path], list[dict[str, Any]]], root: Path) -> Counter[tuple[str, int]]:
    return Counter((record["id"], record["version"]) for record in read_jsonl(root / ARTICLES))


def replica_ids(replica: Replica) -> Counter[tuple[str, int]]:
    return Counter((entry["id"], 1) for entry in replica.index())


def test_three_workers_archive_every_article_exactly_once_into_one_archive(
    big_replica: Replica,
    redis_url: str,
    crawl_worker: Worker,
    crawl_timeout: int,
    tmp_path: Path,
    read_jsonl: Callable[[Path], list[dict[str, Any]]],
    verify_cli: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    out = tmp_path / "archive"
    results = finish([crawl_worker(big_replica.url, out, redis_url) for _ in range(3)], crawl_timeout)
    assert [code for code, _, _ in results] == [0, 0, 0], results
    assert article_ids(read_jsonl, out) == replica_ids(big_replica)
    verified = verify_cli(out)
    assert verified.returncode == 0 and ", 0 errors, 0 warnings" in verified.stderr, verified.stdout + verified.stderr
    manifests = load_manifests(out)
    assert len(manifests) == 3 and len({m["cluster"]["crawl_id"] for m in manifests.values()}) == 1
    assert sum(m["summary"]["archived"] for m in manifests.values()) == ARTICLES_ON_REPLICA
    assert sum(1 for m in manifests.values() if m["summary"]["archived"]) >= 2  # the work was shared
    crawl = max(manifests.values(), key=lambda m: m["finished_at"])["cluster"]["summary"]
    assert (crawl["articles_found"], crawl["archived"], crawl["unaccounted"]) == (ARTICLES_ON_REPLICA,) * 2 + (0,)
    assert all("the whole crawl, all its workers:" in stdout for _, stdout, _ in results)
    (seen,) = archive_stats(out)["distributed_crawls"].values()
    assert (seen["workers"], seen["unfinished_workers"], seen["archived"]) == (3, 0, ARTICLES_ON_REPLICA)


LATENCY = 0.3  # seconds each replica page takes to answer: requests overlap long enough to count them
CLUSTER_CAP = 2


def most_in_flight(log: list[dict[str, Any]], latency: float) -> int:
    """The most requests the replica was answering at once: each held from `latency` before its answer was sent
    (an under-estimate of the real span, which began when the request arrived), so an overlap seen here was real."""
    events = sorted(
        [(entry["at"] - latency, 1) for entry in log if not entry["path"].startswith("/_")]
        + [(entry["at"], -1) for entry in log if not entry["path"].startswith("/_")]
    )
    most = current = 0
    for _, step in events:  # at equal times an end (-1) sorts before a start (+1)
        current += step
        most = max(most, current)
    return most


def test_the_cluster_budget_caps_requests_in_flight_across_workers_and_a_late_worker_joins_the_crawl(
    redis_url: str,
    crawl_worker: Worker,
    crawl_timeout: int,
    tmp_path: Path,
    read_jsonl: Callable[[Path], list[dict[str, Any]]],
    verify_cli: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    out = tmp_path / "archive"
    # Each worker alone could have 4 requests in flight; the cluster's budget allows 2 for all of them together.
    # The duplicate filter and the books are bounded too (PORTAL_CLUSTER_SEEN_MAX), far below the crawl's URLs.
    options = (
        *("-s", f"PORTAL_CLUSTER_CONCURRENCY={CLUSTER_CAP}", "-s", "CONCURRENT_REQUESTS=4"),
        *("-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4", "-s", "AUTOTHROTTLE_ENABLED=False"),
        *("-s", "PORTAL_CLUSTER_SEEN_MAX=16"),
    )
    with start_replica(articles=40, seed=5, latency_ms=LATENCY * 1000) as replica:
        workers = [crawl_worker(replica.url, out, redis_url, *options) for _ in range(2)]
        deadline = time.monotonic() + WAIT_FOR_WORK
        while len(replica.log()) < 12 and time.monotonic() < deadline:  # the crawl is under way
            time.sleep(0.2)
        workers.append(crawl_worker(replica.url, out, redis_url, *options))
        results = finish(workers, crawl_timeout)
        log = replica.log()
        expected = replica_ids(replica)
    assert [code for code, _, _ in results] == [0, 0, 0], results
    assert most_in_flight(log, LATENCY) == CLUSTER_CAP  # used to the full, never over
    assert article_ids(read_jsonl, out) == expected  # each once, with a bounded duplicate filter
    verified = verify_cli(out)
    assert verified.returncode == 0 and ", 0 errors, 0 warnings" in verified.stderr, verified.stdout + verified.stderr
    manifests = load_manifests(out)
    assert len(manifests) == 3 and len({m["cluster"]["crawl_id"] for m in manifests.values()}) == 1  # it joined
    exported = subprocess.run(
        [sys.executable, "-m", "scraper", "export", str(out)], capture_output=True, text=True, timeout=120, check=True
    )
    lines = [line for line in exported.stdout.split("\n") if line]  # not splitlines: a text may hold U+2028
    assert sorted(json.loads(line)["id"] for line in lines) == sorted(i for i, _ in expected)


def test_the_cluster_budget_defaults_to_8() -> None:
    assert scraper.settings.PORTAL_CLUSTER_CONCURRENCY == 8


def worker_pid(redis_server: RedisServer, worker: str) -> int | None:
    client = redis_server.client()
    for key in client.keys("newsarchive:*:workers"):
        info = client.hget(key, worker)
        if info is not None:
            return int(json.loads(info)["pid"])
    return None


def test_a_worker_killed_mid_crawl_and_never_restarted_leaves_nothing_the_others_do_not_finish(
    big_replica: Replica,
    redis_server: RedisServer,
    redis_url: str,
    crawl_worker: Worker,
    crawl_timeout: int,
    tmp_path: Path,
    read_jsonl: Callable[[Path], list[dict[str, Any]]],
    verify_cli: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    out = tmp_path / "archive"
    lease = ("-s", "PORTAL_CLUSTER_LEASE=3")
    workers = [crawl_worker(big_replica.url, out, redis_url, *lease) for _ in range(3)]
    # Killed once it has records in its open file (not committed: they die with it) and requests on lease.
    deadline = time.monotonic() + WAIT_FOR_WORK
    victim = None
    while victim is None and time.monotonic() < deadline:
        for part in (out / ARTICLES).glob(".*-w002-00001.jsonl.gz.part") if (out / ARTICLES).is_dir() else []:
            if part.stat().st_size > 0:
                victim = worker_pid(redis_server, "w002")
        time.sleep(0.02)
    assert victim is not None, "worker w002 never wrote a record"
    os.kill(victim, signal.SIGKILL)
    results = finish(workers, crawl_timeout)
    codes = {worker.pid: code for worker, (code, _, _) in zip(workers, results, strict=True)}
    assert codes.pop(victim) == -signal.SIGKILL and list(codes.values()) == [0, 0], results
    assert article_ids(read_jsonl, out) == replica_ids(big_replica)
    assert any("worker w002" in err and "is dead" in err for _, _, err in results)
    verified = verify_cli(out)
    assert verified.returncode == 0 and ", 0 errors," in verified.stderr, verified.stdout + verified.stderr
    crawl = max(load_manifests(out).values(), key=lambda m: m["finished_at"])["cluster"]["summary"]
    assert (crawl["archived"], crawl["unaccounted"], crawl["pages"]["unaccounted"]) == (ARTICLES_ON_REPLICA, 0, 0)
    (seen,) = archive_stats(out)["distributed_crawls"].values()
    assert (seen["workers"], seen["unfinished_workers"]) == (2, 1)


def test_archives_written_by_the_workers_of_one_crawl_on_separate_machines_merge_and_verify(
    big_replica: Replica,
    redis_url: str,
    crawl_worker: Worker,
    crawl_timeout: int,
    tmp_path: Path,
    read_jsonl: Callable[[Path], list[dict[str, Any]]],
    verify_cli: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    apart = [tmp_path / "machine-a" / "archive", tmp_path / "machine-b" / "archive"]
    for root in apart:
        root.parent.mkdir()
    results = finish([crawl_worker(big_replica.url, root, redis_url) for root in apart], crawl_timeout)
    assert [code for code, _, _ in results] == [0, 0], results
    assert all(verify_cli(root).returncode == 0 for root in apart)
    merged = tmp_path / "merged"
    assert merge_main([str(merged), *map(str, apart)]) == 0
    assert article_ids(read_jsonl, merged) == replica_ids(big_replica)
    verified = verify_cli(merged)
    assert verified.returncode == 0 and ", 0 errors, 0 warnings" in verified.stderr, verified.stdout + verified.stderr


def test_a_crawl_with_redis_unreachable_fails_at_once_with_a_clear_message(
    replica: Replica, crawl: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    nowhere = f"redis://127.0.0.1:{free_port('127.0.0.1')}/0"
    started = time.monotonic()
    result = crawl(replica.url, tmp_path / "archive", "--redis", nowhere)
    assert result.returncode == 2 and time.monotonic() - started < 60
    assert f"cannot reach Redis at {nowhere}" in result.stderr and "start redis-server there" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "archive").exists()


def test_a_worker_that_loses_redis_mid_crawl_stops_with_a_clear_message_and_commits_nothing_more(
    big_replica: Replica,
    crawl_worker: Worker,
    crawl_timeout: int,
    tmp_path: Path,
    verify_cli: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    out = tmp_path / "archive"
    with start_redis() as own:  # not the session's server: this one is killed
        worker = crawl_worker(big_replica.url, out, own.url())
        deadline = time.monotonic() + WAIT_FOR_WORK
        while not list(out.glob("articles/.*.jsonl.gz.part")) and time.monotonic() < deadline:
            time.sleep(0.02)
        own.process.kill()
        (code, _, err), *_ = finish([worker], crawl_timeout)
    assert code == 1 and "this worker lost the crawl's Redis" in err and "Traceback" not in err, err
    assert list(out.glob("manifests/*.json")) == []
    assert verify_cli(out).returncode == 0  # what it committed is whole; its open files are leftovers


@pytest.mark.parametrize(("option", "value"), [("--jobdir", "job"), ("--max-articles", "5"), ("--crawl-id", "mine")])
def test_options_a_worker_cannot_honour_are_refused(
    replica: Replica, crawl: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path, option: str, value: str
) -> None:
    result = crawl(replica.url, tmp_path / "archive", "--redis", "redis://127.0.0.1:6379/0", option, value)
    assert result.returncode == 2 and f"{option} does not go with --redis" in result.stderr


def test_a_crawl_of_its_own_is_refused_while_the_workers_of_a_distributed_crawl_write_the_archive(
    replica: Replica, crawl: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    out = tmp_path / "archive"
    (out / ARTICLES).mkdir(parents=True)
    worker = DirectoryLock(out / ARTICLES, "20250101T000000Z-c1c1c1")
    worker.acquire()
    try:
        result = crawl(replica.url, out)
    finally:
        worker.release()
    assert result.returncode == 2 and f"another crawl is writing to {out}" in result.stderr
