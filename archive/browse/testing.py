"""For tests and tools: serve an archive with `newsarchive browse` in a subprocess (its URL read from the first line
it prints, as with the replica portal), and start Debian's Chromium through Playwright (never a downloaded browser)."""

from __future__ import annotations

import logging
import re
import selectors
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

logger = logging.getLogger(__name__)

CHROMIUM = Path("/usr/bin/chromium")
# Without the networking switches Chromium keeps trying to reach Google's services, which this closed
# network refuses; the rest keep a root, headless, GPU-less run quiet and deterministic.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
START_TIMEOUT = 300.0  # seconds: indexing a large archive comes before the URL is printed
STOP_TIMEOUT = 10.0
_SERVING = re.compile(r"Browsing .* at (http://\S+/)")


class BrowseStartError(RuntimeError):
    """The browse server did not print its URL; carries what it said."""


@contextmanager
def start_browse(directory: Path, cache_dir: Path | None = None, extra: Sequence[str] = ()) -> Iterator[str]:
    """Run `python -m archive.browse DIR --port 0` until the block ends; yield its base URL."""
    command = [sys.executable, "-m", "archive.browse", str(directory), "--port", "0", *extra]
    command += ["--cache-dir", str(cache_dir)] if cache_dir is not None else ["--no-cache"]
    # Its log goes to a file, not a pipe nobody reads while it serves (a full pipe would block it).
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)
        assert process.stdout is not None
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(process.stdout, selectors.EVENT_READ)
                ready = selector.select(timeout=START_TIMEOUT)
            line = process.stdout.readline() if ready else ""
            match = _SERVING.search(line)
            if not match:
                process.kill()
                process.wait()
                log.seek(0)
                said = log.read().decode("utf-8", "replace")[-3000:]
                raise BrowseStartError(
                    f"newsarchive browse did not start (exit {process.returncode}): {line.strip()}\n{said}"
                )
            yield match.group(1)
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            process.stdout.close()


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless; a missing browser is an error that says how to install it."""
    if not CHROMIUM.exists():
        raise FileNotFoundError(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
            "(run 'make browser', or 'apt-get install chromium fonts-wqy-microhei')"
        )
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
