"""Gi*: FDR correction, classes, lattice z-scores against esda, one hot cell in a lattice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.getis_ord import (
    benjamini_hochberg,
    classify_gi,
    gi_star,
    gi_star_grid,
    gi_star_lattice_z,
    grid_cells,
)


def test_benjamini_hochberg_hand_computed():
    # m = 4: p*m/rank = 0.04, 0.04, 0.04, 0.8 -> running min from the top.
    np.testing.assert_allclose(benjamini_hochberg([0.01, 0.02, 0.03, 0.8]),
                               [0.04, 0.04, 0.04, 0.8])
    np.testing.assert_allclose(benjamini_hochberg([0.8, 0.01]), [0.8, 0.02])
    with pytest.raises(ValueError, match="values in \\[0, 1\\]"):
        benjamini_hochberg([1.5])


def test_classify_gi():
    out = classify_gi([3, 2, 1, 0.5, -3, 1], [0.005, 0.03, 0.08, 0.5, 0.01, np.nan])
    assert out.tolist() == ["hot 99%", "hot 95%", "hot 90%", "not significant", "cold 99%",
                            "not significant"]
    with pytest.raises(ValueError, match="same length"):
        classify_gi([1], [0.1, 0.2])


def _lattice(n=7, value=10.0, background=None):
    """n x n lattice of 100 m cells: 1 incident per cell, ``value`` in the central 3 x 3 block."""
    cells = grid_cells(shapely.box(0, 0, n * 100, n * 100), cell_size=100.0)
    counts = np.ones(len(cells)) if background is None else background.astype(float)
    mid = n // 2
    block = ((cells["col"] - mid).abs() <= 1) & ((cells["row"] - mid).abs() <= 1)
    counts[block.to_numpy()] = value
    cells["count"] = counts
    return cells


def test_lattice_z_matches_esda():
    from esda.getisord import G_Local

    from hotspots.getis_ord import _lattice_queen

    cells = _lattice(background=np.random.default_rng(3).poisson(1.0, 49))
    w = _lattice_queen(cells, "square")
    w.transform = "B"
    g = G_Local(cells["count"].to_numpy(), w, transform="B", star=True, permutations=0)
    raster = np.zeros((7, 7))
    raster[cells["row"], cells["col"]] = cells["count"]
    z = gi_star_lattice_z(raster, np.ones((7, 7), bool), radius_cells=1.5)
    np.testing.assert_allclose(z[cells["row"], cells["col"]], g.Zs, rtol=1e-9)


def test_hot_block_is_hot_and_uniform_corner_is_not():
    # 7 x 7 lattice of 1s with a 3 x 3 block of 10s in the middle.  Hand computation for the
    # centre cell: n = 49, sum = 40 + 90 = 130, xbar = 130/49, sum of squares = 40 + 900,
    # W = 9 (itself + 8 Queen neighbours), lag = 90.
    cells = _lattice()
    res = gi_star(cells, permutations=999, seed=1)
    centre = res[(res["col"] == 3) & (res["row"] == 3)].iloc[0]
    n, xbar = 49, 130 / 49
    s = np.sqrt(940 / 49 - xbar**2)
    z = (90 - xbar * 9) / (s * np.sqrt((n * 9 - 81) / (n - 1)))
    assert centre["z"] == pytest.approx(z)
    assert z == pytest.approx(6.928, abs=1e-3)   # 66.12 / (3.485 * sqrt(7.5))
    # Conditional permutation: 8 neighbours drawn from 40 ones and 8 tens never sum to 80.
    assert centre["p_sim"] == pytest.approx(0.001)
    # Nine block cells share p = 0.002 (two-sided), so BH gives about 0.002 * 49 / 9.
    assert centre["p_fdr"] <= 0.05 and centre["gi_class"] in ("hot 99%", "hot 95%")
    # A corner's neighbours are all 1s: ties with most permutations, so not significant
    # (esda's own p_sim would call it significant; see _tie_aware_p).
    corner = res[(res["col"] == 0) & (res["row"] == 0)].iloc[0]
    assert corner["gi_class"] == "not significant"
    again = gi_star(cells, permutations=999, seed=1)
    np.testing.assert_array_equal(res["p_sim"], again["p_sim"])


def test_gi_star_grid_counts_incidents():
    rng = np.random.default_rng(0)
    # 60 scattered incidents over 1 x 1 km plus 45 in a 300 m square centred on (450, 550).
    x = np.r_[rng.uniform(0, 1000, 60), rng.uniform(300, 600, 45)]
    y = np.r_[rng.uniform(0, 1000, 60), rng.uniform(400, 700, 45)]
    frame = pd.DataFrame({"x": x, "y": y})
    res = gi_star_grid(frame, shapely.box(0, 0, 1000, 1000), cell_size=100.0,
                       permutations=999, seed=0)
    assert res["count"].sum() == 105 and len(res) == 100
    centre = res[(res["col"] == 4) & (res["row"] == 5)].iloc[0]
    assert centre["gi_class"].startswith("hot")
    hexes = gi_star_grid(frame, shapely.box(0, 0, 1000, 1000), cell_size=150.0, shape="hex",
                         permutations=99, seed=0)
    assert hexes["count"].sum() == 105
    dist = gi_star_grid(frame, shapely.box(0, 0, 1000, 1000), cell_size=100.0,
                        weights="distance", distance=150.0, permutations=99, seed=0)
    np.testing.assert_allclose(dist["z"], res["z"])   # 150 m band between centres = Queen


def test_gi_star_validation():
    cells = _lattice()
    with pytest.raises(ValueError, match="'weights' parameter of gi_star"):
        gi_star(cells, weights="rook")
    with pytest.raises(ValueError, match="'distance' parameter of gi_star"):
        gi_star(cells, weights="distance")
    with pytest.raises(ValueError, match="'permutations' parameter of gi_star"):
        gi_star(cells, permutations=10)
    with pytest.raises(ValueError, match="'column' parameter of gi_star"):
        gi_star(cells, column="nope")
    with pytest.raises(TypeError, match="'areas' parameter of gi_star"):
        gi_star(pd.DataFrame())
    with pytest.raises(ValueError, match="'inference' parameter of gi_star"):
        gi_star(cells, inference="bayes")
    with pytest.raises(ValueError, match="'shape' parameter of grid_cells"):
        grid_cells(shapely.box(0, 0, 100, 100), cell_size=10.0, shape="tri")
