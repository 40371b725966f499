"""The map as a meeting sees it, at 1920 × 1080 and 1366 × 768 in headless Chromium.

The deck's live view state (what deck.gl draws with) is read from the page and the area's
WGS84 bounds are projected with this file's own web-mercator maths, so "the area lies inside
the visible map" is checked against what the browser shows, not against the server's intent.
"""

from __future__ import annotations

import math
import re
import time

import numpy as np
import pytest
import shapely

from config import get_config
from geodata.reference import load_lsoa_table
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

SIZES = [(1920, 1080), (1366, 768)]
AREAS = {a.slug: a.code for a in get_config().areas}
PAGES = ["overview", "hull", "east-riding", "north-lincolnshire"]
TAG = re.compile(r"</?[a-zA-Z][^>]*>|&lt;|&gt;|&amp;")

#: The deck's props, read from React's fiber of deck.gl's root (the props DeckGL draws with).
DECK_STATE = """() => {
  const chart = document.querySelector('[data-testid="stDeckGlJsonChart"]');
  const root = chart && chart.querySelector('.deck-root');
  if (!root) return null;
  const key = Object.keys(root).find(k => k.startsWith('__reactFiber$'));
  let fiber = root[key], props = null;
  while (fiber) {
    const p = fiber.memoizedProps;
    if (p && p.viewState && p.layers) { props = p; break; }
    fiber = fiber.return;
  }
  if (!props) return null;
  const rect = e => { if (!e) return null; const b = e.getBoundingClientRect();
                      return {x: b.x, y: b.y, w: b.width, h: b.height}; };
  const rings = (id, name) => (props.layers.find(l => l && l.id === id) || {props: {data: []}})
    .props.data.map(r => ({id: r[name], ring: r.polygon[0]}));
  const hotspots = rings('hotspots', 'hotspot_id'), clusters = rings('clusters', 'cluster_id');
  const v = props.viewState, canvas = rect(chart.querySelector('canvas'));
  const views = (props.views || []).map(view => view.id);
  return {view: {longitude: v.longitude, latitude: v.latitude, zoom: v.zoom,
                 width: canvas.w, height: canvas.h}, viewId: views[0] || null,
          canvas: canvas,
          overlay: rect(document.querySelector('.map-overlay')), hotspots, clusters};
}"""


