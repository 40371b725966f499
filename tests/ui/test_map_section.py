"""The map section as the pages render it (AppTest): map first with its title, period and
legend on it, plain-text tooltips, street names, the PNG download, presentation mode and a
hotspot picker that follows the list after a map click."""

from __future__ import annotations

import json
import re
import threading

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from config import get_config
from tests.ui.conftest import APP, TIMEOUT, deck_spec, layer_ids

HULL = "E06000010"
TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def _walk(node, out=None):
    out = [] if out is None else out
    for child in getattr(node, "children", {}).values():
        out.append(child)
        _walk(child, out)
    return out


@pytest.fixture(scope="module")
def hull(request):
    from tests.ui.conftest import _csp_page

    return AppTest.from_function(_csp_page, args=(HULL,), default_timeout=TIMEOUT).run()


def test_the_map_is_the_first_thing_with_title_period_and_legend_on_it(hull):
    assert not hull.exception
    main = [e for e in _walk(hull.main) if e.type not in ("flex_container", "column")]
    # The map's size reporter, the map and its overlay come before the page title.
    kinds = [e.type for e in main]
    assert kinds.index("deck_gl_json_chart") < kinds.index("title")
    assert kinds.index("deck_gl_json_chart") <= 1
    overlay = next(h.proto.body for h in hull.get("html") if "map-overlay" in h.proto.body)
    assert "Kingston upon Hull, City of: Serious violence" in overlay
    assert "2024-01 to 2024-03 (3 months of police.uk data); counts of incidents" in overlay
    assert "Hotspot outline" in overlay and "Incidents per km² over the period" in overlay
    # The overlay sits inside the map's keyed container, which the page's CSS sizes to the
    # first screen and whose overlay it keeps on the map in full screen.
    style = next(h.proto.body for h in hull.get("html") if "<style>" in h.proto.body)
    assert ".st-key-map_E06000010_box" in style and "100vh" in style
    assert 'aria-label^="Close fullscreen"' in style


def test_the_first_view_is_fitted_to_the_area(hull):
    from geodata.reference import load_lsoa_table
    from ui import deck

    spec, _ = deck_spec(hull)
    view = spec["initialViewState"]
    lsoas = load_lsoa_table()
    lon0, lat0, lon1, lat1 = lsoas[lsoas["lad_code"] == HULL].to_crs(4326).total_bounds
    width, height = deck.FIT_WIDTH_PX, deck.FIT_HEIGHT_PX  # before the browser reports
    scale = 512 * 2 ** view["zoom"]

    def screen(lon, lat):
        x = (lon + 180) / 360 * scale
        y = (1 - np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) / np.pi) / 2 * scale
        return x, y

    cx, cy = screen(view["longitude"], view["latitude"])
    x0, y1 = screen(lon0, lat0)
    x1, y0 = screen(lon1, lat1)
    left = width / 2 + (x0 - cx)
    right = width / 2 + (x1 - cx)
    top, bottom = height / 2 + (y0 - cy), height / 2 + (y1 - cy)
    assert left >= deck.OVERLAY_WIDTH_PX and right <= width        # clear of the legend
    assert top >= 0 and bottom <= height
    assert (right - left) / (width - deck.OVERLAY_WIDTH_PX) > 0.85 or \
        (bottom - top) / height > 0.85                               # and filling the map


def test_tooltips_are_plain_text_with_their_period(hull):
    spec, _ = deck_spec(hull)
    tooltips = [r["tooltip"] for layer in spec["layers"] for r in layer.get("data") or []
                if isinstance(r, dict) and "tooltip" in r]
    assert len(tooltips) > 100
    assert not [t for t in tooltips if TAG.search(t) or "&lt;" in t or "&amp;" in t]
    chart = hull.get("deck_gl_json_chart")[0].proto
    assert json.loads(chart.tooltip)["text"] == "{tooltip}"
    hotspots = next(layer for layer in spec["layers"] if layer["id"] == "hotspots")
    first = hotspots["data"][0]["tooltip"].splitlines()
    assert first[0].startswith("Hotspot 1")
    assert first[1].startswith("Incidents: ") and first[1].endswith("(2024-01 to 2024-03)")


