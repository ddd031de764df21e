"""Distributed crawl scaling: 1, 2 and 3 workers against a replica that answers every page after --latency ms.

Each run starts the workers at once (`newsarchive crawl --redis`, one redis-server on loopback, one fresh archive),
each at CONCURRENT_REQUESTS=4 with PORTAL_CLUSTER_CONCURRENCY=12, the project's settings otherwise (AutoThrottle on,
the real cleaner). Prints the crawl's time (from the first request the portal answered to the last worker's exit) and
articles/s, the wall time from the first launch, each as a ratio to one worker; checks that every article was
archived exactly once. Run: `.venv/bin/python bench/bench_cluster.py [--articles 400] [--latency 200]`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from scraper.cluster.testing import start_redis
from scraper.replica.testing import Replica, start_replica

WORKER_SETTINGS = ["-s", "CONCURRENT_REQUESTS=4", "-s", "PORTAL_CLUSTER_CONCURRENCY=12", "--loglevel", "WARNING"]
TIMEOUT = 1800  # seconds a run may take
# The target: three workers at least this many times as fast as one, in the crawl's own time.
TARGET_THREE_WORKERS = 2.2


def archived_ids(root: Path) -> Counter[str]:
    ids: Counter[str] = Counter()
    for path in sorted((root / "articles").glob("*.jsonl.gz")):
        with gzip.open(path, "rb") as handle:
            ids.update(json.loads(line)["id"] for line in handle.read().split(b"\n") if line)
    return ids


def run(workers: int, replica: Replica, redis_url: str, articles: int) -> tuple[float, float, list[int]]:
    """Seconds from the first launch to the last exit, seconds from the first request the portal answered to the last
    exit (the workers' start, three Python processes on a small machine, left out), and what each worker archived."""
    with tempfile.TemporaryDirectory() as parent:
        out = Path(parent) / "archive"
        command = [sys.executable, "-m", "scraper", "crawl", "--start-url", replica.url, "--out", str(out)]
        command += ["--redis", redis_url, *WORKER_SETTINGS]
        launched, started = time.time(), time.monotonic()
        # The output goes to files: a worker blocked on a full pipe would hold the whole crawl up.
        with ExitStack() as stack:
            logs = [stack.enter_context(tempfile.TemporaryFile()) for _ in range(workers)]
            processes = [subprocess.Popen(command, stdout=log, stderr=log) for log in logs]
            for process in processes:
                process.wait(TIMEOUT)
            ended = time.time()
            seconds = time.monotonic() - started
            for process, log in zip(processes, logs, strict=True):
                if process.returncode:
                    log.seek(0)
                    said = log.read().decode("utf-8", "replace")[-2000:]
                    raise SystemExit(f"a worker failed with exit status {process.returncode}: {said}")
        first = min(
            entry["at"] for entry in replica.log() if entry["at"] >= launched and not entry["path"].startswith("/_")
        )
        ids = archived_ids(out)
        if len(ids) != articles or max(ids.values()) != 1:
            raise SystemExit(f"{len(ids)} articles archived, {sum(ids.values())} records: not each article once")
        shares = [
            json.loads(path.read_text(encoding="utf-8"))["summary"]["archived"]
            for path in sorted((out / "manifests").glob("*.json"))
        ]
    return seconds, ended - first, shares


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=400, help="articles on the replica (default 400)")
    parser.add_argument("--latency", type=float, default=200, help="ms before every answer (default 200)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3], help="worker counts (default 1 2 3)")
    args = parser.parse_args(argv)
    print(f"{args.articles} articles, replica latency {args.latency:g} ms, {' '.join(WORKER_SETTINGS[:4])}")
    print(
        f"{'workers':>7}  {'crawl s':>7}  {'articles/s':>10}  {'ratio':>6}  {'wall s':>6}  {'ratio':>6}  archived by each"
    )
    base: tuple[float, float] | None = None
    ratios: dict[int, tuple[float, float]] = {}
    with start_replica(articles=args.articles, seed=1, latency_ms=args.latency) as replica, start_redis() as server:
        for count in args.workers:
            server.client().flushall()
            wall, crawl, shares = run(count, replica, server.url(), args.articles)
            base = base or (crawl, wall)
            ratios[count] = (base[0] / crawl, base[1] / wall)
            print(
                f"{count:>7}  {crawl:>7.1f}  {args.articles / crawl:>10.2f}  {ratios[count][0]:>5.2f}x  "
                f"{wall:>6.1f}  {ratios[count][1]:>5.2f}x  {' '.join(map(str, shares))}"
            )
    if 3 in ratios and args.workers[0] == 1:
        crawl_ratio, wall_ratio = ratios[3]
        verdict = "met" if crawl_ratio >= TARGET_THREE_WORKERS else "MISSED"
        print(
            f"three workers: {crawl_ratio:.2f}x one worker's crawl time (target {TARGET_THREE_WORKERS}x: {verdict}); "
            f"{wall_ratio:.2f}x its wall time, which adds the workers' start on this machine's cores"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
