"""What really reaches the browser, per role, and that data strings stay inert.

A second server runs with local accounts and a store holding one extra month whose location
text is an HTML injection attempt. Playwright records every websocket frame the server sends;
the tests look for incident coordinates in them.
"""

from __future__ import annotations

import contextlib
import re

import numpy as np
import pandas as pd
import pytest
from argon2 import PasswordHasher

from auth.users import UserStore
from geodata.crs import lonlat_to_bng
from geodata.incidents import POLICE_UK_COLUMNS
from geodata.ingest import ingest_files, open_store
from tests.browser.conftest import ARTIFACTS, _serve, settle, sign_in
from tests.support.attacker import (
    image_corners,
    images_in,
    isolated,
    nearest_peak_distance,
    peaks_bng,
)
from tests.support.frames import coordinates, public_vertices
from ui.concentration_view import SECTION_LABEL as CONCENTRATION

pytestmark = pytest.mark.browser

ATTACK = "<img src=x onerror=alert(1)>"
PASSWORD = "correct horse battery"
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
    incidents = store.query(in_area=None, columns=["lon", "lat", "x", "y", "lad_code", "crime_type", "in_area"])
    server = _serve("streamlit-accounts.log", {"HUMBER_DATA_DIR": str(folder / "store"),
                                               "HUMBER_USERS_FILE": str(folder / "users.json")})
    url = next(server)
    yield url, incidents
    next(server, None)


@contextlib.contextmanager
def _signed_in(browser, url: str, name: str, *links: str):
    """A new page signed in as `name`, settled, then through each sidebar link of `links`;
    closed on exit. Yields the page, the websocket frames it receives and its dialogs."""
    page = browser.new_page(viewport={"width": 1500, "height": 1300})
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        frames = sign_in(page, url, name, PASSWORD)
        settle(page)
        for link in links:
            _visit(page, link)
        yield page, frames, dialogs
    finally:
        page.close()


def _visit(page, link: str) -> None:
    """Follow a sidebar link: a reload would start a new session (and sign out)."""
    page.get_by_role("link", name=link, exact=True).first.click()
    settle(page)




def _default_selection_isolated(incidents: pd.DataFrame) -> np.ndarray:
    """BNG (x, y) of incidents with no other within 500 m in the pages' default selection
    (default crime group, every stored month) of the whole Humber: an incident isolated
    there is isolated in its CSP's and ward's selections too, so every image received (the
    overview's and the CSP pages') must keep away from it."""
    from config import get_config

    config = get_config()
    types = config.crime_group(config.default_crime_group).types
    chosen = incidents[incidents["crime_type"].isin(types) & incidents["in_area"]]
    x, y = chosen["x"].to_numpy(float), chosen["y"].to_numpy(float)
    alone = isolated(x, y)
    return np.column_stack([x[alone], y[alone]])


def _incident_points(incidents: pd.DataFrame) -> set[tuple[float, float]]:
    return set(zip(incidents["lon"].round(6), incidents["lat"].round(6)))


def test_csp_user_receives_nothing_from_outside_their_csp(browser, accounts):
    url, incidents = accounts
    with _signed_in(browser, url, "hull", "Hull", "Methods", "Need (commissioning)") as (
            page, frames, _):
        page.screenshot(path=str(ARTIFACTS / "role-csp.png"), full_page=False)
        nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
        assert "East Riding" not in nav and "Humber overview" not in nav and "Data" not in nav
        seen = coordinates(frames)
        assert seen, "no map coordinates were captured at all"
        lon0, lat0, lon1, lat1 = HULL_BOX
        outside = [p for p in seen if not (lon0 <= p[0] <= lon1 and lat0 <= p[1] <= lat1)]
        assert not outside, f"{len(outside)} coordinates outside Hull, e.g. {outside[:3]}"
        others = incidents[incidents["lad_code"].fillna("") != "E06000010"]
        assert not seen & _incident_points(others)


