"""Does the cleaner's time grow linearly with long runs of damage? Prints time(2N) / time(N) per shape.

A ratio near 2 is linear, near 4 quadratic. Run: `.venv/bin/python bench/bench_cleaner_scaling.py [N]`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from scraper.cleaner import CleanError, clean_page, clean_text

PAGE = (
    "首頁\xa0>\xa0新聞中心\xa0>\xa0要聞\n\n標題\n\n來源: 交匯點新聞\n\n2025-08-26 08:21:00\n\n"
    "  {body}\n\n新華日報·交匯點記者 許愿 柏麗娟\n"
)
HTML = (
    '<html><head><meta charset="gbk"><title>t</title></head><body><h1 class="title">標題</h1>'
    '<div class="TRS_Editor"><p>{body}</p></div></body></html>'
)

# Each shape makes a paragraph of n units of one kind of damage.
SHAPES: dict[str, Callable[[int], str]] = {
    "run of ?": lambda n: "細胞" + "?" * n + "治療。",
    "lost-byte ?!": lambda n: "潛力?!" * n + "有限。",
    "?( after Han": lambda n: "測" + "?(" * n,
    "pinyin readings": lambda n: "產(chǎn)業(yè)" * n,
    "? between ASCII": lambda n: "ab" + "?" * n + "cd",
    "commas between Han": lambda n: "測" + "," * n + "試。",
    "mojibake run": lambda n: "治療?!崩钕鑼⒛抗饧性谂两鹕" * n,
}
BYTE_SHAPES: dict[str, Callable[[int], bytes]] = {
    "orphan lead bytes": lambda n: b"\x81" * n,
    "lead + ?": lambda n: b"\x81?" * n,
    "A3 swaps": lambda n: "治療".encode("gbk") + b"\xa1!\xb1" * n,
}


def seconds(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    try:
        call()
    except CleanError:
        pass  # refusing is an answer too; only the time matters here
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("n", type=int, nargs="?", default=5000, help="units of damage at size N (default 5000)")
    args = parser.parse_args(argv)
    n = args.n
    print(f"{'shape':<20} {'t(N) s':>8} {'t(2N) s':>8} {'ratio':>6}   (N = {n})")
    rows: list[tuple[str, Callable[[int], object]]] = []
    for name, make in SHAPES.items():
        rows.append((name, lambda k, make=make: clean_text(PAGE.format(body=make(k)))))
    for name, make_bytes in BYTE_SHAPES.items():
        rows.append(
            (
                name,
                lambda k, make=make_bytes: clean_page(
                    HTML.encode("gbk").replace(b"{body}", make(k)),
                    headers={"Content-Type": "text/html; charset=gbk"},
                ),
            )
        )
    for name, run in rows:
        run(10)  # warm caches (character model, OpenCC) outside the measurement
        small, large = seconds(lambda run=run: run(n)), seconds(lambda run=run: run(2 * n))
        print(f"{name:<20} {small:8.3f} {large:8.3f} {large / max(small, 1e-9):6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
