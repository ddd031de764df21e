"""Is the cleaner's cost linear? Time per KB from 10 KB to 10 MB of damaged pages, deep nesting, damage shapes.

Prints, per input, CPU seconds, microseconds per byte and that figure as a ratio to the smallest size
(flat near 1 means linear), and the peak resident memory as a multiple of the input (measured in a
child process per size). Run: `.venv/bin/python bench/bench_cleaner_scaling.py [--max-mb 10]`.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable

from scraper.cleaner import CleanError, clean_page, clean_text
from scraper.replica.site import Portal

SIZES_KB = (10, 100, 1000, 10_000)
DEPTHS = (1000, 5000, 20_000)
PAGE = (
    "首頁\xa0>\xa0新聞中心\xa0>\xa0要聞\n\n標題\n\n來源: 交匯點新聞\n\n2025-08-26 08:21:00\n\n"
    "  {body}\n\n新華日報·交匯點記者 許愿 柏麗娟\n"
)
# Each shape makes a paragraph of n units of one kind of damage.
SHAPES: dict[str, Callable[[int], str]] = {
    "run of ?": lambda n: "細胞" + "?" * n + "治療。",
    "lost-byte ?!": lambda n: "潛力?!" * n + "有限。",
    "pinyin readings": lambda n: "產(chǎn)業(yè)" * n,
    "commas between Han": lambda n: "測" + "," * n + "試。",
    "mojibake run": lambda n: "治療?!崩钕鑼⒛抗饧性谂两鹕" * n,
}


def replica_page(variant: str) -> tuple[bytes, bytes, bytes, dict[str, str]]:
    """A replica article of the charset variant, cut around its body: head, body, tail, headers."""
    portal = Portal(seed=0, articles=40)
    for article in portal.articles:
        if portal.truth(article.id)["charset_variant"] == variant:
            _, headers, body = portal.page(article.path)
            start = body.find(b">", body.find(b'<div class="TRS')) + 1  # the paragraphs inside the body div
            end = body.find(b"</div>", start)
            return body[:start], body[start:end], body[end:], dict(headers)
    raise SystemExit(f"no replica page of variant {variant}")


def grown(variant: str, size: int) -> tuple[bytes, dict[str, str]]:
    head, middle, tail, headers = replica_page(variant)
    return head + middle * max(1, size // len(middle)) + tail, headers


def nested(depth: int) -> bytes:
    body = '<div class="TRS_Editor"><p>產(chǎn)業(yè)發展,規(guī)模化。</p><p>第二段。</p></div>'
    return ('<html><body><h1 class="title">標題</h1>' + "<div>" * depth + body + "</div>" * depth).encode()


def cpu_seconds(call: Callable[[], object]) -> float:
    started = time.process_time()
    try:
        call()
    except CleanError:
        pass  # refusing is an answer too; only the cost matters here
    return time.process_time() - started


def child_measure(kind: str, arg: str, size: int) -> tuple[float, float]:
    """CPU seconds and peak RSS growth (bytes) of one clean, in a fresh process."""
    code = (
        "import json,resource,sys,time\n"
        "sys.argv=['x']\n"
        "from bench_cleaner_scaling import measure_here\n"
        f"print(json.dumps(measure_here({kind!r}, {arg!r}, {size})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=sys.path[0], check=True)
    seconds, grown_bytes = json.loads(out.stdout)
    return seconds, grown_bytes


def measure_here(kind: str, arg: str, size: int) -> tuple[float, float]:
    if kind == "page":
        body, headers = grown(arg, size)
        warm, _ = grown(arg, 10_000)
        clean_page(warm, headers=headers, strict=False)  # tables and caches loaded outside the measurement

        def run() -> object:
            return clean_page(body, headers=headers, strict=False)
    else:
        body = nested(size)
        clean_page(nested(10), strict=False)

        def run() -> object:
            return clean_page(body, strict=False)

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    seconds = cpu_seconds(run)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return seconds, float(max(after - before, 0)) / max(len(body), 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-mb", type=float, default=10, help="largest page size in MB (default 10)")
    args = parser.parse_args(argv)
    print("| input | size | CPU s | µs per byte | vs smallest | peak RSS growth, x input |")
    print("|---|---:|---:|---:|---:|---:|")
    for variant in ("gbk-meta-only", "utf8-decoded"):
        first = None
        for kb in SIZES_KB:
            if kb > args.max_mb * 1000:
                break
            size = kb * 1000
            seconds, memory = child_measure("page", variant, size)
            per_byte = seconds / size * 1e6
            first = first or per_byte
            print(
                f"| replica page ({variant}) | {kb:,} KB | {seconds:.2f} | {per_byte:.2f} | {per_byte / first:.2f} | {memory:.0f} |"
            )
    first = None
    for depth in DEPTHS:
        seconds, memory = child_measure("nested", "", depth)
        per_div = seconds / depth * 1e6
        first = first or per_div
        print(
            f"| nested divs | {depth:,} deep | {seconds:.2f} | {per_div:.2f} per div | {per_div / first:.2f} | {memory:.0f} |"
        )
    print()
    print(f"{'damage shape':<20} {'t(N) s':>8} {'t(2N) s':>8} {'ratio':>6}   (N = 5000; 2 is linear)")
    for name, make in SHAPES.items():
        clean_text(PAGE.format(body=make(10)))
        small = cpu_seconds(lambda make=make: clean_text(PAGE.format(body=make(5000))))
        large = cpu_seconds(lambda make=make: clean_text(PAGE.format(body=make(10_000))))
        print(f"{name:<20} {small:8.3f} {large:8.3f} {large / max(small, 1e-9):6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
