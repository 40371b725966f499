"""Disclosure control in the rendered pages, checked as an attacker would: read the figures a
partner or public viewer receives and recompute what they imply against the true counts.

Every check here fails when the control is removed: the true counts of the shipped data
include LSOAs with 1-4 incidents and counts that are not multiples of 5.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from config import get_config
from geodata.ingest import open_store
from geodata.reference import load_lsoa_table
from tests.support.attacker import images_in, isolated, nearest_peak_distance, peaks_bng
from tests.ui.conftest import TIMEOUT, deck_spec

NEL = "E06000012"   # North East Lincolnshire
KEY = "north-east-lincolnshire"
INCIDENTS = re.compile(r"Incidents: (<5|[\d,]+)")
RATE = re.compile(r"Rate per 1,000 residents per year: ([\d,.]+|withheld[^<]*)")
CODE = re.compile(r"\((E0\d{7})\)")


def _page_as(area_code: str, role: str) -> None:
    import streamlit as st

    from auth.roles import Viewer
    from views.csp import render

    st.session_state["viewer"] = Viewer(name="t", role=role)
    render(area_code)


def _need_as(role: str) -> None:
    import runpy

    import streamlit as st

    from auth.roles import Viewer

    st.session_state["viewer"] = Viewer(name="t", role=role)
    runpy.run_path("views/need.py")


def _round5(value: float) -> int:
    return 0 if value == 0 else max(5, int(np.floor(value / 5 + 0.5)) * 5)


def _true_counts(months, group: str, area: str | None = None) -> pd.Series:
    types = get_config().crime_group(group).types
    incidents = open_store().query(area_code=area, months=months, crime_types=types)
    return incidents.groupby("lsoa21cd").size()


@pytest.fixture(scope="module")
def partner_page():
    at = AppTest.from_function(_page_as, args=(NEL, "partner"), default_timeout=TIMEOUT).run()
    assert not at.exception
    at.slider(key=f"{KEY}_bandwidth").set_value(300.0)
    at.slider(key=f"{KEY}_cell").set_value(100.0)
    at.multiselect(key=f"{KEY}_layers").set_value(
        ["choropleth", "density", "risk", "change", "hotspots", "clusters", "gi_star",
         "predicted"]).run()
    assert not at.exception
    return at


def test_partner_controls_start_at_the_floors_and_offer_counts_only(partner_page):
    at = partner_page
    assert at.slider(key=f"{KEY}_bandwidth").min == 300.0
    assert at.slider(key=f"{KEY}_cell").min == 100.0
    assert not [r for r in at.radio if r.key == f"{KEY}_measure"]  # no harm measure
    assert "points" not in at.multiselect(key=f"{KEY}_layers").options


def test_lsoa_tooltips_carry_rounded_counts_and_rates_from_them(partner_page):
    at = partner_page
    spec, _ = deck_spec(at)
    chosen = at.select_slider(key=f"{KEY}_months").value
    stored = open_store().months()
    months = tuple(m for m in stored if chosen[0] <= m <= chosen[1])
    group = at.selectbox(key=f"{KEY}_group").value
    truth = _true_counts(months, group, NEL)
    population = load_lsoa_table().set_index("lsoa21cd")["population"]
    choropleth = next(layer for layer in spec["layers"] if layer["id"] == "choropleth")
    small_seen = 0
    for record in choropleth["data"]:
        tip = record["tooltip"]
        code = CODE.search(tip).group(1)
        true = int(truth.get(code, 0))
        shown = INCIDENTS.search(tip).group(1)
        rate = RATE.search(tip).group(1)
        if 0 < true < 5:
            small_seen += 1
            assert shown == "<5" and rate.startswith("withheld"), (code, tip)
            continue
        assert int(shown.replace(",", "")) == _round5(true), (code, true, tip)
        # per year: back to the period's count with months / 12
        recovered = float(rate.replace(",", "")) * population[code] / 1000 * len(months) / 12
        assert abs(recovered - _round5(true)) < 0.1 * population[code] / 1000 + 1e-9, tip
        assert f"annualised from {len(months)} months" in tip
    assert small_seen > 0


def test_outline_tooltips_and_tables_show_rounded_counts_and_no_shares(partner_page):
    spec, _ = deck_spec(partner_page)
    tips = [record["tooltip"] for layer in spec["layers"] if layer["id"] in
            ("hotspots", "clusters") for record in layer["data"]]
    assert tips
    for tip in tips:
        count = int(INCIDENTS.search(tip).group(1).replace(",", ""))
        assert count >= 5 and count % 5 == 0, tip
        assert "%" not in tip and "Harm" not in tip, tip
    for table in partner_page.dataframe[:2]:
        if "Incidents" in table.value and len(table.value):
            values = table.value["Incidents"].astype(int)
            assert ((values >= 5) & (values % 5 == 0)).all()
            assert not table.value["Crime mix"].str.contains("%").any()
    gi_tips = [r["tooltip"] for layer in spec["layers"] if layer["id"] == "gi_star"
               for r in layer["data"]]
    assert not any("z =" in t for t in gi_tips)


def test_density_image_has_no_peak_near_an_isolated_incident(partner_page):
    at = partner_page
    spec, _ = deck_spec(at)
    density = next(layer for layer in spec["layers"] if layer["id"] == "density")
    blob = f'{{"image": "{density["image"]}", "bounds": {density["bounds"]}}}'.encode()
    (rgba, corners), = images_in(blob)
    chosen = at.select_slider(key=f"{KEY}_months").value
    months = tuple(m for m in open_store().months() if chosen[0] <= m <= chosen[1])
    types = get_config().crime_group(at.selectbox(key=f"{KEY}_group").value).types
    incidents = open_store().query(area_code=NEL, months=months, crime_types=types)
    x, y = incidents["x"].to_numpy(float), incidents["y"].to_numpy(float)
    alone = isolated(x, y)
    assert alone.sum() >= 3
    distances = nearest_peak_distance(np.column_stack([x[alone], y[alone]]),
                                      peaks_bng(rgba, corners))
    assert distances.min() > 250


def test_public_need_table_and_its_differences_reveal_no_small_count():
    at = AppTest.from_function(_need_as, args=("public",), default_timeout=TIMEOUT).run()
    assert not at.exception
    population = load_lsoa_table().set_index("lsoa21cd")["population"]
    group = at.selectbox(key="need_group").value

    def figures(months: tuple[str, ...]) -> pd.DataFrame:
        at.select_slider(key="need_months").set_value((months[0], months[-1])).run()
        assert not at.exception
        table = at.dataframe[0].value.set_index("LSOA code")
        stored = open_store().months()
        stored_months = tuple(m for m in stored if months[0] <= m <= months[-1])
        truth = _true_counts(stored_months, group)
        for code, row in table.iterrows():
            true = int(truth.get(code, 0))
            if 0 < true < 5:
                assert row["Incidents"] == "<5" and pd.isna(row["Rate per 1,000 per year"]), code
            else:
                assert row["Incidents"] == f"{_round5(true):,}", (code, true)
                recovered = (row["Rate per 1,000 per year"] * population[code] / 1000
                             * len(stored_months) / 12)  # annualised
                assert abs(recovered - _round5(true)) < 0.01, (code, recovered)
        return table

    three = figures(("2024-01", "2024-03"))
    two = figures(("2024-01", "2024-02"))
    march = _true_counts(("2024-03",), group)
    both = three.index.intersection(two.index)
    shown = three.loc[both, "Incidents"], two.loc[both, "Incidents"]
    numeric = ~shown[0].str.startswith("<") & ~shown[1].str.startswith("<")
    derived = (shown[0][numeric].str.replace(",", "").astype(int)
               - shown[1][numeric].str.replace(",", "").astype(int))
    small_march = march.reindex(derived.index).fillna(0).between(1, 4)
    assert small_march.sum() > 10  # many LSOAs had 1-4 incidents in March
    assert (derived % 5 == 0).all()
    assert not (derived[small_march] == march.reindex(derived.index)[small_march]).any()


def _pinned_by_order(counts: np.ndarray, residents: np.ndarray, rule) -> int:
    """The attack on a table sorted by rate: each pair of neighbouring rows says
    count_i / residents_i >= count_j / residents_j. Starting from what each shown cell allows
    ("<5": 1-4, "10": 8-12), propagate; return how many suppressed counts end up exact."""
    from hotspots.disclosure import rounded_count

    low, high = np.empty(len(counts)), np.empty(len(counts))
    for i, value in enumerate(counts):
        shown = rounded_count(value, rule)
        low[i], high[i] = ((0, 0) if value == 0 else (1, 4) if np.isnan(shown)
                           else (max(5, shown - 2), shown + 2))
    for _ in range(50):
        changed = False
        for i in range(len(counts) - 1):
            j = i + 1
            raised = np.ceil(low[j] * residents[i] / residents[j] - 1e-9)
            lowered = np.floor(high[i] * residents[j] / residents[i] + 1e-9)
            if raised > low[i]:
                low[i], changed = raised, True
            if lowered < high[j]:
                high[j], changed = lowered, True
        if not changed:
            break
    suppressed = (counts > 0) & (counts < 5)
    return int(((low == high) & suppressed).sum())


def test_the_need_table_order_carries_nothing_beyond_the_rounded_counts():
    from hotspots import pipeline
    from hotspots.disclosure import DisclosureRule
    from hotspots.need import lsoa_need_table, protect_need_table

    rule = DisclosureRule()
    lsoas = load_lsoa_table()
    types = get_config().crime_group("Serious violence (police.uk proxy)").types
    incidents = open_store().query(area_code="E06000011",
                                   months=("2024-01", "2024-02", "2024-03"), crime_types=types)
    exact = lsoa_need_table(pipeline.area_lsoas(lsoas, "E06000011"), incidents, None)
    # the attack is real on a table sorted by the exact rate (the analysts' table)
    assert _pinned_by_order(exact["incidents"].to_numpy(), exact["population"].to_numpy(float),
                            rule) > 20
    protected = protect_need_table(exact, rule)
    # the partner's order is a function of what the partner sees: the rate from the rounded
    # count (itself shown), then the code; so it adds nothing to the shown figures
    expected = protected.sort_values(["rate_per_1000", "lsoa21cd"], ascending=[False, True],
                                     na_position="last")["lsoa21cd"].tolist()
    assert protected["lsoa21cd"].tolist() == expected
    recovered = (protected["rate_per_1000"] * protected["population"] / 1000).dropna()
    assert np.allclose(recovered, 5 * np.round(recovered / 5))
    # and the terciles come from the protected rate, not the exact one
    from hotspots.need import terciles
    assert (protected["rate_tercile"].to_numpy()
            == terciles(protected["rate_per_1000"].fillna(0))).all()
