"""Counts, rates per 1,000 residents, shares and monthly trends, pinned by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from hotspots.rates import area_rates, monthly_counts

INCIDENTS = pd.DataFrame({
    "area": ["A", "A", "A", "B", None],
    "month": ["2024-01", "2024-01", "2024-03", "2024-03", "2024-03"],
    "harm": [1.0, 2.0, 3.0, 10.0, 5.0],
})
POPULATIONS = pd.DataFrame({"area": ["A", "B", "C"], "population": [2000, 500, 0]})


def test_rates_and_shares_by_hand():
    result = area_rates(INCIDENTS, POPULATIONS, key="area").set_index("area")
    # A: 3 incidents / 2,000 residents = 1.5 per 1,000; B: 1 / 500 = 2.0; C: no residents.
    assert result["incidents"].tolist() == [3, 1, 0]
    assert result.loc["A", "rate_per_1000"] == pytest.approx(1.5)
    assert result.loc["B", "rate_per_1000"] == pytest.approx(2.0)
    assert pd.isna(result.loc["C", "rate_per_1000"])
    # The incident without an area is not counted anywhere: shares of the 4 placed ones.
    assert result["share_pct"].tolist() == pytest.approx([75.0, 25.0, 0.0])


def test_weighted_rates_sum_the_weights():
    result = area_rates(INCIDENTS, POPULATIONS, key="area", weight="harm").set_index("area")
    assert result.loc["A", "incidents"] == pytest.approx(6.0)
    assert result.loc["B", "rate_per_1000"] == pytest.approx(20.0)


def test_monthly_counts_fill_empty_months_with_zero():
    table = monthly_counts(INCIDENTS, key="area", months=["2024-01", "2024-02", "2024-03"])
    assert table.to_dict() == {"A": {"2024-01": 2, "2024-02": 0, "2024-03": 1},
                               "B": {"2024-01": 0, "2024-02": 0, "2024-03": 1}}


def test_inputs_are_checked():
    with pytest.raises(TypeError, match="'incidents' parameter of area_rates must be a pandas DataFrame"):
        area_rates([1, 2], POPULATIONS, key="area")
    with pytest.raises(ValueError, match=r"'populations' parameter of area_rates must have columns .*Missing population\."):
        area_rates(INCIDENTS, POPULATIONS.drop(columns="population"), key="area")
    with pytest.raises(ValueError, match=r"'incidents' parameter of monthly_counts must have columns month, .*Missing month\."):
        monthly_counts(INCIDENTS.drop(columns="month"), key="area")


def test_rates_are_annualised_over_the_months_counted():
    from hotspots.rates import annualisation_factor, annualise

    assert annualisation_factor(["2024-01", "2024-02", "2024-03"]) == 4.0
    assert annualisation_factor(["2024-03"]) == 12.0
    assert annualisation_factor(["2024-01", "2024-01"]) == 12.0  # a month counts once
    rates = area_rates(INCIDENTS, POPULATIONS, key="area")
    yearly = annualise(rates, ["2024-01", "2024-02", "2024-03"], ["rate_per_1000", "absent"])
    # A: 1.5 per 1,000 over 3 months is 6.0 per 1,000 a year.
    assert yearly["rate_per_1000"].tolist()[:2] == pytest.approx([6.0, 8.0])
    assert yearly["incidents"].tolist() == rates["incidents"].tolist()
    assert rates["rate_per_1000"].iloc[0] == pytest.approx(1.5)  # the input is not modified
    assert yearly.attrs["months"] == ("2024-01", "2024-02", "2024-03")


def test_rate_unit_says_the_period_and_shows_gaps():
    from hotspots.rates import month_span, rate_unit

    assert rate_unit(["2024-02", "2024-01", "2024-03"]) == (
        "per 1,000 residents per year (annualised from 3 months: 2024-01..2024-03)")
    assert rate_unit(["2024-03"]) == "per 1,000 residents per year (annualised from 1 month: " \
                                     "2024-03)"
    assert rate_unit(["2022-01", "2024-01", "2024-02"], per="residents aged 16–34") == (
        "per 1,000 residents aged 16–34 per year (annualised from 3 months: 2022-01, "
        "2024-01..2024-02)")
    assert month_span(["2023-12", "2024-01"]) == "2023-12..2024-01"  # across a year end


def test_months_are_checked():
    from hotspots.rates import annualisation_factor, annualise, rate_unit

    with pytest.raises(TypeError, match="got the string '2024-01'"):
        rate_unit("2024-01")
    with pytest.raises(ValueError, match=r"'YYYY-MM' strings, got \['2024-13'\]"):
        annualisation_factor(["2024-13"])
    with pytest.raises(ValueError, match="at least one month, got none"):
        annualisation_factor([])
    with pytest.raises(TypeError, match="'frame' parameter of annualise must be a pandas DataFrame"):
        annualise([1.0], ["2024-01"], ["rate_per_1000"])
