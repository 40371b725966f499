"""Tests for hotspots.clusters: DBSCAN on unique locations, eps heuristics,
memory guard and cluster outlines."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point
from sklearn.cluster import DBSCAN

from hotspots.clusters import (
    BYTES_PER_NEIGHBOUR_PAIR,
    ClusterMemoryError,
    ClusterResult,
    auto_eps,
    auto_min_samples,
    cluster_outlines,
    dbscan_incidents,
    estimate_dbscan_memory_mb,
    estimate_neighbour_pairs,
)


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """True when two labelings are equal up to renumbering (noise -1 fixed)."""
    if not np.array_equal(a < 0, b < 0):
        return False
    ct = pd.crosstab(a[a >= 0], b[b >= 0]) if (a >= 0).any() else pd.DataFrame()
    return bool(((ct > 0).sum(axis=1) == 1).all() and ((ct > 0).sum(axis=0) == 1).all())


# ---------------------------------------------------------------- k-distances


def _k_distances_in_one_query(uniq: np.ndarray, counts: np.ndarray, k: int) -> np.ndarray:
    """The k-distances from one query of the k nearest locations (scikit-learn's tree)."""
    from sklearn.neighbors import KDTree

    m = uniq.shape[0]
    dist, ind = KDTree(uniq).query(uniq, k=min(k, m))
    cum = np.cumsum(counts[ind], axis=1)
    reached = cum >= k
    out = dist[np.arange(m), np.argmax(reached, axis=1)]
    out[~reached.any(axis=1)] = np.inf
    return out


@pytest.mark.parametrize("seed", range(4))
def test_k_distances_in_two_steps_equal_those_of_one_query(seed):
    from hotspots.clusters import _k_distances

    rng = np.random.default_rng(seed)
    # Locations on a 10 m lattice (many equidistant neighbours, the ties that could change
    # which neighbours a query returns), holding 1 to 40 incidents, skewed like map points.
    uniq = np.unique(rng.integers(0, 60, size=(800, 2)) * 10.0, axis=0)
    counts = np.minimum(rng.geometric(0.35, size=len(uniq)), 40)
    for k in (1, 2, 5, 20, 50, 200, counts.sum(), counts.sum() + 1):
        got = _k_distances(uniq, counts, int(k))
        np.testing.assert_array_equal(got, _k_distances_in_one_query(uniq, counts, int(k)))
    assert _k_distances(uniq[:1], counts[:1], 1)[0] == 0.0
    assert _k_distances(np.empty((0, 2)), np.empty(0, dtype=np.int64), 3).size == 0


# ---------------------------------------------------------------- dbscan


def test_two_clusters_expected_labels(two_clusters):
    r = dbscan_incidents(two_clusters.x, two_clusters.y, eps=200.0, min_samples=5)
    assert isinstance(r, ClusterResult)
    np.testing.assert_array_equal(r.labels, two_clusters.expected_labels)
    assert (r.n_clusters, r.n_noise, r.n_unique_locations) == (2, 20, 42)
    assert (r.eps, r.min_samples) == (200.0, 5)
    assert r.labels.dtype == np.int64


def test_labels_ranked_by_incident_count(two_clusters):
    d = two_clusters
    # Put the smaller cluster B first in the input: it must still be label 1.
    order = np.r_[np.arange(60, 90), np.arange(0, 60), np.arange(90, 110)]
    r = dbscan_incidents(d.x[order], d.y[order], eps=200.0, min_samples=5)
    np.testing.assert_array_equal(r.labels, d.expected_labels[order])


def test_min_samples_counts_repeats(two_clusters):
    # B's map points hold 3 incidents each: alone (eps 10 m < 25 m spacing)
    # they are cores for min_samples=3 but not for 4.
    r3 = dbscan_incidents(two_clusters.x, two_clusters.y, eps=10.0, min_samples=3)
    r4 = dbscan_incidents(two_clusters.x, two_clusters.y, eps=10.0, min_samples=4)
    assert r3.n_clusters == 12 + 10  # every map point of A and B is its own cluster
    assert r4.n_clusters == 12 and r4.n_noise == 30 + 20


@pytest.mark.parametrize("eps, min_samples", [(200.0, 5), (30.0, 6), (10.0, 3), (2500.0, 10)])
def test_matches_plain_dbscan_on_fixture(two_clusters, eps, min_samples):
    xy = np.column_stack([two_clusters.x, two_clusters.y])
    plain = DBSCAN(eps=eps, min_samples=min_samples).fit(xy).labels_
    ours = dbscan_incidents(two_clusters.x, two_clusters.y, eps=eps, min_samples=min_samples).labels
    assert _same_partition(ours, plain)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("eps, min_samples", [(150.0, 10), (300.0, 25), (60.0, 5)])
def test_matches_plain_dbscan_with_heavy_repeats(repeated_points, seed, eps, min_samples):
    x, y = repeated_points(seed)
    xy = np.column_stack([x, y])
    plain = DBSCAN(eps=eps, min_samples=min_samples).fit(xy)
    result = dbscan_incidents(x, y, eps=eps, min_samples=min_samples)
    ours = result.labels
    assert result.n_clusters == plain.labels_.max() + 1
    core = np.zeros(x.size, dtype=bool)
    core[plain.core_sample_indices_] = True
    p = plain.labels_
    # Same noise, and the same partition of the core incidents.
    np.testing.assert_array_equal(ours < 0, p < 0)
    assert _same_partition(ours[core], p[core])
    # Border incidents reachable from two clusters (DBSCAN's one ambiguity) join the
    # first-discovered cluster in both, because unique locations keep first-occurrence
    # order: the whole partition is identical.
    assert _same_partition(ours, p)


def test_same_input_same_result_and_inputs_unmodified(repeated_points):
    x, y = repeated_points(3)
    x_copy, y_copy = x.copy(), y.copy()
    a = dbscan_incidents(x, y, eps=150.0, min_samples=10)
    b = dbscan_incidents(pd.Series(x), list(y), eps=150.0, min_samples=10)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(x, x_copy)
    np.testing.assert_array_equal(y, y_copy)
    assert a == a  # frozen dataclass


def test_auto_parameters_used_when_none(two_clusters):
    r = dbscan_incidents(two_clusters.x, two_clusters.y)
    assert r.min_samples == auto_min_samples(110) == 6
    assert r.eps == auto_eps(two_clusters.x, two_clusters.y, min_samples=6) == 50.0
    np.testing.assert_array_equal(r.labels, two_clusters.expected_labels)


def test_empty_input():
    r = dbscan_incidents([], [], eps=100.0, min_samples=5)
    assert r.labels.shape == (0,)
    assert (r.n_clusters, r.n_noise, r.n_unique_locations) == (0, 0, 0)
    assert dbscan_incidents([], []).eps == 1000.0  # auto_eps: no cluster possible -> upper


def test_all_noise():
    r = dbscan_incidents([0.0, 5000.0], [0.0, 0.0], eps=100.0, min_samples=2)
    np.testing.assert_array_equal(r.labels, [-1, -1])
    assert (r.n_clusters, r.n_noise) == (0, 2)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"eps": -1}, ValueError, r"The 'eps' parameter of dbscan_incidents must be a float in the range \(0, inf\)\. Got -1 instead\."),
        ({"eps": 0.0}, ValueError, r"'eps' parameter of dbscan_incidents .* Got 0 instead"),
        ({"eps": "200"}, TypeError, r"'eps' parameter of dbscan_incidents must be a float"),
        ({"min_samples": 0}, ValueError, r"The 'min_samples' parameter of dbscan_incidents must be an int in the range \[1, inf\)\. Got 0 instead\."),
        ({"min_samples": 5.0}, TypeError, r"'min_samples' parameter of dbscan_incidents must be an int"),
        ({"max_memory_mb": 0}, ValueError, r"The 'max_memory_mb' parameter of dbscan_incidents must be a float in the range \(0, inf\)"),
    ],
)
def test_dbscan_validation(two_clusters, kwargs, error, match):
    with pytest.raises(error, match=match):
        dbscan_incidents(two_clusters.x, two_clusters.y, **kwargs)


