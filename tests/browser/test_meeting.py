"""Since the last meeting, in a real browser: the link's CSP and month, the comparison, the
map, and the month remembered for the CSP after a change."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from geodata.meetings import last_meeting, meetings_path
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

HULL = "E06000010"


def _settled(page) -> None:
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)
    page.wait_for_timeout(1500)


def _params(page) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def test_meeting_link_comparison_and_remembered_month(browser, app_url):
    meetings_path().unlink(missing_ok=True)
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{app_url}/since-last-meeting?area=hull&since=2024-03",
                  wait_until="domcontentloaded", timeout=60_000)
        page.get_by_role("heading", name="Since the last meeting").first.wait_for(
            timeout=120_000)
        page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=120_000)
        _settled(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.get_by_role(
            "heading", name="Kingston upon Hull, City of: 2024-03 against 2024-02").is_visible()
        for label in ("New hotspots", "Intensifying hotspots", "Diminishing hotspots",
                      "Ceased hotspots"):
            assert page.get_by_text(label, exact=True).first.is_visible()
        assert page.get_by_role("heading", name="Places that moved most").is_visible()
        assert _params(page)["area"] == "hull" and _params(page)["since"] == "2024-03"
        page.screenshot(path=str(ARTIFACTS / "page-since-last-meeting.png"), full_page=True)
        moved = page.locator('[data-testid="stDataFrame"]').first
        moved.scroll_into_view_if_needed()
        page.mouse.move(960, 600)
        page.mouse.wheel(0, 500)
        page.wait_for_timeout(1500)
        assert moved.is_visible()
        page.screenshot(path=str(ARTIFACTS / "page-since-last-meeting-moved.png"))

        # Pick an earlier meeting: the link follows, the comparison says why there is none,
        # and the month is remembered for Hull.
        page.locator('[data-testid="stSelectbox"]').filter(
            has_text="Last meeting (month)").click()
        page.get_by_role("option", name="2024-02").click()
        page.get_by_text(re.compile(r"2023-12 to 2024-01\) are not all stored")).wait_for(
            timeout=120_000)
        _settled(page)
        assert _params(page)["since"] == "2024-02"
        assert last_meeting(HULL) == "2024-02"

        # A new visit without the month opens the remembered one.
        page.goto(f"{app_url}/since-last-meeting?area=hull", wait_until="domcontentloaded",
                  timeout=60_000)
        page.get_by_text(re.compile(r"2023-12 to 2024-01\) are not all stored")).wait_for(
            timeout=120_000)
        _settled(page)
        assert _params(page)["since"] == "2024-02"
        assert not errors, f"JavaScript errors: {errors}"
    finally:
        page.close()
        meetings_path().unlink(missing_ok=True)
