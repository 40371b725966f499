"""Need table and bivariate classes, pinned by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hotspots.need import BIVARIATE_PALETTE, DOMAIN_KEYS, lsoa_need_table, terciles


def _lsoas() -> pd.DataFrame:
    frame = pd.DataFrame({
        "lsoa21cd": ["A", "B", "C"], "lsoa21nm": ["Alpha", "Beta", "Gamma"],
        "lad_code": ["E1"] * 3, "ward_name": ["W"] * 3,
        "population": [1000, 2000, 0], "population_16_34": [250, 0, 0],
        "imd_score": [50.0, 10.0, 30.0], "imd_rank": [100, 30000, 9000]})
    for domain in DOMAIN_KEYS:
        frame[f"{domain}_decile"] = [1, 9, 4]
    return frame


def test_terciles_by_rank():
    assert terciles([5, 1, 9, 3, 7, 2]).tolist() == [2, 1, 3, 2, 3, 1]
    assert terciles([]).tolist() == []


def test_need_table_by_hand():
    now = pd.DataFrame({"lsoa21cd": ["A", "A", "A", "B"]})
    before = pd.DataFrame({"lsoa21cd": ["A", "B", "B"]})
    table = lsoa_need_table(_lsoas(), now, before, hotspot_lsoas={"A"}).set_index("lsoa21cd")
    # A: 3 incidents / 1,000 residents = 3.0; 3 / 250 aged 16-34 = 12.0; before 1: +200%.
    assert table.loc["A", ["incidents", "rate_per_1000", "rate_16_34_per_1000"]].tolist() == [
        3, 3.0, 12.0]
    assert table.loc["A", ["incidents_before", "change", "change_pct"]].tolist() == [1, 2, 200.0]
    assert table.loc["B", "rate_per_1000"] == pytest.approx(0.5)
    assert np.isnan(table.loc["B", "rate_16_34_per_1000"])   # no residents aged 16-34
    assert np.isnan(table.loc["C", "rate_per_1000"])         # no residents at all
    assert table["in_hotspot"].to_dict() == {"A": True, "B": False, "C": False}
    assert table.index.tolist()[:2] == ["A", "B"]           # highest rate first
    assert table.loc["A", "imd_tercile"] == 3 and table.loc["B", "imd_tercile"] == 1


def test_need_table_without_a_previous_period():
    table = lsoa_need_table(_lsoas(), pd.DataFrame({"lsoa21cd": ["A"]}), None)
    assert table["change"].isna().all()


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match=r"lacks the columns \['imd_score'\]"):
        lsoa_need_table(_lsoas().drop(columns="imd_score"), pd.DataFrame({"lsoa21cd": []}), None)


def test_palette_darkens_with_both_violence_and_deprivation():
    # The legend's reading: [rate tercile - 1][IMD tercile - 1], light grey for low/low,
    # darkest (blue) for high/high. A transposed, reordered or repeated colour breaks it.
    palette = np.array(BIVARIATE_PALETTE, dtype=float)
    lightness = palette.sum(axis=2)
    assert (np.diff(lightness, axis=0) < 0).all()   # higher rate tercile: darker
    assert (np.diff(lightness, axis=1) < 0).all()   # more deprived tercile: darker
    assert len({tuple(c) for c in palette.reshape(-1, 3)}) == 9
    assert palette[2, 2, 2] > palette[2, 2, 0]       # high/high leans blue
    # Rows are violence (purple: red over green), columns deprivation (teal: green over red).
    assert palette[2, 0, 0] > palette[2, 0, 1] and palette[0, 2, 1] > palette[0, 2, 0]


def test_harm_ranks_by_harm_per_1000():
    now = pd.DataFrame({"lsoa21cd": ["A", "B", "B"], "harm": [10.0, 400.0, 100.0]})
    table = lsoa_need_table(_lsoas(), now, None, harm="harm")
    # A: 10 harm / 1,000 residents = 10 per 1,000; B: 500 / 2,000 = 250 per 1,000.
    assert table["lsoa21cd"].tolist()[:2] == ["B", "A"]
    assert table.set_index("lsoa21cd").loc["B", ["harm", "harm_per_1000"]].tolist() == [
        500.0, 250.0]


def test_annualised_rates_are_per_year_and_keep_the_order():
    from hotspots.need import annualised

    now = pd.DataFrame({"lsoa21cd": ["A", "A", "A", "B"], "harm": [1.0, 1.0, 1.0, 8.0]})
    table = lsoa_need_table(_lsoas(), now, None, harm="harm")
    table.attrs["comparison"] = "why"
    yearly = annualised(table, ("2024-01", "2024-02", "2024-03")).set_index("lsoa21cd")
    # A: 3 incidents / 1,000 residents in 3 months = 3.0 per 1,000; a year is 4 times that.
    assert yearly.loc["A", ["rate_per_1000", "rate_16_34_per_1000"]].tolist() == [12.0, 48.0]
    assert yearly.loc["B", "harm_per_1000"] == pytest.approx(16.0)   # 8 / 2,000 × 1,000 × 4
    assert yearly.loc["A", "incidents"] == 3                         # counts unchanged
    assert yearly.index.tolist() == table["lsoa21cd"].tolist()        # same order
    assert yearly.attrs["rate_unit"] == ("per 1,000 residents per year (annualised from 3 "
                                         "months: 2024-01..2024-03)")
    assert yearly.attrs["comparison"] == "why"                       # other attrs kept
    assert table.set_index("lsoa21cd").loc["A", "rate_per_1000"] == 3.0  # input unmodified


def test_share_explanation_names_the_data_months_and_types():
    from hotspots.need import share_explanation

    summary = pd.DataFrame({"CSP": ["Hull", "East Riding"], "incidents": [300.0, np.nan],
                            "share_pct": [100.0, np.nan]})
    text = share_explanation(summary, months=["2024-03", "2024-01", "2024-02"],
                             crime_group="Robbery", crime_types=["Robbery"],
                             sources={"police_uk": "police.uk street-level crime"})
    assert text.startswith("Shares of Robbery (Robbery) placed in the four CSPs: 300 incidents "
                           "in 3 months (2024-01..2024-03). Hull 100.0%; East Riding withheld. "
                           "Source: police.uk street-level crime. ")
    assert "police.uk street-level data leaves out crimes it cannot place on a map" in text
    mixed = share_explanation(summary, months=["2024-03"], crime_group="Robbery",
                              crime_types=["Robbery"],
                              sources={"police_uk": "police.uk", "hospital_ae": "A&E"})
    assert "1 month (2024-03)." in mixed and "Source: police.uk; A&E." in mixed
    assert "police.uk street-level data leaves out" not in mixed
    with pytest.raises(ValueError, match=r"lacks the columns \['share_pct'\]"):
        share_explanation(summary.drop(columns="share_pct"), months=["2024-03"],
                          crime_group="Robbery", crime_types=["Robbery"],
                          sources={"police_uk": "police.uk"})
    with pytest.raises(ValueError, match="at least one stored source"):
        share_explanation(summary, months=["2024-03"], crime_group="Robbery",
                          crime_types=["Robbery"], sources={})
