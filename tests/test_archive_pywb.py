"""pywb, the archivists' replay tool, reads our WARC files through our own CDXJ indexes: every capture of a real crawl
is found through its CDX API, and an article replays byte for byte. Our keys are the ones pywb's tools make."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from archive.layout import committed_warcs
from archive.reader import iter_records
from archive.warc import read_response_body


def cdxj_entries(root: Path) -> list[tuple[str, str, dict[str, Any]]]:
    """(key, timestamp, fields) of every line of the archive's CDXJ files."""
    entries = []
    for warc in committed_warcs(root / "warc"):
        for line in warc.path.with_name(warc.name + ".cdxj").read_text(encoding="utf-8").splitlines():
            key, timestamp, fields = line.split(" ", 2)
            entries.append((key, timestamp, json.loads(fields)))
    return entries


def archive_files(root: Path) -> list[Path]:
    warcs = [warc.path for warc in committed_warcs(root / "warc")]
    return warcs + [path.with_name(path.name + ".cdxj") for path in warcs]


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        body: bytes = response.read()
        return body


def cdx_query(collection: str, url: str) -> list[dict[str, Any]]:
    query = urllib.parse.urlencode({"url": url, "output": "json"})
    return [json.loads(line) for line in get(f"{collection}cdx?{query}").decode("utf-8").splitlines() if line]


def test_pywb_finds_every_capture_through_our_cdxj_indexes(
    crawled_archive: Path, pywb: Callable[[str, list[Path]], str]
) -> None:
    collection = pywb("news", archive_files(crawled_archive))
    entries = cdxj_entries(crawled_archive)
    found = 0
    for _, timestamp, fields in entries:
        captures = cdx_query(collection, fields["url"])
        found += any(
            (c["timestamp"], c["filename"], int(c["offset"])) == (timestamp, fields["filename"], fields["offset"])
            for c in captures
        )
    kinds = {fields["mime"] for _, _, fields in entries}
    urls = {fields["url"] for _, _, fields in entries}
    # The index holds list pages (whose paths end in "/", the keys pywb's own index once disagreed on), robots.txt,
    # sitemaps, articles and their revisits.
    assert any(url.endswith("/") and url.count("/") > 3 for url in urls)
    assert {"text/html", "warc/revisit"} <= kinds
    assert found == len(entries), f"pywb found {found} of {len(entries)} captures"


def test_pywb_replays_an_article_byte_for_byte(crawled_archive: Path, pywb: Callable[[str, list[Path]], str]) -> None:
    collection = pywb("news", archive_files(crawled_archive))
    record = next(iter(iter_records(crawled_archive, latest_only=True)))
    stored = read_response_body(crawled_archive / "warc" / record["warc_file"], record["warc_offset"])
    [capture] = [
        c
        for c in cdx_query(collection, record["url"])
        if (c["filename"], int(c["offset"])) == (record["warc_file"], record["warc_offset"])
    ]
    # id_: the capture as archived, without pywb's rewriting for replay in a browser.
    assert get(f"{collection}{capture['timestamp']}id_/{record['url']}") == stored


def test_our_cdxj_lines_have_the_keys_and_timestamps_cdxj_indexer_gives(crawled_archive: Path) -> None:
    ours = {
        (key, timestamp, fields["filename"], fields["offset"])
        for key, timestamp, fields in cdxj_entries(crawled_archive)
    }
    indexer = Path(sys.executable).with_name("cdxj-indexer")
    warcs = [str(warc.path) for warc in committed_warcs(crawled_archive / "warc")]
    output = subprocess.run([str(indexer), *warcs], capture_output=True, text=True, check=True, timeout=120).stdout
    theirs = set()
    for line in output.splitlines():
        key, timestamp, fields = line.split(" ", 2)
        parsed = json.loads(fields)
        theirs.add((key, timestamp, parsed["filename"], int(parsed["offset"])))
    assert ours == theirs
