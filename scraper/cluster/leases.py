"""The requests a worker holds on lease: taken from the shared queue into its processing set until their outcome.
A worker that dies leaves them there, and the others put them back in the queue (scraper.cluster.recovery); no Scrapy."""

from __future__ import annotations

from typing import Any

from scraper.urls import LEARNED_URL


def lease_key(request: Any) -> str:
    """What a lease is known by: the URL the crawl learned (a retry or a redirect continues the same lease)."""
    return str(request.meta.get(LEARNED_URL, request.url))


class LeaseBook:
    """The requests this worker holds: learned URL -> the serialized request, as it sits in the processing set."""

    def __init__(self) -> None:
        self._held: dict[str, bytes] = {}
        self._waiting: set[str] = set()  # held until the file holding their outcome is committed

    def hold(self, request: Any, data: bytes) -> None:
        self._held[lease_key(request)] = data

    def release(self, request: Any) -> bytes | None:
        """Give up the lease a request continues (a retry or redirect of a held one going back to the queue)."""
        return self._held.pop(lease_key(request), None)

    def take(self, url: str) -> bytes | None:
        """Give up the lease on the request for `url`, whose outcome is being recorded."""
        self._waiting.discard(url)
        return self._held.pop(url, None)

    def wait(self, url: str) -> None:
        """The outcome of `url` is decided and waits for the commit of its file: the lease is kept on purpose."""
        self._waiting.add(url)

    def unaccounted(self) -> list[str]:
        """Leases held with no outcome waiting: once the worker is idle, requests that ended without one (a bug)."""
        return sorted(set(self._held) - self._waiting)

    def __len__(self) -> int:
        return len(self._held)
