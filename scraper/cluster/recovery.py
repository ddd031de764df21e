"""What a dead worker held goes back to the others, and the crawl ends when nothing is held or queued.
A worker whose lease ran out is dead: its records in committed files stand, its other claims are dropped, and its
unfinished requests return to the queue, so a worker killed and never restarted leaves nothing undone."""

from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path

from archive.layout import ArchiveLayout, committed_jsonl
from archive.reader import read_jsonl
from scraper.cluster import scripts
from scraper.cluster.index import SharedIndex
from scraper.cluster.membership import Membership

logger = logging.getLogger(__name__)


def committed_ids(root: Path, crawl_id: str, wanted: set[str]) -> dict[str, set[str]]:
    """file name -> the ids among `wanted` whose records a crawl committed to this archive's articles/."""
    found: dict[str, set[str]] = defaultdict(set)
    for archive_file in committed_jsonl(ArchiveLayout(root).articles_dir):
        if archive_file.prefix == crawl_id:
            for record in read_jsonl(archive_file.path):
                if record.get("id") in wanted:
                    found[archive_file.name].add(record["id"])
    return found


class Recovery:
    """Gives back the work of dead workers (or of this one, when it stops before the crawl is over) and tells when
    the crawl is over. `root` is this worker's archive: a dead worker that wrote elsewhere (another machine's
    directory) cannot be checked there, and its claims not known to be committed are dropped."""

    def __init__(self, membership: Membership, index: SharedIndex, root: Path) -> None:
        self.membership = membership
        self.index = index
        self.root = root
        client = membership.client
        self._requeue = client.register_script(scripts.REQUEUE)
        self._finish = client.register_script(scripts.FINISH)

    def dead_workers(self) -> list[str]:
        me = self.membership.worker
        return [worker for worker in self.membership.workers() if worker != me and not self.membership.alive(worker)]

    def recover_dead(self) -> int:
        """Give back the work of every dead worker not given back yet; the number of requests returned to the queue."""
        return sum(self.recover(worker) for worker in self.dead_workers())

    def recover(self, worker: str) -> int:
        """Give back one dead worker's work, unless another worker is doing it."""
        membership = self.membership
        client, keys = membership.client, membership.keys
        lease_ms = int(membership.lease_seconds * 1000)
        if not client.set(keys.recovering(worker), membership.worker, nx=True, px=lease_ms):
            return 0
        try:
            kept, dropped, requeued = self.give_back(worker)
            client.hdel(keys.workers, worker)
        finally:
            client.delete(keys.recovering(worker))
        logger.warning(
            "worker %s of crawl %s is dead: %d unfinished requests back in the queue, %d articles kept from its "
            "committed files, %d to be archived again",
            worker,
            keys.crawl_id,
            requeued,
            kept,
            dropped,
        )
        return requeued

    def give_back(self, worker: str) -> tuple[int, int, int]:
        """(claims kept, claims dropped, requests requeued) for a worker that stopped with work unfinished."""
        keys = self.membership.keys
        pending = self.index.pending(worker)
        committed = committed_ids(self.root, f"{keys.crawl_id}-{worker}", set(pending)) if pending else {}
        kept = sum(self.index.promote(name, ids, worker=worker) for name, ids in committed.items())
        lost = set(pending) - {ident for ids in committed.values() for ident in ids}
        dropped = self.index.drop(worker, lost)
        requeued = int(self._requeue(keys=[keys.processing(worker), keys.requests]))
        return kept, dropped, requeued

    def finished(self) -> bool:
        """True once the crawl runs and neither its queue nor any worker holds a request (the phase becomes done)."""
        keys = self.membership.keys
        return bool(self._finish(keys=[keys.state, keys.requests, keys.workers], args=[keys.prefix]))
