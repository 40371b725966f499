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


def test_palette_is_three_by_three_rgb():
    assert np.array(BIVARIATE_PALETTE).shape == (3, 3, 3)


def test_harm_ranks_by_harm_per_1000():
    now = pd.DataFrame({"lsoa21cd": ["A", "B", "B"], "harm": [10.0, 400.0, 100.0]})
    table = lsoa_need_table(_lsoas(), now, None, harm="harm")
    # A: 10 harm / 1,000 residents = 10 per 1,000; B: 500 / 2,000 = 250 per 1,000.
    assert table["lsoa21cd"].tolist()[:2] == ["B", "A"]
    assert table.set_index("lsoa21cd").loc["B", ["harm", "harm_per_1000"]].tolist() == [
        500.0, 250.0]
