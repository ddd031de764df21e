"""`make bench`: the crawl's throughput and memory beside Scrapy's own reference, measured in one run.

Prints one table and writes it as JSON under bench/results/. Rows: `scrapy bench` pages/s; our full crawl
(fetch, WARC, clean, archive) of N replica articles with politeness off, pages/s and the ratio; the cleaner
alone beside trafilatura; the crawl's peak memory (its process and the cleaning workers) at the sizes asked.
Run: `.venv/bin/python bench/bench_crawl.py [--articles 2000] [--rss 1000 20000]`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scraper.replica.testing import start_replica

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "LOG_LEVEL=WARNING"]
SCRAPY_BENCH_SECONDS = 20
RSS_SAMPLE_SECONDS = 0.2
_STAT = re.compile(r"'(response_received_count|elapsed_time_seconds)': ([0-9.]+)")


def scrapy_bench() -> float:
    """Scrapy's own reference: pages/s of `scrapy bench` (its server and crawler share the cores too)."""
    with tempfile.TemporaryDirectory() as outside:  # away from scrapy.cfg: the stock settings
        run = subprocess.run(
            [sys.executable, "-m", "scrapy", "bench", "-s", f"CLOSESPIDER_TIMEOUT={SCRAPY_BENCH_SECONDS}"],
            capture_output=True,
            text=True,
            cwd=outside,
            check=True,
        )
    stats = dict(_STAT.findall(run.stderr))
    return float(stats["response_received_count"]) / float(stats["elapsed_time_seconds"])


def _tree_rss(pid: int) -> tuple[int, int]:
    """Resident bytes of a process alone and with all its descendants (the cleaning workers), from /proc."""
    own, total, stack = 0, 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        resident = int(match.group(1)) * 1024 if match else 0
        own = resident if current == pid else own
        total += resident
        stack.extend(int(child) for child in children)
    return own, total


def crawl(articles: int) -> dict[str, Any]:
    """Crawl a fresh replica of `articles` into a temporary archive: pages/s and peak RSS of the crawl."""
    with start_replica(articles=articles, seed=1) as replica, tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "scraper", "crawl", "--start-url", replica.url, "--out", out, *FAST]
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        peak = own_peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak, own_peak
            while not done.wait(RSS_SAMPLE_SECONDS):
                own, total = _tree_rss(process.pid)
                peak, own_peak = max(peak, total), max(own_peak, own)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        stdout, stderr = process.communicate()
        seconds = time.monotonic() - started
        done.set()
        sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"the crawl of {articles} articles failed:\n{stdout}\n{stderr[-2000:]}")
    requests = int(re.search(r"HTTP requests\s+(\d+)", stdout).group(1))  # type: ignore[union-attr]
    archived = int(re.search(r"archived\s+(\d+)", stdout).group(1))  # type: ignore[union-attr]
    return {
        "articles": articles,
        "archived": archived,
        "requests": requests,
        "seconds": seconds,
        "pages_per_second": requests / seconds,
        "peak_rss_mb": peak / 2**20,
        "peak_rss_crawl_process_mb": own_peak / 2**20,
    }


def cleaner_alone(pages: int) -> dict[str, float]:
    sys.path.insert(0, str(HERE))
    from bench_cleaner import load_pages, newsarchive_text, timed, trafilatura_text

    corpus = load_pages(pages, 0)
    newsarchive_text(corpus[0])  # tables loaded outside the measurement
    _, ours = timed(newsarchive_text, corpus)
    _, theirs = timed(trafilatura_text, corpus)
    return {
        "pages": pages,
        "newsarchive_pages_per_second": pages / ours,
        "trafilatura_pages_per_second": pages / theirs,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000, help="replica articles of the throughput crawl")
    parser.add_argument("--rss", type=int, nargs="*", default=[1000], help="crawl sizes whose peak RSS is measured")
    parser.add_argument("--cleaner-pages", type=int, default=300)
    args = parser.parse_args(argv)
    reference = scrapy_bench()
    throughput = crawl(args.articles)
    memory = [throughput if size == args.articles else crawl(size) for size in args.rss]
    alone = cleaner_alone(args.cleaner_pages)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "scrapy_bench_pages_per_second": reference,
        "crawl": throughput,
        "crawl_vs_scrapy_bench": throughput["pages_per_second"] / reference,
        "rss": memory,
        "cleaner": alone,
    }
    rows = [
        ("`scrapy bench` (reference)", f"{reference:.1f} pages/s", "1.00x"),
        (
            f"full crawl, {args.articles:,} replica articles",
            f"{throughput['pages_per_second']:.1f} pages/s",
            f"{result['crawl_vs_scrapy_bench']:.2f}x",
        ),
        (
            f"cleaner alone, {args.cleaner_pages} pages",
            f"{alone['newsarchive_pages_per_second']:.1f} pages/s",
            f"{alone['newsarchive_pages_per_second'] / alone['trafilatura_pages_per_second']:.2f}x trafilatura",
        ),
        ("trafilatura `bare_extraction`, same pages", f"{alone['trafilatura_pages_per_second']:.1f} pages/s", ""),
    ]
    for key, label in (("peak_rss_mb", "with its cleaning workers"), ("peak_rss_crawl_process_mb", "crawl process")):
        first = memory[0][key]
        rows += [
            (f"peak RSS, {m['articles']:,} articles, {label}", f"{m[key]:.0f} MB", f"{m[key] / first:.2f}x")
            for m in memory
        ]
    print(f"Measured {result['when']} on {result['machine']}")
    print("| measure | value | ratio |\n|---|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"bench-{result['when'].replace(':', '')}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"written to {path.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