def test_dbscan_coordinate_validation():
    with pytest.raises(ValueError, match=r"The 'x' parameter of dbscan_incidents must contain only finite numbers"):
        dbscan_incidents([math.nan, 1.0], [0.0, 1.0], eps=10.0)
    with pytest.raises(ValueError, match=r"The 'x' and 'y' parameters of dbscan_incidents must have the same length"):
        dbscan_incidents([0.0, 1.0], [0.0], eps=10.0)
    with pytest.raises(TypeError, match=r"The 'y' parameter of dbscan_incidents must be a 1-D array-like of numbers"):
        dbscan_incidents([0.0], ["a"], eps=10.0)


# ---------------------------------------------------------------- memory guard


def test_neighbour_pairs_pinned(two_clusters):
    x, y = two_clusters.x, two_clusters.y
    # eps 1 m: each of the 42 unique locations pairs only with itself.
    assert estimate_neighbour_pairs(x, y, eps=1.0) == 42
    # eps 30 m: + both orders of the rook-adjacent lattice pairs
    # (A 3x4 lattice: 17 edges; B 2x5 lattice: 13 edges) -> 42 + 2 * 30.
    assert estimate_neighbour_pairs(x, y, eps=30.0) == 102
    # eps 40 m adds the diagonals (35.4 m): A 12, B 8 -> + 40.
    assert estimate_neighbour_pairs(x, y, eps=40.0) == 142


