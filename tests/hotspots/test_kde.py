"""Tests for hotspots.kde: mass conservation, oracles, linearity, validation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.neighbors import KernelDensity

from hotspots.kde import DensitySurface, exact_kernel_density, kernel_density


def _centres(surface: DensitySurface) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = surface.grid.cell_centres()
    return np.meshgrid(xs, ys)


@pytest.mark.parametrize("kernel", ["gaussian", "quartic"])
def test_mass_is_conserved(kde_points, kernel):
    x, y = kde_points
    w = np.linspace(0.5, 2.0, x.size)
    s = kernel_density(x, y, bandwidth=200.0, cell_size=25.0, weights=w, kernel=kernel)
    assert s.total_weight == pytest.approx(w.sum())
    assert s.density.sum() * s.grid.cell_area_km2 == pytest.approx(w.sum(), rel=1e-6)
    assert s.mass == pytest.approx(w.sum(), rel=1e-6)
    assert s.density.min() >= 0.0
    assert s.density.shape == s.grid.shape
    assert (s.bandwidth, s.kernel) == (200.0, kernel)


def test_mass_conserved_for_point_on_grid_edge_region():
    # A single point: nothing may be lost at the padded grid edge.
    s = kernel_density([508_000.0], [429_000.0], bandwidth=500.0, cell_size=50.0)
    assert s.mass == pytest.approx(1.0, rel=1e-12)
    # The border rows/columns are outside the 4-sigma support: exactly zero.
    d = s.density
    assert d[0].max() == d[-1].max() == d[:, 0].max() == d[:, -1].max() == 0.0


def test_gaussian_matches_exact_kernel_sum(kde_points):
    # 300 points, bandwidth 200 m, 25 m cells: binning error is below 1 %.
    x, y = kde_points
    s = kernel_density(x, y, bandwidth=200.0, cell_size=25.0)
    gx, gy = _centres(s)
    sel = s.density > 0.01 * s.density.max()
    exact = exact_kernel_density(x, y, gx[sel], gy[sel], bandwidth=200.0)
    assert sel.sum() > 5_000
    np.testing.assert_allclose(s.density[sel], exact, rtol=0.01)


def test_gaussian_matches_sklearn_kernel_density(kde_points):
    # sklearn gives the log of a normalised pdf per m²: x n x 1e6 -> per km².
    x, y = kde_points
    s = kernel_density(x, y, bandwidth=200.0, cell_size=25.0)
    gx, gy = _centres(s)
    sel = s.density > 0.01 * s.density.max()
    kd = KernelDensity(bandwidth=200.0, kernel="gaussian").fit(np.column_stack([x, y]))
    oracle = np.exp(kd.score_samples(np.column_stack([gx[sel], gy[sel]]))) * x.size * 1e6
    np.testing.assert_allclose(s.density[sel], oracle, rtol=0.01)
    # ... and the exact oracle agrees with sklearn to rounding.
    np.testing.assert_allclose(exact_kernel_density(x, y, gx[sel][:500], gy[sel][:500], bandwidth=200.0), oracle[:500], rtol=1e-9)


def test_quartic_single_point_on_cell_centre_matches_formula():
    # A point on a cell centre is not split by binning: only the discrete
    # normalisation differs from 3 / (pi h^2) (1 - d^2/h^2)^2.
    s = kernel_density([508_012.5], [429_012.5], bandwidth=200.0, cell_size=25.0, kernel="quartic")
    gx, gy = _centres(s)
    sel = s.density > 0
    exact = exact_kernel_density([508_012.5], [429_012.5], gx[sel], gy[sel], bandwidth=200.0, kernel="quartic")
    np.testing.assert_allclose(s.density[sel], exact, rtol=1e-3)
    assert s.density.max() == pytest.approx(3 / (math.pi * 200.0**2) * 1e6, rel=1e-3)  # 23.87 per km²
    # Support radius is the bandwidth: nothing beyond 200 m (+ no binning spread).
    d = np.hypot(gx - 508_012.5, gy - 429_012.5)
    assert s.density[d >= 200.0].max() == 0.0


def test_quartic_matches_exact_kernel_sum(kde_points):
    x, y = kde_points
    s = kernel_density(x, y, bandwidth=200.0, cell_size=25.0, kernel="quartic")
    gx, gy = _centres(s)
    exact = exact_kernel_density(x, y, gx.ravel(), gy.ravel(), bandwidth=200.0, kernel="quartic").reshape(gx.shape)
    sel = s.density > 0.1 * s.density.max()
    np.testing.assert_allclose(s.density[sel], exact[sel], rtol=0.025)
    assert np.abs(s.density - exact).sum() / exact.sum() < 0.01


@pytest.mark.parametrize("kernel", ["gaussian", "quartic"])
def test_weights_scale_linearly(kde_points, kernel):
    x, y = kde_points
    rng = np.random.default_rng(0)
    w1, w2 = rng.uniform(0, 1, x.size), rng.uniform(0, 3, x.size)
    kw = {"bandwidth": 150.0, "cell_size": 25.0, "kernel": kernel}
    s1 = kernel_density(x, y, weights=w1, **kw)
    s2 = kernel_density(x, y, weights=w2, **kw)
    s12 = kernel_density(x, y, weights=2.0 * w1 + w2, **kw)
    assert s1.grid == s2.grid == s12.grid
    np.testing.assert_allclose(s12.density, 2.0 * s1.density + s2.density, atol=1e-9 * s12.density.max())
    unweighted = kernel_density(x, y, **kw)
    ones = kernel_density(x, y, weights=np.ones(x.size), **kw)
    np.testing.assert_array_equal(unweighted.density, ones.density)


@pytest.mark.parametrize("kernel", ["gaussian", "quartic"])
def test_translation_by_whole_cells_translates_surface(kde_points, kernel):
    x, y = kde_points
    s = kernel_density(x, y, bandwidth=200.0, cell_size=25.0, kernel=kernel)
    t = kernel_density(x + 3 * 25.0, y - 40 * 25.0, bandwidth=200.0, cell_size=25.0, kernel=kernel)
    assert (t.grid.x0, t.grid.y0) == (s.grid.x0 + 75.0, s.grid.y0 - 1000.0)
    assert t.grid.shape == s.grid.shape
    np.testing.assert_allclose(t.density, s.density, rtol=1e-9, atol=1e-9 * s.density.max())


def test_orientation_row_zero_is_south():
    s = kernel_density([500_000.0, 500_000.0], [400_000.0, 405_000.0], bandwidth=100.0, cell_size=50.0, weights=[1.0, 3.0])
    row_mass = s.density.sum(axis=1)
    south, north = row_mass[: s.grid.ny // 2].sum(), row_mass[s.grid.ny // 2 :].sum()
    assert north == pytest.approx(3 * south, rel=1e-9)
    j, i = np.unravel_index(np.argmax(s.density), s.density.shape)
    xs, ys = s.grid.cell_centres()
    assert abs(xs[i] - 500_000.0) <= 25.0 and abs(ys[j] - 405_000.0) <= 25.0  # peak at the heavier, northern point


def test_grid_covers_bounds_and_points():
    bounds = (500_000.0, 420_000.0, 510_000.0, 430_000.0)
    s = kernel_density([515_000.0], [425_000.0], bandwidth=100.0, cell_size=50.0, bounds=bounds)
    gb = s.grid.bounds
    assert gb[0] <= 500_000.0 - 400.0 and gb[1] <= 420_000.0 - 400.0
    assert gb[2] >= 515_000.0 + 400.0 and gb[3] >= 430_000.0 + 400.0
    assert s.grid.x0 % 50.0 == 0.0 and s.grid.y0 % 50.0 == 0.0


def test_empty_input_with_bounds_gives_zero_surface():
    bounds = (500_000.0, 420_000.0, 501_000.0, 420_500.0)
    s = kernel_density([], [], bandwidth=100.0, cell_size=50.0, bounds=bounds)
    assert s.grid.bounds == bounds
    assert s.grid.shape == (10, 20)
    assert s.total_weight == 0.0
    assert not s.density.any()


def test_empty_input_without_bounds_raises():
    with pytest.raises(ValueError, match=r"kernel_density got no points and no 'bounds'"):
        kernel_density(np.array([]), np.array([]), bandwidth=100.0, cell_size=50.0)


def test_inputs_are_not_modified_and_output_read_only(kde_points):
    x, y = kde_points
    w = np.arange(x.size, dtype=float)
    xs = pd.Series(x.copy())
    copies = (x.copy(), y.copy(), w.copy())
    s = kernel_density(xs, y, weights=w, bandwidth=200.0, cell_size=25.0, kernel="quartic")
    np.testing.assert_array_equal(xs.to_numpy(), copies[0])
    np.testing.assert_array_equal(y, copies[1])
    np.testing.assert_array_equal(w, copies[2])
    with pytest.raises(ValueError, match="read-only"):
        s.density[0, 0] = 1.0


def test_same_input_same_result(kde_points):
    x, y = kde_points
    a = kernel_density(x, y, bandwidth=200.0, cell_size=25.0)
    b = kernel_density(list(x), list(y), bandwidth=200, cell_size=25)
    assert a.grid == b.grid
    np.testing.assert_array_equal(a.density, b.density)


def test_smoothing_in_place_gives_the_values_of_a_separate_output(kde_points):
    # kernel_density smooths the binned grid in place and scales it in place (fewer fresh
    # grid-sized arrays); the values are those of the out-of-place filter and division.
    from scipy import ndimage

    from hotspots.kde import GAUSSIAN_TRUNCATE, _binning_corrected_sigma, _linear_bin

    x, y = kde_points
    for bandwidth, cell_size in ((200.0, 25.0), (60.0, 50.0), (333.0, 17.0)):
        surface = kernel_density(x, y, bandwidth=bandwidth, cell_size=cell_size)
        binned = _linear_bin(x, y, np.ones(x.size), surface.grid)
        expected = ndimage.gaussian_filter(
            binned, sigma=_binning_corrected_sigma(bandwidth / cell_size), mode="constant",
            truncate=GAUSSIAN_TRUNCATE) / surface.grid.cell_area_km2
        np.testing.assert_array_equal(surface.density, expected)
        assert surface.mass == pytest.approx(x.size, rel=1e-9)


def test_exact_kernel_density_values():
    # One point at the origin, h = 100 m: peak 1 / (2 pi h^2) per m².
    out = exact_kernel_density([0.0], [0.0], [0.0, 100.0], [0.0, 0.0], bandwidth=100.0)
    peak = 1e6 / (2 * math.pi * 100.0**2)
    np.testing.assert_allclose(out, [peak, peak * math.exp(-0.5)])
    q = exact_kernel_density([0.0], [0.0], [0.0, 50.0, 100.0], [0.0, 0.0, 0.0], bandwidth=100.0, kernel="quartic", weights=[2.0])
    np.testing.assert_allclose(q, 2e6 * 3 / (math.pi * 1e4) * np.array([1.0, 0.5625, 0.0]))


def test_200k_points_on_1_4m_cells_keep_every_incident():
    # The README's scale (200,000 incidents, 1.4 million 25 m cells). Its speed is measured
    # by `python -m hotspots.bench` (the kde row), not asserted against a wall clock here;
    # this pins what must hold at that size: the grid, and a surface that still integrates
    # to the number of incidents with no negative cell.
    rng = np.random.default_rng(7)
    x = rng.uniform(496_000, 524_000, 200_000)
    y = rng.uniform(415_000, 443_000, 200_000)
    s = kernel_density(x, y, bandwidth=200.0, cell_size=25.0)
    assert 1.3e6 < s.grid.n_cells < 1.6e6
    assert s.density.sum() * s.grid.cell_area_km2 == pytest.approx(200_000, rel=1e-6)
    assert s.density.min() >= 0


_X, _Y = [508_000.0, 508_100.0], [429_000.0, 429_050.0]


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((_X, _Y), {"bandwidth": -1, "cell_size": 25}, ValueError, r"The 'bandwidth' parameter of kernel_density must be a float in the range \(0, inf\)\. Got -1 instead\."),
        ((_X, _Y), {"bandwidth": 0.0, "cell_size": 25}, ValueError, r"'bandwidth' parameter of kernel_density .* Got 0 instead"),
        ((_X, _Y), {"bandwidth": "200", "cell_size": 25}, TypeError, r"'bandwidth' parameter of kernel_density must be a float"),
        ((_X, _Y), {"bandwidth": math.nan, "cell_size": 25}, ValueError, r"'bandwidth' parameter of kernel_density"),
        ((_X, _Y), {"bandwidth": 200, "cell_size": 0}, ValueError, r"The 'cell_size' parameter of kernel_density must be a float in the range \(0, inf\)\. Got 0 instead\."),
        ((_X, _Y), {"bandwidth": 200, "cell_size": None}, TypeError, r"'cell_size' parameter of kernel_density"),
        ((_X, _Y), {"bandwidth": 200, "cell_size": 25, "kernel": "epanechnikov"}, ValueError, r"The 'kernel' parameter of kernel_density must be a str among \{'gaussian', 'quartic'\}\. Got 'epanechnikov' instead\."),
        ((_X, _Y), {"bandwidth": 200, "cell_size": 25, "kernel": 1}, TypeError, r"'kernel' parameter of kernel_density must be a str"),
        ((_X, _Y), {"bandwidth": 200, "cell_size": 25, "weights": [1.0]}, ValueError, r"The 'weights' parameter of kernel_density must have one value per point \(2\)\. Got 1 instead\."),
        ((_X, _Y), {"bandwidth": 200, "cell_size": 25, "weights": [1.0, -0.5]}, ValueError, r"'weights' parameter of kernel_density must contain only non-negative numbers"),
        ((_X, _Y), {"bandwidth": 200, "cell_size": 25, "weights": [1.0, math.nan]}, ValueError, r"'weights' parameter of kernel_density must contain only finite numbers"),
        ((_X, _Y), {"bandwidth": 200, "cell_size": 25, "weights": ["a", "b"]}, TypeError, r"'weights' parameter of kernel_density must be a 1-D array-like of numbers"),
        (([508_000.0, math.nan], _Y), {"bandwidth": 200, "cell_size": 25}, ValueError, r"The 'x' parameter of kernel_density must contain only finite numbers \(no NaN or inf\)\. Got 1 non-finite value\(s\) instead\."),
        ((_X, [429_000.0, math.inf]), {"bandwidth": 200, "cell_size": 25}, ValueError, r"'y' parameter of kernel_density must contain only finite"),
        ((_X, [429_000.0]), {"bandwidth": 200, "cell_size": 25}, ValueError, r"The 'x' and 'y' parameters of kernel_density must have the same length\. Got 2 and 1 instead\."),
        ((["a", "b"], _Y), {"bandwidth": 200, "cell_size": 25}, TypeError, r"The 'x' parameter of kernel_density must be a 1-D array-like of numbers\. Got an array of dtype <U1 instead\."),
        ((pd.Series(["1", "2"]), _Y), {"bandwidth": 200, "cell_size": 25}, TypeError, r"'x' parameter of kernel_density .* pandas object of dtype"),
        (([[1.0, 2.0]], _Y), {"bandwidth": 200, "cell_size": 25}, ValueError, r"'x' parameter of kernel_density must be a 1-D array-like of numbers\. Got an array of shape \(1, 2\)"),
        ((_X, _Y), {"bandwidth": 200, "cell_size": 25, "bounds": (0, 0, -1, 1)}, ValueError, r"The 'bounds' parameter of kernel_density must be a tuple"),
        ((_X, _Y), {"bandwidth": 200, "cell_size": 0.001}, ValueError, r"Use a larger cell size"),
    ],
)
def test_kernel_density_validation(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        kernel_density(*args, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"at_x": [0.0], "at_y": [0.0, 1.0]}, ValueError, r"The 'at_x' and 'at_y' parameters of exact_kernel_density must have the same length"),
        ({"at_x": [math.nan], "at_y": [0.0]}, ValueError, r"'at_x' parameter of exact_kernel_density must contain only finite"),
        ({"at_x": [0.0], "at_y": [0.0], "bandwidth": 0}, ValueError, r"'bandwidth' parameter of exact_kernel_density must be a float in the range \(0, inf\)"),
        ({"at_x": [0.0], "at_y": [0.0], "kernel": "box"}, ValueError, r"'kernel' parameter of exact_kernel_density"),
        ({"at_x": [0.0], "at_y": [0.0], "weights": [1.0, 2.0]}, ValueError, r"'weights' parameter of exact_kernel_density must have one value per point \(1\)"),
    ],
)
def test_exact_kernel_density_validation(kwargs, error, match):
    args = {"bandwidth": 100.0} | kwargs
    with pytest.raises(error, match=match):
        exact_kernel_density([0.0], [0.0], **args)


@settings(max_examples=30, deadline=None)
@given(
    pts=st.lists(
        st.tuples(st.floats(500_000, 502_000), st.floats(420_000, 421_000), st.floats(0, 10)),
        min_size=1,
        max_size=40,
    ),
    kernel=st.sampled_from(["gaussian", "quartic"]),
    bandwidth=st.sampled_from([30.0, 75.0, 200.0]),
)
def test_mass_conservation_property(pts, kernel, bandwidth):
    x, y, w = (np.array(v) for v in zip(*pts))
    s = kernel_density(x, y, weights=w, bandwidth=bandwidth, cell_size=25.0, kernel=kernel)
    assert s.density.min() >= 0.0
    assert s.mass == pytest.approx(w.sum(), rel=1e-6, abs=1e-9)