def test_street_names_from_every_stored_incident_inside_the_area(hull):
    from geodata.ingest import open_store
    from geodata.places import street_name

    spec, _ = deck_spec(hull)
    streets = next(layer for layer in spec["layers"] if layer["id"] == "streets")
    names = [r["name"] for r in streets["data"]]
    assert len(names) > 500
    stored = open_store().query(columns=["location"])   # a label is a stored map point name
    assert set(names) <= set(stored["location"].map(street_name))
    # Streets outside the selection are labelled too: labels are not a map of incidents.
    selected = open_store().query(area_code=HULL, months=["2024-01", "2024-02", "2024-03"],
                                  crime_types=get_config().crime_group(
                                      "Serious violence (police.uk proxy)").types,
                                  columns=["location"])
    assert set(names) - set(selected["location"].map(street_name))


def test_download_this_map_as_png_is_offered(hull):
    labels = [b.proto.label for b in hull.get("download_button")]
    assert "Download this map as PNG" in labels


def test_no_hotspot_without_incidents_is_listed(hull):
    table = next(t.value for t in hull.dataframe if "Hotspot" in t.value.columns)
    assert len(table) and (table["Incidents"] > 0).all()
    assert list(hull.selectbox(key="map_E06000010_hotspot").options)[0].startswith("Hotspot 1")


def _picker_script() -> None:
    import types

    import streamlit as st

    from ui.map_view import pick_hotspot

    clicked = st.session_state.get("fake_click")
    # Streamlit keeps a map selection across reruns: the same event comes back every run.
    event = None if clicked is None else types.SimpleNamespace(
        selection={"objects": {"hotspots": [{"hotspot_id": clicked}]}})
    st.session_state["shown"] = pick_hotspot(event, [1, 2, 3, 4],
                                             names={1: "Hotspot 1 — A Road"}, key="m")


def test_the_picker_follows_the_list_after_a_map_click():
    at = AppTest.from_function(_picker_script, default_timeout=TIMEOUT).run()
    assert at.session_state["shown"] == 1
    assert at.selectbox(key="m_hotspot").options[0] == "Hotspot 1 — A Road"
    at.session_state["fake_click"] = 2
    at.run()
    assert at.session_state["shown"] == 2                      # a map click selects it
    at.selectbox(key="m_hotspot").set_value(3).run()
    assert at.session_state["shown"] == 3                      # the list wins after that
    at.run()
    assert at.session_state["shown"] == 3                      # and stays (no snap back)
    assert at.query_params["hotspot"] in ("3", ["3"])
    at.session_state["fake_click"] = 4
    at.run()
    assert at.session_state["shown"] == 4                      # a new click applies once
    at.session_state["fake_click"] = None
    at.run()
    at.session_state["fake_click"] = 4
    at.run()
    at.selectbox(key="m_hotspot").set_value(1).run()
    assert at.session_state["shown"] == 1


def test_the_profile_computed_ahead_is_the_one_shown(fresh_store, monkeypatch):
    # While the other core computes the clusters and predicted cells, the page computes
    # the profile the picker will show: each run computes it once, never one not shown.
    from tests.ui.conftest import _csp_page
    from ui import cached

    profiled, asked = [], []
    real, real_clusters = cached.profile_hotspots, cached.clusters

    def profile(*args, hotspot_ids, **kwargs):
        profiled.append(list(hotspot_ids))
        asked.append("profile")
        return real(*args, hotspot_ids=hotspot_ids, **kwargs)

    def clusters(*args, **kwargs):
        if not threading.current_thread().name.startswith("humber-ahead"):  # the page's
            asked.append("clusters")
        return real_clusters(*args, **kwargs)

    monkeypatch.setattr(cached, "profile_hotspots", profile)
    monkeypatch.setattr(cached, "clusters", clusters)
    at = AppTest.from_function(_csp_page, args=(HULL,), default_timeout=TIMEOUT).run()
    assert not at.exception
    picker = at.selectbox(key=f"map_{HULL}_hotspot")
    assert profiled == [[picker.value]]
    assert asked == ["profile", "clusters"]     # before the page waits for the other core
    assert picker.index == 0 and len(picker.options) > 1
    chosen = int(re.match(r"Hotspot (\d+)", picker.options[1]).group(1))  # its name
    picker.set_value(chosen).run()
    assert at.selectbox(key=f"map_{HULL}_hotspot").value == chosen
    assert chosen != profiled[0][0] and profiled[1:] == [[chosen]]
    at.run()                                    # the picked one is the one computed ahead
    assert profiled[1:] == [[chosen]]


