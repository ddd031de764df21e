"""The outcomes a worker's pipelines decided, recorded in the crawl's books once they are durable.
An outcome that writes a line waits for the commit of the file holding it; the others are recorded at once. A worker
killed before a commit loses nothing: the requests of what waited are still on lease, and are done again."""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from scraper.cluster.frontier import ClusterFrontier
from scraper.cluster.index import Claim, SharedIndex

logger = logging.getLogger(__name__)


class ClusterOutcomes:
    """Claims articles in the shared index, and records each outcome with the lease of its request given up."""

    def __init__(self, frontier: ClusterFrontier, index: SharedIndex) -> None:
        self.frontier = frontier
        self.index = index
        self._waiting: dict[str, list[tuple[str, list[str]]]] = defaultdict(list)  # file -> (url, stats keys)
        self._written: dict[str, list[str]] = defaultdict(list)  # articles file -> article ids

    def claim(self, record: dict[str, Any], url: str) -> Claim:
        return self.index.claim(record, url)

    def outcome(self, url: str, counts: list[str], file: str | None) -> None:
        """The outcome of `url`: recorded now if nothing was written (`file` None), else when `file` is committed."""
        if file is None:
            self.frontier.article_done(url, counts)
        else:
            self._waiting[file].append((url, counts))
            self.frontier.leases.wait(url)

    def wrote(self, article_id: str, file: str) -> None:
        """An article's record went into `file` (not committed yet)."""
        self._written[file].append(article_id)

    @property
    def waiting(self) -> bool:
        return bool(self._waiting)

    def committed(self, file: str) -> None:
        """`file` is committed: its articles become the latest versions, and the outcomes it holds are recorded."""
        self.index.promote(file, self._written.pop(file, []))
        for url, counts in self._waiting.pop(file, []):
            self.frontier.article_done(url, counts)

    def forget(self) -> None:
        """The open files were aborted: what waited for them is done again by another worker (the leases stay)."""
        if self._waiting:
            lost = sum(len(outcomes) for outcomes in self._waiting.values())
            logger.warning("%d outcomes not recorded: their files were never committed", lost)
        self._waiting.clear()
        self._written.clear()
