"""Distributed crawl scaling: 1, 2 and 3 workers against a replica that answers every page after --latency ms.

Each run starts the workers at once (`newsarchive crawl --redis`, one redis-server on loopback, one fresh archive),
each at CONCURRENT_REQUESTS=4 with PORTAL_CLUSTER_CONCURRENCY=12, the project's settings otherwise (AutoThrottle on,
the real cleaner). Prints articles/s from the first launch to the last exit, and the ratio to one worker; checks that
every article was archived exactly once. Run: `.venv/bin/python bench/bench_cluster.py [--articles 400] [--latency 200]`.
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
from pathlib import Path

from scraper.cluster.testing import start_redis
from scraper.replica.testing import start_replica

WORKER_SETTINGS = ["-s", "CONCURRENT_REQUESTS=4", "-s", "PORTAL_CLUSTER_CONCURRENCY=12", "--loglevel", "WARNING"]
TIMEOUT = 1800  # seconds a run may take


def archived_ids(root: Path) -> Counter[str]:
    ids: Counter[str] = Counter()
    for path in sorted((root / "articles").glob("*.jsonl.gz")):
        with gzip.open(path, "rb") as handle:
            ids.update(json.loads(line)["id"] for line in handle.read().split(b"\n") if line)
    return ids


def run(workers: int, replica_url: str, redis_url: str, articles: int) -> tuple[float, list[int]]:
    """Seconds from the first launch to the last exit, and what each worker archived (from its manifest)."""
    with tempfile.TemporaryDirectory() as parent:
        out = Path(parent) / "archive"
        command = [sys.executable, "-m", "scraper", "crawl", "--start-url", replica_url, "--out", str(out)]
        command += ["--redis", redis_url, *WORKER_SETTINGS]
        started = time.monotonic()
        processes = [
            subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(workers)
        ]
        outputs = [process.communicate(timeout=TIMEOUT) for process in processes]
        seconds = time.monotonic() - started
        failed = [
            (process.returncode, err[-2000:])
            for process, (_, err) in zip(processes, outputs, strict=True)
            if process.returncode
        ]
        if failed:
            raise SystemExit(f"a worker failed: {failed}")
        ids = archived_ids(out)
        if len(ids) != articles or max(ids.values()) != 1:
            raise SystemExit(f"{len(ids)} articles archived, {sum(ids.values())} records: not each article once")
        shares = [
            json.loads(path.read_text(encoding="utf-8"))["summary"]["archived"]
            for path in sorted((out / "manifests").glob("*.json"))
        ]
    return seconds, shares


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=400, help="articles on the replica (default 400)")
    parser.add_argument("--latency", type=float, default=200, help="ms before every answer (default 200)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3], help="worker counts (default 1 2 3)")
    args = parser.parse_args(argv)
    print(f"{args.articles} articles, replica latency {args.latency:g} ms, {' '.join(WORKER_SETTINGS[:4])}")
    print(f"{'workers':>7}  {'seconds':>8}  {'articles/s':>10}  {'ratio':>6}  archived by each")
    base = None
    with start_replica(articles=args.articles, seed=1, latency_ms=args.latency) as replica, start_redis() as server:
        for count in args.workers:
            server.client().flushall()
            seconds, shares = run(count, replica.url, server.url(), args.articles)
            rate = args.articles / seconds
            base = base or rate
            print(f"{count:>7}  {seconds:>8.1f}  {rate:>10.2f}  {rate / base:>5.2f}x  {' '.join(map(str, shares))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