def test_presentation_mode_steps_through_the_areas_without_the_sidebar():
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert at.title[0].value == "Humber overview"
    # The sidebar button (or ?present=1 in the address) turns presentation mode on.
    next(b for b in at.sidebar.button if b.label == "Presentation mode").click().run()
    assert not at.exception
    assert at.query_params["present"] in ("1", ["1"])
    assert not at.title                                         # the map alone
    hide = " ".join(h.proto.body for h in at.get("html"))
    assert '[data-testid="stSidebar"]' in hide and "display: none" in hide
    assert any("1 of 5" in m.value and "Humber" in m.value for m in at.markdown)
    humber, _ = deck_spec(at)
    assert len({r["lad_code"] for r in _layer(humber, "csp_boundaries")}) == 4
    next_button = next(b for b in at.button if b.label == "Next ▶")
    next_button.click().run()
    assert not at.exception
    assert at.query_params["area"] in ("hull", ["hull"])
    hull_spec, _ = deck_spec(at)
    assert {r["lad_code"] for r in _layer(hull_spec, "csp_boundaries")} == {HULL}
    overlay = next(h.proto.body for h in at.get("html") if "map-overlay" in h.proto.body)
    assert "Kingston upon Hull, City of: " in overlay and "2024-01 to 2024-03" in overlay
    leave = next(b for b in at.button if b.label == "Leave presentation")
    leave.click().run()
    assert "present" not in at.query_params and at.title


def _layer(spec, layer_id):
    return next(layer for layer in spec["layers"] if layer["id"] == layer_id)["data"]


def _png_as(role: str) -> None:
    """Run the Hull page as `role`, catch what the PNG button would draw, draw it."""
    import streamlit as st

    from auth.roles import Viewer
    from reports import static_map
    from views.csp import render

    st.session_state["viewer"] = Viewer(name="t", role=role)
    calls, buttons = [], {}
    real_png, real_button = static_map.map_png, st.download_button

    def record(**kwargs):
        calls.append(kwargs)
        return real_png(**kwargs)

    def button(label, data, *args, **kwargs):
        buttons[label] = data
        return real_button(label, data, *args, **kwargs)

    static_map.map_png, st.download_button = record, button
    try:
        render("E06000010")
        png = buttons["Download this map as PNG"]()
    finally:
        static_map.map_png, st.download_button = real_png, real_button
    st.session_state["png"] = png
    st.session_state["png_call"] = calls[-1]


@pytest.mark.parametrize("role", ["analyst", "partner"])
def test_the_png_draws_the_layers_the_role_sees(role):
    from ui import cached
    from ui.disclosure import rule_from_config

    at = AppTest.from_function(_png_as, args=(role,), default_timeout=TIMEOUT).run()
    assert not at.exception
    png, call = at.session_state["png"], at.session_state["png_call"]
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000
    assert "2024-01 to 2024-03" in call["subtitle"] and call["title"].startswith("Kingston")
    months = ("2024-01", "2024-02", "2024-03")
    group = "Serious violence (police.uk proxy)"
    rule = rule_from_config() if role == "partner" else None
    found = re.search(r"bandwidth ([\d.]+) m, ([\d.]+) m cells", call["subtitle"])
    bandwidth, cell = float(found.group(1)), float(found.group(2))
    if rule is not None:   # the floors were applied before drawing
        assert bandwidth >= rule.min_bandwidth_m
    shown = cached.hotspot_analysis(HULL, months, group, bandwidth=bandwidth, cell_size=cell,
                          threshold_method="top_percent", threshold_value=2.0,
                          measure="count", disclosure=rule)
    assert np.array_equal(call["surface"].density, shown.surface.density)
    if rule is not None:   # partner: the protected surface, never the exact one
        exact = cached.hotspot_analysis(HULL, months, group, bandwidth=bandwidth, cell_size=cell,
                              threshold_method="top_percent", threshold_value=2.0,
                              measure="count", disclosure=None)
        assert not np.array_equal(call["surface"].density, exact.surface.density)
        assert "streets" not in layer_ids(deck_spec(at)[0])


