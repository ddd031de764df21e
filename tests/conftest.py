"""Shared fixtures: a replica portal served from a subprocess for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scraper.replica.testing import Replica, start_replica


@pytest.fixture(scope="session")
def replica() -> Iterator[Replica]:
    """A running replica portal (40 articles, seed 7): `.url`, `.articles`, `.truth(id)`."""
    with start_replica(articles=40, seed=7) as running:
        yield running
