"""RetryAfterMiddleware's decision: how long a 429 or 503 is held before its retry (the crawl test times the real wait)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response

from scraper.middlewares import RetryAfterMiddleware, retry_after_seconds


@pytest.fixture
def middleware(project_crawler: Callable[..., Crawler]) -> Callable[..., RetryAfterMiddleware]:
    """middleware(**settings): a RetryAfterMiddleware of a crawler with the project's settings, RETRY_TIMES=2."""

    def make(**settings: object) -> RetryAfterMiddleware:
        return RetryAfterMiddleware.from_crawler(project_crawler(RETRY_TIMES=2, **settings))

    return make


def answer(status: int, retry_after: str | None) -> Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return Response("http://h/a.html", status=status, headers=headers)


def test_a_429_waits_as_long_as_it_asks(middleware: Callable[..., RetryAfterMiddleware]) -> None:
    assert middleware().wait_for(Request("http://h/a.html"), answer(429, "3")) == 3.0


def test_a_retry_after_date_is_read_as_the_time_until_then(middleware: Callable[..., RetryAfterMiddleware]) -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    waited = middleware().wait_for(Request("http://h/a.html"), answer(503, format_datetime(when, usegmt=True)))
    assert 25 <= waited <= 30


def test_a_long_retry_after_is_capped_by_the_setting(middleware: Callable[..., RetryAfterMiddleware]) -> None:
    capped = middleware(PORTAL_RETRY_AFTER_MAX=0.5)
    assert capped.wait_for(Request("http://h/a.html"), answer(429, "3600")) == 0.5


@pytest.mark.parametrize(
    ("request_meta", "status", "header"),
    [
        ({"retry_times": 2}, 429, "5"),  # the last attempt: no retry follows, nothing to wait for
        ({"dont_retry": True}, 429, "5"),
        ({}, 200, "5"),
        ({}, 500, "5"),  # Retry-After only means something on 429 and 503
        ({}, 429, None),
        ({}, 429, "whenever"),
    ],
)
def test_no_wait_without_a_retry_that_needs_one(
    request_meta: dict[str, object], status: int, header: str | None, middleware: Callable[..., RetryAfterMiddleware]
) -> None:
    request = Request("http://h/a.html", meta=request_meta)
    assert middleware().wait_for(request, answer(status, header)) == 0.0


def test_a_cap_of_zero_turns_the_middleware_off(middleware: Callable[..., RetryAfterMiddleware]) -> None:
    with pytest.raises(NotConfigured):
        middleware(PORTAL_RETRY_AFTER_MAX=0)


def test_retry_after_seconds_reads_both_forms() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert retry_after_seconds(" 7 ", now) == 7.0
    assert retry_after_seconds("Tue, 31 Dec 2024 23:59:00 GMT", now) == 0.0  # a date in the past: no wait
    assert retry_after_seconds(None, now) is None
