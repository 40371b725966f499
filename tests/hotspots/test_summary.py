"""Tests for hotspots.summary: point-in-polygon ids and the rank table."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from hotspots.summary import SUMMARY_COLUMNS, assign_to_polygons, summarise_areas

# ---------------------------------------------------------------- assign_to_polygons


@pytest.fixture
def squares() -> gpd.GeoDataFrame:
    """Hotspot 1: 1 km square at (508000, 429000); hotspot 2: 500 m square
    overlapping its north-east corner; hotspot 3 far east."""
    return gpd.GeoDataFrame(
        {"hotspot_id": [1, 2, 3]},
        geometry=[
            box(508_000, 429_000, 509_000, 430_000),
            box(508_800, 429_800, 509_300, 430_300),
            box(512_000, 429_000, 513_000, 430_000),
        ],
        crs="EPSG:27700",
    )


def test_assign_to_polygons(squares):
    x = np.array([508_500.0, 508_900.0, 509_200.0, 512_500.0, 500_000.0, 509_000.0])
    y = np.array([429_500.0, 429_900.0, 430_200.0, 429_500.0, 429_500.0, 429_500.0])
    ids = assign_to_polygons(x, y, squares, "hotspot_id")
    # inside 1; in the 1/2 overlap -> first row (1); only 2; 3; outside; on 1's east edge.
    np.testing.assert_array_equal(ids, [1, 1, 2, 3, -1, 1])
    assert ids.dtype == np.int64


@pytest.mark.parametrize("band_pairs", [4_000_000, 0])  # all pairs at once; one at a time
def test_assign_to_polygons_equals_a_brute_force_first_match(monkeypatch, band_pairs):
    import shapely

    import hotspots.summary as summary
    monkeypatch.setattr(summary, "BAND_PAIRS", band_pairs)
    rng = np.random.default_rng(7)
    # overlapping discs and squares, an empty and a missing geometry, points on a 50 m
    # lattice (some on edges and corners) and at random
    shapes = [shapely.Point(rng.uniform(0, 3000, 2)).buffer(rng.uniform(50, 600))
              for _ in range(40)]
    shapes += [box(500.0, 500.0, 1000.0, 1000.0), box(1000.0, 500.0, 1500.0, 1000.0),
               shapely.Polygon(), None]
    polygons = gpd.GeoDataFrame({"hotspot_id": np.arange(len(shapes)) * 3 + 1},
                                geometry=gpd.GeoSeries(shapes), crs="EPSG:27700")
    lattice = np.mgrid[0:3001:50, 0:3001:50].reshape(2, -1).astype(float)
    x = np.r_[lattice[0], rng.uniform(-100, 3100, 3000)]
    y = np.r_[lattice[1], rng.uniform(-100, 3100, 3000)]
    expected = np.full(x.size, -1)
    for k in range(len(shapes) - 1, -1, -1):
        if shapes[k] is not None and not shapes[k].is_empty:
            expected[shapely.intersects_xy(shapes[k], x, y)] = polygons["hotspot_id"].iloc[k]
    got = assign_to_polygons(x, y, polygons, "hotspot_id")
    np.testing.assert_array_equal(got, expected)
    assert (got >= 0).sum() > 1000


def test_assign_to_polygons_reprojects_other_crs(squares):
    wgs84 = squares.to_crs("EPSG:4326")
    ids = assign_to_polygons([508_500.0, 512_500.0, 500_000.0], [429_500.0, 429_500.0, 429_500.0], wgs84, "hotspot_id")
    np.testing.assert_array_equal(ids, [1, 3, -1])


def test_assign_to_polygons_empty_cases(squares):
    assert assign_to_polygons([], [], squares, "hotspot_id").shape == (0,)
    empty = squares.iloc[:0]
    np.testing.assert_array_equal(assign_to_polygons([508_500.0], [429_500.0], empty, "hotspot_id"), [-1])


def test_assign_to_polygons_leaves_inputs(squares):
    before = squares.copy()
    x = np.array([508_500.0])
    assign_to_polygons(x, np.array([429_500.0]), squares, "hotspot_id")
    pd.testing.assert_frame_equal(squares, before)
    assert x[0] == 508_500.0


@pytest.mark.parametrize(
    ("gdf_factory", "column", "error", "match"),
    [
        (lambda g: pd.DataFrame(g), "hotspot_id", TypeError, r"The 'polygons_gdf' parameter of assign_to_polygons must be a GeoDataFrame"),
        (lambda g: g, "cluster_id", ValueError, r"The 'id_column' parameter of assign_to_polygons must name a column of polygons_gdf \(hotspot_id, geometry\)\. Got 'cluster_id' instead\."),
        (lambda g: g, 1, TypeError, r"The 'id_column' parameter of assign_to_polygons must be a str"),
        (lambda g: g.assign(hotspot_id=["a", "b", "c"]), "hotspot_id", TypeError, r"The 'hotspot_id' column of polygons_gdf passed to assign_to_polygons must hold integers"),
    ],
)
def test_assign_to_polygons_validation(squares, gdf_factory, column, error, match):
    with pytest.raises(error, match=match):
        assign_to_polygons([508_500.0], [429_500.0], gdf_factory(squares), column)


def test_assign_to_polygons_coordinate_validation(squares):
    with pytest.raises(ValueError, match=r"The 'x' parameter of assign_to_polygons must contain only finite numbers"):
        assign_to_polygons([math.nan], [429_500.0], squares, "hotspot_id")


# ---------------------------------------------------------------- summarise_areas

VSO, PUB, ROB, DAM = "Violence and sexual offences", "Public order", "Robbery", "Criminal damage and arson"


@pytest.fixture
def incidents() -> tuple[pd.DataFrame, np.ndarray]:
    """Area 2: 10 incidents (6 VSO, 3 public order, 1 robbery) in LSOAs 1-2.
    Area 5: 14 incidents, 7 LSOAs (E01000001-7; 8 in E01000003), one unknown
    LSOA E09999999.  Plus 3 incidents in no area (-1) and 2 with NaN."""
    crime = [VSO] * 6 + [PUB] * 3 + [ROB]  # area 2
    lsoa = ["E01000001"] * 7 + ["E01000002"] * 3
    crime += [VSO] * 5 + [PUB] * 5 + [DAM] * 2 + [ROB] * 2  # area 5
    lsoa += ["E01000003"] * 7 + ["E01000004", "E01000005", "E01000006", "E01000007", "E01000001", "E01000002", "E09999999"]
    crime += [ROB] * 5  # no area
    lsoa += ["E01000008"] * 5
    ids = np.r_[np.full(10, 2.0), np.full(14, 5.0), [-1.0, -1.0, -1.0, np.nan, np.nan]]
    n = len(crime)
    frame = pd.DataFrame({"x": np.linspace(508_000, 509_000, n), "y": np.full(n, 429_000.0), "crime_type": crime, "lsoa21cd": lsoa})
    return frame, ids


def test_summarise_areas(incidents, lsoa_table):
    frame, ids = incidents
    out = summarise_areas(frame, ids, lsoa_table=lsoa_table)
    assert list(out.columns) == ["hotspot_id", *SUMMARY_COLUMNS]
    assert out["hotspot_id"].tolist() == [5, 2]  # ranked by incidents
    assert out["incidents"].tolist() == [14, 10]
    assert out["crime_mix"].tolist() == [
        "Public order 36%, Violence and sexual offences 36%, Criminal damage and arson 14%",
        "Violence and sexual offences 60%, Public order 30%, Robbery 10%",
    ]
    assert out["lsoas"].tolist() == [8, 2]
    assert out["lsoa_names"].tolist() == [
        "Kingston upon Hull 003A, Kingston upon Hull 001A, Kingston upon Hull 002A, "
        "Kingston upon Hull 004A, Kingston upon Hull 005A, +3 more",
        "Kingston upon Hull 001A, Kingston upon Hull 002A",
    ]
    # The unknown LSOA has no decile: 7 deciles for area 5.
    assert out["imd_deciles"].tolist() == ["1, 1, 2, 3, 4, 7, 9", "1, 1"]
    assert out["most_deprived_decile"].tolist() == [1, 1]
    assert out["incidents"].dtype == np.int64 and out["lsoas"].dtype == np.int64
    assert str(out["most_deprived_decile"].dtype) == "Int64"


def test_summarise_areas_unknown_lsoa_shown_by_code(lsoa_table):
    frame = pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0], "crime_type": [VSO, VSO], "lsoa21cd": ["E09999999", "E09999999"]})
    out = summarise_areas(frame, pd.Series([0, 0]), lsoa_table=lsoa_table, id_name="cluster_id")
    assert out.columns[0] == "cluster_id"
    assert out.loc[0, "lsoa_names"] == "E09999999"
    assert out.loc[0, "imd_deciles"] == ""
    assert out["most_deprived_decile"].isna().all()
    assert out.loc[0, "crime_mix"] == "Violence and sexual offences 100%"


def test_summarise_areas_weighted_and_top_types(incidents, lsoa_table):
    frame, ids = incidents
    weighted = frame.assign(weight=np.where(frame["crime_type"] == ROB, 4.0, 1.0))
    out = summarise_areas(weighted, ids, lsoa_table=lsoa_table, top_types=1)
    assert list(out.columns) == ["hotspot_id", "incidents", "weight", *SUMMARY_COLUMNS[1:]]
    assert out["weight"].tolist() == [20.0, 13.0]
    assert out["incidents"].tolist() == [14, 10]  # ranking stays by incident count
    # Shares by weight: area 5 robbery 8/20, area 2 VSO 6/13.
    assert out["crime_mix"].tolist() == ["Robbery 40%", "Violence and sexual offences 46%"]


def test_summarise_areas_nothing_assigned(incidents, lsoa_table):
    frame, _ = incidents
    out = summarise_areas(frame, np.full(len(frame), -1), lsoa_table=lsoa_table)
    assert len(out) == 0
    assert list(out.columns) == ["hotspot_id", *SUMMARY_COLUMNS]


def test_summarise_areas_with_assign_to_polygons(two_clusters, lsoa_table):
    # End to end: polygons around the fixture clusters -> ids -> table.
    gdf = gpd.GeoDataFrame(
        {"hotspot_id": [1, 2]},
        geometry=[box(507_900, 428_900, 508_150, 429_200), box(509_900, 428_900, 510_200, 429_100)],
        crs="EPSG:27700",
    )
    ids = assign_to_polygons(two_clusters.x, two_clusters.y, gdf, "hotspot_id")
    n = len(ids)
    frame = pd.DataFrame({"x": two_clusters.x, "y": two_clusters.y, "crime_type": [VSO] * n, "lsoa21cd": ["E01000001"] * n})
    out = summarise_areas(frame, ids, lsoa_table=lsoa_table)
    assert out["hotspot_id"].tolist() == [1, 2]
    assert out["incidents"].tolist() == [60, 30]


def test_summarise_areas_inputs_unmodified(incidents, lsoa_table):
    frame, ids = incidents
    frame_before, ids_before, table_before = frame.copy(), ids.copy(), lsoa_table.copy()
    summarise_areas(frame, ids, lsoa_table=lsoa_table)
    pd.testing.assert_frame_equal(frame, frame_before)
    pd.testing.assert_frame_equal(lsoa_table, table_before)
    np.testing.assert_array_equal(ids, ids_before)


@pytest.mark.parametrize(
    ("mutate", "kwargs", "error", "match"),
    [
        (lambda f, i, t: (f.drop(columns="crime_type"), i, t), {}, ValueError, r"The 'incidents' parameter of summarise_areas must have columns x, y, crime_type, lsoa21cd\. Missing crime_type\."),
        (lambda f, i, t: (f, i, t.drop(columns="imd_decile")), {}, ValueError, r"The 'lsoa_table' parameter of summarise_areas must have columns .* Missing imd_decile\."),
        (lambda f, i, t: (f.to_dict(), i, t), {}, TypeError, r"The 'incidents' parameter of summarise_areas must be a pandas DataFrame"),
        (lambda f, i, t: (f, i[:-1], t), {}, ValueError, r"The 'area_ids' parameter of summarise_areas must be a 1-D array of numeric ids with one value per incident \(29\)\. Got shape \(28,\) instead\."),
        (lambda f, i, t: (f, i.astype(str), t), {}, TypeError, r"'area_ids' parameter of summarise_areas .* Got an array of dtype <U32 instead"),
        (lambda f, i, t: (f, pd.Series(i).astype(str), t), {}, TypeError, r"'area_ids' parameter of summarise_areas .* pandas Series of dtype"),
        (lambda f, i, t: (f, i + 0.5, t), {}, ValueError, r"'area_ids' parameter of summarise_areas must hold whole-number ids"),
        (lambda f, i, t: (f, i, pd.concat([t, t.iloc[:1]])), {}, ValueError, r"The 'lsoa_table' parameter of summarise_areas must have one row per lsoa21cd"),
        (lambda f, i, t: (f.assign(weight=-1.0), i, t), {}, ValueError, r"The 'weights' parameter of summarise_areas must contain only non-negative numbers"),
        (lambda f, i, t: (f, i, t), {"top_types": 0}, ValueError, r"The 'top_types' parameter of summarise_areas must be an int in the range \[1, inf\)\. Got 0 instead\."),
        (lambda f, i, t: (f, i, t), {"top_types": 2.0}, TypeError, r"'top_types' parameter of summarise_areas must be an int"),
        (lambda f, i, t: (f, i, t), {"id_name": "incidents"}, ValueError, r"The 'id_name' parameter of summarise_areas must not clash with the result columns\. Got 'incidents' instead\."),
        (lambda f, i, t: (f, i, t), {"id_name": 3}, TypeError, r"The 'id_name' parameter of summarise_areas must be a str"),
    ],
)
def test_summarise_areas_validation(incidents, lsoa_table, mutate, kwargs, error, match):
    frame, ids, table = mutate(*incidents, lsoa_table)
    with pytest.raises(error, match=match):
        summarise_areas(frame, ids, lsoa_table=table, **kwargs)
