"""A real Scrapyd on loopback: the project deployed as an egg through scrapy.cfg's [deploy] target, `portal` scheduled with
schedule.json against the replica, and the archive it writes checked with `newsarchive verify`."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scraper.replica.testing import Replica

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
START_TIMEOUT = 30.0  # seconds for Scrapyd to answer daemonstatus.json
JOB_TIMEOUT = 180.0  # seconds for the scheduled crawl of 40 articles to finish
POLL = 0.2
# What the egg needs beyond pyproject.toml: the entry point through which Scrapyd finds the settings.
# (scrapyd-deploy writes a setup.py without package data when none exists; we give it one.)
ENTRY_POINT = '\n[project.entry-points.scrapy]\nsettings = "scraper.settings"\n'
SETUP_PY = "from setuptools import setup\n\nsetup()\n"


def free_port() -> int:
    # Scrapyd cannot bind port 0 (it needs the number in its config); the window between closing
    # this socket and Scrapyd binding the port is short, and a clash shows as a start failure.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def post_json(url: str, fields: list[tuple[str, str]]) -> dict[str, Any]:
    data = urllib.parse.urlencode(fields).encode()
    with urllib.request.urlopen(url, data=data, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Scrapyd with its own config, eggs, logs and dbs; yields its base URL."""
    home = tmp_path_factory.mktemp("scrapyd")
    port = free_port()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\nbind_address = 127.0.0.1\n"
        f"http_port = {port}\npoll_interval = 0.2\nmax_proc = 1\n"
        f"eggs_dir = {home / 'eggs'}\nlogs_dir = {home / 'logs'}\ndbs_dir = {home / 'dbs'}\n",
        encoding="utf-8",
    )
    url = f"http://127.0.0.1:{port}/"
    with open(home / "scrapyd.out", "wb") as log:
        # Scrapyd reads ./scrapyd.conf: the cwd is its home.
        process = subprocess.Popen([str(BIN / "scrapyd")], cwd=home, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while True:
                try:
                    if get_json(url + "daemonstatus.json")["status"] == "ok":
                        break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"scrapyd did not start: {(home / 'scrapyd.out').read_text(errors='replace')[-2000:]}"
                    )
                time.sleep(POLL)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def project_copy(dest: Path, scrapyd_url: str) -> Path:
    """The project as scrapyd-deploy sees it, with scrapy.cfg's [deploy] url pointed at the test's Scrapyd."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("scraper", "archive"):
        shutil.copytree(REPO / package, dest / package, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        if (REPO / name).exists():
            shutil.copy(REPO / name, dest / name)
    pyproject = (dest / "pyproject.toml").read_text(encoding="utf-8")
    if "[project.entry-points.scrapy]" not in pyproject:
        (dest / "pyproject.toml").write_text(pyproject + ENTRY_POINT, encoding="utf-8")
    if not (dest / "setup.py").exists():
        (dest / "setup.py").write_text(SETUP_PY, encoding="utf-8")
    cfg = (REPO / "scrapy.cfg").read_text(encoding="utf-8")
    lines = [f"url = {scrapyd_url}" if line.startswith("url") else line for line in cfg.splitlines()]
    (dest / "scrapy.cfg").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dest


def wait_for_job(scrapyd: str, job: str) -> dict[str, Any]:
    deadline = time.monotonic() + JOB_TIMEOUT
    while time.monotonic() < deadline:
        jobs = get_json(scrapyd + "listjobs.json?project=newsarchive")
        for finished in jobs.get("finished", []):
            if finished["id"] == job:
                return finished
        time.sleep(POLL)
    raise AssertionError(f"job {job} not finished after {JOB_TIMEOUT:.0f} s: {jobs}")


def test_scrapyd_runs_a_deployed_crawl_that_writes_a_valid_archive(
    scrapyd: str, replica: Replica, tmp_path: Path
) -> None:
    project = project_copy(tmp_path / "project", scrapyd)
    deployed = subprocess.run(
        [str(BIN / "scrapyd-deploy"), "--version", "r1"], cwd=project, capture_output=True, text=True, timeout=180
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert '"status": "ok"' in deployed.stdout, deployed.stdout + deployed.stderr
    assert "portal" in get_json(scrapyd + "listspiders.json?project=newsarchive")["spiders"]

    out = tmp_path / "archive-data"
    scheduled = post_json(
        scrapyd + "schedule.json",
        [
            ("project", "newsarchive"),
            ("spider", "portal"),
            ("start_url", replica.url),
            ("setting", f"ARCHIVE_DIR={out}"),
            ("setting", "ARCHIVE_CRAWL_ID=scrapyd-1"),
        ],
    )
    assert scheduled["status"] == "ok", scheduled
    finished = wait_for_job(scrapyd, scheduled["jobid"])

    manifest_path = out / "manifests" / "scrapyd-1.json"
    assert manifest_path.is_file(), f"no manifest; job {finished}"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert manifest["summary"]["archived"] == replica.articles
    verify = subprocess.run(
        [sys.executable, "-m", "scraper", "verify", str(out)], capture_output=True, text=True, timeout=120
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
