"""Hotspot profiles on a tiny hand-built frame, with hand-computed numbers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.change import CHANGE_CLASSES, HotspotChange
from hotspots.grid import Grid
from hotspots.hotspot_profile import (
    DAYS,
    HotspotProfile,
    hotspot_profiles,
    persistence_by_outline,
    street_name,
)

MONTHS = ["2024-01", "2024-02", "2024-03"]

LSOAS = pd.DataFrame({"lsoa21cd": ["E01000001", "E01000002", "E01000003"],
                      "lsoa21nm": ["Hull 001A", "Hull 001B", "Hull 002A"],
                      "imd_decile": [1, 3, 7]})


def _incidents(**extra) -> pd.DataFrame:
    """Eight incidents: six in hotspot 1, one in hotspot 2, one outside (id -1).

    Hotspot 1: 4 violence + 2 robbery -> shares 66.67 % and 33.33 %; months 2024-01 (x2) and
    2024-03 (x4), none in 2024-02; streets High Street x3, Low Road x2, one missing;
    LSOAs E01000002 x4, E01000001 x2; harm 10 + 10 + 10 + 10 + 50 + 50 = 140.
    """
    frame = pd.DataFrame({
        "crime_type": pd.Series(["Violence and sexual offences"] * 4 + ["Robbery"] * 2
                                + ["Robbery", "Violence and sexual offences"], dtype="string"),
        "month": pd.Series(["2024-01", "2024-01", "2024-03", "2024-03", "2024-03", "2024-03",
                            "2024-02", "2024-02"], dtype="string"),
        "location": pd.Series(["On or near High Street", "On or near High Street",
                               "On or near Low Road", "On or near High Street", None,
                               "On or near Low Road", "On or near Parking Area",
                               "On or near Elsewhere"], dtype="string"),
        "lsoa21cd": pd.Series(["E01000002", "E01000001", "E01000002", "E01000002",
                               "E01000001", "E01000002", "E01000099", "E01000003"],
                              dtype="string"),
        "harm": [10.0, 10.0, 10.0, 10.0, 50.0, 50.0, 50.0, 10.0],
    })
    for name, values in extra.items():
        frame[name] = values
    return frame


IDS = np.array([1, 1, 1, 1, 1, 1, 2, -1])


def test_street_name_parses_police_uk_locations():
    assert street_name("On or near High Street") == "High Street"
    assert street_name("  on or near  Parking Area ") == "Parking Area"
    assert street_name("Main Street car park") == "Main Street car park"   # partner text
    assert street_name(None) is None
    assert street_name(pd.NA) is None
    assert street_name("On or near ") is None


def test_profile_counts_mix_months_streets_lsoas():
    incidents = _incidents()
    before = incidents.copy()
    profiles = hotspot_profiles(incidents, IDS, lsoas=LSOAS, months=MONTHS,
                                persistence={1: "persistent"}, top_streets=1)
    pd.testing.assert_frame_equal(incidents, before)          # input unmodified
    assert list(profiles) == [1, 2]
    p = profiles[1]
    assert isinstance(p, HotspotProfile)
    assert p.incidents == 6
    assert p.harm == pytest.approx(140.0)
    assert p.crime_mix["crime_type"].tolist() == ["Violence and sexual offences", "Robbery"]
    assert p.crime_mix["incidents"].tolist() == [4, 2]
    np.testing.assert_allclose(p.crime_mix["share_pct"], [400 / 6, 200 / 6])
    # Every month of the period, in order, the empty February included.
    assert p.monthly["month"].tolist() == MONTHS
    assert p.monthly["incidents"].tolist() == [2, 0, 4]
    # Top 1 street; the incident without a location is not a street.
    assert p.streets.to_dict("records") == [{"street": "High Street", "incidents": 3}]
    # LSOAs by incidents descending, with names and IMD deciles.
    assert p.lsoas["lsoa21cd"].tolist() == ["E01000002", "E01000001"]
    assert p.lsoas["lsoa21nm"].tolist() == ["Hull 001B", "Hull 001A"]
    assert p.lsoas["imd_decile"].tolist() == [3, 1]
    assert p.lsoas["incidents"].tolist() == [4, 2]
    assert p.persistence == "persistent"
    assert p.day_hour is None                 # no date column at all

    q = profiles[2]
    assert q.incidents == 1 and q.harm == pytest.approx(50.0)
    assert q.persistence is None              # not in the mapping: unknown
    assert q.streets["street"].tolist() == ["Parking Area"]
    # An LSOA code missing from the table keeps a missing name and decile.
    assert q.lsoas["lsoa21cd"].tolist() == ["E01000099"]
    assert q.lsoas["lsoa21nm"].isna().all() and q.lsoas["imd_decile"].isna().all()


def test_streets_ties_by_name_and_top_n():
    p = hotspot_profiles(_incidents(), IDS, lsoas=LSOAS, months=MONTHS)[1]
    assert p.streets.to_dict("records") == [{"street": "High Street", "incidents": 3},
                                            {"street": "Low Road", "incidents": 2}]


def test_requested_ids_get_empty_profiles_and_harm_optional():
    profiles = hotspot_profiles(_incidents(), IDS, lsoas=LSOAS, months=MONTHS,
                                harm_column=None, hotspot_ids=[1, 2, 3])
    empty = profiles[3]
    assert empty.incidents == 0 and np.isnan(empty.harm)
    assert empty.monthly["incidents"].tolist() == [0, 0, 0]
    assert empty.crime_mix.empty and empty.streets.empty and empty.lsoas.empty


def test_day_hour_only_with_times():
    # police.uk: NaT everywhere -> None.
    nat = pd.Series([pd.NaT] * 8, dtype="datetime64[us]")
    assert hotspot_profiles(_incidents(date=nat), IDS, lsoas=LSOAS,
                            months=MONTHS)[1].day_hour is None
    # Dates at midnight only (a date-only extract) -> None.
    midnight = pd.Series(pd.to_datetime(["2024-01-01"] * 8))
    assert hotspot_profiles(_incidents(date=midnight), IDS, lsoas=LSOAS,
                            months=MONTHS)[1].day_hour is None
    # Times: 2024-01-06 was a Saturday, 2024-01-08 a Monday.
    times = pd.Series(pd.to_datetime(
        ["2024-01-06 23:15", "2024-01-06 23:40", "2024-03-04 02:00", "2024-03-04 02:10",
         None, "2024-03-08 00:00", "2024-02-01 12:00", "2024-02-01 12:00"]))
    grid = hotspot_profiles(_incidents(date=times), IDS, lsoas=LSOAS,
                            months=MONTHS)[1].day_hour
    assert grid.shape == (7, 24)
    assert list(grid.index) == list(DAYS) and list(grid.columns) == list(range(24))
    assert grid.loc["Saturday", 23] == 2
    assert grid.loc["Monday", 2] == 2                # 2024-03-04 was a Monday
    assert grid.loc["Friday", 0] == 1                # a real midnight in timed data counts
    assert int(grid.to_numpy().sum()) == 5           # the undated incident is left out


def test_day_hour_per_source():
    # A date-only source does not pile up at midnight beside a timed one.
    dates = pd.Series(pd.to_datetime(
        ["2024-01-06 23:15", "2024-01-01", "2024-03-01", "2024-03-01", "2024-03-01",
         "2024-03-01", "2024-02-01 12:00", "2024-02-01"], format="ISO8601"))
    source = ["ae", "police", "police", "police", "police", "police", "ae", "police"]
    grid = hotspot_profiles(_incidents(date=dates, source=source), IDS, lsoas=LSOAS,
                            months=MONTHS)[1].day_hour
    assert int(grid.to_numpy().sum()) == 1 and grid.loc["Saturday", 23] == 1


def test_profile_validation():
    incidents = _incidents()
    with pytest.raises(TypeError, match="'incidents' parameter of hotspot_profiles"):
        hotspot_profiles([1, 2], IDS, lsoas=LSOAS, months=MONTHS)
    with pytest.raises(ValueError, match="Missing harm"):
        hotspot_profiles(incidents.drop(columns="harm"), IDS, lsoas=LSOAS, months=MONTHS)
    with pytest.raises(ValueError, match="'ids' parameter .* Got shape"):
        hotspot_profiles(incidents, IDS[:3], lsoas=LSOAS, months=MONTHS)
    with pytest.raises(TypeError, match="'months' parameter"):
        hotspot_profiles(incidents, IDS, lsoas=LSOAS, months="2024-01")
    with pytest.raises(ValueError, match="'YYYY-MM'"):
        hotspot_profiles(incidents, IDS, lsoas=LSOAS, months=["2024-13"])
    with pytest.raises(ValueError, match="not in 'months'.*2024-03"):
        hotspot_profiles(incidents, IDS, lsoas=LSOAS, months=["2024-01", "2024-02"])
    with pytest.raises(ValueError, match="'top_streets' parameter"):
        hotspot_profiles(incidents, IDS, lsoas=LSOAS, months=MONTHS, top_streets=0)
    with pytest.raises(ValueError, match="one row per lsoa21cd"):
        hotspot_profiles(incidents, IDS, lsoas=pd.concat([LSOAS, LSOAS]), months=MONTHS)
    with pytest.raises(TypeError, match="'persistence' parameter"):
        hotspot_profiles(incidents, IDS, lsoas=LSOAS, months=MONTHS, persistence=["new"])


def _change(classes: list[list[str]]) -> HotspotChange:
    codes = np.array([[CHANGE_CLASSES.index(c) for c in row] for row in classes], dtype=np.int8)
    zeros = np.zeros(codes.shape)
    return HotspotChange(grid=Grid(x0=0.0, y0=0.0, cell_size=100.0, nx=codes.shape[1],
                                   ny=codes.shape[0]),
                         classes=codes, before=zeros, after=zeros, threshold_before=1.0,
                         threshold_after=1.0, change_pct=25.0)


def test_persistence_majority_of_cells_in_outline():
    # Row 0 is the south row; cell centres at x = 50, 150, 250, 350 and y = 50, 150.
    change = _change([["persistent", "intensifying", "intensifying", "none"],
                      ["persistent", "none", "new", "ceased"]])
    outlines = gpd.GeoDataFrame(
        {"hotspot_id": [1, 2, 3, 4]},
        geometry=[shapely.box(0, 0, 200, 200),       # persistent x2, intensifying x1 (+ none)
                  shapely.box(200, 0, 400, 200),     # intensifying, new, ceased: a 1-1-1 tie
                  shapely.box(1000, 1000, 1100, 1100),   # no cell: unknown, left out
                  shapely.box(300, 0, 400, 100)],    # only a "none" cell: left out
        crs="EPSG:27700")
    result = persistence_by_outline(change, outlines)
    # Hotspot 2's tie goes to the class listed first in CHANGE_CLASSES: "new".
    assert result == {1: "persistent", 2: "new"}


def test_persistence_validation_and_empty():
    change = _change([["new"]])
    empty = gpd.GeoDataFrame({"hotspot_id": pd.Series([], dtype="int64")},
                             geometry=gpd.GeoSeries([], crs="EPSG:27700"))
    assert persistence_by_outline(change, empty) == {}
    with pytest.raises(TypeError, match="'change' parameter of persistence_by_outline"):
        persistence_by_outline("x", empty)
    with pytest.raises(TypeError, match="'outlines' parameter of persistence_by_outline"):
        persistence_by_outline(change, pd.DataFrame())


def test_change_cells_by_outline_counts():
    from hotspots.hotspot_profile import change_cells_by_outline

    change = _change([["persistent", "intensifying", "intensifying", "none"],
                      ["persistent", "none", "new", "ceased"]])
    outlines = gpd.GeoDataFrame({"hotspot_id": [1, 2]},
                                geometry=[shapely.box(0, 0, 200, 200),
                                          shapely.box(1000, 1000, 1100, 1100)],
                                crs="EPSG:27700")
    cells = change_cells_by_outline(change, outlines)
    assert list(cells.columns) == [c for c in CHANGE_CLASSES if c != "none"]
    assert cells.loc[1].to_dict() == {"new": 0, "persistent": 2, "intensifying": 1,
                                      "diminishing": 0, "ceased": 0}
    assert cells.loc[2].sum() == 0
