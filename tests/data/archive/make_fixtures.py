"""Regenerates the archive fixtures in this folder: good/ (a whole archive) and broken/ (the same, deliberately damaged).
Run from the repo root: .venv/bin/python tests/data/archive/make_fixtures.py ; output is deterministic."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from archive.testing import sample_quarantine, sample_record, write_sample_crawl

HERE = Path(__file__).resolve().parent
CRAWL_1 = "20250101T000000Z-aaaaaa"
CRAWL_2 = "20250201T000000Z-bbbbbb"


def make_good(root: Path) -> None:
    write_sample_crawl(
        root, CRAWL_1,
        [sample_record("1001", 1, "第一篇。\u2028含行分隔符", crawl_id=CRAWL_1), sample_record("1002", 1, "第二篇。", crawl_id=CRAWL_1)],
        [sample_quarantine(crawl_id=CRAWL_1)],
        compress=False, started_at="2025-01-01T00:00:00Z",
    )
    write_sample_crawl(
        root, CRAWL_2, [sample_record("1002", 2, "第二篇（更正）。", crawl_id=CRAWL_2)],
        compress=False, started_at="2025-02-01T00:00:00Z",
    )
    (root / "index.json").unlink(missing_ok=True)


def make_broken(good: Path, root: Path) -> None:
    shutil.copytree(good, root)
    first = root / "articles" / f"{CRAWL_1}-00001.jsonl"
    # Truncate the last record mid-line: checksum mismatch plus a truncated line 2.
    data = first.read_bytes()
    first.write_bytes(data[: len(data) - 40])
    # Crawl 2's record duplicated as the same (id, version) in a file no manifest lists.
    second = root / "articles" / f"{CRAWL_2}-00001.jsonl"
    (root / "articles" / f"{CRAWL_2}-00002.jsonl").write_bytes(second.read_bytes())
    # Crawl 2's manifest claims one quarantine record it never wrote.
    manifest_path = root / "manifests" / f"{CRAWL_2}.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["summary"]["quarantined"] = 1
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    # The quarantine file of crawl 1 is lost.
    (root / "quarantine" / f"{CRAWL_1}-00001.jsonl").unlink()


def main() -> None:
    for name in ("good", "broken"):
        shutil.rmtree(HERE / name, ignore_errors=True)
    make_good(HERE / "good")
    for lock in (HERE / "good").rglob(".lock"):
        lock.unlink()
    make_broken(HERE / "good", HERE / "broken")


if __name__ == "__main__":
    main()
