"""How fast does `newsarchive reclean` re-derive an archive, and how much do more cores buy? Prints articles/s and the
speed-up of every core over one.

Takes the first crawl of an archive (default: runs `newsarchive demo` into a temporary directory: 300 replica
articles), stamps its records as made by an older cleaner (every tenth text altered, so that a tenth become new
versions), and recleans a fresh copy with 1 worker, then with every core. Each run ends with `newsarchive verify`.
Run: `.venv/bin/python bench/bench_reclean.py [--archive DIR] [--workers N]`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from archive.manifest import load_manifests
from archive.testing import write_restamped_crawl
from archive.verify import verify_archive
from scraper.reclean import reclean_archive

OLD_CLEANER = "0.0.9+model.0123456789ab"
ALTER_EVERY = 10


def demo_archive(work: Path) -> Path:
    out = work / "demo"
    command = [sys.executable, "-m", "scraper", "demo", "--out", str(out)]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=600)
    return out


def timed_run(source: Path, crawl_id: str, target: Path, workers: int) -> float:
    """Articles per second of one reclean of a fresh stale copy; fails loudly if the archive does not verify."""
    write_restamped_crawl(source, target, crawl_id, OLD_CLEANER, alter_every=ALTER_EVERY)
    report = reclean_archive(target, workers)
    check = verify_archive(target)
    if not check.ok:
        raise SystemExit("\n".join(problem.format() for problem in check.errors))
    rate = report.recleaned / report.seconds
    print(
        f"{workers} worker(s): {report.recleaned} articles in {report.seconds:.1f} s = {rate:.1f} articles/s "
        f"({report.new_version} new versions, {report.unchanged} unchanged)"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, help="archive whose first crawl is used (default: a fresh demo)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="workers of the second run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-reclean-") as tmp:
        work = Path(tmp)
        source = args.archive or demo_archive(work)
        crawl_id = min(load_manifests(source))
        one = timed_run(source, crawl_id, work / "one", 1)
        many = timed_run(source, crawl_id, work / "many", args.workers)
        print(f"speed-up with {args.workers} workers on {os.cpu_count()} cores: {many / one:.2f}x")


if __name__ == "__main__":
    main()
