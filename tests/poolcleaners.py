"""Cleaners for the pool's tests, importable by dotted path in the pool's worker processes."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from scraper.cleaner import clean_page


def slow_or_crashing(body: bytes, url: str | None = None, headers: Any = None) -> Any:
    """The real cleaner, except: SLOW sleeps past any budget, CRASH kills the process,
    CRASH-ONCE:<path> kills it unless <path> exists (and creates it)."""
    if body.startswith(b"SLOW"):
        time.sleep(60)
    if body.startswith(b"CRASH-ONCE:"):
        marker = Path(body.split(b":", 1)[1].decode())
        if not marker.exists():
            marker.touch()
            os._exit(3)
        body = b"<html><body><h1>x</h1></body></html>"
    elif body.startswith(b"CRASH"):
        os._exit(3)
    return clean_page(body, url, headers, strict=False)