def test_partner_receives_nothing_that_locates_an_incident_or_a_small_count(browser, accounts):
    """The attack of the issue, replayed on what a partner's browser receives."""
    url, incidents = accounts
    with _signed_in(browser, url, "vsec", "Need (commissioning)") as (page, frames, _):
        page.get_by_text(CONCENTRATION).click()   # computed and sent only once opened
        settle(page)
        for link in ("North East Lincolnshire", "Hull"):
            _visit(page, link)
        page.screenshot(path=str(ARTIFACTS / "role-partner-hull.png"), full_page=False)
        blob = b"".join(frames)
        text = blob.decode("latin-1")
        assert "Generalised Gini" in text       # the concentration figures were received
        assert b'"ScatterplotLayer"' not in blob
        # 1. Surfaces: decode every image received, take its peaks; none on an isolated incident.
        alone = _default_selection_isolated(incidents)
        images = images_in(blob)
        assert images, "no density image reached the browser"
        assert len(alone) >= 10
        for rgba, corners in images:
            distances = nearest_peak_distance(alone, peaks_bng(rgba, corners))
            assert distances.min() > 250, distances.min()
        # 2. Geometry: every coordinate that is not a published boundary vertex or an image
        #    corner (outlines, predicted cells) keeps its distance from isolated incidents.
        seen = coordinates(frames)
        assert seen, f"no map coordinates captured in {len(frames)} frames"
        derived = sorted(seen - public_vertices() - image_corners(blob))
        assert derived, "no outline reached the browser"
        x, y = lonlat_to_bng([p[0] for p in derived], [p[1] for p in derived])
        distances = nearest_peak_distance(alone, np.column_stack([x, y]))
        assert distances.min() > 150, distances.min()
        # 3. Counts: "<5" or multiples of 5; rates give back multiples of 5; no shares.
        counts = re.findall(r"Incidents: (<5|[\d,]+)", text)
        assert "<5" in counts
        assert all(c == "<5" or int(c.replace(",", "")) % 5 == 0 for c in counts), counts
        assert not re.search(r"Crime mix: [^\"<]*%", text)
        population = _populations()
        rates = re.findall(r"\((E01\d{6})\)[^\"]*?Rate per 1,000 residents per year: "
                           r"([\d,.]+) \(annualised from (\d+) months", text)
        assert rates
        for code, rate, months in rates:  # per year: back to the period with months / 12
            recovered = float(rate.replace(",", "")) * population[code] / 1000 * int(months) / 12
            assert abs(recovered - 5 * round(recovered / 5)) <= 0.1 * population[code] / 1000


def _populations():
    from geodata.reference import load_lsoa_table

    return load_lsoa_table().set_index("lsoa21cd")["population"]


def test_location_text_with_html_is_rendered_inert(browser, accounts):
    url, _ = accounts
    with _signed_in(browser, url, "ana", "Hull") as (page, _, dialogs):
        page.get_by_role("textbox", name="Find a place").fill("onerror")
        page.keyboard.press("Enter")
        page.get_by_text(ATTACK).first.wait_for(timeout=120_000)  # the match, as text
        settle(page)
        canvas = page.locator('[data-testid="stDeckGlJsonChart"] canvas').first
        box = canvas.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(ARTIFACTS / "xss-location.png"))
        assert not dialogs, f"a script ran: {dialogs}"
        assert page.locator('img[src="x"]').count() == 0
        assert page.get_by_text(ATTACK).count() >= 1  # shown as text


def test_sign_in_survives_a_reload_and_sign_out_ends_it(browser, accounts):
    url, _ = accounts
    with _signed_in(browser, url, "ana") as (page, _, _):
        page.reload(wait_until="domcontentloaded")
        page.get_by_text("Signed in as ana").wait_for(timeout=120_000)  # resumed
        page.get_by_role("button", name="Log out").click()
        page.get_by_role("button", name="Log in").wait_for(timeout=120_000)  # sign-out route
        page.reload(wait_until="domcontentloaded")
        page.get_by_role("button", name="Log in").wait_for(timeout=120_000)
        assert page.get_by_text("Signed in as").count() == 0
