"""Start a replica portal in a subprocess for tests, like Scrapy's mock server.

The URL is read from the server's first stdout line: no sleeps, no fixed ports.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
_SERVING = re.compile(r"Replica portal serving (\d+) articles at (http://\S+/)")
STOP_TIMEOUT = 10


@dataclass(frozen=True)
class Replica:
    """A running replica: its base URL, article count and process."""

    url: str
    articles: int
    process: subprocess.Popen[bytes]

    def get(self, path: str) -> bytes:
        """Body of a path on the replica (loopback only)."""
        with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=10) as response:
            body: bytes = response.read()
            return body

    def truth(self, ident: str) -> dict[str, Any]:
        """The clean record of an article, from `/_truth/<id>.json`."""
        record: dict[str, Any] = json.loads(self.get(f"/_truth/{ident}.json"))
        return record

    def index(self) -> list[dict[str, str]]:
        """Every article's id and absolute URL, from `/_truth/`."""
        entries: list[dict[str, str]] = json.loads(self.get("/_truth/"))
        return entries

    def log(self) -> list[dict[str, Any]]:
        """The requests the replica served so far, from `/_log`."""
        return [json.loads(line) for line in self.get("/_log").decode("utf-8").splitlines()]

    def faults(self) -> dict[str, dict[str, Any]]:
        """URL -> the fault it gets and whether it is transient/obtainable, from `/_faults`."""
        faults: dict[str, dict[str, Any]] = json.loads(self.get("/_faults"))
        return faults


@contextmanager
def start_replica(
    articles: int = 40,
    seed: int = 7,
    changed: int = 0,
    *,
    faults: str | Iterable[str] = "",
    fault_seed: int = 0,
    fault_retries: int | None = None,
    fault_hold: float | None = None,
    fault_drip: float | None = None,
    fault_oversize: int | None = None,
    fault_share: float | None = None,
    fault_bomb: int | None = None,
    latency_ms: float = 0,
) -> Iterator[Replica]:
    """Run `python -m scraper.replica` on a free loopback port; stop it with SIGTERM on exit.

    `faults` is `"all"`, a comma-separated string or names (see `scraper.replica.faults`);
    the other `fault_*` options map to the `--fault-*` flags (None keeps the default); `latency_ms` to `--latency`.
    """
    command = [
        sys.executable,
        "-m",
        "scraper.replica",
        "--port",
        "0",
        "--articles",
        str(articles),
        "--seed",
        str(seed),
        "--changed",
        str(changed),
    ]
    if latency_ms:
        command += ["--latency", str(latency_ms)]
    names = faults if isinstance(faults, str) else ",".join(faults)
    if names:
        command += ["--faults", names, "--fault-seed", str(fault_seed)]
    options = {
        "retries": fault_retries,
        "hold": fault_hold,
        "drip": fault_drip,
        "oversize": fault_oversize,
        "share": fault_share,
        "bomb": fault_bomb,
    }
    command += [arg for name, value in options.items() if value is not None for arg in (f"--fault-{name}", str(value))]
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=stderr)
        try:
            assert process.stdout is not None
            line = process.stdout.readline().decode("utf-8")
            match = _SERVING.match(line)
            if match is None:
                process.kill()
                process.wait()
                stderr.seek(0)
                raise RuntimeError(f"replica did not start: {line!r}\n{stderr.read().decode(errors='replace')}")
            yield Replica(match.group(2), int(match.group(1)), process)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            if process.stdout is not None:
                process.stdout.close()
