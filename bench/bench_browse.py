"""How fast does `newsarchive browse` answer on a big archive? Prints the index build time and response times.

Builds an archive of N articles (default 20,000; each about as long as a replica article, with ~30 repairs, the first
100 with WARC captures), starts `newsarchive browse` on it (index cached in a temporary directory), times the list
pages, filters, searches and an article page over HTTP, then restarts it to time opening the cached index.
Run: `.venv/bin/python bench/bench_browse.py [--articles N] [--keep DIR]`. The target is a list under 1 s.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import opencc

from archive.browse.testing import start_browse
from archive.layout import ArchiveLayout
from archive.testing import damaged_text, sample_page, sample_record, write_captured_crawl
from archive.writer import JsonlWriter

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "browse" / "damaged_article.json"
SECTIONS = ("要聞", "財經", "社會", "科技")
REPEATS = 20  # copies of the sample's paragraphs per article: ~2,800 characters of text, like the replica's
CAPTURED = 100
TARGET_SECONDS = 1.0
TIMED_RUNS = 5


def article(data: dict[str, Any], number: int, to_hans: Any) -> tuple[dict[str, Any], str]:
    """Article `number`: the sample's damaged paragraphs repeated, with a word of its own to search for."""
    paragraphs = [[f"第{number}號文章。"], *data["paragraphs"] * REPEATS]
    damage = damaged_text(paragraphs, spam=[data["spam_top"]])
    ident = str(300_000 + number)
    day = 1 + number % 28
    record = sample_record(
        ident,
        1,
        damage.text,
        "20250101T000000Z-aaaaaa",
        url=f"http://www.zhaoenyun.cn/news/yw/202508/t202508{day:02d}_{ident}.html",
        title=f"{data['title']}（{number}）",
        title_hans=to_hans(f"{data['title']}（{number}）"),
        text_hans=to_hans(damage.text),
        paragraphs=damage.text.split("\n"),
        section=SECTIONS[number % len(SECTIONS)],
        published_at=f"2025-08-{day:02d}T{number % 24:02d}:00:00+08:00",
        cleaning={
            "spam_blocks": 1,
            "pinyin_removed": 0,
            "mojibake_runs": 0,
            "bytes_restored": 0,
            "punctuation_restored": 0,
            "unrecoverable": damage.unrecoverable,
            "repairs": damage.repairs,
        },
    )
    return record, sample_page(data["title_shown"], damage.shown, spam=data["spam_top"])


def build_archive(root: Path, count: int) -> float:
    """Write `count` articles into `root`; returns the seconds it took (not part of the figures)."""
    started = time.monotonic()
    data = json.loads(DATA.read_text(encoding="utf-8"))
    to_hans = opencc.OpenCC("t2s").convert
    captured = [article(data, n, to_hans) for n in range(min(CAPTURED, count))]
    headers = [("Content-Type", "text/html; charset=gbk")]
    write_captured_crawl(root, "20250101T000000Z-aaaaaa", [(r, p.encode("gb18030"), headers) for r, p in captured])
    layout = ArchiveLayout(root)
    # The rest straight through the writer, unvalidated: validating 20,000 records would dominate the set-up.
    with JsonlWriter(layout.articles_dir, "20250102T000000Z-bbbbbb", validate=None) as writer:
        for number in range(CAPTURED, count):
            record, _ = article(data, number, to_hans)
            writer.write({**record, "crawl_id": "20250102T000000Z-bbbbbb"})
    return time.monotonic() - started


def timed_get(url: str) -> tuple[float, int]:
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=60) as response:
        size = len(response.read())
    return time.monotonic() - started, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--keep", type=Path, help="build the archive here and keep it (default: a temporary dir)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-browse-"))
    root = args.keep or work / "archive"
    try:
        if not (root / "articles").is_dir():
            print(f"building an archive of {args.articles} articles in {root} ...", flush=True)
            print(f"  built in {build_archive(root, args.articles):.1f} s")
        size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
        one = json.dumps(article(json.loads(DATA.read_text(encoding="utf-8")), 1, str)[0], ensure_ascii=False)
        print(
            f"archive: {args.articles} articles, {size / 2**20:.0f} MiB on disk (gzip), "
            f"{len(one.encode()) / 1024:.0f} KiB per record"
        )
        cache = work / "cache"
        started = time.monotonic()
        with start_browse(root, cache_dir=cache) as url:
            print(
                f"index built, server ready: {time.monotonic() - started:.1f} s (index file "
                f"{sum(p.stat().st_size for p in cache.iterdir()) / 2**20:.0f} MiB, outside the archive)"
            )
            timed_get(url)  # warm
            queries = {
                "list, first page": "",
                "list, middle page": f"?page={args.articles // 100}",
                "section filter": "?section=%E8%B2%A1%E7%B6%93",
                "date range": "?from=2025-08-10&to=2025-08-12",
                "search, Traditional, rare": "?q=" + urllib.parse.quote("第19999號"),
                "search, Simplified, in every text": "?q=" + urllib.parse.quote("细胞治疗"),
                "search, no match": "?q=" + urllib.parse.quote("不存在的詞語"),
                "article page with capture": "article/300001",
            }
            print(f"{'request':<36} {'median s':>9} {'max s':>7} {'vs 1 s':>7}")
            for name, path in queries.items():
                times = [timed_get(url + path)[0] for _ in range(TIMED_RUNS)]
                worst = max(times)
                print(f"{name:<36} {statistics.median(times):>9.3f} {worst:>7.3f} {worst / TARGET_SECONDS:>6.2f}x")
        started = time.monotonic()
        with start_browse(root, cache_dir=cache) as url:
            print(f"restart with the cached index, server ready: {time.monotonic() - started:.1f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
