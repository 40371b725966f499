"""The Responses page (AppTest): record a response on a Hull hotspot from 2024-03 on the
shipped data and read its evaluation; the profile's "Record a response here" link; roles.
"""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from auth.audit import AuditLog, default_audit_path
from hotspots.responses import evaluate_response
from tests.ui.conftest import APP, TIMEOUT
from tests.ui.test_roles import users_file  # noqa: F401  (the accounts fixture)

HULL = "E06000010"
ERY = "E06000011"
FORM = "response_form_new"


def _record_on_hull_hotspot(at: AppTest, title: str, hotspot: int = 1) -> AppTest:
    at.multiselect(key=f"{FORM}_hotspots").set_value([hotspot]).run()
    at.text_input(key=f"{FORM}_title").input(title)
    at.text_input(key=f"{FORM}_lead").input("Humberside Police")
    at.text_input(key=f"{FORM}_partners").input("Hull City Council, <b>NHS</b>")
    at.text_input(key=f"{FORM}_start").input("2024-03")
    at.button(key=f"FormSubmitter:{FORM}-Record response").click().run()
    return at


def test_record_a_response_on_a_hull_hotspot_and_read_its_evaluation():
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page("views/responses.py")
    at.query_params.update({"area": HULL, "hotspot": "1", "from": "2024-01", "to": "2024-02"})
    at.run()
    assert not at.exception
    assert at.selectbox(key="responses_area").value == HULL
    # opened from a profile: the hotspot is preselected
    assert at.multiselect(key=f"{FORM}_hotspots").value == [1]
    at = _record_on_hull_hotspot(at, "Evening patrols, hotspot 1 (AppTest)")
    assert not at.exception
    assert any(s.value.startswith("Saved response") for s in at.success)
    assert [s.value for s in at.subheader][:4] == [
        "Responses in Kingston upon Hull, City of",
        "Map: response places over the current hotspots", "Did it work?",
        "All responses in Kingston upon Hull, City of"]
    listed = at.dataframe[0].value
    row = listed[listed["Title"] == "Evening patrols, hotspot 1 (AppTest)"].iloc[0]
    assert row["Start"] == "2024-03" and row["Place"].startswith("hotspot outline(s) 1 of "
                                                                 "2024-01 to 2024-02")
    assert row["Partners"] == "Hull City Council, <b>NHS</b>"  # shown as text, never as HTML
    chosen = at.selectbox(key="responses_chosen")
    assert chosen.value == int(row["Id"])

    # the evaluation on the page is the library's on the store's incidents
    from geodata.ingest import open_store
    from geodata.responses import ResponseStore, default_responses_path
    store = ResponseStore(default_responses_path())
    response = store.get(int(row["Id"]))
    assert response.place["ids"] == [1] and response.lad_code == HULL
    metrics = {m.label: m.value for m in at.metric}
    wdd_shown = float(re.match(r"([+-][\d,.]+) incidents",
                               metrics["Net change, target + buffer (WDD)"])
                      .group(1).replace(",", ""))
    figures = at.dataframe[1].value.set_index("Area")
    target_before = int(figures.loc["Target (the response's place)",
                                    "Incidents before (2024-01..2024-02)"].replace(",", ""))
    target_after = int(figures.loc["Target (the response's place)",
                                   "Incidents after (2024-03..2024-03)"].replace(",", ""))
    incidents = open_store().query(area_code=HULL, months=["2024-01", "2024-02"],
                                   columns=["x", "y", "crime_type"])
    from config import get_config
    cfg = get_config()
    serious = incidents[incidents["crime_type"].isin(
        cfg.crime_group(cfg.default_crime_group).types)]
    import shapely
    inside = shapely.intersects_xy(response.geometry, serious["x"].to_numpy(float),
                                   serious["y"].to_numpy(float))
    assert target_before == int(inside.sum()) > 50  # a busy hotspot: not vacuous
    assert target_after > 0
    verdict = at.info[-1].value
    assert "Regression to the mean" in verdict and "police.uk" in verdict
    control = next(m.value for m in at.markdown if m.value.startswith("**Control:**"))
    assert "comparable hotspot" in control or "rest of" in control
    # the harm chart is offered to analysts, and draws
    at.radio(key=f"response_chart_{response.id}").set_value("harm").run()
    assert not at.exception
    assert wdd_shown == pytest.approx(round(_page_wdd(response, store), 1), abs=0.05)

    # audited, with no coordinates
    events = [r for r in AuditLog(default_audit_path()).read()
              if r["event"] == "response_changed" and r.get("response_id") == response.id]
    assert events and events[-1]["action"] == "add" and "geometry" not in events[-1]

    # an edit is kept in the history
    at.selectbox(key=f"response_form_{response.id}_status").set_value("ended")
    at.button(key=f"FormSubmitter:response_form_{response.id}-Save changes").click().run()
    assert not at.exception
    assert store.get(response.id).status == "ended"
    history = at.dataframe[-1].value
    assert ((history["Field"] == "status") & (history["Old"] == "active")
            & (history["New"] == "ended")).any()


