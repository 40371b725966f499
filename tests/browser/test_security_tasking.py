"""The tasking pages attacked: what a partner's (and the public's) browser receives on
"Responses" and "Since the last meeting".

A server runs on a store of the shipped months with two responses recorded in Hull through
the library: one on a busy corner (many incidents: drawn for partners, generalised) and one
on a quiet lane around a single isolated incident (fewer than 5: its outline must never
reach a partner). Playwright records every websocket frame; the tests decode them as an
attacker would (Arrow tables and chart data, deck JSON) and look for small counts, harm,
the synthetic control and geometry that locates an incident.
"""

from __future__ import annotations

import contextlib
import re

import numpy as np
import pandas as pd
import pytest
import shapely
from argon2 import PasswordHasher
from scipy.spatial import cKDTree

from auth.users import UserStore
from config import get_config
from config.harm import HARM_LABEL
from geodata.crs import lonlat_to_bng
from geodata.ingest import ingest_files, open_store
from geodata.responses import FILE_NAME, ResponseStore
from hotspots.responses import MIN_SYNTHETIC_PRE
from tests.browser.conftest import ARTIFACTS, REPO, _serve, settle, sign_in
from tests.support.attacker import image_corners, isolated, nearest_peak_distance
from tests.support.frames import chart_data, coordinates, deck_vertices, public_vertices, tables

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
HULL = "E06000010"
PERIOD = ("2024-01", "2024-02", "2024-03")  # the pages' default: the latest three months
START = "2024-03"                           # responses start here: months before and after
SINCE = "2024-03"                           # the meeting: 2024-03 against 2024-02
# Earlier months (the shipped 2022-01 relabelled): with them the busy corner's evaluation
# has the months before its start that an analyst's synthetic control needs.
HISTORY = tuple(f"2023-{m:02d}" for m in range(6, 13))
PRE = len(HISTORY) + 2  # 2023-06 to 2024-02
BUSY_TITLE = "Evening patrols on the busy corner (tasking attack)"
QUIET_TITLE = "Lighting on the quiet lane (tasking attack)"
REFUSED = "You do not have access to this page."
COUNT = re.compile(r"Incidents(?: \d{4}-\d{2}(?: to \d{4}-\d{2})?)?: (<5|[\d,]+)")
GENERALISE_M = 50.0  # DisclosureRule.generalise_m: a drawn place's vertices are snapped to it


