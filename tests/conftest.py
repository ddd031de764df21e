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


# Hypothesis profiles (tests/test_cleaner_fuzz.py scales its per-test example counts
# from the loaded profile's max_examples). `ci` is the default and is derandomized so
# CI stays reproducible; `long` is the documented long run (docs/fuzzing.md):
#   HYPOTHESIS_PROFILE=long .venv/bin/pytest -q tests/test_cleaner_fuzz.py
import os as _os  # noqa: E402 (appended section)
from datetime import timedelta as _timedelta  # noqa: E402

from hypothesis import HealthCheck as _HealthCheck, settings as _settings  # noqa: E402

_FUZZ_HEALTH = [_HealthCheck.too_slow, _HealthCheck.data_too_large]
# A cleaner call that takes this long on one small input is a hang, not noise.
_settings.register_profile("ci", max_examples=1000, deadline=_timedelta(seconds=5), derandomize=True,
                           suppress_health_check=_FUZZ_HEALTH, print_blob=True)
_settings.register_profile("long", max_examples=20000, deadline=_timedelta(seconds=5),
                           suppress_health_check=_FUZZ_HEALTH, print_blob=True)
_settings.register_profile("dev", max_examples=50, deadline=_timedelta(seconds=5),
                           suppress_health_check=_FUZZ_HEALTH)
_settings.load_profile(_os.environ.get("HYPOTHESIS_PROFILE", "ci"))
