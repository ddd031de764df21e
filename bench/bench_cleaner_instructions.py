"""Count the CPU instructions the cleaner and trafilatura spend on the replica's pages, under valgrind's callgrind.

Counts, unlike seconds, do not move with a shared machine's load: the ratio repeats run after run.
Run: `.venv/bin/python bench/bench_cleaner_instructions.py [--articles 100]` (valgrind must be installed).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
# A child loads the pages, starts both tools on the first one (their one-time start-up), then cleans every page with
# one tool, or with none: the difference between the two counts is the cleaning alone.
CHILD = """
import sys
sys.path.insert(0, {here!r})
from bench_cleaner import load_pages, newsarchive_text, trafilatura_text
pages = load_pages({articles}, 0)
newsarchive_text(pages[0]), trafilatura_text(pages[0])
tool = {{"newsarchive": newsarchive_text, "trafilatura": trafilatura_text}}.get({tool!r})
for page in pages if tool else []:
    tool(page)
"""
COLLECTED = re.compile(r"Collected : (\d+)")


def instructions(tool: str, articles: int) -> int:
    """Instructions one child process executes, from valgrind's summary line."""
    code = CHILD.format(here=str(HERE), articles=articles, tool=tool)
    env = {**os.environ, "PYTHONHASHSEED": "0"}  # the same hashing in every child, so the counts compare
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    found = COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"valgrind run for {tool or 'start-up'} failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    tools = ("", "newsarchive", "trafilatura")  # "": start-up only
    with ThreadPoolExecutor(max_workers=len(tools)) as pool:
        counts = dict(zip(tools, pool.map(lambda tool: instructions(tool, args.articles), tools), strict=True))
    ours, theirs = counts["newsarchive"] - counts[""], counts["trafilatura"] - counts[""]
    print(f"{args.articles} replica pages (seed 0), instructions per page, start-up left out")
    print("| tool | million instructions per page | speed vs trafilatura |")
    print("|---|---:|---:|")
    print(f"| newsarchive | {ours / args.articles / 1e6:.1f} | {theirs / ours:.2f}x |")
    print(f"| trafilatura | {theirs / args.articles / 1e6:.1f} | 1.00x |")


if __name__ == "__main__":
    main()
