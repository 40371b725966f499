"""The "Since the last meeting" page: the months since against as many before, by CSP.

On the shipped data (2022-01, 2024-01..03): a meeting in 2024-03 compares 2024-03 with
2024-02; a meeting in 2024-02 compares 2024-02..03 with 2023-12..2024-01, which is not
stored, so the page says so instead of comparing.
"""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from config import get_config
from geodata.meetings import last_meeting, meetings_path, remember_meeting
from hotspots.tasking import places_that_moved
from tests.ui.conftest import TIMEOUT, deck_spec

HULL = "E06000010"
NEL = "E06000012"


def _meeting_as(role: str) -> None:
    import runpy

    import streamlit as st

    from auth.roles import Viewer

    st.session_state["viewer"] = Viewer(name="tester", role=role)
    runpy.run_path("views/meeting.py")


def _page(role: str = "analyst", **params) -> AppTest:
    at = AppTest.from_function(_meeting_as, args=(role,), default_timeout=TIMEOUT)
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


@pytest.fixture(autouse=True)
def no_remembered_meetings():
    meetings_path().unlink(missing_ok=True)
    yield
    meetings_path().unlink(missing_ok=True)


def _expected(area: str, months: tuple[str, ...], rule=None):
    """The one analysis, computed here as the CSP map computes it at its defaults."""
    from ui import cached
    from ui.meeting_view import map_bandwidth

    config = get_config()
    group = config.default_crime_group
    return cached.hotspot_analysis(area, months, group,
                         bandwidth=map_bandwidth(config, area, group, rule),
                         cell_size=float(config.setting("kde_cell_size").default)
                         if rule is None else rule.cell_size(
                             float(config.setting("kde_cell_size").default)),
                         threshold_method=str(
                             config.setting("hotspot_threshold_method").default),
                         threshold_value=float(config.setting("hotspot_top_percent").default),
                         disclosure=rule, earlier_hotspots=True)


def test_latest_month_against_the_month_before_by_default():
    at = _page(area="hull")
    assert not at.exception
    assert at.subheader[0].value == "Kingston upon Hull, City of: 2024-03 against 2024-02"
    expected = _expected(HULL, ("2024-03",))
    metrics = {m.label: m.value for m in at.metric}
    for name in ("new", "intensifying", "diminishing"):
        assert metrics[f"{name.capitalize()} hotspots"] == \
            str(int((expected.table["persistence"] == name).sum()))
    ceased = int((expected.previous.table["persistence"] == "ceased").sum())
    assert metrics["Ceased hotspots"] == str(ceased)
    moved = at.dataframe[0].value
    ranked = places_that_moved(expected)
    assert moved["Place"].tolist() == ranked["name"].head(10).tolist()
    assert moved["Incidents 2024-03"].tolist() == [f"{int(v):,}"
                                                   for v in ranked["after"].head(10)]
    assert moved["Place"].str.match(r"^(Earlier hotspot|Hotspot) \d+( — .+)?$").all()
    few = ranked["before"].head(10).fillna(0) < 5  # no percentage from fewer than 5
    assert few.any() and (moved.loc[few.to_numpy(), "Change (%)"] == "–").all()
    assert (moved.loc[~few.to_numpy(), "Change (%)"].str.endswith("%")).all()
    # the map: one outline layer per class, every tooltip naming a hotspot
    spec, _ = deck_spec(at)
    tips = [r["tooltip"] for layer in spec["layers"] if layer["id"].startswith("meeting_")
            for r in layer["data"]]
    assert tips and all(t.split("\n")[0].split(" — ")[0].split()[-1].isdigit() for t in tips)
    assert at.query_params["area"] == "hull" and at.query_params["since"] == "2024-03"


def test_no_comparison_when_the_months_before_are_not_stored():
    at = _page(area="hull", since="2024-02")
    assert not at.exception
    warning = " ".join(w.value for w in at.warning)
    assert "2023-12 to 2024-01" in warning and "not all stored" in warning
    assert not at.metric  # nothing called new or ceased


def test_months_since_with_a_gap_are_refused():
    at = _page(area="hull", since="2022-01")
    assert not at.exception
    assert "not all stored" in " ".join(w.value for w in at.warning)
    assert "2022-01 to 2024-03" in " ".join(w.value for w in at.warning)


def test_the_meeting_is_remembered_per_csp_and_put_in_the_link():
    at = _page(area="hull")
    at.sidebar.selectbox(key=f"meeting_since_{HULL}").set_value("2024-02").run()
    assert not at.exception
    assert last_meeting(HULL) == "2024-02"
    assert last_meeting(NEL) is None
    assert at.query_params["since"] == "2024-02"
    content = json.loads(meetings_path().read_text())
    assert content["meetings"][HULL]["by"] == "tester"
    # a new visit without the link's month opens the remembered one
    again = _page(area="hull")
    assert again.sidebar.selectbox(key=f"meeting_since_{HULL}").value == "2024-02"
    # another CSP keeps its own
    remember_meeting(NEL, "2024-03")
    other = _page(area="north-east-lincolnshire")
    assert other.sidebar.selectbox(key=f"meeting_since_{NEL}").value == "2024-03"


def test_partner_sees_rounded_counts_and_cannot_change_the_remembered_month():
    from ui.disclosure import rule_from_config

    remember_meeting(HULL, "2024-03")
    at = _page("partner", area="hull")
    assert not at.exception
    moved = at.dataframe[0].value
    counts = [v for c in moved.columns if c.startswith("Incidents") for v in moved[c]]
    assert counts and all(v == "<5" or int(v.replace(",", "")) % 5 == 0 for v in counts)
    expected = _expected(HULL, ("2024-03",), rule_from_config())
    assert moved["Place"].tolist() == places_that_moved(expected)["name"].head(10).tolist()
    at.sidebar.selectbox(key=f"meeting_since_{HULL}").set_value("2024-02").run()
    assert last_meeting(HULL) == "2024-03"   # partners do not change it for everyone
    assert at.query_params["since"] == "2024-02"


def test_public_may_not_open_the_page():
    at = _page("public", area="hull")
    assert not at.exception
    assert "No CSP to show" in " ".join(i.value for i in at.info)
