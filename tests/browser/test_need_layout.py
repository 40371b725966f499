"""The Need table at a laptop's and a projector's size: the LSOA pinned, key columns in view.

The data grid draws on a canvas and keeps an accessible header row for the columns it has
drawn (it renders only the columns in view), so the header cells present are the columns a
user sees without scrolling sideways.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

SIZES = [(1366, 768), (1920, 1080)]
KEY = ["LSOA", "In a hotspot", "Incidents", "Rate per 1,000 per year", "Change", "Change (%)",
       "Residents", "IMD decile"]
HEADERS = """() => [...document.querySelector('[data-testid="stDataFrame"]')
    .querySelectorAll('[role="columnheader"]')].map(h => h.textContent)"""


def _wait_until_idle(page) -> None:
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)
    page.wait_for_timeout(1500)


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_need_table_pins_the_lsoa_and_shows_the_key_columns(browser, app_url, width, height):
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        page.goto(f"{app_url}/need", wait_until="domcontentloaded", timeout=60_000)
        grid = page.locator('[data-testid="stDataFrame"]').first
        grid.wait_for(timeout=120_000)
        _wait_until_idle(page)
        page.screenshot(path=str(ARTIFACTS / f"need-page-{width}x{height}.png"), full_page=True)
        grid.scroll_into_view_if_needed()
        box = grid.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width  # the grid fits the window
        assert page.evaluate(HEADERS)[:len(KEY)] == KEY
        page.screenshot(path=str(ARTIFACTS / f"need-table-{width}x{height}.png"))

        # With every column, the key ones are still the ones in view without scrolling ...
        page.get_by_text("Show every column").click()
        _wait_until_idle(page)
        grid.scroll_into_view_if_needed()
        shown = page.evaluate(HEADERS)
        assert shown[:len(KEY)] == KEY
        assert "LSOA code" not in shown  # the last column, far off to the right
        # ... and scrolled to the far right, the LSOA stays pinned while the others go.
        box = grid.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.wheel(5000, 0)
        page.wait_for_timeout(1500)
        scrolled = page.evaluate(HEADERS)
        assert scrolled[0] == "LSOA" and "LSOA code" in scrolled
        assert "In a hotspot" not in scrolled
        page.screenshot(path=str(ARTIFACTS / f"need-table-scrolled-{width}x{height}.png"))
    finally:
        page.close()
