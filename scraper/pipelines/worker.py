"""The archive pipeline's part in a distributed crawl: the crawl's shared index, and each outcome recorded once durable.
A worker also commits its files when it runs out of work, so that the requests behind what they hold are done and
the crawl can end; a worker taken for dead commits nothing more."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from archive.index import ArchiveIndex
from archive.writer import JsonlWriter
from scraper.cluster.extension import ClusterWorker
from scraper.cluster.index import SharedIndex
from scraper.cluster.outcomes import ClusterOutcomes

logger = logging.getLogger(__name__)

# A worker commits its files when it runs out of work, at most once in this many seconds (a worker idle between two
# requests would otherwise commit many small files).
IDLE_COMMIT_INTERVAL = 2.0


class WorkerArchive:
    """What ArchivePipeline does besides its writing in a worker of a distributed crawl (`cluster`)."""

    def __init__(self, cluster: ClusterWorker, root: Path) -> None:
        self.cluster = cluster
        self.root = root
        self.outcomes = ClusterOutcomes(cluster.frontier, cluster.index)
        self._committed: dict[str, int] = {}  # writer kind -> its files the crawl's books know committed
        self._last_idle_commit = 0.0

    @property
    def group(self) -> str:
        """The crawl whose workers share the archive's directory locks."""
        return self.cluster.keys.crawl_id

    def open_index(self) -> SharedIndex:
        """The crawl's index; the first worker fills it with the archive's first."""
        if self.cluster.seeder:
            self.load_index()
        return self.cluster.index

    def load_index(self) -> int:
        loaded = self.cluster.index.load(ArchiveIndex.open(self.root))
        logger.info("loaded the index of %s (%d articles) for crawl %s", self.root, loaded, self.group)
        return loaded

    def record_commits(self, writers: Iterable[JsonlWriter | None]) -> None:
        """Tell the crawl's books about the files committed since the last look: their articles become the latest
        versions, and the outcomes they hold are recorded (the leases of their requests given up)."""
        for writer in writers:
            if writer is None:
                continue
            seen = self._committed.get(writer.kind, 0)
            for closed in writer.closed_files[seen:]:
                self.outcomes.committed(closed.name)
            self._committed[writer.kind] = len(writer.closed_files)

    def commit_idle(self, writers: tuple[JsonlWriter | None, ...]) -> bool:
        """The worker ran out of work: commit the files holding outcomes that wait for it (each commits the WARC
        first), unless the last such commit is too recent. False if this worker was taken for dead meanwhile (its
        writers must be aborted); an OSError of a commit is raised."""
        if not self.outcomes.waiting or time.monotonic() - self._last_idle_commit < IDLE_COMMIT_INTERVAL:
            return True
        self._last_idle_commit = time.monotonic()
        if not self.may_commit():
            return False
        for writer in writers:
            if writer is not None:
                writer.rotate()
        self.record_commits(writers)
        return True

    def may_commit(self) -> bool:
        """False once this worker was taken for dead: the others redo its work, which must not be committed twice."""
        return self.cluster.may_commit()

    def manifest_extra(self) -> dict[str, Any]:
        """The manifest's `cluster` block: the distributed crawl, this worker, and the crawl's counts so far."""
        return {"cluster": {**self.cluster.describe(), "summary": self.cluster.crawl_manifest_summary()}}
