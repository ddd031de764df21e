"""The replica's faults: seeded per-URL assignment, transient faults that heal, permanent ones that don't.

Served faults are checked over loopback with http.client, so a reset or a short body shows as such.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from scraper.replica.faults import (
    FAULT_NAMES,
    NORMAL,
    PERMANENT,
    TRANSIENT,
    URL_FAULTS,
    FaultConfig,
    FaultPlan,
    parse_fault_names,
)
from scraper.replica.server import portal_main
from scraper.replica.site import COLUMNS, Portal
from scraper.replica.testing import Replica, start_replica

HOLD = 1.0  # the server's hold; clients below time out well before it
CLIENT_TIMEOUT = 0.3
DRIP = 0.3
OVERSIZE = 200_000
RETRIES = 2


@pytest.fixture(scope="module")
def faulty() -> Iterator[Replica]:
    with start_replica(
        articles=40,
        seed=7,
        faults="all",
        fault_seed=3,
        fault_retries=RETRIES,
        fault_hold=HOLD,
        fault_drip=DRIP,
        fault_oversize=OVERSIZE,
    ) as running:
        yield running


@pytest.fixture(scope="module")
def expected(faulty: Replica) -> dict[str, dict[str, object]]:
    return faulty.faults()


def url_with(expected: dict[str, dict[str, object]], fault: str) -> str:
    return next(url for url, e in expected.items() if e["fault"] == fault)


def request(url: str, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
    """One GET without following redirects or retrying: what the server did, raw."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def plan(**kwargs: object) -> FaultPlan:
    portal = Portal(seed=7, articles=40)
    config = FaultConfig(**{"enabled": frozenset(FAULT_NAMES), **kwargs})  # type: ignore[arg-type]
    return FaultPlan(config, "http://127.0.0.1:9", [a.path for a in portal.articles], [c.path for c in COLUMNS])


# ---- pure decisions ------------------------------------------------------------


def test_every_url_fault_gets_a_url_and_no_url_gets_two() -> None:
    assigned = plan().by_path
    assert set(assigned.values()) == set(URL_FAULTS)
    assert len(assigned) == len(set(assigned))


def test_assignment_is_fixed_by_the_fault_seed() -> None:
    assert plan(seed=1).by_path == plan(seed=1).by_path
    assert plan(seed=1).by_path != plan(seed=2).by_path


def test_robots_blocked_articles_get_no_other_fault() -> None:
    chosen = plan()
    assert chosen.disallowed is not None and chosen.robots_blocked
    assert all(p.startswith(chosen.disallowed) for p in chosen.robots_blocked)
    assert not set(chosen.robots_blocked) & set(chosen.by_path)


@pytest.mark.parametrize("fault", TRANSIENT)
def test_transient_fault_stops_after_the_configured_attempts(fault: str) -> None:
    chosen = plan(retries=3)
    path = next(p for p, f in chosen.by_path.items() if f == fault)
    assert [chosen.decide(path, "", n).fault for n in (1, 2, 3)] == [fault] * 3
    assert chosen.decide(path, "", 4) == NORMAL


@pytest.mark.parametrize("fault", PERMANENT)
def test_permanent_fault_never_stops(fault: str) -> None:
    chosen = plan(retries=1)
    path = next(p for p, f in chosen.by_path.items() if f == fault)
    assert all(chosen.decide(path, "", n).fault == fault for n in (1, 2, 10, 100))


def test_parse_fault_names_accepts_all_and_rejects_unknown_names() -> None:
    assert parse_fault_names("all") == frozenset(FAULT_NAMES)
    assert parse_fault_names("") == frozenset()
    with pytest.raises(ValueError, match="bogus"):
        parse_fault_names("429,bogus")


def test_cli_rejects_an_unknown_fault() -> None:
    with pytest.raises(SystemExit) as caught:
        portal_main(["--port", "0", "--faults", "bogus"])
    assert caught.value.code == 2


# ---- served over loopback --------------------------------------------------------


def test_faults_endpoint_lists_every_fault_with_its_transience(expected: dict[str, dict[str, object]]) -> None:
    assert {e["fault"] for e in expected.values()} == set(FAULT_NAMES)
    for e in expected.values():
        assert e["transient"] is (e["fault"] in TRANSIENT)
        assert e["obtainable"] is not (
            e["fault"] in PERMANENT or e["fault"] in ("robots", "sitemap_bomb", "sitemap_malformed")
        )


def test_server_error_heals_after_retries_and_429_says_when(
    faulty: Replica, expected: dict[str, dict[str, object]]
) -> None:
    for fault in ("5xx", "429"):
        url = url_with(expected, fault)
        failures = [request(url) for _ in range(RETRIES)]
        assert all(status >= 500 if fault == "5xx" else status == 429 for status, _, _ in failures)
        if fault == "429":
            assert all(headers["Retry-After"].isdigit() for _, headers, _ in failures)
        status, _, body = request(url)
        assert status == 200 and b"<h1" in body


def test_reset_drops_the_connection_then_heals(faulty: Replica, expected: dict[str, dict[str, object]]) -> None:
    url = url_with(expected, "reset")
    for _ in range(RETRIES):
        with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
            request(url)
    assert request(url)[0] == 200


def test_timeout_holds_longer_than_a_short_client_timeout(
    faulty: Replica, expected: dict[str, dict[str, object]]
) -> None:
    url = url_with(expected, "timeout")
    for _ in range(RETRIES):
        with pytest.raises(TimeoutError):
            request(url, timeout=CLIENT_TIMEOUT)
    assert request(url)[0] == 200