def _project(view: dict, lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Pixels from the map's top-left corner: deck.gl's web mercator, 512 px at zoom 0."""
    scale = 512 * 2 ** view["zoom"]

    def world(lo, la):
        lo, la = np.asarray(lo, float), np.asarray(la, float)
        return ((lo + 180) / 360 * scale,
                (1 - np.log(np.tan(math.pi / 4 + np.radians(la) / 2)) / math.pi) / 2 * scale)

    x, y = world(lon, lat)
    cx, cy = world(view["longitude"], view["latitude"])
    return view["width"] / 2 + (x - cx), view["height"] / 2 + (y - cy)


def _area_bounds(slug: str) -> tuple[float, float, float, float]:
    lsoas = load_lsoa_table()
    if slug in AREAS:
        lsoas = lsoas[lsoas["lad_code"] == AREAS[slug]]
    return tuple(lsoas.to_crs(4326).total_bounds)


def _wait_idle(page) -> None:
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=180_000)


def _open(browser, url: str, size: tuple[int, int]):
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url, wait_until="domcontentloaded", timeout=60_000)
    page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=180_000)
    _wait_idle(page)
    return page, errors, _settle(page)


def _settle(page, *, timeout_s: float = 90.0) -> dict:
    """Wait until the map is drawn with the view fitted to its own size.

    The page reports the map's size to the server, which fits the view to it and names the
    deck's view after that size ("map-1460x976"); wait until the drawn deck carries the name
    of the size it has now (within the 8 px the page ignores), then let WebGL draw."""
    deadline = time.monotonic() + timeout_s
    state = None
    while time.monotonic() < deadline:
        page.wait_for_timeout(1000)
        state = page.evaluate(DECK_STATE)
        found = state and state.get("viewId") and re.fullmatch(r"map-(\d+)x(\d+)(-again)?",
                                                                state["viewId"])
        if found and abs(int(found.group(1)) - state["canvas"]["w"]) < 8 and \
                abs(int(found.group(2)) - state["canvas"]["h"]) < 8:
            _wait_idle(page)
            page.wait_for_timeout(2000)
            return page.evaluate(DECK_STATE)
    raise AssertionError(f"the map was not fitted to its size within {timeout_s:.0f} s: "
                         f"{state and state.get('viewId')}, {state and state['canvas']}")


def _hotspot_point(state: dict, number: int | None = None) -> tuple[int, shapely.Point]:
    """The widest spot of a hotspot (`number`, else the widest of all) outside every cluster
    (clusters are drawn above hotspots): the centre of its largest inscribed circle."""
    clusters = shapely.union_all([shapely.Polygon(c["ring"]).buffer(0)
                                  for c in state["clusters"]]).buffer(0.0002)
    best = None
    for part in state["hotspots"]:
        if number is not None and part["id"] != number:
            continue
        free = shapely.Polygon(part["ring"]).buffer(0).difference(clusters)
        if free.is_empty:
            continue
        circle = shapely.maximum_inscribed_circle(free)
        if best is None or circle.length > best[2]:
            best = (part["id"], shapely.get_point(circle, 0), circle.length)
    assert best is not None, "no hotspot outside the clusters"
    return best[0], best[1]


def _check_fitted(state: dict, bounds, *, slug: str, fill_at_least: float = 0.8) -> None:
    view, overlay, canvas = state["view"], state["overlay"], state["canvas"]
    lon0, lat0, lon1, lat1 = bounds
    x, y = _project(view, [lon0, lon1, lon0, lon1], [lat0, lat0, lat1, lat1])
    panel = overlay["x"] + overlay["w"] - canvas["x"]    # the legend's right edge on the map
    # Every end of the area is on the map and none under the title-and-legend panel.
    assert x.min() >= panel and x.max() <= view["width"], (slug, x, panel, view)
    assert y.min() >= 0 and y.max() <= view["height"], (slug, y, view)
    # Fitted: the area fills the free part of the map in one direction.
    fill = max((x.max() - x.min()) / (view["width"] - panel),
               (y.max() - y.min()) / view["height"])
    assert fill > fill_at_least, f"{slug}: the area fills only {fill:.0%} of the free map"


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("slug", PAGES)
def test_map_opens_first_fitted_to_the_area_with_its_legend_and_plain_tooltips(
        browser, app_url, slug, size):
    page, errors, state = _open(browser, f"{app_url}/{slug}", size)
    try:
        canvas, overlay = state["canvas"], state["overlay"]
        width, height = size
        # The map is the first thing and fills the first screen.
        assert canvas["y"] < 80 and canvas["y"] + canvas["h"] <= height
        assert canvas["h"] > 0.8 * height
        # Title, period and legend are on the map.
        assert canvas["x"] <= overlay["x"] and overlay["x"] + overlay["w"] <= canvas["x"] + \
            canvas["w"] and overlay["y"] + overlay["h"] <= canvas["y"] + canvas["h"]
        text = page.locator(".map-overlay").inner_text()
        assert "2024-01 to 2024-03" in text and "Hotspot outline" in text
        _check_fitted(state, _area_bounds(slug), slug=slug)
        # Hover a hotspot: its tooltip is text (no tag shown) and names it.
        number, point = _hotspot_point(state)
        px, py = _project(state["view"], [point.x], [point.y])
        page.mouse.move(canvas["x"] + px[0] + 3, canvas["y"] + py[0] + 3)
        page.mouse.move(canvas["x"] + px[0], canvas["y"] + py[0])
        tooltip = page.locator(".deck-tooltip")
        tooltip.wait_for(state="visible", timeout=20_000)
        tip = tooltip.inner_text()
        assert tip.startswith(f"Hotspot {number}") and "Incidents: " in tip, tip
        assert not TAG.search(tip), tip
        box = tooltip.bounding_box()        # not cut off: wholly inside the window
        assert box["x"] >= 0 and box["y"] >= 0
        assert box["x"] + box["width"] <= width and box["y"] + box["height"] <= height
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"map-layout-{slug}-{width}x{height}.png"))
        assert not errors, errors
    finally:
        page.close()


def test_full_screen_keeps_the_area_and_the_legend_on_the_map(browser, app_url):
    page, errors, before = _open(browser, f"{app_url}/hull", (1366, 768))
    try:
        page.locator('[data-testid="stDeckGlJsonChart"]').first.hover()
        page.get_by_role("button", name=re.compile("^Fullscreen: Map")).click()
        after = _settle(page)     # the server has fitted a view to the full-screen size
        assert after["canvas"]["h"] > before["canvas"]["h"] + 50
        # Re-fitted: the whole area on the larger map, clear of the legend, filling it
        # (sent twice, the second time 2.5 s after entering: see ui.map_view.map_size).
        deadline = time.monotonic() + 30
        while after["viewId"] is None or not after["viewId"].endswith("-again"):
            assert time.monotonic() < deadline, f"view not sent again: {after['viewId']}"
            page.wait_for_timeout(1000)
            after = _settle(page)
        _check_fitted(after, _area_bounds("hull"), slug="hull full screen")
        overlay = after["overlay"]
        assert overlay["x"] >= 0 and overlay["y"] >= 0
        on_top = page.evaluate(
            "([x, y]) => !!document.elementFromPoint(x, y).closest('.map-overlay')",
            [overlay["x"] + overlay["w"] / 2, overlay["y"] + overlay["h"] / 2])
        assert on_top, "the legend is hidden behind the full-screen map"
        page.screenshot(path=str(ARTIFACTS / "map-layout-hull-fullscreen.png"))
        assert not errors, errors
    finally:
        page.close()


def _picker_value(page) -> str:
    return page.get_by_role("combobox", name="Hotspot profile").input_value().strip()


def _wait_picker(page, prefix: str) -> None:
    page.wait_for_function(
        """(prefix) => { const box = document.querySelector(
             'input[role="combobox"][aria-label="Hotspot profile"]');
           return box && box.value.startsWith(prefix); }""", arg=prefix, timeout=90_000)
    _wait_idle(page)


def test_the_picker_follows_the_list_after_a_map_click(browser, app_url):
    page, errors, state = _open(browser, f"{app_url}/hull", (1366, 768))
    try:
        canvas = state["canvas"]
        _, point = _hotspot_point(state, 2)
        px, py = _project(state["view"], [point.x], [point.y])
        page.mouse.move(canvas["x"] + px[0] + 3, canvas["y"] + py[0] + 3)
        page.mouse.move(canvas["x"] + px[0], canvas["y"] + py[0])
        page.locator(".deck-tooltip").wait_for(state="visible", timeout=20_000)
        assert page.locator(".deck-tooltip").inner_text().startswith("Hotspot 2")
        page.mouse.click(canvas["x"] + px[0], canvas["y"] + py[0])
        _wait_picker(page, "Hotspot 2")                                # the click selects it
        page.get_by_role("combobox", name="Hotspot profile").click()
        page.keyboard.press("ArrowDown")                              # open the list
        page.get_by_role("option", name=re.compile(r"^Hotspot 3\b")).click()
        _wait_picker(page, "Hotspot 3")
        page.wait_for_timeout(1000)
        _wait_idle(page)
        page.wait_for_timeout(2000)
        assert _picker_value(page).startswith("Hotspot 3")           # no snap back to 2
        assert not errors, errors
    finally:
        page.close()