def test_neighbour_pairs_match_brute_force(repeated_points):
    x, y = repeated_points(1)
    uniq = np.unique(np.column_stack([x, y]), axis=0)
    d = np.hypot(uniq[:, None, 0] - uniq[None, :, 0], uniq[:, None, 1] - uniq[None, :, 1])
    assert estimate_neighbour_pairs(x, y, eps=250.0) == int((d <= 250.0).sum())
    assert estimate_neighbour_pairs([], [], eps=10.0) == 0


def test_memory_estimate_units():
    assert BYTES_PER_NEIGHBOUR_PAIR == 16
    assert estimate_dbscan_memory_mb(0) == 0.0
    assert estimate_dbscan_memory_mb(2**20 // 16) == 1.0
    assert estimate_dbscan_memory_mb(10**9) == pytest.approx(15_258.8, rel=1e-4)


@pytest.mark.parametrize(
    ("n_pairs", "error", "match"),
    [
        (-1, ValueError, r"The 'n_pairs' parameter of estimate_dbscan_memory_mb must be an int in the range \[0, inf\)\. Got -1 instead\."),
        (1.5, TypeError, r"'n_pairs' parameter of estimate_dbscan_memory_mb must be an int"),
    ],
)
def test_memory_estimate_validation(n_pairs, error, match):
    with pytest.raises(error, match=match):
        estimate_dbscan_memory_mb(n_pairs)


def test_neighbour_pairs_validation():
    with pytest.raises(ValueError, match=r"The 'eps' parameter of estimate_neighbour_pairs must be a float in the range \(0, inf\)\. Got -5 instead\."):
        estimate_neighbour_pairs([0.0], [0.0], eps=-5)
    with pytest.raises(ValueError, match=r"'x' parameter of estimate_neighbour_pairs must contain only finite"):
        estimate_neighbour_pairs([math.inf], [0.0], eps=5)


def test_memory_error_suggests_eps_that_fits(repeated_points):
    x, y = repeated_points(2, n=2_000, n_locations=1_500)
    eps = 800.0
    predicted = estimate_dbscan_memory_mb(estimate_neighbour_pairs(x, y, eps=eps))
    budget = predicted / 10
    with pytest.raises(ClusterMemoryError, match=r"about \d+ MB, more than max_memory_mb=.* Use eps=\d+ m or less") as info:
        dbscan_incidents(x, y, eps=eps, min_samples=5, max_memory_mb=budget)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.predicted_mb == pytest.approx(predicted)
    assert err.eps == eps and err.max_memory_mb == budget
    assert 0 < err.suggested_eps < eps
    assert f"eps={err.suggested_eps:g} m" in str(err)
    # The suggestion fits the budget, and is not far below the largest that does.
    assert estimate_dbscan_memory_mb(estimate_neighbour_pairs(x, y, eps=err.suggested_eps)) <= budget
    assert estimate_dbscan_memory_mb(estimate_neighbour_pairs(x, y, eps=err.suggested_eps * 1.2 + 2)) > budget
    dbscan_incidents(x, y, eps=err.suggested_eps, min_samples=5, max_memory_mb=budget)


def test_memory_error_when_no_eps_fits(two_clusters):
    with pytest.raises(ClusterMemoryError, match=r"No eps fits: raise max_memory_mb") as info:
        dbscan_incidents(two_clusters.x, two_clusters.y, eps=200.0, max_memory_mb=1e-6)
    assert info.value.suggested_eps is None


# ---------------------------------------------------------------- heuristics


@pytest.mark.parametrize(
    ("n", "expected"),
    [(0, 5), (1, 5), (100, 5), (400, 10), (2_500, 25), (9_801, 50), (10_000, 50), (1_000_000, 50)],
)
def test_auto_min_samples(n, expected):
    assert auto_min_samples(n) == expected


@pytest.mark.parametrize(
    ("n", "error", "match"),
    [
        (-1, ValueError, r"The 'n' parameter of auto_min_samples must be an int in the range \[0, inf\)\. Got -1 instead\."),
        (10.0, TypeError, r"'n' parameter of auto_min_samples must be an int"),
        (True, TypeError, r"'n' parameter of auto_min_samples must be an int"),
    ],
)
def test_auto_min_samples_validation(n, error, match):
    with pytest.raises(error, match=match):
        auto_min_samples(n)


def test_auto_eps_pinned(two_clusters):
    x, y = two_clusters.x, two_clusters.y
    # k = 5 distances: A's 60 incidents 0 m (5 at their own point), B's 30
    # incidents 25 m (3 + 3 at the next point), noise > 1 km.  The knee is
    # at 25 m, clipped up to the 50 m default lower bound.
    assert auto_eps(x, y, min_samples=5, method="knee") == 50.0
    assert auto_eps(x, y, min_samples=5, method="knee", lower=10.0) == 25.0
    # Capped at upper = 20 m the curve is a step 0 -> 20 m whose knee is the
    # last 0, clipped up to lower.
    assert auto_eps(x, y, min_samples=5, method="knee", lower=1.0, upper=20.0) == 1.0
    # The default quantile rule: 10% of incidents (all in A, at 0 m) -> clipped to lower.
    assert auto_eps(x, y, min_samples=5) == 50.0


def test_auto_eps_quantile_pinned():
    # 100 incidents 10 m apart on a line, k = 3 (itself and its two neighbours): the 98
    # interior incidents have k-distance 10 m, the two ends 20 m.
    x = np.arange(100) * 10.0
    y = np.zeros(100)
    assert auto_eps(x, y, min_samples=3, quantile=0.5, lower=1.0) == 10.0
    assert auto_eps(x, y, min_samples=3, quantile=0.995, lower=1.0) == 20.0
    assert auto_eps(x, y, min_samples=3, quantile=0.5) == 50.0  # clipped up to lower


def test_auto_eps_knee_of_two_scales():
    # 400 incidents on a 20 m lattice (k-distance ~ 20-30 m) and 40 isolated
    # incidents 3 km apart: the knee separates the two scales.
    gx, gy = np.meshgrid(np.arange(20) * 20.0, np.arange(20) * 20.0)
    far = np.arange(40) * 3000.0 + 10_000.0
    x = np.r_[gx.ravel(), far]
    y = np.r_[gy.ravel(), np.zeros(40)]
    eps = auto_eps(x, y, min_samples=4, method="knee", lower=1.0, upper=5000.0)
    assert 20.0 <= eps <= 40.0
    assert auto_eps(x, y, min_samples=4, method="knee", lower=1.0,
                    upper=10.0) == 10.0  # clipped to upper


def test_auto_eps_too_few_incidents_returns_upper():
    assert auto_eps([0.0, 10.0], [0.0, 0.0], min_samples=5) == 1000.0
    assert auto_eps([], [], min_samples=1, upper=300.0) == 300.0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"min_samples": 0}, ValueError, r"The 'min_samples' parameter of auto_eps must be an int in the range \[1, inf\)\. Got 0 instead\."),
        ({"min_samples": "5"}, TypeError, r"'min_samples' parameter of auto_eps must be an int"),
        ({"min_samples": 5, "lower": 0}, ValueError, r"The 'lower' parameter of auto_eps must be a float in the range \(0, inf\)\. Got 0 instead\."),
        ({"min_samples": 5, "upper": -1}, ValueError, r"The 'upper' parameter of auto_eps must be a float in the range \(0, inf\)"),
        ({"min_samples": 5, "method": "elbow"}, ValueError, r"The 'method' parameter of auto_eps must be a str among \{'quantile', 'knee'\}. Got 'elbow'"),
        ({"min_samples": 5, "quantile": 1.5}, ValueError, r"The 'quantile' parameter of auto_eps must be a float in the range \(0, 1\)"),
        ({"min_samples": 5, "lower": 100, "upper": 50}, ValueError, r"The 'upper' parameter of auto_eps must be >= 'lower' \(100\)\. Got 50 instead\."),
    ],
)
def test_auto_eps_validation(two_clusters, kwargs, error, match):
    with pytest.raises(error, match=match):
        auto_eps(two_clusters.x, two_clusters.y, **kwargs)