def test_presentation_steps_only_through_what_the_role_may_open():
    from auth.roles import Viewer
    from ui.presentation import steps_for

    config = get_config()
    slugs = lambda viewer: [s for s, _, _ in steps_for(config, viewer)]  # noqa: E731
    assert slugs(Viewer(name="a", role="analyst")) == \
        ["humber"] + [a.slug for a in config.areas]
    assert slugs(Viewer(name="h", role="csp", lad_code=HULL)) == ["hull"]
    assert slugs(Viewer(name="p", role="public")) == ["humber"]   # no CSP page for public
    assert slugs(Viewer(name="p", role="partner")) == \
        ["humber"] + [a.slug for a in config.areas]


def test_each_presentation_step_uses_its_own_areas_default_smoothing(monkeypatch):
    from ui import cached, presentation
    from ui.widgets import Filters

    used = []
    original = cached.hotspot_analysis

    def recording(area_code, months, crime_group, **kwargs):
        used.append((area_code, kwargs["bandwidth"]))
        return original(area_code, months, crime_group, **kwargs)

    monkeypatch.setattr(cached, "hotspot_analysis", recording)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    group = "Robbery"  # back-tested 400 m for the Humber, 100 m for Hull (shipped data)
    at.selectbox(key="humber_group").set_value(group).run()
    next(b for b in at.sidebar.button if b.label == "Presentation mode").click().run()
    used.clear()
    next(b for b in at.button if b.label == "Next ▶").click().run()
    assert not at.exception
    expected = {None: cached.default_bandwidth(None, group),
                HULL: cached.default_bandwidth(HULL, group)}
    assert expected[None] != expected[HULL]  # the shipped data back-test them differently
    assert (HULL, expected[HULL]) in used and all(a == HULL for a, _ in used)
    # A distance the viewer chose is kept for every area.
    chosen = Filters(months=("2024-03",), crime_group=group, layers=(), imd_domain="IMD",
                     bandwidth=expected[None] + 50, cell_size=100.0,
                     threshold_method="top_percent", threshold_value=1.0, eps=None,
                     min_samples=None, max_memory_mb=256.0, measure="count",
                     risk_population="population")
    assert presentation.step_filters(chosen, page_default=expected[None],
                                     step_default=expected[HULL]).bandwidth == \
        expected[None] + 50


def test_the_smoothing_distance_follows_each_groups_default_until_the_viewer_moves_it():
    from ui import cached

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    slider = at.slider(key="humber_bandwidth")
    group = get_config().default_crime_group
    assert slider.value == cached.default_bandwidth(None, group) == 100.0
    # Robbery back-tests to 400 m on the shipped data: the slider moves there, and says so.
    at.selectbox(key="humber_group").set_value("Robbery").run()
    assert not at.exception and not at.warning
    assert at.slider(key="humber_bandwidth").value == cached.default_bandwidth(
        None, "Robbery") == 400.0
    assert "Default 400 m" in at.slider(key="humber_bandwidth").help
    # A distance the viewer chose is theirs: another group does not move it.
    at.slider(key="humber_bandwidth").set_value(250.0).run()
    at.selectbox(key="humber_group").set_value(group).run()
    assert at.slider(key="humber_bandwidth").value == 250.0
