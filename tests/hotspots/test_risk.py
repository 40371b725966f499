"""Dual KDE: uniform residents and uniform incidents give a constant rate."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from hotspots.grid import Grid
from hotspots.risk import population_grid, risk_surface


def _lsoas():
    # Two 1 km x 2 km LSOAs side by side, 1,000 residents each (500 per km²).
    geoms = [shapely.box(500_000, 400_000, 501_000, 402_000),
             shapely.box(501_000, 400_000, 502_000, 402_000)]
    return gpd.GeoDataFrame({"lsoa21cd": ["A", "B"], "population": [1000, 1000]},
                            geometry=geoms, crs="EPSG:27700")


def test_population_grid_conserves_residents():
    g = Grid(x0=499_000.0, y0=399_000.0, cell_size=100.0, nx=40, ny=40)
    pop = population_grid(_lsoas(), g)
    assert pop.sum() == pytest.approx(2000)
    assert pop.max() == pytest.approx(1000 / 200)   # 200 cells of 100 m per LSOA


def test_uniform_population_and_incidents_give_constant_rate():
    # One incident at every 100 m cell centre of the two LSOAs: 400 incidents, 2,000 residents.
    xs = 500_050 + 100 * np.arange(20)
    ys = 400_050 + 100 * np.arange(20)
    gx, gy = np.meshgrid(xs, ys)
    res = risk_surface(gx.ravel(), gy.ravel(), _lsoas(), bandwidth=200.0, cell_size=100.0,
                       min_population_density=0.0)
    ok = np.isfinite(res.rate_per_1000) & (res.population_density > 1e-6)
    assert ok.sum() > 400
    np.testing.assert_allclose(res.rate_per_1000[ok], 1000 * 400 / 2000, rtol=1e-6)


def test_low_population_density_is_masked():
    res = risk_surface([500_500.0], [401_000.0], _lsoas(), bandwidth=200.0, cell_size=100.0)
    # Far outside the LSOAs the smoothed population is 0 -> NaN; inside 500/km² >= 200 -> shown.
    assert np.isnan(res.rate_per_1000[0, 0])
    assert np.isfinite(res.rate_per_1000).any()
    high = risk_surface([500_500.0], [401_000.0], _lsoas(), bandwidth=200.0, cell_size=100.0,
                        min_population_density=10_000.0)
    assert not np.isfinite(high.rate_per_1000).any()


def test_risk_validation():
    with pytest.raises(ValueError, match="'min_population_density' parameter of risk_surface"):
        risk_surface([0.0], [0.0], _lsoas(), bandwidth=100.0, cell_size=50.0,
                     min_population_density=-1)
    with pytest.raises(ValueError, match="'population_column' parameter of population_grid"):
        population_grid(_lsoas(), Grid(x0=0.0, y0=0.0, cell_size=1.0, nx=1, ny=1),
                        population_column="nope")
    with pytest.raises(ValueError, match="EPSG:27700"):
        population_grid(_lsoas().to_crs(4326), Grid(x0=0.0, y0=0.0, cell_size=1.0, nx=1, ny=1))