# ---------------------------------------------------------------- outlines


def test_cluster_outlines_two_clusters(two_clusters):
    x, y, labels = two_clusters.x, two_clusters.y, two_clusters.expected_labels
    gdf = cluster_outlines(x, y, labels)
    assert list(gdf.columns) == ["cluster_id", "n_incidents", "n_locations", "area_km2", "geometry"]
    assert gdf.crs.to_epsg() == 27700
    assert gdf["cluster_id"].tolist() == [0, 1]
    assert gdf["n_incidents"].tolist() == [60, 30]
    assert gdf["n_locations"].tolist() == [12, 10]
    np.testing.assert_allclose(gdf["area_km2"], gdf.geometry.area / 1e6)
    # Lattice 50 x 75 m (A) and 100 x 25 m (B) buffered by 25 m.
    assert gdf["area_km2"].iloc[0] == pytest.approx((50 * 75 + 2 * 25 * (50 + 75) + math.pi * 625) / 1e6, rel=0.01)
    a, b = gdf.geometry
    assert all(a.contains(Point(px, py)) for px, py in zip(x[labels == 0], y[labels == 0]))
    assert all(b.contains(Point(px, py)) for px, py in zip(x[labels == 1], y[labels == 1]))
    assert not any(a.contains(Point(px, py)) or b.contains(Point(px, py)) for px, py in zip(x[labels < 0], y[labels < 0]))


