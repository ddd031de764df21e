"""The typed packages stay mypy-clean under the settings in pyproject.toml ([tool.mypy])."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
TYPED_PATHS = ["archive", "scraper/replica", "scraper/cleaner"]


def test_mypy_clean(tmp_path: Path) -> None:
    # A fresh cache in tmp_path: a stale shared cache cannot hide or invent errors.
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy-cache"), *TYPED_PATHS],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
