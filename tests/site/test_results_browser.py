"""The results table of a paper page in a real browser (Debian's Chromium through Playwright): it sorts,
it fits a 390-px-wide phone screen without sideways scrolling of the value column, and a shortened
source shows its whole text on keyboard focus. Skips, like test_browser.py, without Chromium or
Playwright."""

from __future__ import annotations

import contextlib

import pytest
from test_browser import chromium, chromium_page, pytestmark, serve  # noqa: F401 - the shared fixture and skip marks

PHONE = {"width": 390, "height": 844}
PAGE = "papers/gamma2023deep/"


@pytest.fixture(scope="module")
def base(mkdocs_site):
    with serve(mkdocs_site.site) as url:
        yield url


@contextlib.contextmanager
def open_page(browser, url: str, viewport: dict[str, int]):
    """The watched page at ``url``, once its results table shows; closed afterwards."""
    with chromium_page(browser, url, viewport) as (page, watch):
        page.goto(url)
        page.locator("table.pa-paper-results").first.wait_for(state="visible")
        yield page, watch


def value_cells(page) -> list[float]:
    texts = page.locator('table.pa-paper-results >> nth=0').locator('td[data-label="Value"]').all_inner_texts()
    return [float(t.replace("Value:", "").strip()) for t in texts]


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1280, "height": 900}], ids=["phone", "desktop"])
def test_results_table_sorts_by_value(chromium, base, viewport):  # noqa: F811 - the imported fixture
    with open_page(chromium, base + PAGE, viewport) as (page, watch):
        before = value_cells(page)
        assert len(before) == 5
        header = page.locator("table.pa-paper-results >> nth=0").locator("th", has_text="Value")
        header.click()
        assert value_cells(page) == sorted(before)
        assert header.get_attribute("aria-sort") == "ascending"
        header.click()
        assert value_cells(page) == sorted(before, reverse=True)
        header.press("Enter")  # the keyboard sorts too
        assert value_cells(page) == sorted(before)
        watch.assert_clean()


def test_results_table_fits_a_phone_without_scrolling_sideways(chromium, base):  # noqa: F811
    with open_page(chromium, base + PAGE, PHONE) as (page, watch):
        table = page.locator("table.pa-paper-results").first
        # nothing on the page is wider than the screen, and the table does not scroll inside itself
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert table.evaluate("t => t.scrollWidth <= t.clientWidth + 1")
        cells = table.locator('td[data-label="Value"]')
        for i in range(cells.count()):
            box = cells.nth(i).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        # no card (row) is taller than a few lines: the long source is shortened
        heights = table.locator("tbody tr").evaluate_all("rows => rows.map(r => r.getBoundingClientRect().height)")
        line = page.evaluate("parseFloat(getComputedStyle(document.querySelector('table.pa-paper-results td')).lineHeight)")
        assert max(heights) <= 10 * line, (heights, line)
        watch.assert_clean()


def test_shortened_source_shows_whole_text_on_focus(chromium, base):  # noqa: F811
    with open_page(chromium, base + PAGE, PHONE) as (page, watch):
        source = page.locator("table.pa-paper-results .pa-src").first
        full = source.locator(".pa-src-full")
        assert full.bounding_box()["width"] <= 1  # hidden (but read by screen readers) until asked for
        source.focus()
        assert full.bounding_box()["width"] > 50
        assert "three seeds averaged" in full.inner_text()
        watch.assert_clean()
