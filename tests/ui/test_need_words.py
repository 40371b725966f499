"""Words for non-statisticians and honest rates: the Need page, the CSP cards and the sidebar.

Every rate says its period ("per 1,000 residents per year (annualised from 3 months:
2024-01..2024-03)") and is annualised; change is empty with its reason when no comparable
period is stored; the CSP shares say which data and months they come from; the table pins
the LSOA and shows the key columns first; expert controls have plain labels, the technical
term in their help, inside an "Advanced" expander.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geodata.paths import shipped_crime_files
from geodata.reference import load_lsoa_table
from tests.ui.conftest import APP, TIMEOUT

UNIT = "per 1,000 residents per year (annualised from 3 months: 2024-01..2024-03)"
SERIOUS = ["Violence and sexual offences", "Robbery", "Possession of weapons"]


@pytest.fixture(scope="module")
def need_page():
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page("views/need.py").run()
    assert not at.exception
    assert at.select_slider(key="need_months").value == ("2024-01", "2024-03")
    return at


def _columns(at: AppTest) -> dict:
    return json.loads(at.dataframe[0].proto.columns)


def test_every_rate_on_the_need_page_is_annualised_and_says_its_period(need_page):
    at = need_page
    raw = pd.concat(pd.read_csv(p) for p in shipped_crime_files() if "2024-" in p.name)
    serious = raw[raw["Crime type"].isin(SERIOUS)]
    lsoas = load_lsoa_table()
    hull = lsoas[lsoas["lad_code"] == "E06000010"]
    incidents = int(serious["LSOA code"].isin(hull["lsoa21cd"]).sum())
    cards = [m for m in at.metric if m.label == "Rate per 1,000 per year"]
    assert len(cards) == 4 and all(UNIT in m.proto.help for m in cards)
    hull_rate = float(cards[0].value)  # the cards are in config order: Hull first
    assert hull_rate == pytest.approx(1000 * incidents / hull["population"].sum() * 12 / 3,
                                      abs=0.005)
    assert any(f"Rates are incidents {UNIT}." == c.value for c in at.caption)
    table = at.dataframe[0].value.set_index("LSOA code")
    top = table.index[0]
    count = int((serious["LSOA code"] == top).sum())
    population = lsoas.set_index("lsoa21cd").loc[top, "population"]
    assert table.loc[top, "Rate per 1,000 per year"] == pytest.approx(
        1000 * count / population * 4)  # 3 months × 4 = a year
    assert UNIT in _columns(at)["Rate per 1,000 per year"]["help"]
    assert any(f"Rates: incidents {UNIT}." in c.value for c in at.caption)
    assert any(c.value == f"Rate: incidents {UNIT}." for c in at.caption)  # the scatter's


def test_change_is_empty_and_its_header_and_caption_say_why(need_page):
    at = need_page
    table = at.dataframe[0].value
    assert table["Change"].isna().all() and table["Change (%)"].isna().all()
    reason = "(2023-10 to 2023-12) are not all stored"
    assert reason in _columns(at)["Change"]["help"]
    assert any(reason in c.value and "The change columns are empty." in c.value
               for c in at.caption)
    at.select_slider(key="need_months").set_value(("2024-03", "2024-03")).run()
    assert at.dataframe[0].value["Change"].notna().all()
    assert "Compared with 2024-02" in _columns(at)["Change"]["help"]
    assert not any("The change columns are empty." in c.value for c in at.caption)
    at.select_slider(key="need_months").set_value(("2024-01", "2024-03")).run()


def test_the_shares_say_which_data_and_months_they_come_from(need_page):
    at = need_page
    note = next(c.value for c in at.caption if c.value.startswith("Shares of "))
    shares = {m.value for m in at.metric if m.label == "Share of Humber total"}
    assert len(shares) == 4 and all(s in note for s in shares)  # the figures shown
    assert "3 months (2024-01..2024-03)" in note
    assert "Serious violence (police.uk proxy) (Violence and sexual offences, Robbery, " \
           "Possession of weapons)" in note
    assert "police.uk street-level crime" in note and "without a usable location" in note
    incidents = sum(int(m.value.replace(",", "")) for m in at.metric
                    if m.label == "Incidents")
    assert f"{incidents:,} incidents" in note


def test_the_lsoa_is_pinned_and_the_key_columns_come_first(need_page):
    at = need_page
    columns = _columns(at)
    assert columns["LSOA"]["pinned"] is True
    order = list(at.dataframe[0].proto.column_order)
    assert order[:8] == ["LSOA", "In a hotspot", "Incidents", "Rate per 1,000 per year",
                         "Change", "Change (%)", "Residents", "IMD decile"]
    assert "LSOA code" not in order and "IMD rank" not in order  # hidden, still in the data
    assert {"LSOA code", "IMD rank"} <= set(at.dataframe[0].value.columns)
    assert set(at.dataframe[0].value["In a hotspot"]) == {"Yes", "No"}
    at.checkbox(key="need_every_column").check().run()
    assert list(at.dataframe[0].proto.column_order) == []  # every column
    at.checkbox(key="need_every_column").uncheck().run()


def test_the_deprivation_filter_takes_a_range_of_deciles(need_page):
    at = need_page
    at.selectbox(key="need_decile_from").set_value(3)
    at.selectbox(key="need_decile_to").set_value(1).run()  # either order
    deciles = at.dataframe[0].value["IMD decile"]
    assert len(deciles) and deciles.between(1, 3).all() and (deciles == 3).any()
    at.selectbox(key="need_decile_from").set_value(1)
    at.selectbox(key="need_decile_to").set_value(10).run()
    assert len(at.dataframe[0].value) == 591


def _sidebar_filters() -> None:
    from config import get_config
    from ui.widgets import map_filters

    map_filters(get_config(), ["2024-01", "2024-02", "2024-03"], key="words")


def test_expert_controls_have_plain_labels_and_their_technical_terms_in_help():
    at = AppTest.from_function(_sidebar_filters, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert any(e.label.startswith("Advanced") for e in at.expander)
    assert not any("DBSCAN" in e.label or "Kernel density" in e.label for e in at.expander)
    bandwidth = at.slider(key="words_bandwidth")
    assert bandwidth.label == "Smoothing distance (m)"
    assert bandwidth.help.startswith("**Kernel density bandwidth")
    eps = at.number_input(key="words_eps")
    assert eps.label == "Grouping distance (m)" and "DBSCAN eps" in eps.help
    min_samples = at.number_input(key="words_min_samples")
    assert min_samples.label == "Minimum incidents per group (incidents)"
    assert "DBSCAN min_samples" in min_samples.help
    measure = at.radio(key="words_measure")
    assert "Harm (days of custody)" in measure.options
