"""Joining a distributed crawl: the first worker creates it, the next ones join it, each with a number and a lease.
The lease is a key that expires unless the worker's heartbeat thread renews it; a worker whose lease ran out is dead
to the others, and one that finds its own lease gone must stop writing."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import redis

from archive.layout import new_crawl_id, utc_now_iso
from scraper.cluster.connection import REDIS_ERRORS, ClusterUnavailable
from scraper.cluster.keys import ClusterKeys

logger = logging.getLogger(__name__)

SEEDING = "seeding"  # the first worker loads the archive's index and schedules the start URL
RUNNING = "running"
DONE = "done"  # the queue is empty and no worker holds a request: workers still running close
# Joining a crawl retries this often when another worker creates or ends it at the same moment.
JOIN_ATTEMPTS = 5


def worker_name(number: int) -> str:
    """The worker id in file names and keys.

    >>> worker_name(3)
    'w003'
    """
    return f"w{number:03d}"


@dataclass
class Membership:
    """One worker's place in a distributed crawl."""

    client: redis.Redis
    keys: ClusterKeys
    worker: str
    seeder: bool
    lease_seconds: float

    @property
    def crawl_id(self) -> str:
        """This worker's crawl id: the crawl's id and the worker's, naming its files, its manifest, its ledger lines."""
        return f"{self.keys.crawl_id}-{self.worker}"

    def renew(self) -> bool:
        """Extend the lease; False if it ran out meanwhile (the others may have given this worker's work away)."""
        return bool(self.client.set(self.keys.alive(self.worker), "1", px=int(self.lease_seconds * 1000), xx=True))

    def phase(self) -> str:
        value = self.client.hget(self.keys.state, "phase")
        return value.decode() if value else ""

    def seeded(self) -> None:
        """The start URL and its companions are in the queue: the crawl runs, and may end when it runs dry."""
        self.client.hset(self.keys.state, "phase", RUNNING)

    def workers(self) -> list[str]:
        return sorted(key.decode() for key in self.client.hkeys(self.keys.workers))

    def alive(self, worker: str) -> bool:
        return bool(self.client.exists(self.keys.alive(worker)))

    def leave(self) -> None:
        """Deregister (after the worker gave back what it held); the last worker out of a finished crawl removes it."""
        self.client.delete(self.keys.alive(self.worker))
        self.client.hdel(self.keys.workers, self.worker)
        if self.phase() != DONE or self.client.hlen(self.keys.workers):
            return
        joined = int(self.client.get(self.keys.sequence) or 0)
        self.client.delete(*self.keys.all_keys([worker_name(n) for n in range(1, joined + 1)]))
        current = self.client.get(self.keys.current)
        if current is not None and current.decode() == self.keys.crawl_id:
            self.client.delete(self.keys.current)


def join(client: redis.Redis, namespace: str, lease_seconds: float, about: dict[str, Any]) -> Membership:
    """Join the portal's running crawl, or start one (as its seeder) if none runs or the last one is done.

    `about` (start URL, archive directory) is kept with the worker, for the others and for the operator. A crawl whose
    seeder died before it scheduled the start URL gets this worker as its new seeder.
    """
    for _ in range(JOIN_ATTEMPTS):
        current = client.get(f"{namespace}:crawl")
        if current is None:
            crawl_id = new_crawl_id()
            if client.set(f"{namespace}:crawl", crawl_id, nx=True):
                keys = ClusterKeys(namespace, crawl_id)
                client.hset(keys.state, mapping={"phase": SEEDING, "started_at": utc_now_iso(), **about})
                return _register(client, keys, lease_seconds, about, seeder=True)
            continue
        keys = ClusterKeys(namespace, current.decode())
        phase = client.hget(keys.state, "phase")
        if phase is None or phase.decode() == DONE:
            # Over (or its state lost): the next crawl replaces it, once.
            with client.pipeline() as pipe:
                try:
                    pipe.watch(keys.current)
                    if pipe.get(keys.current) == current:
                        pipe.multi()
                        pipe.delete(keys.current)
                        pipe.execute()
                except redis.WatchError:
                    pass
            continue
        membership = _register(client, keys, lease_seconds, about, seeder=False)
        if phase.decode() == SEEDING and take_over_seeding(membership):
            membership.seeder = True
        return membership
    raise ClusterUnavailable(
        f"could not join or start a crawl of {namespace} in {JOIN_ATTEMPTS} attempts (other workers were starting "
        "and ending crawls meanwhile); run the command again"
    )


def _register(
    client: redis.Redis, keys: ClusterKeys, lease_seconds: float, about: dict[str, Any], seeder: bool
) -> Membership:
    worker = worker_name(int(client.incr(keys.sequence)))
    client.set(keys.alive(worker), "1", px=int(lease_seconds * 1000))
    info = {"host": socket.gethostname(), "pid": os.getpid(), "joined_at": utc_now_iso(), **about}
    client.hset(keys.workers, worker, json.dumps(info))
    if seeder:
        client.hset(keys.state, "seeder", worker)
    return Membership(client, keys, worker, seeder, lease_seconds)


def take_over_seeding(membership: Membership) -> bool:
    """Become the seeder of a crawl whose seeder died before the crawl ran; False if the seeder lives (or another
    worker took over first)."""
    client, keys = membership.client, membership.keys
    seeder = client.hget(keys.state, "seeder")
    if seeder is not None and membership.alive(seeder.decode()):
        return False
    with client.pipeline() as pipe:
        try:
            pipe.watch(keys.state)
            if pipe.hget(keys.state, "seeder") != seeder or pipe.hget(keys.state, "phase") != SEEDING.encode():
                return False
            pipe.multi()
            pipe.hset(keys.state, "seeder", membership.worker)
            pipe.execute()
        except redis.WatchError:
            return False
    logger.warning("the worker that started crawl %s died before it ran; this worker seeds it", keys.crawl_id)
    return True


class Heartbeat:
    """Renews a worker's lease from a thread of its own, so that a busy reactor never lets it lapse; `lost` is set
    when the lease ran out (renewal refused, or Redis unreachable for a whole lease)."""

    def __init__(self, membership: Membership) -> None:
        self.membership = membership
        self.interval = membership.lease_seconds / 5
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{membership.worker}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(self.interval + 5)

    def _run(self) -> None:
        renewed = time.monotonic()
        while not self._stop.wait(self.interval):
            try:
                if not self.membership.renew():
                    self._lose("its lease ran out")
                    return
                renewed = time.monotonic()
            except REDIS_ERRORS as exc:
                if time.monotonic() - renewed > self.membership.lease_seconds:
                    self._lose(f"Redis was unreachable for longer than the lease ({exc})")
                    return
                logger.warning("cannot renew the lease of %s: %s", self.membership.worker, exc)

    def _lose(self, why: str) -> None:
        logger.error(
            "worker %s lost its place in crawl %s: %s; its unfinished requests are another worker's now",
            self.membership.worker,
            self.membership.keys.crawl_id,
            why,
        )
        self.lost.set()
