"""The cluster's politeness budget on a real Redis: at most PORTAL_CLUSTER_CONCURRENCY slots in flight, given in the
order requests asked for them, and freed when their worker dies or their time is up."""

from __future__ import annotations

import time
from typing import Any

from scraper.cluster import scripts
from scraper.cluster.keys import ClusterKeys

SLOT_MS = 60_000


def slot(keys: ClusterKeys, worker: str, number: int) -> str:
    return f"{keys.alive(worker)}|{number}"


def test_no_more_slots_than_the_budget_and_a_freed_slot_goes_to_the_request_that_asked_first(
    redis_client: Any, cluster_keys: ClusterKeys
) -> None:
    acquire = redis_client.register_script(scripts.ACQUIRE)
    keys = [cluster_keys.inflight, cluster_keys.waiting]
    for worker in ("w001", "w002"):
        redis_client.set(cluster_keys.alive(worker), "1")
    taken = [acquire(keys=keys, args=[2, slot(cluster_keys, "w001", n), SLOT_MS]) for n in (1, 2, 3)]
    assert taken == [1, 1, 0]
    assert acquire(keys=keys, args=[2, slot(cluster_keys, "w002", 1), SLOT_MS]) == 0  # waits behind w001:3
    redis_client.zrem(cluster_keys.inflight, slot(cluster_keys, "w001", 1))
    assert acquire(keys=keys, args=[2, slot(cluster_keys, "w002", 1), SLOT_MS]) == 0  # not its turn yet
    assert acquire(keys=keys, args=[2, slot(cluster_keys, "w001", 3), SLOT_MS]) == 1
    redis_client.zrem(cluster_keys.inflight, slot(cluster_keys, "w001", 2))
    assert acquire(keys=keys, args=[2, slot(cluster_keys, "w001", 4), SLOT_MS]) == 0  # w002 asked before it
    assert acquire(keys=keys, args=[2, slot(cluster_keys, "w002", 1), SLOT_MS]) == 1


def test_the_slots_and_turns_of_a_dead_worker_are_freed(redis_client: Any, cluster_keys: ClusterKeys) -> None:
    acquire = redis_client.register_script(scripts.ACQUIRE)
    keys = [cluster_keys.inflight, cluster_keys.waiting]
    redis_client.set(cluster_keys.alive("w001"), "1")
    redis_client.set(cluster_keys.alive("w002"), "1")
    assert acquire(keys=keys, args=[1, slot(cluster_keys, "w002", 1), SLOT_MS]) == 1
    assert acquire(keys=keys, args=[1, slot(cluster_keys, "w002", 2), SLOT_MS]) == 0  # waiting in line
    redis_client.delete(cluster_keys.alive("w002"))  # w002 died holding a slot and a turn
    assert acquire(keys=keys, args=[1, slot(cluster_keys, "w001", 1), SLOT_MS]) == 1


def test_a_slot_held_past_its_time_is_freed(redis_client: Any, cluster_keys: ClusterKeys) -> None:
    acquire = redis_client.register_script(scripts.ACQUIRE)
    keys = [cluster_keys.inflight, cluster_keys.waiting]
    redis_client.set(cluster_keys.alive("w001"), "1")
    assert acquire(keys=keys, args=[1, slot(cluster_keys, "w001", 1), 50]) == 1
    time.sleep(0.1)
    assert acquire(keys=keys, args=[1, slot(cluster_keys, "w001", 2), SLOT_MS]) == 1
