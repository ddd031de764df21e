"""What a distributed crawl keeps in Redis per URL and per article, and what PORTAL_CLUSTER_SEEN_MAX bounds.

Fills a fresh redis-server (loopback) through the crawl's own scripts with N article URLs found and settled, N page
fingerprints (scrapy-redis's duplicate filter), N index entries and N claims, and prints the bytes each takes
(Redis MEMORY USAGE) per URL, which is also MB per million URLs; then the same URLs through a bounded book.
Run: `.venv/bin/python bench/bench_fingerprints.py [--urls 100000] [--limit 20000]`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable
from typing import Any

from archive.index import IndexEntry
from scraper.cluster import scripts
from scraper.cluster.frontier import SharedBook
from scraper.cluster.index import SharedIndex
from scraper.cluster.keys import ClusterKeys
from scraper.cluster.testing import start_redis
from scraper.summary import Stat

BATCH = 2000
MILLION = 1_000_000
ARTICLE = "http://www.zhaoenyun.cn/news/yw/202508/t20250826_{}.html"


def in_batches(client: Any, count: int, call: Callable[[Any, int], None]) -> None:
    for start in range(0, count, BATCH):
        with client.pipeline(transaction=False) as pipe:
            for n in range(start, min(start + BATCH, count)):
                call(pipe, n)
            pipe.execute()


def usage(client: Any, *keys: str) -> int:
    return sum(int(client.memory_usage(key, samples=0) or 0) for key in keys)


def fill_book(client: Any, keys: ClusterKeys, count: int, limit: int) -> None:
    """`count` article URLs found and settled through the crawl's own scripts, as the workers record them."""
    book = SharedBook(client, keys, keys.articles, limit)
    found = [Stat.ARTICLES_FOUND.key, Stat.ARTICLES_REQUESTED.key]
    for n in range(count):
        url = ARTICLE.format(1_000_000 + n)
        book.found(url, scripts.PENDING, found)
        book.settle(url, [Stat.ARCHIVED.key], None, keys.processing("w001"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--urls", type=int, default=100_000, help="URLs (and articles) to fill in (default 100000)")
    parser.add_argument("--limit", type=int, default=20_000, help="PORTAL_CLUSTER_SEEN_MAX to try (default 20000)")
    args = parser.parse_args(argv)
    count = args.urls
    rows: list[tuple[str, int]] = []
    with start_redis() as server:
        client = server.client()
        keys = ClusterKeys("newsarchive:www.zhaoenyun.cn:80", "20250101T000000Z-bench0")
        fill_book(client, keys, count, 0)
        rows.append(("article URLs found and settled (exact)", usage(client, keys.articles)))
        in_batches(
            client,
            count,
            lambda pipe, n: pipe.sadd(keys.dupefilter, hashlib.sha1(ARTICLE.format(n).encode()).hexdigest()),
        )
        rows.append(("request fingerprints (scrapy-redis, exact)", usage(client, keys.dupefilter)))
        entry = IndexEntry("a" * 64, 1, ARTICLE.format(0), "b" * 64, "20250101T000000Z-bench0-w001-00001.warc.gz")
        entry = IndexEntry(*entry.as_list()[:5], "<urn:uuid:" + "c" * 36 + ">", 123456789, "2025-01-01T00:00:00Z")
        value = json.dumps(entry.as_list())
        in_batches(client, count, lambda pipe, n: pipe.hset(keys.index, str(1_000_000 + n), value))
        rows.append(("article index entries (one per article)", usage(client, keys.index)))
        index = SharedIndex(client, keys, "w001")
        for n in range(count):
            ident = str(2_000_000 + n)  # not in the index: each claim is new, and waits for its file
            record = {"id": ident, "url": ARTICLE.format(ident), "text_sha256": "a" * 64, "content_sha256": "b" * 64}
            record |= {"warc_file": entry.warc_file, "warc_record_id": entry.warc_record_id}
            record |= {"warc_offset": entry.warc_offset, "fetched_at": entry.fetched_at}
            index.claim(record, record["url"])
        rows.append(("claims of this crawl (one per article)", usage(client, keys.claims)))
        rows.append(("claims waiting for their file's commit", usage(client, keys.pending("w001"))))
        client.flushall()
        fill_book(client, keys, count, args.limit)
        bounded = usage(client, keys.articles, *keys.generations(keys.articles))
    print(f"{count} URLs; bytes in Redis (MEMORY USAGE); bytes per URL = MB per million URLs")
    print(f"{'what':<44}  {'bytes per URL':>13}")
    for label, total in rows:
        print(f"{label:<44}  {total / count:>13.1f}")
    print(
        f"article URLs with PORTAL_CLUSTER_SEEN_MAX={args.limit}: {bounded / MILLION:.2f} MB after {count} URLs, "
        f"{bounded / args.limit:.1f} bytes per remembered URL (at most {args.limit} remembered, whatever the crawl's size)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