def test_cluster_outlines_one_and_two_locations_get_area():
    x = np.array([0.0, 0.0, 0.0, 1000.0, 1100.0, 1100.0, 1100.0, 1100.0])
    y = np.zeros(8)
    labels = np.array([3, 3, 3, 7, 7, 7, 7, 7])
    gdf = cluster_outlines(x, y, labels, buffer_m=25.0)
    assert gdf["cluster_id"].tolist() == [7, 3]  # 5 incidents before 3
    assert gdf["n_locations"].tolist() == [2, 1]
    # Two locations 100 m apart: a 100 x 50 m stadium; one location: a disc.
    assert gdf["area_km2"].tolist() == pytest.approx([(100 * 50 + math.pi * 625) / 1e6, math.pi * 625 / 1e6], rel=0.01)


def test_cluster_outlines_ratio_changes_shape():
    # An L-shaped cluster: the convex hull fills the corner, the concave does not.
    gx, gy = np.meshgrid(np.arange(0, 1000, 25.0), np.arange(0, 100, 25.0))  # 1 km x 75 m arm
    xs = np.r_[gx.ravel(), gy.ravel()]
    ys = np.r_[gy.ravel(), gx.ravel()]  # the same arm turned north
    labels = np.zeros(xs.size, dtype=int)
    concave = cluster_outlines(xs, ys, labels, ratio=0.1)["area_km2"].iloc[0]
    convex = cluster_outlines(xs, ys, labels, ratio=1.0)["area_km2"].iloc[0]
    assert concave < 0.5 * convex