@pytest.fixture(scope="module")
def tasking(tmp_path_factory, chromium_path):
    folder = tmp_path_factory.mktemp("tasking")
    store = open_store(folder / "store")
    history = pd.read_csv(REPO / "data" / "crime" / "2022-01-humberside-street.csv", dtype=str,
                          keep_default_na=False)
    copies = []
    for month in HISTORY:  # months enough before the start for a synthetic control
        copies.append(folder / f"{month}-humberside-street.csv")
        history.assign(Month=month).to_csv(copies[-1], index=False)
    ingest_files(copies, store=store, user="test")
    incidents = store.query(in_area=None, columns=["lon", "lat", "x", "y", "lad_code",
                                                    "crime_type", "in_area", "month"])
    alone, hull_alone, hull = _selection(incidents)
    assert len(alone) >= 10 and len(hull_alone) >= 1, (len(alone), len(hull_alone))
    # the quiet lane: a 200 m square on one isolated incident of the period (1 incident)
    quiet_xy = hull_alone[0]
    quiet = shapely.box(quiet_xy[0] - 100, quiet_xy[1] - 100, quiet_xy[0] + 100,
                        quiet_xy[1] + 100)
    # the busy corner: 300 m around the period's incident with most others within 300 m
    points = hull[["x", "y"]].to_numpy(float)
    crowd = cKDTree(points).query_ball_point(points, r=300, return_length=True)
    busy = shapely.Point(points[int(np.argmax(crowd))]).buffer(300, quad_segs=4)
    inside = {name: int(shapely.intersects_xy(g, points[:, 0], points[:, 1]).sum())
              for name, g in (("quiet", quiet), ("busy", busy))}
    assert inside["quiet"] == 1 and inside["busy"] >= 50, inside
    responses = ResponseStore(folder / "store" / FILE_NAME)
    ids = {}
    for name, title, geometry in (("busy", BUSY_TITLE, busy), ("quiet", QUIET_TITLE, quiet)):
        ids[name] = responses.add(
            {"title": title, "type": "patrols", "lead_agency": "Humberside Police",
             "lad_code": HULL, "start_month": START, "status": "active", "geometry": geometry,
             "place": {"kind": "geojson", "description": f"{name} place (test)"}},
            user="test", audit=lambda record: None).id
    users = UserStore(folder / "users.json",
                      hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    for name, role in (("vsec", "partner"), ("pub", "public")):
        users.add(name, role=role, password=PASSWORD)
    server = _serve("streamlit-tasking.log", {"HUMBER_DATA_DIR": str(folder / "store"),
                                              "HUMBER_USERS_FILE": str(folder / "users.json")})
    url = next(server)
    yield {"url": url, "alone": alone, "quiet": quiet, "busy": busy, "ids": ids}
    next(server, None)


def _selection(incidents: pd.DataFrame):
    """BNG (x, y) of the incidents isolated (none other within 500 m) in the pages' default
    crime group over every stored month of the whole Humber (isolated there, isolated in any
    CSP's or period's selection), those of them in Hull in the period, and Hull's selection
    of the period."""
    config = get_config()
    types = config.crime_group(config.default_crime_group).types
    chosen = incidents[incidents["crime_type"].isin(types) & incidents["in_area"]]
    alone = isolated(chosen["x"].to_numpy(float), chosen["y"].to_numpy(float))
    hull = (chosen["lad_code"].fillna("") == HULL) & chosen["month"].isin(PERIOD)
    return (chosen.loc[alone, ["x", "y"]].to_numpy(float),
            chosen.loc[alone & hull.to_numpy(), ["x", "y"]].to_numpy(float), chosen[hull])


@contextlib.contextmanager
def _signed_in(browser, url: str, name: str):
    """A new page signed in as `name`, settled; closed on exit. Yields it and its frames."""
    page = browser.new_page(viewport={"width": 1500, "height": 1300})
    try:
        frames = sign_in(page, url, name, PASSWORD)
        settle(page)
        yield page, frames
    finally:
        page.close()


def _open(page, frames: list[bytes], url: str, path: str, name: str) -> list[bytes]:
    """Open `path` by URL (the sign-in is resumed); the frames this page view received."""
    first = len(frames)
    page.goto(f"{url}/{path}", wait_until="domcontentloaded", timeout=60_000)
    page.get_by_text(f"Signed in as {name}").wait_for(timeout=120_000)
    settle(page)
    return frames[first:]




def _disclosed(value) -> bool:
    """A count a partner may read: "<5", missing, or a multiple of 5 (signs allowed)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return True
    text = str(value).strip().replace(",", "")
    if text in ("<5", "–", "", "n/a"):
        return True
    return float(text) % 5 == 0


def _counts(frames: list[bytes]) -> list:
    """Every incident count the frames carry: tooltips, table cells of count columns, the
    responses chart's and the trend chart's monthly values."""
    found = COUNT.findall(b"".join(frames).decode("latin-1"))
    for table in tables(frames):
        for column in table.columns:
            if str(column).startswith("Incidents") or column == "Change":
                found.extend(table[column].tolist())
    for data in chart_data(frames):
        if {"month", "area", "value"} <= set(data.columns):
            found.extend(data["value"].tolist())
        if {"Area", "Incidents"} <= set(data.columns):   # the monthly trend chart
            found.extend(data["Incidents"].tolist())
    return found


def _derived(frames: list[bytes]) -> list[tuple[float, float]]:
    """Coordinates that are neither a published boundary's vertex nor an image's corner."""
    blob = b"".join(frames)
    return sorted(coordinates(frames) - public_vertices() - image_corners(blob))


def _distances(alone: np.ndarray, points: list[tuple[float, float]]) -> np.ndarray:
    x, y = lonlat_to_bng([p[0] for p in points], [p[1] for p in points])
    return nearest_peak_distance(alone, np.column_stack([x, y]))


def test_partner_receives_nothing_that_locates_an_incident_or_a_small_count(browser, tasking):
    url, ids = tasking["url"], tasking["ids"]
    with _signed_in(browser, url, "vsec") as (page, frames):
        responses = []
        for chosen in ("busy", "quiet"):  # each evaluation shown in full once
            responses += _open(page, frames, url,
                               f"responses?area={HULL}&response={ids[chosen]}", "vsec")
            page.get_by_text("Did it work?").first.wait_for(timeout=60_000)
            if chosen == "busy":  # as many months before as a synthetic control needs
                first = len(frames)
                months_before = page.get_by_role("spinbutton", name="Months before the start")
                months_before.fill(str(PRE))
                months_before.press("Enter")
                settle(page)
                responses += frames[first:]
        page.screenshot(path=str(ARTIFACTS / "tasking-partner-responses.png"))
        meeting = _open(page, frames, url, f"since-last-meeting?area=hull&since={SINCE}",
                        "vsec")
        page.get_by_text("Places that moved most").first.wait_for(timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / "tasking-partner-meeting.png"))
    text = b"".join(responses).decode("latin-1")
    assert QUIET_TITLE in text and BUSY_TITLE in text  # the page listed both
    listed = next(t for t in tables(responses) if "Title" in t.columns)
    assert {"Place", "Area (km²)"}.isdisjoint(listed.columns), list(listed.columns)
    # 1. Counts: "<5" or multiples of 5, in tooltips, tables and the chart, on both pages.
    for name, received in (("responses", responses), ("meeting", meeting)):
        counts = _counts(received)
        assert len(counts) >= 4, f"{name}: too few counts found to judge: {counts}"
        leaked = [c for c in counts if not _disclosed(c)]
        assert not leaked, f"{name}: counts a partner may not read: {leaked[:10]}"
    counts = _counts(responses)
    assert "<5" in counts, f"no suppressed count on the responses page: {counts}"
    # 2. No harm and no synthetic control for partners.
    for received in (responses, meeting):
        blob = b"".join(received).decode("latin-1")
        assert HARM_LABEL not in blob and "_harm" not in blob
        assert "Synthetic control**" not in blob and "RMSPE" not in blob
        assert "placebo" not in blob.lower()
    assert PRE >= MIN_SYNTHETIC_PRE and f"{PRE} month(s) before the start" in text
    assert "synthetic control under disclosure control" in text.lower()
    # 3. Geometry: every derived coordinate (hotspot outlines, response places) keeps its
    #    distance from isolated incidents; the quiet lane's outline is absent, raw or snapped.
    for name, received in (("responses", responses), ("meeting", meeting)):
        derived = _derived(received)
        assert derived, f"{name}: no outline reached the browser"
        distances = _distances(tasking["alone"], derived)
        assert distances.min() > 150, (name, distances.min())
    seen = coordinates(responses + meeting)
    quiet = tasking["quiet"]
    for geometry in (quiet, shapely.set_precision(quiet, GENERALISE_M)):
        if not geometry.is_empty:
            assert not seen & deck_vertices(geometry), "the quiet lane's outline was sent"
    busy = deck_vertices(shapely.set_precision(tasking["busy"], GENERALISE_M))
    assert busy <= seen, "the busy corner's place (generalised) was not drawn"


def test_public_is_refused_both_tasking_pages_and_receives_none_of_them(browser, tasking):
    url = tasking["url"]
    with _signed_in(browser, url, "pub") as (page, frames):
        received = {path: _open(page, frames, url, path, "pub") for path in (
            f"responses?area={HULL}&response={tasking['ids']['quiet']}",
            f"since-last-meeting?area=hull&since={SINCE}")}
        page.screenshot(path=str(ARTIFACTS / "tasking-public-meeting.png"))
    for path, frames_of_page in received.items():
        text = b"".join(frames_of_page).decode("latin-1")
        assert REFUSED in text, f"/{path}: not refused"
        for secret in (QUIET_TITLE, BUSY_TITLE, "Humberside Police", "Incidents",
                       "Hotspot ", "Did it work?", "Places that moved most"):
            assert secret not in text, f"/{path}: {secret!r} reached the public"
        assert not _derived(frames_of_page), f"/{path}: map geometry reached the public"