def _page_wdd(response, store) -> float:
    """The WDD recomputed outside the page: the same hotspots (defaults, 2024-01..02)."""
    from config import get_config
    from config.harm import get_harm_weights
    from geodata.ingest import open_store
    from geodata.reference import load_lsoa_table
    from hotspots.harm import harm_weights
    from hotspots.pipeline import hotspot_analysis, study_area

    settings = response.place["settings"]
    cfg = get_config()
    group = cfg.crime_group(cfg.default_crime_group)
    lsoas = load_lsoa_table()
    incidents = open_store().query(area_code=HULL, months=["2023-12", "2024-01", "2024-02",
                                                             "2024-03", "2024-04", "2024-05"],
                                   crime_types=group.types,
                                   columns=["month", "crime_type", "x", "y", "lsoa21cd",
                                            "weight"])
    incidents["harm"] = harm_weights(incidents["crime_type"], get_harm_weights().weights)
    current = incidents[incidents["month"].isin(["2024-01", "2024-02"])]
    outlines = hotspot_analysis(current, study_area=study_area(lsoas, HULL), lsoas=lsoas,
                                bandwidth=settings["bandwidth_m"],
                                cell_size=settings["cell_size_m"],
                                threshold_method=settings["threshold_method"],
                                threshold_value=settings["threshold_value"]).outlines
    return evaluate_response(response, incidents, study_area=study_area(lsoas, HULL),
                             study_text="Hull", months_present=open_store().months(),
                             hotspot_outlines=outlines,
                             other_responses=store.list(lad_codes=[HULL])).wdd


def _page_as(role: str, lad_code: str | None, query: dict) -> None:
    import runpy

    import streamlit as st

    from auth.roles import Viewer as V

    st.session_state["viewer"] = V(name=f"test-{role}", role=role, lad_code=lad_code)
    for key, value in query.items():
        st.query_params[key] = value
    runpy.run_path("views/responses.py")


@pytest.fixture(scope="module")
def hull_response():
    """A response on Hull's busiest hotspot of 2024-01..02, stored directly."""
    from geodata.ingest import open_store
    from geodata.reference import load_lsoa_table
    from geodata.responses import ResponseStore, default_responses_path
    from hotspots.responses import default_hotspot_outlines, place_from_hotspots

    lsoas = load_lsoa_table()
    outlines, settings = default_hotspot_outlines(open_store(), lsoas, HULL,
                                                  ["2024-01", "2024-02"])
    geometry, place = place_from_hotspots(outlines, [1], settings=settings,
                                          months=["2024-01", "2024-02"])
    store = ResponseStore(default_responses_path())
    return store.add({"title": "CCTV review (role test)", "type": "cctv",
                      "lead_agency": "Hull City Council", "lad_code": HULL,
                      "start_month": "2024-03", "status": "active", "geometry": geometry,
                      "place": place}, user="fixture", audit=lambda change: None)


def test_a_csp_user_edits_only_in_their_csp(hull_response):
    at = AppTest.from_function(_page_as, args=("csp", ERY, {"area": HULL}),
                               default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.selectbox(key="responses_area").options == ["East Riding of Yorkshire"]
    assert "CCTV review (role test)" not in at.dataframe[0].value.get("Title", []).tolist()
    from auth.roles import Viewer
    from ui.responses_view import can_edit
    assert not can_edit(Viewer("x", "csp", ERY), HULL) and can_edit(Viewer("x", "csp", HULL),
                                                                     HULL)
    assert not can_edit(Viewer("x", "partner"), HULL) and can_edit(Viewer("x", "analyst"), HULL)
    own = AppTest.from_function(_page_as, args=("csp", HULL, {"area": HULL}),
                                default_timeout=TIMEOUT).run()
    assert not own.exception
    assert any(e.label == "Record a response" for e in own.expander)


def test_a_partner_sees_no_form_no_places_and_no_small_counts(hull_response):
    at = AppTest.from_function(_page_as, args=("partner", None, {"area": HULL, "from": "2024-01",
                                                                 "to": "2024-02"}),
                               default_timeout=TIMEOUT).run()
    assert not at.exception
    assert not any(e.label in ("Record a response", "Edit this response",
                               "History of changes") for e in at.expander)
    listed = at.dataframe[0].value
    assert "Place" not in listed.columns and "Area (km²)" not in listed.columns
    at.selectbox(key="responses_chosen").set_value(hull_response.id).run()
    figures = at.dataframe[1].value
    for column in figures.columns[1:]:
        for value in figures[column]:
            assert value == "<5" or int(value.replace(",", "")) % 5 == 0, value
    assert not any(r.key and r.key.startswith("response_chart_") for r in at.radio)  # no harm
    assert "Disclosure control" in at.info[-1].value


def _csp_page_in_router(area_code: str) -> None:
    """The Hull page under a router that also registers the Responses page, as app.py."""
    import functools

    import streamlit as st

    from geodata.paths import REPO_ROOT
    from views.csp import render

    page = functools.partial(render, area_code)
    page.__name__ = "csp_hull"
    st.navigation([st.Page(page, title="Hull", url_path="hull", default=True),
                   st.Page(str(REPO_ROOT / "views" / "responses.py"), title="Responses",
                           url_path="responses")]).run()


def test_the_profile_links_to_the_responses_page_with_the_hotspot():
    at = AppTest.from_function(_csp_page_in_router, args=(HULL,),
                               default_timeout=TIMEOUT).run()
    assert not at.exception
    links = [e for e in at.get("page_link") if e.proto.label == "Record a response here"]
    assert len(links) == 1
    proto = links[0].proto
    assert proto.page == "responses"
    chosen = [s for s in at.selectbox if s.label == "Hotspot profile"][0].value
    query = dict(item.split("=", 1) for item in proto.query_string.split("&")) \
        if getattr(proto, "query_string", "") else {}
    assert query.get("area") == HULL and query.get("hotspot") == str(chosen)
    assert {"group", "from", "to", "bw", "cell", "tm", "tv", "ms"} <= set(query)


def test_the_public_is_refused_the_responses_page(users_file):
    from streamlit.util import calc_hash

    from tests.ui.test_roles import _events, _log_in

    at = _log_in("pub")
    at._page_hash = calc_hash("responses")  # the browser opened /responses
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == ["You do not have access to this page."]
    assert not at.dataframe and not at.metric
    assert _events("pub")[-1]["what"] == "page /responses"
