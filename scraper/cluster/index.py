"""The article index of a distributed crawl, shared in Redis: which version each article has, and who handles it now.
A worker claims an article before writing it, so two workers never archive the same version; a claim becomes the
article's latest version once the file holding its record is committed."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import redis

from archive.index import ArchiveIndex, IndexEntry
from scraper.cluster import scripts
from scraper.cluster.connection import REDIS_ERRORS
from scraper.cluster.keys import ClusterKeys

logger = logging.getLogger(__name__)

# A claim's answer when a worker of the crawl handles the article already (beside archive.index's decisions).
CLAIMED = "claimed"
# Index entries sent to Redis per round trip when the first worker loads the archive's index.
LOAD_BATCH = 2000


@dataclass(frozen=True)
class Claim:
    """What the crawl decided for an article: archive.index.NEW, UNCHANGED or NEW_VERSION with the version, or
    CLAIMED with the earlier claim (its url, worker, decision and version)."""

    decision: str
    version: int
    earlier: dict[str, Any] | None = None


class SharedIndex:
    """archive.index.ArchiveIndex's decisions for the workers of one crawl: the committed latest versions (`index`),
    the claims of this crawl, and each worker's claims whose records are not committed yet (`pending`)."""

    def __init__(self, client: redis.Redis, keys: ClusterKeys, worker: str) -> None:
        self.client = client
        self.keys = keys
        self.worker = worker
        self.on_error: Callable[[Exception], None] | None = None  # as ClusterFrontier's, for the lookups
        self._claim = client.register_script(scripts.CLAIM)
        self._promote = client.register_script(scripts.PROMOTE)
        self._drop = client.register_script(scripts.DROP_CLAIMS)

    def load(self, index: ArchiveIndex) -> int:
        """Copy the archive's index (what it held when the crawl began) into Redis; the number of articles."""
        entries = list(index.entries.items())
        for start in range(0, len(entries), LOAD_BATCH):
            mapping = {ident: json.dumps(entry.as_list()) for ident, entry in entries[start : start + LOAD_BATCH]}
            self.client.hset(self.keys.index, mapping=mapping)
        return len(entries)

    def get(self, article_id: str) -> IndexEntry | None:
        """The latest committed version of an article, as the archive's index keeps it."""
        try:
            value = self.client.hget(self.keys.index, article_id)
        except REDIS_ERRORS as exc:
            self._failed(exc)
            return None
        return IndexEntry(*json.loads(value)) if value else None

    def __contains__(self, article_id: object) -> bool:
        try:
            return isinstance(article_id, str) and bool(self.client.hexists(self.keys.index, article_id))
        except REDIS_ERRORS as exc:
            self._failed(exc)
            return True  # the worker stops: known, nothing more to fetch

    def _failed(self, exc: Exception) -> None:
        """Redis failed under a lookup: handed to `on_error` (the worker stops) when set, raised otherwise."""
        if self.on_error is None:
            raise exc
        self.on_error(exc)

    def __len__(self) -> int:
        return int(self.client.hlen(self.keys.index))

    def claim(self, record: dict[str, Any], url: str) -> Claim:
        """Claim a cleaned record's article for this worker: its decision and version, or CLAIMED."""
        entry = IndexEntry(
            record["text_sha256"],
            0,  # the script sets the version it decides
            record["url"],
            content_sha256=record.get("content_sha256"),
            warc_file=record.get("warc_file"),
            warc_record_id=record.get("warc_record_id"),
            warc_offset=record.get("warc_offset"),
            fetched_at=record.get("fetched_at"),
        )
        claim = json.dumps({"url": url, "worker": self.worker, "entry": entry.as_list()})
        answer = self._claim(
            keys=[self.keys.claims, self.keys.index, self.keys.pending(self.worker)],
            args=[record["id"], record["text_sha256"], claim],
        )
        decision, value = (_text(part) for part in answer)
        if decision == CLAIMED:
            earlier = json.loads(value)
            return Claim(CLAIMED, int(earlier["version"]), earlier)
        return Claim(decision, int(value))

    def promote(self, file_name: str, article_ids: Iterable[str], worker: str | None = None) -> int:
        """The records of these articles are in `file_name`, committed: their claims become the latest versions."""
        ids = list(article_ids)
        if not ids:
            return 0
        keys = [self.keys.pending(worker or self.worker), self.keys.index]
        return int(self._promote(keys=keys, args=[file_name, *ids]))

    def pending(self, worker: str) -> dict[str, dict[str, Any]]:
        """A worker's claims whose records are not known to be committed: article id -> claim."""
        return {_text(k): json.loads(v) for k, v in self.client.hgetall(self.keys.pending(worker)).items()}

    def drop(self, worker: str, article_ids: Iterable[str]) -> int:
        """Forget a dead worker's claims whose records were lost with it: those articles are handled again."""
        ids = list(article_ids)
        return int(self._drop(keys=[self.keys.pending(worker), self.keys.claims], args=ids)) if ids else 0


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
