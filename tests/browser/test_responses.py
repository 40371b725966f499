"""End to end in Chromium: from a Hull hotspot's profile, record a response from 2024-03 and
see its evaluation render on the Responses page.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser


def _settled(page, timeout: int = 180_000) -> None:
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout)


def test_record_a_response_on_a_hull_hotspot_and_see_its_evaluation(browser, app_url):
    # tall enough for the list, the map and the evaluation in one screenshot
    page = browser.new_page(viewport={"width": 1400, "height": 2700})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{app_url}/hull", wait_until="domcontentloaded", timeout=60_000)
        link = page.get_by_role("link", name="Record a response here")
        link.wait_for(timeout=300_000)
        _settled(page, timeout=300_000)
        link.click()
        page.wait_for_url("**/responses?**", timeout=300_000)
        page.get_by_role("heading", name="Responses").first.wait_for(timeout=300_000)
        _settled(page, timeout=300_000)
        assert "/responses" in page.url and "hotspot=" in page.url
        assert page.locator('[data-testid="stException"]').count() == 0
        # the hotspot picked on the map is preselected in the place picker
        picker = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Hotspots")
        assert picker.get_by_text("Hotspot", exact=False).count() >= 1
        # the new-response form (stored responses have edit forms with the same labels)
        form = page.get_by_test_id("stExpander").filter(
            has=page.get_by_role("button", name="Record response"))
        form.get_by_role("textbox", name="Title", exact=True).fill(
            "Browser test: evening patrols")
        form.get_by_role("textbox", name="Lead agency", exact=True).fill("Humberside Police")
        form.get_by_role("textbox", name="Start month (YYYY-MM)", exact=True).fill("2024-03")
        form.get_by_role("button", name="Record response").click()
        page.get_by_text("Saved response").wait_for(timeout=180_000)
        _settled(page)
        # the evaluation shown is the one just saved
        from geodata.responses import ResponseStore, default_responses_path

        saved = [r for r in ResponseStore(default_responses_path()).list()
                 if r.title == "Browser test: evening patrols"]  # the server's store
        assert len(saved) == 1 and saved[0].start_month == "2024-03"
        assert saved[0].place["kind"] == "hotspots" and len(saved[0].place["ids"]) == 1
        # the page's address names it (written by the run after the save: wait for it)
        page.wait_for_function("id => new URLSearchParams(location.search).get('response')"
                               " === String(id)", arg=saved[0].id, timeout=60_000)
        page.get_by_role("heading", name="Did it work?").wait_for(timeout=180_000)
        _settled(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.get_by_text("Net change, target + buffer (WDD)").count() >= 1
        assert page.get_by_text("Regression to the mean", exact=False).count() >= 1
        page.wait_for_selector('[data-testid="stVegaLiteChart"] canvas, '
                               '[data-testid="stVegaLiteChart"] svg', timeout=60_000)
        page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=60_000)
        page.wait_for_timeout(2000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "page-responses.png"), full_page=True)
        assert not errors, f"JavaScript errors: {errors}"
    finally:
        page.close()
