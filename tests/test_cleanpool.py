"""The cleaning pool: pages cleaned in worker processes, an overrun quarantined and its worker replaced."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from scraper.cleaner import clean_page
from scraper.cleanpool import CleanerBug, CleanPool, run_inline

PAGE = "<html><body><h1 class='title'>標題</h1><div class='TRS_Editor'><p>產(chǎn)業發展。</p></div></body></html>"


@pytest.fixture(scope="module")
def pool() -> Iterator[CleanPool]:
    running = CleanPool("crawling.slow_or_crashing", size=2, budget=2.0)
    yield running
    running.close()


def test_a_page_is_cleaned_in_a_worker_as_it_is_inline(pool: CleanPool) -> None:
    body = PAGE.encode("gbk")
    outcome = pool.clean(body, None, {"Content-Type": "text/html; charset=gbk"})
    inline = run_inline(clean_page, body, None, {"Content-Type": "text/html; charset=gbk"})
    assert outcome.value == inline.value and outcome.value["paragraphs"] == ["產業發展。"]


def test_a_refusal_comes_back_with_its_reason_and_text(pool: CleanPool) -> None:
    outcome = pool.clean(bytes(range(0x81, 0xFF)) * 100, None, {})
    assert outcome.value is None and outcome.reason == "clean_error" and "not a page of Chinese text" in outcome.message


def test_a_page_over_the_budget_is_timed_out_and_its_worker_replaced(pool: CleanPool) -> None:
    replaced = pool.replaced
    outcome = pool.clean(b"SLOW", None, {})
    assert outcome.reason == "clean_timeout" and "2 s" in outcome.message
    assert pool.replaced == replaced + 1
    assert pool.clean(PAGE.encode("utf-8"), None, {}).value is not None  # the pool still cleans


def test_other_pages_are_cleaned_while_one_overruns(pool: CleanPool) -> None:
    with ThreadPoolExecutor(2) as threads:
        slow = threads.submit(pool.clean, b"SLOW", None, {})
        quick = [pool.clean(PAGE.encode("utf-8"), None, {}) for _ in range(5)]
        assert all(outcome.value is not None for outcome in quick)
        assert slow.result().reason == "clean_timeout"


def test_a_crash_is_retried_once_on_a_fresh_worker(pool: CleanPool, tmp_path: Path) -> None:
    outcome = pool.clean(b"CRASH-ONCE:" + str(tmp_path / "crashed").encode(), None, {})
    assert outcome.value is not None and outcome.value["title"] == "x"


def test_a_page_that_kills_its_worker_twice_is_a_clean_crash(pool: CleanPool) -> None:
    outcome = pool.clean(b"CRASH", None, {})
    assert outcome.reason == "clean_crash" and "exit code 3" in outcome.message
    assert pool.clean(PAGE.encode("utf-8"), None, {}).value is not None


def test_a_bug_in_the_cleaner_is_raised_not_booked_as_a_page_problem() -> None:
    pool = CleanPool("crawling.broken_clean", size=1, budget=5.0)
    try:
        with pytest.raises(CleanerBug, match="KeyError"):
            pool.clean(PAGE.encode("utf-8"), "http://x/t20250101_1.html", {})
    finally:
        pool.close()


def test_a_cleaner_that_cannot_start_is_raised_for_every_page_without_a_hang() -> None:
    pool = CleanPool("crawling.no_such_cleaner", size=1, budget=5.0)
    try:
        for _ in range(2):
            with pytest.raises(CleanerBug, match=r"no_such_cleaner|start"):
                pool.clean(PAGE.encode("utf-8"), None, {})
    finally:
        pool.close()
