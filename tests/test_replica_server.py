"""The replica runs as a real loopback HTTP server in a subprocess and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.request

import pytest

from scraper.replica.server import is_loopback, portal_main
from scraper.replica.testing import Replica, start_replica


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


def test_fixture_serves_home_robots_article_and_truth(replica: Replica) -> None:
    assert replica.url.startswith("http://127.0.0.1:") and replica.articles == 40
    status, headers, body = fetch(replica.url)
    assert status == 200 and headers["Content-Type"] == "text/html; charset=gb2312"
    assert b'href="/news/yw/"' in body
    robots = fetch(replica.url + "robots.txt")[2].decode("ascii")
    assert "Disallow: /_truth/" in robots and f"Sitemap: {replica.url}sitemap.xml" in robots
    index = replica.index()
    assert len(index) == 40
    truth = replica.truth(index[0]["id"])
    assert truth["url"] == index[0]["url"] and truth["url"].startswith(replica.url)
    status, headers, body = fetch(truth["url"])
    assert status == 200 and int(headers["Content-Length"]) == len(body)


def test_unknown_path_is_404(replica: Replica) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        fetch(replica.url + "no/such/page.html")
    assert caught.value.code == 404


def test_request_log_records_what_was_served(replica: Replica) -> None:
    fetch(replica.url + "sitemap.xml")
    entries = replica.log()
    assert {"method": "GET", "path": "/sitemap.xml", "status": 200} in [
        {k: e[k] for k in ("method", "path", "status")} for e in entries
    ]
    assert all(e["bytes"] >= 0 for e in entries)


def test_cli_prints_url_serves_and_exits_zero_on_sigterm() -> None:
    with start_replica(articles=30, seed=1) as running:
        assert running.articles == 30
        first = running.index()[0]
        assert fetch(first["url"])[0] == 200
        assert json.loads(running.get(f"/_truth/{first['id']}.json"))["id"] == first["id"]
        running.process.send_signal(signal.SIGTERM)
        assert running.process.wait(10) == 0
        assert running.process.stdout is not None and running.process.stdout.read() == b""


def test_latency_makes_every_page_wait_that_long_before_its_answer() -> None:
    with start_replica(articles=3, seed=1, latency_ms=300) as slow:
        started = time.monotonic()
        status, _, _ = fetch(slow.url)
        assert status == 200 and time.monotonic() - started >= 0.3


def test_cli_refuses_a_negative_latency(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        portal_main(["--port", "0", "--latency", "-5"])
    assert caught.value.code == 2 and "--latency -5: give milliseconds from 0 to 60000" in capsys.readouterr().err


def test_cli_refuses_a_non_loopback_host() -> None:
    with pytest.raises(SystemExit) as caught:
        portal_main(["--host", "0.0.0.0", "--port", "0"])
    assert caught.value.code == 2


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("10.1.2.3", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
