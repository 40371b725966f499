"""Tests for hotspots.outlines: thresholds and traced hotspot polygons."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from shapely.geometry import Point

from hotspots.grid import Grid
from hotspots.kde import DensitySurface, kernel_density
from hotspots.outlines import OUTLINE_COLUMNS, density_threshold, hotspot_outlines


def _surface(density: np.ndarray, cell_size: float = 10.0) -> DensitySurface:
    ny, nx = density.shape
    grid = Grid(x0=500_000.0, y0=420_000.0, cell_size=cell_size, nx=nx, ny=ny)
    total = float(density.sum() * grid.cell_area_km2)
    return DensitySurface(grid=grid, density=density, bandwidth=10.0, kernel="gaussian", total_weight=total)


@pytest.fixture
def ramp() -> DensitySurface:
    """10 x 10 surface with densities 0, 1, ..., 99 per km² (row-major)."""
    return _surface(np.arange(100, dtype=float).reshape(10, 10))


@pytest.fixture
def clusters_surface(two_clusters) -> DensitySurface:
    return kernel_density(two_clusters.x, two_clusters.y, bandwidth=150.0, cell_size=25.0)


def test_top_percent_threshold(ramp):
    assert density_threshold(ramp, method="top_percent", value=10) == 90.0  # 10 densest cells: 90..99
    assert density_threshold(ramp, method="top_percent", value=5.5) == 94.0  # ceil(5.5) = 6 cells: 94..99
    for pct in range(1, 100):  # exactly pct cells, no floating-point off-by-one
        assert density_threshold(ramp, method="top_percent", value=pct) == 100.0 - pct
    assert density_threshold(ramp, method="top_percent", value=1) == 99.0
    assert density_threshold(ramp, method="top_percent", value=50) == 50.0
    # Top 100 % would include the zero cell: zero densities are never
    # hotspots, so the smallest positive density is returned.
    assert density_threshold(ramp, method="top_percent", value=100) == 1.0


def test_mean_multiple_threshold(ramp):
    assert density_threshold(ramp, method="mean_multiple", value=2) == pytest.approx(99.0)  # 2 x 49.5
    assert density_threshold(ramp, method="mean_multiple", value=0.5) == pytest.approx(24.75)


def test_threshold_uses_only_masked_cells(ramp):
    mask = np.zeros((10, 10), dtype=bool)
    mask[:2] = True  # the two southern rows: densities 0..19, mean 9.5
    assert density_threshold(ramp, method="top_percent", value=10, mask=mask) == 18.0
    assert density_threshold(ramp, method="mean_multiple", value=2, mask=mask) == pytest.approx(19.0)


def test_threshold_of_zero_surface_is_inf():
    zero = _surface(np.zeros((4, 4)))
    assert density_threshold(zero, method="top_percent", value=5) == math.inf
    assert density_threshold(zero, method="mean_multiple", value=3) == math.inf
    assert len(hotspot_outlines(zero, math.inf)) == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"method": "quantile", "value": 5}, ValueError, r"The 'method' parameter of density_threshold must be a str among \{'top_percent', 'mean_multiple'\}\. Got 'quantile' instead\."),
        ({"method": None, "value": 5}, TypeError, r"'method' parameter of density_threshold must be a str"),
        ({"method": "top_percent", "value": 0}, ValueError, r"The 'value' parameter of density_threshold must be a float in the range \(0, 100\]\. Got 0 instead\."),
        ({"method": "top_percent", "value": 101}, ValueError, r"range \(0, 100\]\. Got 101 instead"),
        ({"method": "top_percent", "value": "5"}, TypeError, r"'value' parameter of density_threshold must be a float"),
        ({"method": "mean_multiple", "value": -1}, ValueError, r"The 'value' parameter of density_threshold must be a float in the range \(0, inf\)\. Got -1 instead\."),
        ({"method": "top_percent", "value": 5, "mask": np.ones((10, 10), dtype=int)}, TypeError, r"The 'mask' parameter of density_threshold must be a boolean numpy array of shape \(10, 10\)"),
        ({"method": "top_percent", "value": 5, "mask": [[True]]}, TypeError, r"'mask' parameter of density_threshold must be a boolean numpy array"),
        ({"method": "top_percent", "value": 5, "mask": np.ones((10, 9), dtype=bool)}, ValueError, r"'mask' parameter of density_threshold must have the grid shape \(10, 10\)\. Got shape \(10, 9\)"),
        ({"method": "top_percent", "value": 5, "mask": np.zeros((10, 10), dtype=bool)}, ValueError, r"'mask' parameter of density_threshold must select at least one cell"),
    ],
)
def test_density_threshold_validation(ramp, kwargs, error, match):
    with pytest.raises(error, match=match):
        density_threshold(ramp, **kwargs)


def test_density_threshold_rejects_non_surface():
    with pytest.raises(TypeError, match=r"The 'surface' parameter of density_threshold must be a DensitySurface"):
        density_threshold(np.zeros((3, 3)), method="top_percent", value=5)


def test_two_cluster_hotspots(two_clusters, clusters_surface):
    s = clusters_surface
    threshold = density_threshold(s, method="mean_multiple", value=20)
    gdf = hotspot_outlines(s, threshold)
    assert list(gdf.columns) == list(OUTLINE_COLUMNS)
    assert gdf.crs.to_epsg() == 27700
    # Two hotspots: A (60 incidents) ranks first, B (30) second.
    assert len(gdf) == 2
    assert gdf["hotspot_id"].tolist() == [1, 2]
    a, b = gdf.geometry.iloc[0], gdf.geometry.iloc[1]
    assert a.contains(Point(508_025.0, 429_037.5)) and b.contains(Point(510_050.0, 429_012.5))
    assert gdf["expected_incidents"].iloc[0] > gdf["expected_incidents"].iloc[1] > 0
    # The mass inside can not exceed the cluster's incidents (+ a little noise tail).
    assert gdf["expected_incidents"].iloc[0] < 60 and gdf["expected_incidents"].iloc[1] < 30
    assert gdf["peak_density"].iloc[0] == pytest.approx(s.density.max())
    assert (gdf["peak_density"] >= threshold).all()
    np.testing.assert_allclose(gdf["area_km2"], gdf.geometry.area / 1e6)
    assert gdf.geometry.is_valid.all()
    # Every cell at or above the threshold is covered by some polygon.
    xs, ys = s.grid.cell_centres()
    gx, gy = np.meshgrid(xs, ys)
    hot = s.density >= threshold
    covered = shapely.intersects_xy(shapely.union_all(gdf.geometry.values), gx[hot], gy[hot])
    assert covered.all()


def test_low_threshold_captures_almost_all_mass(clusters_surface):
    s = clusters_surface
    gdf = hotspot_outlines(s, 1e-6 * s.density.max())
    # Clusters plus 20 isolated noise bumps: up to 22 polygons.
    assert 3 <= len(gdf) <= 22
    assert gdf["expected_incidents"].sum() == pytest.approx(s.total_weight, rel=1e-3)
    assert gdf["expected_incidents"].is_monotonic_decreasing


def test_polygon_keeps_hole():
    # Annulus of high density around a low centre.
    yy, xx = np.mgrid[0:21, 0:21]
    r = np.hypot(xx - 10, yy - 10)
    density = np.where((r > 4) & (r < 8), 10.0, 0.0)
    gdf = hotspot_outlines(_surface(density), 5.0)
    assert len(gdf) == 1
    poly = gdf.geometry.iloc[0]
    assert len(poly.interiors) == 1
    centre = Point(500_000.0 + 10.5 * 10, 420_000.0 + 10.5 * 10)  # cell (10, 10) centre
    assert not poly.contains(centre)
    assert gdf["peak_density"].iloc[0] == 10.0
    n_hot = int((density >= 5).sum())
    assert gdf["expected_incidents"].iloc[0] == pytest.approx(10.0 * n_hot * 1e-4)


def test_min_area_filter_and_ranking():
    density = np.zeros((20, 30))
    density[2:4, 2:4] = 50.0  # small but intense: 4 cells
    density[10:17, 15:25] = 10.0  # larger: 70 cells, more incidents in total
    s = _surface(density)
    gdf = hotspot_outlines(s, 5.0)
    assert len(gdf) == 2
    assert gdf["peak_density"].tolist() == [10.0, 50.0]  # ranked by incidents, not peak
    assert gdf["expected_incidents"].tolist() == pytest.approx([70 * 10 * 1e-4, 4 * 50 * 1e-4])
    big_area = gdf["area_km2"].iloc[0] * 1e6
    filtered = hotspot_outlines(s, 5.0, min_area_m2=big_area - 1.0)
    assert len(filtered) == 1
    assert filtered["hotspot_id"].tolist() == [1]
    assert filtered["peak_density"].tolist() == [10.0]


def test_nothing_above_threshold_gives_empty_frame(clusters_surface):
    gdf = hotspot_outlines(clusters_surface, clusters_surface.density.max() * 2)
    assert len(gdf) == 0
    assert list(gdf.columns) == list(OUTLINE_COLUMNS)
    assert gdf.crs.to_epsg() == 27700


def test_surface_not_modified(clusters_surface):
    before = clusters_surface.density.copy()
    hotspot_outlines(clusters_surface, density_threshold(clusters_surface, method="top_percent", value=2))
    np.testing.assert_array_equal(clusters_surface.density, before)


@pytest.mark.parametrize(
    ("threshold", "kwargs", "error", "match"),
    [
        (0.0, {}, ValueError, r"The 'threshold' parameter of hotspot_outlines must be a float in the range \(0, inf\]\. Got 0 instead\."),
        (-3, {}, ValueError, r"'threshold' parameter of hotspot_outlines .* Got -3 instead"),
        (math.nan, {}, ValueError, r"'threshold' parameter of hotspot_outlines"),
        ("5", {}, TypeError, r"'threshold' parameter of hotspot_outlines must be a float"),
        (5.0, {"min_area_m2": -1}, ValueError, r"The 'min_area_m2' parameter of hotspot_outlines must be a float in the range \[0, inf\)\. Got -1 instead\."),
    ],
)
def test_hotspot_outlines_validation(ramp, threshold, kwargs, error, match):
    with pytest.raises(error, match=match):
        hotspot_outlines(ramp, threshold, **kwargs)


def test_hotspot_outlines_rejects_non_surface():
    with pytest.raises(TypeError, match=r"The 'surface' parameter of hotspot_outlines must be a DensitySurface"):
        hotspot_outlines("surface", 1.0)


@pytest.mark.parametrize("cell_pairs", [1, 50, 4_000_000])
def test_cell_figures_do_not_depend_on_how_polygons_are_batched(clusters_surface, monkeypatch,
                                                                cell_pairs):
    # every polygon tested alone (1), a few at a time (50) or all at once: the same figures,
    # to the bit, as a per-polygon mask of the bounding box's cells
    import hotspots.outlines as outlines
    s = clusters_surface
    monkeypatch.setattr(outlines, "CELL_PAIRS", cell_pairs)
    gdf = hotspot_outlines(s, 1e-6 * s.density.max())
    xs, ys = s.grid.cell_centres()
    for poly, peak, expected in zip(gdf.geometry, gdf["peak_density"],
                                    gdf["expected_incidents"]):
        x0, y0, x1, y1 = poly.bounds
        ci = np.flatnonzero((xs >= x0) & (xs <= x1))
        ri = np.flatnonzero((ys >= y0) & (ys <= y1))
        gx, gy = np.meshgrid(xs[ci], ys[ri])
        block = s.density[ri[0]:ri[-1] + 1, ci[0]:ci[-1] + 1][shapely.intersects_xy(poly, gx, gy)]
        assert peak == float(block.max())
        assert expected == float(block.sum() * s.grid.cell_area_km2)
    assert len(gdf) >= 3
