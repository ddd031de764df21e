"""The browse pages in a real browser (Debian's headless Chromium via Playwright), served by `newsarchive browse` in a
subprocess: the article page renders, highlights show with their explanations on hover and on keyboard focus, the
console stays clean, and the page reads on a phone. Screenshots are saved in each test's tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 900}


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A fresh page that records console errors and uncaught exceptions in `page.errors`."""
    context = chromium.new_context(viewport=DESKTOP)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.errors = errors
    yield tab
    context.close()


def open_article(page: Any, url: str, ident: str) -> None:
    response = page.goto(f"{url}article/{ident}")
    assert response is not None and response.status == 200
    page.wait_for_load_state("load")


def test_article_page_renders_with_visible_highlights_in_both_columns(
    page: Any, browse_url: str, browse_sample: Any, screenshot: Any
) -> None:
    open_article(page, browse_url, browse_sample.damaged)
    assert page.locator("h1").inner_text() == browse_sample.data["title"]
    repairs = len(browse_sample.latest["cleaning"]["repairs"])
    restored = page.locator(".restored mark.repair[tabindex]")
    captured = page.locator(".captured mark.repair[tabindex]")
    assert restored.count() == repairs and captured.count() == repairs
    for marks in (restored, captured):
        for n in range(marks.count()):
            box = marks.nth(n).bounding_box()
            assert box is not None and box["width"] > 0 and box["height"] > 0, marks.nth(n).get_attribute("id")
    colour = page.eval_on_selector(".restored mark.k-bytes", "m => getComputedStyle(m).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent")
    screenshot(page, "article-desktop")
    assert page.errors == []


def test_hovering_a_highlight_shows_its_explanation_and_outlines_its_counterpart(
    page: Any, browse_url: str, browse_sample: Any, screenshot: Any
) -> None:
    open_article(page, browse_url, browse_sample.damaged)
    bytes_mark = page.locator(".restored mark.k-bytes").first
    tip = bytes_mark.locator(".tip")
    assert not tip.is_visible()
    bytes_mark.hover()
    tip.wait_for(state="visible")
    assert "Bytes restored: the page showed 「?!崩钕鑼" in tip.inner_text()
    assert "The model chose 「集」 over 建." in tip.inner_text()
    number = bytes_mark.get_attribute("data-repair")
    counterpart = page.locator(f"#c-r{number}")
    page.wait_for_function(f"document.querySelector('#c-r{number}').classList.contains('linked')")
    assert counterpart.inner_text().startswith("?!崩钕鑼")
    box, window = tip.bounding_box(), page.viewport_size
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= window["width"]
    screenshot(page, "article-hover", full_page=False)
    assert page.errors == []


def test_highlights_are_reached_with_the_keyboard_and_explain_themselves_on_focus(
    page: Any, browse_url: str, browse_sample: Any, screenshot: Any
) -> None:
    open_article(page, browse_url, browse_sample.damaged)
    for _ in range(40):  # links of the header and the article come first
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('mark.repair')"):
            break
    else:
        pytest.fail("no highlight was reached with Tab")
    focused = page.locator("mark.repair:focus")
    assert focused.locator(".tip").is_visible()
    described = focused.get_attribute("aria-describedby")
    assert page.locator(f"#{described}").inner_text().strip()
    page.keyboard.press("Tab")
    assert page.locator("mark.repair:focus .tip").is_visible()
    screenshot(page, "article-keyboard-focus", full_page=False)
    page.keyboard.press("Escape")
    assert page.locator("mark.repair:focus").count() == 0
    assert page.errors == []


def test_article_page_reads_on_a_phone(chromium: Any, browse_url: str, browse_sample: Any, screenshot: Any) -> None:
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    phone = context.new_page()
    errors: list[str] = []
    phone.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    open_article(phone, browse_url, browse_sample.damaged)
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"
    restored = phone.locator(".column.restored").bounding_box()
    captured = phone.locator(".column.captured").bounding_box()
    assert restored and captured and captured["y"] >= restored["y"] + restored["height"]  # stacked, not side by side
    size = phone.eval_on_selector(".column-body.text p", "p => parseFloat(getComputedStyle(p).fontSize)")
    assert size >= 14
    mark = phone.locator(".restored mark.k-punctuation").first
    mark.tap()
    tip = mark.locator(".tip")
    tip.wait_for(state="visible")
    box = tip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    screenshot(phone, "article-phone")
    context.close()
    assert errors == []


def test_list_search_and_quarantine_pages_work_in_the_browser(
    page: Any, browse_url: str, browse_sample: Any, screenshot: Any
) -> None:
    page.goto(browse_url)
    page.fill("input[name=q]", "细胞治疗")
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    assert page.locator("table.articles tbody tr").count() == 1
    screenshot(page, "list-search")
    page.click(f"text={browse_sample.data['title']}")
    page.wait_for_url(f"**/article/{browse_sample.damaged}")
    page.click("text=简体")
    assert "江苏细胞和基因技术产" in page.locator(".column-body.text").inner_text()
    page.goto(f"{browse_url}quarantine")
    assert page.locator("table.quarantine tbody tr").count() == 2
    page.goto(f"{browse_url}article/{browse_sample.damaged}/diff")
    assert page.locator("ins").first.is_visible()
    assert page.errors == []
