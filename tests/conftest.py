"""Shared fixtures: a replica portal served from a subprocess for the whole session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings

from scraper.replica.testing import Replica, start_replica


@pytest.fixture(scope="session")
def replica() -> Iterator[Replica]:
    """A running replica portal (40 articles, seed 7): `.url`, `.articles`, `.truth(id)`."""
    with start_replica(articles=40, seed=7) as running:
        yield running


# Hypothesis profiles (tests/test_cleaner_fuzz.py scales its per-test example counts
# from the loaded profile's max_examples). `ci` is the default and is derandomized so
# CI stays reproducible; `long` is the documented long run (docs/fuzzing.md):
#   HYPOTHESIS_PROFILE=long .venv/bin/pytest -q tests/test_cleaner_fuzz.py
_FUZZ_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large]
# A cleaner call that takes this long on one small input is a hang, not noise.
settings.register_profile(
    "ci",
    max_examples=1000,
    deadline=timedelta(seconds=5),
    derandomize=True,
    suppress_health_check=_FUZZ_HEALTH,
    print_blob=True,
)
settings.register_profile(
    "long", max_examples=20000, deadline=timedelta(seconds=5), suppress_health_check=_FUZZ_HEALTH, print_blob=True
)
settings.register_profile("dev", max_examples=50, deadline=timedelta(seconds=5), suppress_health_check=_FUZZ_HEALTH)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
