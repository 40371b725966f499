"""Dual kernel density: incidents per 1,000 residents, as a smooth surface.

A plain density map shows where incidents are; where many people live, many
incidents are expected.  The *dual KDE* divides the incident density by a
population density smoothed with the **same** kernel, giving a local rate:
incidents per 1,000 residents around each cell.

Population: Census 2021 usual residents per 2021 LSOA, spread evenly over
the grid cells whose centre lies in the LSOA (areal weighting at cell
resolution; an LSOA too small to contain a cell centre puts its residents in
the cell holding its representative point), so the total population is
conserved.  Incidents and residents are then smoothed with the same Gaussian
kernel on the same grid and divided.

Where few people live, the denominator is tiny and the rate explodes (a
village car park with two incidents and five residents nearby).  The rate
is therefore **masked (NaN) where the smoothed population density is below
``min_population_density``** residents per km², 200 by default: roughly the
density of rural England, and about 80 residents inside a 250 m Gaussian
kernel's effective area ``2 pi h^2`` (0.39 km²).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from scipy import ndimage

from geodata.crs import BNG
from hotspots._validation import as_coordinates, as_weights, check_float, check_geoframe
from hotspots.grid import Grid
from hotspots.kde import GAUSSIAN_TRUNCATE, _binning_corrected_sigma, kernel_density

__all__ = ["DEFAULT_MIN_POPULATION_DENSITY", "RiskSurface", "population_grid", "risk_surface"]

#: Smoothed residents per km² below which the rate is not shown (NaN).
DEFAULT_MIN_POPULATION_DENSITY: float = 200.0


@dataclass(frozen=True)
class RiskSurface:
    """Incidents per 1,000 residents on a grid (dual KDE).

    Parameters
    ----------
    grid : Grid
        EPSG:27700 metres; arrays have shape ``grid.shape`` (row 0 south).
    rate_per_1000 : numpy.ndarray
        Incident density / resident density x 1000 (incidents per 1,000
        residents over the period of the incidents); NaN where the smoothed
        population density is below ``min_population_density``.
    incident_density : numpy.ndarray
        Incidents (or weight units) per km².
    population_density : numpy.ndarray
        Smoothed residents per km².
    bandwidth : float
        Gaussian kernel standard deviation, metres.
    min_population_density : float
        Masking threshold, residents per km².
    """

    grid: Grid
    rate_per_1000: np.ndarray
    incident_density: np.ndarray
    population_density: np.ndarray
    bandwidth: float
    min_population_density: float


def population_grid(lsoas: gpd.GeoDataFrame, grid: Grid, *,
                    population_column: str = "population") -> np.ndarray:
    """Residents per grid cell by areal weighting of LSOA populations.

    Parameters
    ----------
    lsoas : geopandas.GeoDataFrame
        Polygons in EPSG:27700 metres with a population column.
    grid : Grid
        The grid.
    population_column : str, default "population"
        Column of residents per polygon (e.g. ``"population_16_34"``).

    Returns
    -------
    numpy.ndarray of float, shape (ny, nx)
        Residents per cell; sums to the population of the polygons that
        overlap the grid.
    """
    func = "population_grid"
    check_geoframe(lsoas, "lsoas", func, column=population_column,
                   column_param="population_column")
    if lsoas.crs is not None and not lsoas.crs.equals(BNG):
        raise ValueError(f"The 'lsoas' parameter of {func} must be in EPSG:27700; got "
                         f"{lsoas.crs}. Use `lsoas.to_crs(27700)` to reproject.")
    pop = lsoas[population_column].to_numpy(dtype=np.float64)
    if np.any(~np.isfinite(pop)) or np.any(pop < 0):
        raise ValueError(f"The {population_column!r} column passed to {func} must hold "
                         "non-negative finite numbers.")
    geoms = lsoas.geometry.to_numpy()
    xs, ys = grid.cell_centres()
    gx, gy = np.meshgrid(xs, ys)
    # Only cells inside the polygons' bounding box can match.
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    inside = (gx >= x0) & (gx <= x1) & (gy >= y0) & (gy <= y1)
    flat_idx = np.flatnonzero(inside.ravel())
    pts = shapely.points(gx.ravel()[flat_idx], gy.ravel()[flat_idx])
    tree = shapely.STRtree(geoms)
    pi, gi = tree.query(pts, predicate="intersects")
    first = np.unique(pi, return_index=True)[1]  # a centre on a shared edge: one polygon
    pi, gi = pi[first], gi[first]
    cells_per_poly = np.bincount(gi, minlength=len(geoms))
    out = np.zeros(grid.n_cells)
    share = np.where(cells_per_poly > 0, pop / np.maximum(cells_per_poly, 1), 0.0)
    np.add.at(out, flat_idx[pi], share[gi])
    # Polygons with no cell centre: all residents in the cell of a representative point.
    for k in np.flatnonzero((cells_per_poly == 0) & (pop > 0)):
        p = shapely.point_on_surface(geoms[k])
        i = int(np.floor((p.x - grid.x0) / grid.cell_size))
        j = int(np.floor((p.y - grid.y0) / grid.cell_size))
        if 0 <= i < grid.nx and 0 <= j < grid.ny:
            out[j * grid.nx + i] += pop[k]
    return out.reshape(grid.shape)


def risk_surface(x, y, lsoas: gpd.GeoDataFrame, *, bandwidth: float, cell_size: float,
                 weights=None, population_column: str = "population",
                 min_population_density: float = DEFAULT_MIN_POPULATION_DENSITY,
                 bounds: tuple[float, float, float, float] | None = None) -> RiskSurface:
    """Incidents per 1,000 residents around each cell (dual kernel density).

    Parameters
    ----------
    x, y : array-like of shape (n,)
        Incident eastings and northings, metres (EPSG:27700).
    lsoas : geopandas.GeoDataFrame
        The study area's LSOAs (EPSG:27700) with ``population_column``.
    bandwidth : float
        Gaussian kernel standard deviation, metres, > 0 (same for incidents
        and residents).
    cell_size : float
        Grid cell side, metres, > 0.
    weights : array-like of shape (n,), optional
        Per-incident weights (e.g. harm); default 1.
    population_column : str, default "population"
        Census 2021 residents column (``"population_16_34"`` for the age
        group most at risk).
    min_population_density : float, default 200.0
        Smoothed residents per km² below which the rate is NaN, >= 0.
    bounds : tuple of 4 floats, optional
        Extent the grid must cover, metres; default the LSOAs' extent.

    Returns
    -------
    RiskSurface
        ``rate_per_1000 = 1000 * incident_density / population_density``.
        With uniform residents and uniform incidents the rate is the constant
        ``1000 * n / total population``.
    """
    func = "risk_surface"
    bandwidth = check_float(bandwidth, "bandwidth", func, low=0.0)
    cell_size = check_float(cell_size, "cell_size", func, low=0.0)
    min_population_density = check_float(min_population_density, "min_population_density",
                                          func, low=0.0, low_open=False)
    xa, ya = as_coordinates(x, y, func)
    w = as_weights(weights, xa.size, func)
    if bounds is None:
        check_geoframe(lsoas, "lsoas", func)
        bounds = tuple(float(v) for v in lsoas.total_bounds)
    surface = kernel_density(xa, ya, bandwidth=bandwidth, cell_size=cell_size, weights=w,
                             bounds=bounds)
    grid = surface.grid
    residents = population_grid(lsoas, grid, population_column=population_column)
    # Same discrete kernel as the incident density, so a uniform rate stays uniform.
    sigma = _binning_corrected_sigma(bandwidth / cell_size)
    pop_density = ndimage.gaussian_filter(residents, sigma=sigma, mode="constant",
                                          truncate=GAUSSIAN_TRUNCATE) / grid.cell_area_km2
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = 1000.0 * surface.density / pop_density
    rate[~(pop_density >= min_population_density) | (pop_density <= 0)] = np.nan
    for arr in (rate, pop_density):
        arr.flags.writeable = False
    return RiskSurface(grid=grid, rate_per_1000=rate, incident_density=surface.density,
                       population_density=pop_density, bandwidth=bandwidth,
                       min_population_density=min_population_density)
