"""Concentration: Gini, generalised Gini, Lorenz curve, shares; pinned by hand and on raw CSVs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.concentration import (
    _gini_of_counts,
    bootstrap_gini,
    concentration,
    concentration_sentence,
    concentration_table,
    generalised_gini,
    gini,
    lorenz_curve,
    place_index,
    share_of_places_for,
)

REPO = Path(__file__).resolve().parents[2]


def test_equal_counts_have_gini_zero():
    assert gini([3, 3, 3, 3]) == pytest.approx(0.0)
    assert generalised_gini([3, 3, 3, 3]) == pytest.approx(0.0)


def test_everything_at_one_place_tends_to_one():
    for n_places in (10, 1000, 100_000):
        values = np.zeros(n_places)
        values[7] = 50
        assert gini(values) == pytest.approx(1 - 1 / n_places)
    assert gini(values) > 0.9999


def test_hand_example():
    # sorted [0, 0, 1, 3]: 2 (3*1 + 4*3) / (4*4) - 5/4 = 0.625
    assert gini([3, 0, 1, 0]) == pytest.approx(0.625)
    # n = 4 incidents on N = 9 places: G = 2*33/36 - 10/9 = 0.7222,
    # G' = 1 - (9/4)(1 - G) = 0.375
    values = [0, 0, 0, 0, 0, 0, 1, 1, 2]
    assert gini(values) == pytest.approx(2 * 33 / 36 - 10 / 9)
    assert generalised_gini(values) == pytest.approx(0.375)


def test_generalised_gini_on_sparse_data():
    # The most equal spread of 5 incidents on 100 places: one each in 5 places.
    values = np.zeros(100)
    values[:5] = 1
    assert gini(values) == pytest.approx(0.95)          # biased up: 1 - n/N
    assert generalised_gini(values) == pytest.approx(0.0)
    values = np.zeros(100)
    values[0] = 5
    assert generalised_gini(values) == pytest.approx(1 - 1 / 5)
    # Not sparse (n >= N): the same as the Gini.
    assert generalised_gini([5, 1, 0, 2]) == pytest.approx(gini([5, 1, 0, 2]))


def test_share_of_places_and_lorenz_curve():
    assert share_of_places_for([1, 5, 3, 1]) == pytest.approx(25.0)   # 5 of 10 in 1 of 4
    assert share_of_places_for([1, 1, 1, 1]) == pytest.approx(50.0)
    x, y = lorenz_curve([1, 5, 3, 1])
    assert x.tolist() == [0, 0.25, 0.5, 0.75, 1.0]
    assert y.tolist() == pytest.approx([0, 0.5, 0.8, 0.9, 1.0])
    # Gini = twice the area between the busiest-first curve and the diagonal
    area = np.trapezoid(y, x) - 0.5
    assert 2 * area == pytest.approx(gini([1, 5, 3, 1]))


def test_bootstrap_is_seeded_and_collapses_without_variation():
    index = np.zeros(40, dtype=int)  # everything at place 0 of 200
    assert bootstrap_gini(index, 200, replicates=50) == pytest.approx((1 - 1 / 40,) * 2)
    rng = np.random.default_rng(1)
    index = rng.integers(0, 30, 300)
    a = bootstrap_gini(index, 100, replicates=200, seed=4)
    assert a == bootstrap_gini(index, 100, replicates=200, seed=4)
    assert a[0] < a[1]


def test_the_table_resamples_once_and_gives_each_measure_its_own_interval():
    # One stream of resamples shared by the three kinds of place and both measures must give
    # exactly the intervals that concentration() computes for each on its own.
    rng = np.random.default_rng(7)
    incidents = pd.DataFrame({"x": rng.uniform(0, 2000, 400), "y": rng.uniform(0, 1000, 400),
                              "lsoa21cd": rng.choice(["A", "B", "C", "D"], 400),
                              "harm": rng.gamma(1.0, 30.0, 400)})
    area = shapely.box(0, 0, 2000, 1000)
    universe = incidents[["x", "y"]].round(-1).drop_duplicates()
    incidents[["x", "y"]] = incidents[["x", "y"]].round(-1)
    table = concentration_table(incidents, study_area=area, lsoa_codes=list("ABCDE"),
                                universe=universe, replicates=60, seed=3)
    assert [(r.place, r.measure) for r in table] == [
        (kind, measure) for kind in ("map_point", "cell", "lsoa") for measure in ("count", "harm")]
    for result in table:
        index, n = place_index(incidents, result.place, study_area=area,
                               lsoa_codes=list("ABCDE"), universe=universe)
        alone = concentration(index, n, place=result.place, replicates=60, seed=3,
                              weights=incidents["harm"] if result.measure == "harm" else None)
        assert (result.ci_low, result.ci_high) == (alone.ci_low, alone.ci_high)
        assert result.ci_low < result.ci_high


def test_the_gini_of_whole_counts_needs_no_sort():
    rng = np.random.default_rng(2)
    counts = rng.poisson(2.0, 500)
    counts = counts[counts > 0]
    assert _gini_of_counts(counts, 800) == pytest.approx(
        gini(np.concatenate([counts, np.zeros(800 - counts.size)])), abs=1e-12)


def test_concentration_counts_and_harm():
    index = np.array([0, 0, 0, 1, 2])
    result = concentration(index, 10, place="cell", replicates=0)
    assert (result.places, result.incidents, result.total) == (10, 5, 5.0)
    assert result.share_of_places_empty == pytest.approx(70.0)
    assert result.share_of_places_for_half == pytest.approx(10.0)
    harm = concentration(index, 10, place="cell", weights=[1, 1, 1, 100, 1], replicates=0)
    assert harm.measure == "harm" and harm.total == 104
    assert harm.share_of_places_for_half == pytest.approx(10.0)  # place 1 holds 100 of 104


def test_place_index_for_cells_and_map_points():
    area = shapely.box(0, 0, 500, 300)     # 5 x 3 cells of 100 m inside
    incidents = pd.DataFrame({"x": [50.0, 50.0, 450.0, 650.0], "y": [50.0, 60.0, 250.0, 50.0],
                              "lsoa21cd": ["A", "A", "B", "B"]})
    index, n = place_index(incidents, "cell", study_area=area)
    assert n == 15 + 1                       # the outside cell holding an incident is added
    assert index[0] == index[1] and len(set(index)) == 3
    universe = pd.DataFrame({"x": [50.0, 1.0, 2.0], "y": [50.0, 1.0, 2.0]})
    index, n = place_index(incidents, "map_point", universe=universe)
    assert n == 2 + 4 and len(set(index)) == 4
    index, n = place_index(incidents, "lsoa", lsoa_codes=["A", "B", "C"])
    assert n == 3 and index.tolist() == [0, 0, 1, 1]


def test_sentence():
    index = np.r_[np.zeros(60, int), np.arange(1, 41)]
    results = [concentration(index, 1000, place="cell", replicates=0),
               concentration(index, 1000, place="cell",
                             weights=np.r_[np.ones(60), np.full(40, 0.1)], replicates=0)]
    text = concentration_sentence(results)
    assert text == ("50% of incidents occur in 0.1% of 100 m cells; 50% of harm in 0.1%. "
                    "96% of 100 m cells had no incident. Gini 0.98; generalised Gini 0.83.")


# ------------------------------------------------------------------------------ shipped data
def _independent_gini(values) -> float:
    """Gini from the mean absolute difference: sum |x_i - x_j| / (2 N^2 mean)."""
    v = np.asarray(values, dtype=float)
    return float(np.abs(v[:, None] - v[None, :]).sum() / (2 * v.size ** 2 * v.mean()))


@pytest.fixture(scope="module")
def cli_records():
    from hotspots.concentration import run

    results = run(["--months", "2024-01..2024-03", "--area", "E06000010", "--replicates", "20"])
    return {(r.place, r.measure): r for r in results}


def test_hull_figures_recomputed_from_the_raw_csvs(cli_records):
    """Hull, serious violence, 2024-01..03, from the police.uk files with pandas alone."""
    serious = {"Violence and sexual offences", "Robbery", "Possession of weapons"}
    boundaries = json.loads((REPO / "data/boundaries/lsoa21_humber_bsc.geojson").read_text())
    hull21 = sorted(f["properties"]["LSOA21CD"] for f in boundaries["features"]
                    if f["properties"]["LAD24CD"] == "E06000010")
    lookup = pd.read_csv(REPO / "data/lookups/lsoa11_lsoa21_lad22_humber.csv", dtype=str)
    hull11 = set(lookup.loc[lookup["LAD22CD"] == "E06000010", "LSOA11CD"])
    frames = [pd.read_csv(p, dtype=str) for p in sorted((REPO / "data/crime").glob("*.csv"))]
    raw = pd.concat(frames, ignore_index=True)
    in_hull = raw["LSOA code"].isin(set(hull21) | hull11)
    selection = raw[in_hull & raw["Month"].isin(["2024-01", "2024-02", "2024-03"])
                    & raw["Crime type"].isin(serious)]
    # LSOAs: every one of Hull's 168, zeros included
    per_lsoa = selection["LSOA code"].value_counts().reindex(hull21, fill_value=0)
    lsoa = cli_records[("lsoa", "count")]
    assert (lsoa.places, lsoa.incidents) == (168, len(selection))
    assert lsoa.gini == pytest.approx(_independent_gini(per_lsoa), abs=1e-9)
    order = np.sort(per_lsoa.to_numpy())[::-1]
    half = int(np.argmax(np.cumsum(order) >= order.sum() / 2)) + 1
    assert lsoa.share_of_places_for_half == pytest.approx(100 * half / 168)
    # map points: every point seen in Hull in the store (all months and types) is a place
    universe = raw[in_hull][["Longitude", "Latitude"]].drop_duplicates()
    per_point = selection.groupby(["Longitude", "Latitude"]).size()
    values = np.r_[per_point.to_numpy(), np.zeros(len(universe) - len(per_point))]
    point = cli_records[("map_point", "count")]
    assert point.places == len(universe)
    assert point.gini == pytest.approx(_independent_gini(values), abs=1e-9)
    assert point.share_of_places_empty == pytest.approx(100 * (1 - len(per_point) / len(universe)))
    # harm is more concentrated than counts over cells (the pinned figures of this selection)
    cell, cell_harm = cli_records[("cell", "count")], cli_records[("cell", "harm")]
    assert cell.gini == pytest.approx(0.9024, abs=5e-4)
    assert cell.share_of_places_for_half == pytest.approx(3.51, abs=0.01)
    assert cell_harm.share_of_places_for_half < cell.share_of_places_for_half
