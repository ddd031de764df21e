"""The shared article index of a distributed crawl, on a real Redis: one claim per article and crawl, versions decided
against the committed index, and a claim the latest version only once its file is committed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archive.index import NEW, NEW_VERSION, UNCHANGED, ArchiveIndex
from archive.schema import text_sha256
from archive.testing import sample_record
from scraper.cluster.index import CLAIMED, SharedIndex
from scraper.cluster.keys import ClusterKeys

CRAWL = "20250101T000000Z-c1c1c1"


def record(ident: str, text: str) -> dict[str, Any]:
    return sample_record(ident, 1, text, crawl_id=f"{CRAWL}-w001")


def test_two_workers_never_both_claim_an_article(redis_client: Any, cluster_keys: ClusterKeys) -> None:
    one, two = SharedIndex(redis_client, cluster_keys, "w001"), SharedIndex(redis_client, cluster_keys, "w002")
    first = one.claim(record("1001", "文。"), "http://portal.test/a.html")
    second = two.claim(record("1001", "文。"), "http://portal.test/b.html")
    assert (first.decision, first.version) == (NEW, 1)
    assert second.decision == CLAIMED and second.earlier is not None
    assert (second.earlier["url"], second.earlier["worker"], second.earlier["decision"]) == (
        "http://portal.test/a.html",
        "w001",
        NEW,
    )


def test_a_claim_becomes_the_latest_version_once_its_file_is_committed(
    redis_client: Any, cluster_keys: ClusterKeys
) -> None:
    index = SharedIndex(redis_client, cluster_keys, "w001")
    claimed = record("1001", "文。")
    index.claim(claimed, "http://portal.test/a.html")
    assert index.get("1001") is None and list(index.pending("w001")) == ["1001"]
    assert index.promote(f"{CRAWL}-w001-00001.jsonl.gz", ["1001"]) == 1
    entry = index.get("1001")
    assert entry is not None and (entry.version, entry.text_sha256) == (1, text_sha256("文。"))
    assert entry.file == f"{CRAWL}-w001-00001.jsonl.gz" and index.pending("w001") == {}


def test_versions_are_decided_against_the_archive_index_the_crawl_loaded(
    redis_client: Any, cluster_keys: ClusterKeys, tmp_path: Path
) -> None:
    archived = ArchiveIndex(tmp_path)
    for ident in ("1", "2"):
        archived.add_record({**record(ident, f"舊{ident}。"), "version": 3}, "old-00001.jsonl.gz")
    index = SharedIndex(redis_client, cluster_keys, "w001")
    assert index.load(archived) == 2 and len(index) == 2 and "1" in index
    same, changed, fresh = record("1", "舊1。"), record("2", "新。"), record("3", "新。")
    assert [(c.decision, c.version) for c in (index.claim(r, r["url"]) for r in (same, changed, fresh))] == [
        (UNCHANGED, 3),
        (NEW_VERSION, 4),
        (NEW, 1),
    ]
    assert sorted(index.pending("w001")) == ["2", "3"]  # an unchanged article writes nothing to commit


def test_a_dropped_claim_lets_the_article_be_claimed_again(redis_client: Any, cluster_keys: ClusterKeys) -> None:
    dead, alive = SharedIndex(redis_client, cluster_keys, "w002"), SharedIndex(redis_client, cluster_keys, "w003")
    dead.claim(record("1001", "文。"), "http://portal.test/a.html")
    assert alive.drop("w002", ["1001"]) == 1
    again = alive.claim(record("1001", "文。"), "http://portal.test/a.html")
    assert (again.decision, again.version) == (NEW, 1) and list(alive.pending("w003")) == ["1001"]
