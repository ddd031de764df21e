"""What a dead worker held goes back, on a real Redis: records it committed stand, the others are archived again, its
requests return to the queue; and a crawl is over only when neither the queue nor a worker holds a request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archive.testing import sample_record, write_sample_crawl
from scraper.cluster.index import CLAIMED, SharedIndex
from scraper.cluster.membership import join
from scraper.cluster.recovery import Recovery

NAMESPACE = "newsarchive:portal.test:80"
ABOUT = {"start_url": "http://portal.test/", "out": "/srv/archive"}


def test_a_dead_worker_keeps_what_it_committed_and_its_other_work_goes_back(redis_client: Any, tmp_path: Path) -> None:
    survivor = join(redis_client, NAMESPACE, 30, ABOUT)
    dead = join(redis_client, NAMESPACE, 30, ABOUT)
    dead_index = SharedIndex(redis_client, dead.keys, dead.worker)
    for ident in ("1", "2"):
        dead_index.claim(sample_record(ident, crawl_id=dead.crawl_id), f"http://portal.test/{ident}.html")
    # It committed the record of article 1 (and died before telling Redis); article 2's record was in a .part.
    write_sample_crawl(tmp_path, dead.crawl_id, [sample_record("1", crawl_id=dead.crawl_id)], manifest=False)
    redis_client.zadd(dead.keys.processing(dead.worker), {b"request-1": -5, b"request-2": -1})
    redis_client.delete(dead.keys.alive(dead.worker))

    recovery = Recovery(survivor, SharedIndex(redis_client, survivor.keys, survivor.worker), tmp_path)
    assert recovery.dead_workers() == ["w002"]
    assert recovery.recover_dead() == 2
    assert redis_client.zrange(survivor.keys.requests, 0, -1) == [b"request-1", b"request-2"]
    index = SharedIndex(redis_client, survivor.keys, survivor.worker)
    assert index.get("1") is not None and index.get("2") is None
    assert index.claim(sample_record("1", crawl_id=survivor.crawl_id), "http://portal.test/1.html").decision == CLAIMED
    assert index.claim(sample_record("2", crawl_id=survivor.crawl_id), "http://portal.test/2.html").version == 1
    assert survivor.workers() == ["w001"] and recovery.dead_workers() == []


def test_the_crawl_ends_only_when_it_runs_and_nothing_is_queued_or_held(redis_client: Any, tmp_path: Path) -> None:
    worker = join(redis_client, NAMESPACE, 30, ABOUT)
    recovery = Recovery(worker, SharedIndex(redis_client, worker.keys, worker.worker), tmp_path)
    assert not recovery.finished()  # still seeding
    worker.seeded()
    redis_client.zadd(worker.keys.requests, {b"queued": 0})
    assert not recovery.finished()
    redis_client.zrem(worker.keys.requests, b"queued")
    redis_client.zadd(worker.keys.processing(worker.worker), {b"held": 0})
    assert not recovery.finished()
    redis_client.zrem(worker.keys.processing(worker.worker), b"held")
    assert recovery.finished() and worker.phase() == "done"


def test_a_worker_that_stops_early_gives_back_its_requests_and_uncommitted_claims(
    redis_client: Any, tmp_path: Path
) -> None:
    worker = join(redis_client, NAMESPACE, 30, ABOUT)
    index = SharedIndex(redis_client, worker.keys, worker.worker)
    index.claim(sample_record("7", crawl_id=worker.crawl_id), "http://portal.test/7.html")
    redis_client.zadd(worker.keys.processing(worker.worker), {b"held": 0})
    kept, dropped, requeued = Recovery(worker, index, tmp_path).give_back(worker.worker)
    assert (kept, dropped, requeued) == (0, 1, 1) and redis_client.zcard(worker.keys.requests) == 1
