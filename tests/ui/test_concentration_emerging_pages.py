"""Concentration (overview, Need) and emerging hot spots (CSP page) as rendered."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.ui.conftest import APP, TIMEOUT, deck_spec, layer_ids
from ui import cached
from ui.concentration_view import SECTION_LABEL

HULL = "E06000010"


def _texts(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [i.value for i in at.info]
                     + [c.value for c in at.caption])


def test_concentration_is_computed_only_once_its_section_is_opened():
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert [e.label for e in at.expander if e.label == SECTION_LABEL] == [SECTION_LABEL]
    assert not [m for m in at.markdown if m.value.startswith("50% of incidents occur in")]
    assert not [d for d in at.dataframe if "Generalised Gini" in d.value.columns]
    calls = []
    original = cached.concentration
    cached.concentration = lambda *a, **k: calls.append(a) or original(*a, **k)
    try:
        at.session_state["humber_concentration"] = True   # what opening it does
        at.run()
    finally:
        cached.concentration = original
    assert not at.exception
    assert len(calls) == 1 and calls[0][0] is None
    assert [m for m in at.markdown if m.value.startswith("50% of incidents occur in")]


def test_overview_shows_the_lorenz_chart_and_the_sentence():
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["humber_concentration"] = True
    at.run()
    assert not at.exception
    sentence = [m.value for m in at.markdown if m.value.startswith("50% of incidents occur in")]
    assert len(sentence) == 1
    assert "of 100 m cells" in sentence[0] and "50% of harm in" in sentence[0]
    assert len(at.get("vega_lite_chart")) >= 2   # the trend chart and the Lorenz chart
    tables = [d.value for d in at.dataframe if "Generalised Gini" in d.value.columns]
    assert len(tables) == 1 and len(tables[0]) == 6
    assert set(tables[0]["Measure"]) == {"Incidents", "Harm (days of custody)"}
    gini = tables[0].set_index(["Places", "Measure"])["Generalised Gini"]
    assert 0 < gini[("LSOAs", "Incidents")] < gini[("100 m cells", "Incidents")] < 1


def _need_as(role: str) -> None:
    import runpy

    import streamlit as st

    from auth.roles import Viewer

    st.session_state["viewer"] = Viewer(name="t", role=role)
    st.session_state.setdefault("need_concentration", True)
    runpy.run_path("views/need.py")


def test_partner_sees_shares_only():
    at = AppTest.from_function(_need_as, args=("partner",), default_timeout=TIMEOUT).run()
    assert not at.exception
    tables = [d.value for d in at.dataframe if "Generalised Gini" in d.value.columns]
    assert len(tables) == 1
    assert "Incidents" not in tables[0].columns and set(tables[0]["Measure"]) == {"Incidents"}
    sentence = [m.value for m in at.markdown if m.value.startswith("50% of incidents")][0]
    assert "harm" not in sentence
    chart = [c for c in at.get("vega_lite_chart") if "Lorenz" in str(c.proto)
             or "% of places" in str(c.proto)]
    assert chart  # the curve, at a few shares of places only


def _csp(area_code: str, role: str = "analyst", fake_months: bool = False,
         layers: str | None = None) -> None:
    """The CSP page; with `fake_months`, the store's months are replaced by twelve
    contiguous ones whose incidents are the shipped 2024-01..03 repeated, so the emerging
    hot spot analysis has a cube to work on."""
    import streamlit as st

    import ui.cached as cached
    import ui.widgets as widgets
    from auth.roles import Viewer
    from views.csp import render

    st.session_state["viewer"] = Viewer(name="t", role=role)
    if layers:
        st.query_params["layers"] = layers
    if not fake_months:
        render(area_code)
        return
    MONTHS12 = tuple(f"2023-{m:02d}" for m in range(4, 13)) + ("2024-01", "2024-02", "2024-03")
    from hotspots.emerging import cube_months, emerging_hotspots, protect_emerging
    from hotspots.pipeline import study_area

    real = cached.selected_incidents(area_code, ("2024-01", "2024-02", "2024-03"),
                                   "Serious violence (police.uk proxy)")
    frames = [real.assign(month=m) for m in MONTHS12]
    import pandas as pd

    fake = pd.concat(frames, ignore_index=True)
    burst = real.iloc[:1]
    fake = pd.concat([fake] + [burst.assign(month=m) for m in MONTHS12[-2:] for _ in range(40)],
                     ignore_index=True)

    def emerging(area, months, group, *, disclosure=None):
        result = emerging_hotspots(fake, study_area(cached.lsoa_table(), area), months=MONTHS12)
        if disclosure is not None:
            result = protect_emerging(result, fake["x"], fake["y"],
                                      threshold=disclosure.threshold,
                                      support_radius_m=disclosure.support_radius_m)
        return result

    saved = cached.emerging, widgets.emerging_months
    cached.emerging = emerging
    widgets.emerging_months = lambda months: (MONTHS12, cube_months(MONTHS12, MONTHS12)[2])
    try:
        render(area_code)
    finally:
        cached.emerging, widgets.emerging_months = saved


def test_shipped_months_keep_the_change_layer_and_say_why():
    at = AppTest.from_function(_csp, args=(HULL,), default_timeout=TIMEOUT).run()
    at.select_slider(key="hull_months").set_value(("2022-01", "2024-03")).run()
    assert not at.exception
    text = _texts(at)
    assert "Too few contiguous months (need at least 10)" in text
    assert "2022-02..2023-12 are not stored" in text
    options = at.multiselect[0].options
    assert "Change since the previous period" in options
    assert "Emerging hot spots (space-time Gi*)" not in options


def test_enough_months_replace_change_with_the_emerging_layer():
    at = AppTest.from_function(_csp, args=(HULL, "analyst", True, "hotspots,change"),
                               default_timeout=TIMEOUT).run()
    assert not at.exception
    options = at.multiselect[0].options
    assert "Emerging hot spots (space-time Gi*)" in options
    assert "Change since the previous period" not in options
    spec, _ = deck_spec(at)
    assert "emerging" in layer_ids(spec) and "change" not in layer_ids(spec)
    layer = next(l for l in spec["layers"] if l["id"] == "emerging")
    tips = [r["tooltip"] for r in layer["data"]]
    assert any("Persistent hot spot" in t for t in tips)
    assert all("Trend of Gi* z" in t for t in tips)
    tables = [d.value for d in at.dataframe if "Category" in d.value.columns]
    counts = tables[0].set_index("Category")["Cells"]
    assert counts["persistent hot spot"] > 0 and counts.sum() > counts["persistent hot spot"]


def test_partner_sees_categories_only_where_incidents_have_company():
    at = AppTest.from_function(_csp, args=(HULL, "partner", True, "emerging"),
                               default_timeout=TIMEOUT).run()
    assert not at.exception
    spec, _ = deck_spec(at)
    layer = next(l for l in spec["layers"] if l["id"] == "emerging")
    assert layer["data"]
    assert not any("Trend" in r["tooltip"] or "months" in r["tooltip"] for r in layer["data"])
    frames = [d.value for d in at.dataframe if "Category" in d.value.columns]
    assert all(list(f.columns) in (["Category", "Cells"], ["Category"]) for f in frames)
