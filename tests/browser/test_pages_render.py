"""Open every page in headless Chromium and check that its map really draws."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from config import get_config
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

PAGES = ([("overview", "Humber overview"), ("need", "Need: violence, deprivation and population")]
         + [(a.slug, a.name) for a in get_config().areas])


def _load_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1600, "height": 1400})
    messages = []
    page.on("pageerror", lambda error: messages.append(str(error)))
    page.goto(url, wait_until="domcontentloaded", timeout=60_000)
    page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=120_000)
    # Streamlit shows a "running" status widget until the script has finished.
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)
    if not url.endswith("/need"):  # the map pages fit their map to its size
        # the map is drawn again once the page has told the server its size (see
        # tests/browser/test_map_layout.py): wait for that redraw before reading it
        from tests.browser.test_map_layout import _settle
        _settle(page)
    page.wait_for_timeout(2500)  # let deck.gl draw its layers (software WebGL)
    return page, messages


@pytest.mark.parametrize(("slug", "title"), PAGES, ids=[p[0] for p in PAGES])
def test_page_renders_a_non_blank_map(browser, app_url, slug, title):
    page, errors = _load_page(browser, f"{app_url}/{slug}")
    try:
        assert page.get_by_role("heading", name=title).first.is_visible()
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.get_by_text("Page not found").count() == 0  # bookmarked links work
        chart = page.locator('[data-testid="stDeckGlJsonChart"]').first
        png = chart.screenshot()
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"map-{slug}.png").write_bytes(png)
        page.screenshot(path=str(ARTIFACTS / f"page-{slug}.png"), full_page=True)
        pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
        background = np.median(pixels, axis=0)
        drawn = np.abs(pixels.astype(int) - background).sum(axis=1) > 30
        colours = len(np.unique(pixels[::7], axis=0))
        # With no basemap tiles, only the dashboard's own layers can colour the canvas.
        assert drawn.mean() > 0.02, \
            f"only {drawn.mean():.1%} of the map differs from its background"
        assert colours > 20, f"the map has only {colours} distinct colours"
        assert not errors, f"JavaScript errors: {errors}"
    finally:
        page.close()


@pytest.mark.parametrize(("slug", "title"), [("methods", "Methods"), ("data", "Data")])
def test_evidence_pages_render_without_errors(browser, app_url, slug, title):
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{app_url}/{slug}", wait_until="domcontentloaded", timeout=60_000)
        page.get_by_role("heading", name=title).first.wait_for(timeout=120_000)
        page.wait_for_selector('[data-testid="stDataFrame"]', timeout=180_000)
        page.wait_for_function(
            "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
            timeout=180_000)
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(ARTIFACTS / f"page-{slug}.png"), full_page=True)
        assert not errors, f"JavaScript errors: {errors}"
    finally:
        page.close()


def test_the_root_address_opens_the_overview_under_its_own_address(browser, app_url):
    page, errors = _load_page(browser, app_url + "/")
    try:
        assert page.get_by_role("heading", name="Humber overview").first.is_visible()
        assert page.url.split("?")[0].endswith("/overview")  # a link copied now works later
        assert page.get_by_text("Page not found").count() == 0
        assert not errors
    finally:
        page.close()
