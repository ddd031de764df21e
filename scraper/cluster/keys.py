"""The Redis keys of a distributed crawl, named in one place.
`<namespace>:crawl` names the running crawl; everything else of it lives under `<namespace>:<crawl id>:`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClusterKeys:
    """Key names of one distributed crawl of one portal (`namespace`, from connection.namespace)."""

    namespace: str
    crawl_id: str

    @property
    def current(self) -> str:
        """The id of the portal's running crawl: the first worker sets it, workers started later join that crawl."""
        return f"{self.namespace}:crawl"

    @property
    def inflight(self) -> str:
        """Requests in flight to the portal, from every worker of every crawl (a sorted set of expiring slots)."""
        return f"{self.namespace}:inflight"

    @property
    def waiting(self) -> str:
        """Requests waiting for a slot of the portal's budget, in the order they asked (a sorted set)."""
        return f"{self.namespace}:inflight:waiting"

    @property
    def prefix(self) -> str:
        return f"{self.namespace}:{self.crawl_id}"

    @property
    def state(self) -> str:
        """Hash: phase (seeding, running, done), seeder, started_at, start_url."""
        return f"{self.prefix}:state"

    @property
    def workers(self) -> str:
        """Hash: worker id -> what it said when it joined (JSON)."""
        return f"{self.prefix}:workers"

    @property
    def sequence(self) -> str:
        """Counter numbering the workers."""
        return f"{self.prefix}:workers:seq"

    @property
    def requests(self) -> str:
        """scrapy-redis's priority queue (a sorted set of serialized requests)."""
        return f"{self.prefix}:requests"

    @property
    def dupefilter(self) -> str:
        """scrapy-redis's set of request fingerprints."""
        return f"{self.prefix}:dupefilter"

    @property
    def articles(self) -> str:
        """Hash: article URL -> its state in the crawl (decided, waiting for its outcome, settled)."""
        return f"{self.prefix}:articles"

    @property
    def pages(self) -> str:
        """Hash: list page, sitemap or robots.txt URL -> its state in the crawl."""
        return f"{self.prefix}:pages"

    @property
    def totals(self) -> str:
        """Hash: stats key -> the crawl's count, each URL counted once whichever worker handled it."""
        return f"{self.prefix}:totals"

    @property
    def index(self) -> str:
        """Hash: article id -> its latest committed version (archive.index.IndexEntry as a JSON list)."""
        return f"{self.prefix}:index"

    @property
    def claims(self) -> str:
        """Hash: article id -> the worker handling it in this crawl and what it decided (JSON)."""
        return f"{self.prefix}:claims"

    def alive(self, worker: str) -> str:
        """The worker's lease: a key that expires unless its heartbeat renews it."""
        return f"{self.prefix}:alive:{worker}"

    def processing(self, worker: str) -> str:
        """Sorted set: the requests the worker took from the queue and has not finished (score: their priority)."""
        return f"{self.prefix}:processing:{worker}"

    def pending(self, worker: str) -> str:
        """Hash: article id -> the worker's claim whose record is not in a committed file yet."""
        return f"{self.prefix}:pending:{worker}"

    def recovering(self, worker: str) -> str:
        """Held by the worker that gives a dead worker's unfinished requests back to the queue."""
        return f"{self.prefix}:recovering:{worker}"

    def generations(self, book: str) -> tuple[str, str]:
        """The current and previous generation of a book's settled URLs, when their number is bounded."""
        return f"{book}:settled", f"{book}:settled:previous"

    def all_keys(self, workers: list[str]) -> list[str]:
        """Every key of the crawl, for the cleanup when it is over."""
        keys = [self.state, self.workers, self.sequence, self.requests, self.dupefilter, self.totals, self.index]
        keys += [self.claims, self.articles, self.pages, *self.generations(self.articles)]
        keys += [*self.generations(self.pages), *self.generations(self.dupefilter)]
        for worker in workers:
            keys += [self.alive(worker), self.processing(worker), self.pending(worker), self.recovering(worker)]
        return keys