def test_truncated_body_is_shorter_than_its_content_length(
    faulty: Replica, expected: dict[str, dict[str, object]]
) -> None:
    url = url_with(expected, "truncated")
    for _ in range(RETRIES):
        with pytest.raises(http.client.IncompleteRead) as caught:
            request(url)
        assert caught.value.expected > 0 and len(caught.value.partial) > 0
    status, headers, body = request(url)
    assert status == 200 and len(body) == int(headers["Content-Length"])


def test_drip_sends_the_whole_page_slowly(faulty: Replica, expected: dict[str, dict[str, object]]) -> None:
    url = url_with(expected, "drip")
    started = time.monotonic()
    status, headers, body = request(url)
    assert time.monotonic() - started >= DRIP * 0.9  # a lower bound the server's sleeps guarantee
    assert status == 200 and len(body) == int(headers["Content-Length"]) and body.rstrip().endswith(b"</html>")


def test_redirect_chain_ends_at_the_article(faulty: Replica, expected: dict[str, dict[str, object]]) -> None:
    url = url_with(expected, "redirect_chain")
    hops = []
    status, headers, body = request(url)
    while status in (301, 302) and len(hops) < 10:
        hops.append(headers["Location"])
        status, headers, body = request(headers["Location"])
    assert status == 200 and b"<h1" in body
    assert len(hops) == 3 and hops[-1] == expected[url]["detail"]["final_url"]  # type: ignore[index]


def test_redirect_loop_never_ends(faulty: Replica, expected: dict[str, dict[str, object]]) -> None:
    url = url_with(expected, "redirect_loop")
    seen: list[str] = []
    location = url
    for _ in range(6):
        status, headers, _ = request(location)
        assert status == 302
        location = headers["Location"]
        seen.append(location)
    assert len(set(seen)) < len(seen)


def test_offhost_redirect_points_to_another_loopback_host(
    faulty: Replica, expected: dict[str, dict[str, object]]
) -> None:
    url = url_with(expected, "offhost_redirect")
    status, headers, _ = request(url)
    location = urlsplit(headers["Location"])
    assert status == 302 and location.hostname == "127.0.0.2" and location.hostname != urlsplit(url).hostname


def test_list_pages_link_a_tracking_duplicate(faulty: Replica, expected: dict[str, dict[str, object]]) -> None:
    url = url_with(expected, "tracking_duplicate")
    duplicate = expected[url]["detail"]["duplicate_url"]  # type: ignore[index]
    column = urlsplit(url).path.rsplit("/", 2)[0] + "/"
    listing = faulty.get(column).decode("gbk")
    name = url.rsplit("/", 1)[1]
    assert f"{name}?utm_source=" in listing and f'{name}"' not in listing
    assert request(duplicate)[2] == request(url)[2]


@pytest.mark.parametrize("fault", ["junk", "empty", "oversize"])
def test_bad_bodies_come_with_200(faulty: Replica, expected: dict[str, dict[str, object]], fault: str) -> None:
    url = url_with(expected, fault)
    status, headers, body = request(url)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    if fault == "junk":
        assert b"<html" not in body and len(body) > 1000
    elif fault == "empty":
        assert body == b""
    else:
        assert len(body) == int(headers["Content-Length"]) >= OVERSIZE


def test_robots_disallows_a_column_and_names_the_bad_sitemaps(
    faulty: Replica, expected: dict[str, dict[str, object]]
) -> None:
    robots = faulty.get("/robots.txt").decode("ascii")
    blocked = [url for url, e in expected.items() if e["fault"] == "robots"]
    disallow = expected[blocked[0]]["detail"]["disallow"]  # type: ignore[index]
    assert f"Disallow: {disallow}\n" in robots
    assert all(urlsplit(url).path.startswith(str(disallow)) for url in blocked)
    for fault in ("sitemap_malformed", "sitemap_bomb"):
        assert f"Sitemap: {url_with(expected, fault)}\n" in robots


def test_bomb_sitemap_is_served_small_and_unexpanded(faulty: Replica, expected: dict[str, dict[str, object]]) -> None:
    body = request(url_with(expected, "sitemap_bomb"))[2]
    assert b"<!ENTITY lol9" in body and len(body) < 4096


def test_log_records_fault_and_attempt_per_request(faulty: Replica, expected: dict[str, dict[str, object]]) -> None:
    url = url_with(expected, "empty")
    request(url)
    request(url)
    path = urlsplit(url).path
    # By attempt: the server logs an answer after sending it, so two quick requests can be logged in either order.
    entries = sorted((e for e in faulty.log() if e["path"] == path), key=lambda e: e["attempt"])
    assert [e["fault"] for e in entries[-2:]] == ["empty", "empty"]
    assert entries[-1]["attempt"] == entries[-2]["attempt"] + 1
    assert all(e["status"] == 200 and e["bytes"] == 0 for e in entries)
    reset = [e for e in faulty.log() if e["fault"] in ("reset", "timeout")]
    assert all(e["status"] == 0 for e in reset)


def test_replica_without_faults_serves_an_empty_fault_list(replica: Replica) -> None:
    assert replica.faults() == {}
    assert all(e.get("fault") is None for e in replica.log())
    assert json.loads(replica.get("/_faults")) == {}