def test_cluster_outlines_all_noise_is_empty():
    gdf = cluster_outlines([0.0, 1.0], [0.0, 1.0], np.array([-1, -1]))
    assert len(gdf) == 0
    assert list(gdf.columns) == ["cluster_id", "n_incidents", "n_locations", "area_km2", "geometry"]
    assert gdf.crs.to_epsg() == 27700


def test_cluster_outlines_accepts_series_and_keeps_inputs(two_clusters):
    labels = pd.Series(two_clusters.expected_labels)
    before = labels.copy()
    gdf = cluster_outlines(pd.Series(two_clusters.x), two_clusters.y, labels)
    assert len(gdf) == 2
    pd.testing.assert_series_equal(labels, before)


@pytest.mark.parametrize(
    ("labels", "kwargs", "error", "match"),
    [
        (np.zeros(3), {}, TypeError, r"The 'labels' parameter of cluster_outlines must be a 1-D array of integer cluster labels \(-1 = noise\)\. Got an array of dtype float64 instead\."),
        (pd.Series([0.0, 0.0, 0.0]), {}, TypeError, r"'labels' parameter of cluster_outlines .* Got a pandas Series of dtype float64"),
        (np.zeros(2, dtype=int), {}, ValueError, r"'labels' parameter of cluster_outlines .* Got shape \(2,\) for 3 points instead\."),
        (np.array([0, -2, 0]), {}, ValueError, r"'labels' parameter of cluster_outlines .* Got labels below -1"),
        (np.zeros(3, dtype=int), {"ratio": 1.5}, ValueError, r"The 'ratio' parameter of cluster_outlines must be a float in the range \[0, 1\]\. Got 1.5 instead\."),
        (np.zeros(3, dtype=int), {"ratio": "0.3"}, TypeError, r"'ratio' parameter of cluster_outlines must be a float"),
        (np.zeros(3, dtype=int), {"buffer_m": 0}, ValueError, r"The 'buffer_m' parameter of cluster_outlines must be a float in the range \(0, inf\)\. Got 0 instead\."),
    ],
)
def test_cluster_outlines_validation(labels, kwargs, error, match):
    with pytest.raises(error, match=match):
        cluster_outlines([0.0, 1.0, 2.0], [0.0, 0.0, 0.0], labels, **kwargs)


@settings(max_examples=40, deadline=None)
@given(
    cells=st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), min_size=1, max_size=120),
    eps=st.sampled_from([60.0, 110.0, 250.0]),
    min_samples=st.integers(1, 8),
)
def test_core_partition_matches_plain_dbscan_property(cells, eps, min_samples):
    # Incidents snapped to a 50 m lattice of map points: many exact repeats.
    xy = 508_000.0 + 50.0 * np.array(cells, dtype=float)
    plain = DBSCAN(eps=eps, min_samples=min_samples).fit(xy)
    result = dbscan_incidents(xy[:, 0], xy[:, 1], eps=eps, min_samples=min_samples)
    core = np.zeros(len(xy), dtype=bool)
    core[plain.core_sample_indices_] = True
    np.testing.assert_array_equal(result.labels < 0, plain.labels_ < 0)
    assert _same_partition(result.labels[core], plain.labels_[core])
    assert result.n_clusters == plain.labels_.max() + 1
    assert result.n_noise == int((plain.labels_ < 0).sum())
    # Ranked: cluster 0 has the most incidents.
    if result.n_clusters:
        sizes = np.bincount(result.labels[result.labels >= 0])
        assert np.all(np.diff(sizes) <= 0)


