"""What really reaches the browser, per role, and that data strings stay inert.

A second server runs with local accounts and a store holding one extra month whose location
text is an HTML injection attempt. Playwright records every websocket frame the server sends;
the tests look for incident coordinates in them.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from argon2 import PasswordHasher

from auth.users import UserStore
from geodata.crs import lonlat_to_bng
from geodata.incidents import POLICE_UK_COLUMNS
from geodata.ingest import ingest_files, open_store
from tests.browser.conftest import ARTIFACTS, _serve

pytestmark = pytest.mark.browser

ATTACK = "<img src=x onerror=alert(1)>"
PASSWORD = "correct horse battery"
PAIR = re.compile(r"\[\s*(-?\d{1,2}\.\d+)\s*,\s*(-?\d{1,2}\.\d+)\s*\]")
LONLAT = re.compile(r'"lon"\s*:\s*(-?\d{1,2}\.\d+)\s*,\s*"lat"\s*:\s*(-?\d{1,2}\.\d+)')
# Hull (E06000010) with a margin for the density grid's padding, in degrees.
HULL_BOX = (-0.50, 53.68, -0.14, 53.86)


@pytest.fixture(scope="module")
def accounts(tmp_path_factory, chromium_path):
    folder = tmp_path_factory.mktemp("accounts")
    store = open_store(folder / "store")
    rows = [{c: "" for c in POLICE_UK_COLUMNS} | {
        "Month": "2024-04", "Falls within": "Humberside Police", "Longitude": f"{lon:.6f}",
        "Latitude": "53.745200", "Location": ATTACK, "LSOA code": "E01012756",
        "Crime type": "Possession of weapons"} for lon in (-0.3361, -0.3362, -0.3363)]
    path = folder / "2024-04-humberside-street.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    ingest_files([path], store=store, user="test")
    users = UserStore(folder / "users.json",
                      hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    for name, role in (("ana", "analyst"), ("hull", "csp:E06000010"), ("vsec", "partner")):
        users.add(name, role=role, password=PASSWORD)
    incidents = store.query(in_area=None, columns=["lon", "lat", "lad_code"])
    server = _serve("streamlit-accounts.log", {"HUMBER_DATA_DIR": str(folder / "store"),
                                               "HUMBER_USERS_FILE": str(folder / "users.json")})
    url = next(server)
    yield url, incidents
    next(server, None)


def _log_in(browser, url: str, name: str):
    page = browser.new_page(viewport={"width": 1500, "height": 1300})
    frames: list[bytes] = []
    page.on("websocket", lambda ws: ws.on(
        "framereceived", lambda payload: frames.append(
            payload if isinstance(payload, bytes) else payload.encode())))
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(url, wait_until="domcontentloaded", timeout=60_000)
    page.get_by_role("textbox", name="Username").fill(name)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text(f"Signed in as {name}").wait_for(timeout=120_000)
    return page, frames, dialogs


def _visit(page, link: str) -> None:
    """Follow a sidebar link: a reload would start a new session (and sign out)."""
    page.get_by_role("link", name=link, exact=True).first.click()
    _settle(page)


def _settle(page) -> None:
    page.wait_for_timeout(1500)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=180_000)
    page.wait_for_timeout(1000)


def _coordinates(frames: list[bytes]) -> set[tuple[float, float]]:
    text = b"".join(frames).decode("latin-1")
    pairs = {(float(a), float(b)) for a, b in PAIR.findall(text)}
    pairs |= {(float(a), float(b)) for a, b in LONLAT.findall(text)}
    return {(lon, lat) for lon, lat in pairs if -9 < lon < 2 and 49 < lat < 61}


def _off_grid(pairs: set[tuple[float, float]]) -> set[tuple[float, float]]:
    """Pairs that are not corners of the 50 m British National Grid.

    Aggregate-only roles see outlines snapped to a 50 m grid and 100 m predicted cells; some
    police.uk map points sit exactly on round grid coordinates (e.g. 491000 E, 408400 N), so a
    grid corner can equal one of them without coming from it.
    """
    if not pairs:
        return set()
    lon, lat = zip(*sorted(pairs))
    x, y = lonlat_to_bng(lon, lat)
    on_grid = ((np.abs(x - np.round(x / 50) * 50) < 0.1)
               & (np.abs(y - np.round(y / 50) * 50) < 0.1))
    return {p for p, grid in zip(sorted(pairs), on_grid) if not grid}


def _incident_points(incidents: pd.DataFrame) -> set[tuple[float, float]]:
    return set(zip(incidents["lon"].round(6), incidents["lat"].round(6)))


def test_csp_user_receives_nothing_from_outside_their_csp(browser, accounts):
    url, incidents = accounts
    page, frames, _ = _log_in(browser, url, "hull")
    try:
        _settle(page)
        for link in ("Hull", "Methods", "Need (commissioning)"):
            _visit(page, link)
        page.screenshot(path=str(ARTIFACTS / "role-csp.png"), full_page=False)
        nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
        assert "East Riding" not in nav and "Humber overview" not in nav and "Data" not in nav
        seen = _coordinates(frames)
        assert seen, "no map coordinates were captured at all"
        lon0, lat0, lon1, lat1 = HULL_BOX
        outside = [p for p in seen if not (lon0 <= p[0] <= lon1 and lat0 <= p[1] <= lat1)]
        assert not outside, f"{len(outside)} coordinates outside Hull, e.g. {outside[:3]}"
        others = incidents[incidents["lad_code"].fillna("") != "E06000010"]
        assert not seen & _incident_points(others)
    finally:
        page.close()


def test_partner_receives_no_incident_coordinates(browser, accounts):
    url, incidents = accounts
    page, frames, _ = _log_in(browser, url, "vsec")
    try:
        _settle(page)
        for link in ("Need (commissioning)", "North East Lincolnshire", "Hull"):
            _visit(page, link)
        page.screenshot(path=str(ARTIFACTS / "role-partner-hull.png"), full_page=False)
        seen = _coordinates(frames)
        assert seen, f"no map coordinates captured in {len(frames)} frames"
        leaked = _off_grid(seen & _incident_points(incidents))
        assert not leaked, sorted(leaked)[:10]
        assert b'"ScatterplotLayer"' not in b"".join(frames)
        assert b"&lt;5" in b"".join(frames)  # small counts were sent as "<5" only
    finally:
        page.close()


def test_location_text_with_html_is_rendered_inert(browser, accounts):
    url, _ = accounts
    page, _, dialogs = _log_in(browser, url, "ana")
    try:
        _settle(page)
        _visit(page, "Hull")
        page.get_by_role("textbox", name="Find a place").fill("onerror")
        page.keyboard.press("Enter")
        page.get_by_text(ATTACK).first.wait_for(timeout=120_000)  # the match, as text
        _settle(page)
        canvas = page.locator('[data-testid="stDeckGlJsonChart"] canvas').first
        box = canvas.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(ARTIFACTS / "xss-location.png"))
        assert not dialogs, f"a script ran: {dialogs}"
        assert page.locator('img[src="x"]').count() == 0
        assert page.get_by_text(ATTACK).count() >= 1  # shown as text
    finally:
        page.close()


def test_sign_in_survives_a_reload_and_sign_out_ends_it(browser, accounts):
    url, _ = accounts
    page, _, _ = _log_in(browser, url, "ana")
    try:
        _settle(page)
        page.reload(wait_until="domcontentloaded")
        page.get_by_text("Signed in as ana").wait_for(timeout=120_000)  # resumed
        page.get_by_role("button", name="Log out").click()
        page.get_by_role("button", name="Log in").wait_for(timeout=120_000)  # sign-out route
        page.reload(wait_until="domcontentloaded")
        page.get_by_role("button", name="Log in").wait_for(timeout=120_000)
        assert page.get_by_text("Signed in as").count() == 0
    finally:
        page.close()
