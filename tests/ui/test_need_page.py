"""The Need page: LSOA table traceable to the raw files, filters, map, scatter and CSV."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geodata.paths import shipped_crime_files
from geodata.reference import load_lsoa_table
from tests.ui.conftest import APP, TIMEOUT

SERIOUS = ["Violence and sexual offences", "Robbery", "Possession of weapons"]


@pytest.fixture(scope="module")
def need_page():
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page("views/need.py").run()
    return at


def test_humber_need_table_lists_every_lsoa(need_page):
    at = need_page
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 591
    rate = table["Rate per 1,000 per year"]
    known = rate.notna()
    assert known.sum() > 500 and rate[known].is_monotonic_decreasing  # highest rate first
    assert known.tolist() == sorted(known.tolist(), reverse=True)     # then the blank rates
    assert [m.label for m in at.metric].count("LSOAs in IMD decile 1") == 4
    assert len(at.get("download_button")) == 1
    assert len(at.get("deck_gl_json_chart")) == 1
    assert len(at.get("arrow_vega_lite_chart")) + len(at.get("vega_lite_chart")) >= 1


def test_lsoa_figures_are_traceable_to_the_raw_files():
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page("views/need.py").run()
    at.selectbox(key="need_area").set_value("E06000010")
    at.select_slider(key="need_months").set_value(("2024-01", "2024-03")).run()
    assert not at.exception
    table = at.dataframe[0].value.set_index("LSOA code")
    assert len(table) == 168
    raw = pd.concat(pd.read_csv(p) for p in shipped_crime_files() if "2024-" in p.name)
    lsoas = load_lsoa_table().set_index("lsoa21cd")
    for code in table.index[:3]:  # the three highest rates
        expected = int((raw["Crime type"].isin(SERIOUS) & (raw["LSOA code"] == code)).sum())
        assert table.loc[code, "Incidents"] == expected
        assert table.loc[code, "Rate per 1,000 per year"] == pytest.approx(  # 3 months
            1000 * expected / lsoas.loc[code, "population"] * 12 / 3)
        assert table.loc[code, "IMD decile"] == lsoas.loc[code, "imd_decile"]
    # The three months before 2024-01 (2023-10..12) are not stored: no previous figures.
    assert table["Incidents, previous period"].isna().all() and table["Change"].isna().all()
    # March against February, both stored: the previous figures trace to February's file.
    at.select_slider(key="need_months").set_value(("2024-03", "2024-03")).run()
    march = at.dataframe[0].value.set_index("LSOA code")
    february = pd.read_csv(next(p for p in shipped_crime_files() if "2024-02" in p.name))
    for code in march.index[:3]:
        expected = int((february["Crime type"].isin(SERIOUS)
                        & (february["LSOA code"] == code)).sum())
        assert march.loc[code, "Incidents, previous period"] == expected
        assert march.loc[code, "Change"] == march.loc[code, "Incidents"] - expected
    assert (table["In a hotspot"] == "Yes").any()


def test_filters_and_bivariate_colours(need_page):
    at = need_page
    at.checkbox(key="need_hot").check().run()
    hot = at.dataframe[0].value
    assert 0 < len(hot) < 591 and (hot["In a hotspot"] == "Yes").all()
    at.checkbox(key="need_hot").uncheck()
    at.text_input(key="need_search").set_value("Grimsby").run()
    assert all("Grimsby" in n or "Grimsby" in w for n, w in
               zip(at.dataframe[0].value["LSOA"], at.dataframe[0].value["Ward"]))
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    fills = {tuple(r["fill"][:3]) for r in spec["layers"][0]["data"]}
    assert len(fills) == 9  # every cell of the 3 x 3 palette is used across the Humber


def test_find_a_place_zooms_the_need_map(need_page):
    at = need_page
    at.text_input(key="need_find").set_value("E01012756").run()
    assert not at.exception
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    assert "focus" in [layer["id"] for layer in spec["layers"]]
    assert spec["initialViewState"]["zoom"] > 12


def test_need_table_can_rank_by_harm(need_page):
    at = need_page
    at.radio(key="need_measure").set_value("harm").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert {"Harm (days of custody)", "Harm per 1,000 per year"} <= set(table.columns)
    ranked = table["Harm per 1,000 per year"].dropna()
    assert ranked.is_monotonic_decreasing


def test_change_is_empty_with_its_reason_when_no_comparable_period_is_stored():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page("views/need.py").run()
    assert not at.exception
    assert at.select_slider(key="need_months").value == ("2024-01", "2024-03")  # the default
    table = at.dataframe[0].value
    assert table["Change"].isna().all() and table["Change (%)"].isna().all()
    caption = next(c.value for c in at.caption if "Change:" in c.value)
    assert "2023-10 to 2023-12" in caption and "no change is shown" in caption
    at.select_slider(key="need_months").set_value(("2024-02", "2024-03")).run()
    assert at.dataframe[0].value["Change"].isna().all()
    at.select_slider(key="need_months").set_value(("2024-03", "2024-03")).run()
    table = at.dataframe[0].value
    assert table["Change"].notna().all()  # March against February: both stored
    assert any("Compared with 2024-02" in c.value for c in at.caption)


def test_the_need_csv_carries_figures_rounded_as_the_table_shows_them():
    from ui.need_view import csv_figures

    shown = pd.DataFrame({"LSOA": ["A"], "Rate per 1,000 per year": [12.345678],
                          "Rate per 1,000 aged 16–34 per year": [40.0049], "IMD score": [31.26],
                          "Change (%)": [12.5001], "Residents": [1523]})
    rounded = csv_figures(shown)
    assert rounded.iloc[0].tolist() == ["A", 12.35, 40.0, 31.3, 13.0, 1523]
    assert shown["Rate per 1,000 per year"].iloc[0] == 12.345678  # the input is not modified