def test_sampled_estimates_for_many_locations_still_suggest_an_eps_that_fits():
    # 30,000 unique locations in a 1 km square: above SAMPLE_ABOVE, so the eps search uses
    # sampled pair counts; the suggestion is then checked exactly.
    rng = np.random.default_rng(7)
    x = 508_000 + rng.random(30_000) * 1_000
    y = 429_000 + rng.random(30_000) * 1_000
    with pytest.raises(ClusterMemoryError) as refused:
        dbscan_incidents(x, y, eps=200.0, min_samples=50, max_memory_mb=20.0)
    suggested = refused.value.suggested_eps
    assert suggested is not None and 0 < suggested < 200
    assert estimate_dbscan_memory_mb(estimate_neighbour_pairs(x, y, eps=suggested)) <= 20.0
    assert refused.value.predicted_mb > 20.0


def test_pairs_are_counted_only_when_every_pair_could_exceed_the_budget(monkeypatch):
    import hotspots.clusters as clusters

    rng = np.random.default_rng(3)
    x, y = 500_000 + rng.uniform(0, 2_000, 400), 430_000 + rng.uniform(0, 2_000, 400)
    counted = []
    real = clusters._count_pairs
    monkeypatch.setattr(clusters, "_count_pairs",
                        lambda *a, **k: counted.append(1) or real(*a, **k))
    # 400 locations: 160,000 pairs at most, 2.4 MB -> within 1,024 MB without counting
    fitted = dbscan_incidents(x, y, eps=300.0, min_samples=5)
    assert counted == []
    # a budget below that bound: counted, and refused when the real count is over it
    with pytest.raises(ClusterMemoryError):
        dbscan_incidents(x, y, eps=3_000.0, min_samples=5, max_memory_mb=1.0)
    assert counted              # counted (and again while looking for an eps that fits)
    np.testing.assert_array_equal(
        dbscan_incidents(x, y, eps=300.0, min_samples=5, max_memory_mb=2.0).labels,
        fitted.labels)


@pytest.mark.parametrize("eps", [0.5, 25.0, 50.0, 137.0, 1000.0])
def test_pairs_upper_bound_is_never_below_the_exact_count(repeated_points, eps):
    from hotspots.clusters import _count_pairs, _pairs_upper_bound, _unique_locations
    for seed in range(3):
        x, y = repeated_points(seed)
        uniq, _, _ = _unique_locations(np.asarray(x, float), np.asarray(y, float))
        exact = _count_pairs(uniq, eps)
        assert exact <= _pairs_upper_bound(uniq, eps) <= uniq.shape[0] ** 2
    # a 50 m lattice: pairs exactly eps apart, on the squares' edges
    lattice = 500_000.0 + 50.0 * np.array([(i, j) for i in range(30) for j in range(30)])
    for e in (50.0, 100.0, 70.71067811865476):
        assert _count_pairs(lattice, e) <= _pairs_upper_bound(lattice, e)
    assert _pairs_upper_bound(np.zeros((0, 2)), eps) == 0


def test_memory_check_skips_the_count_only_when_the_bound_fits(repeated_points, monkeypatch):
    import hotspots.clusters as clusters
    x, y = repeated_points(0)
    counted = []
    real = clusters._count_pairs
    monkeypatch.setattr(clusters, "_count_pairs",
                        lambda *a, **k: counted.append(1) or real(*a, **k))
    generous = dbscan_incidents(x, y, eps=150.0, min_samples=10, max_memory_mb=1024.0)
    assert counted == []  # the bound fits: no count
    uniq = np.unique(np.column_stack([x, y]), axis=0)
    exact_mb = clusters.estimate_dbscan_memory_mb(real(uniq, 150.0))
    bound_mb = clusters.estimate_dbscan_memory_mb(clusters._pairs_upper_bound(uniq, 150.0))
    assert exact_mb < bound_mb
    tight = dbscan_incidents(x, y, eps=150.0, min_samples=10,
                             max_memory_mb=(exact_mb + bound_mb) / 2)  # fits, bound does not
    assert counted and tight.labels.tolist() == generous.labels.tolist()
    with pytest.raises(clusters.ClusterMemoryError):
        dbscan_incidents(x, y, eps=150.0, min_samples=10, max_memory_mb=exact_mb * 0.9)
