"""Joining a distributed crawl on a real Redis: the first worker starts it and seeds it, the next ones join it, a worker
that finds it over starts the next one, a dead seeder is replaced, and a worker whose lease ran out knows it."""

from __future__ import annotations

from typing import Any

from scraper.cluster.membership import DONE, RUNNING, SEEDING, Heartbeat, join, take_over_seeding

NAMESPACE = "newsarchive:portal.test:80"
ABOUT = {"start_url": "http://portal.test/", "out": "/srv/archive"}


def test_the_first_worker_starts_the_crawl_and_the_next_ones_join_it(redis_client: Any) -> None:
    first = join(redis_client, NAMESPACE, 30, ABOUT)
    second = join(redis_client, NAMESPACE, 30, ABOUT)
    assert (first.seeder, second.seeder) == (True, False)
    assert first.keys == second.keys and (first.worker, second.worker) == ("w001", "w002")
    assert second.crawl_id == f"{first.keys.crawl_id}-w002"
    assert first.phase() == SEEDING and first.workers() == ["w001", "w002"]
    first.seeded()
    assert second.phase() == RUNNING


def test_a_worker_started_after_the_crawl_ended_starts_the_next_one(redis_client: Any) -> None:
    first = join(redis_client, NAMESPACE, 30, ABOUT)
    redis_client.hset(first.keys.state, "phase", DONE)
    later = join(redis_client, NAMESPACE, 30, ABOUT)
    assert later.seeder and later.keys.crawl_id != first.keys.crawl_id


def test_the_last_worker_out_of_a_finished_crawl_removes_it(redis_client: Any) -> None:
    first = join(redis_client, NAMESPACE, 30, ABOUT)
    second = join(redis_client, NAMESPACE, 30, ABOUT)
    redis_client.hset(first.keys.state, "phase", DONE)
    first.leave()
    assert redis_client.exists(first.keys.state) and redis_client.get(first.keys.current) is not None
    second.leave()
    assert redis_client.keys("*") == []


def test_a_worker_replaces_a_seeder_that_died_before_the_crawl_ran(redis_client: Any) -> None:
    first = join(redis_client, NAMESPACE, 30, ABOUT)
    redis_client.delete(first.keys.alive(first.worker))  # its lease ran out
    second = join(redis_client, NAMESPACE, 30, ABOUT)
    assert second.seeder and redis_client.hget(first.keys.state, "seeder") == b"w002"
    third = join(redis_client, NAMESPACE, 30, ABOUT)
    assert not third.seeder and not take_over_seeding(third)  # the new seeder lives


def test_a_worker_whose_lease_ran_out_cannot_renew_it_and_its_heartbeat_says_so(redis_client: Any) -> None:
    worker = join(redis_client, NAMESPACE, 0.5, ABOUT)
    assert worker.renew()
    heartbeat = Heartbeat(worker)
    heartbeat.start()
    redis_client.delete(worker.keys.alive(worker.worker))  # taken for dead (its work given away)
    assert heartbeat.lost.wait(5)
    heartbeat.stop()
    assert not worker.renew()
