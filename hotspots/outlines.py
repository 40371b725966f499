"""Hotspot outlines: threshold a density surface and trace its polygons.

A hotspot is a connected region where the kernel density is at or above a
threshold.  The threshold is chosen relative to the study area with
:func:`density_threshold` and the region is traced with ``contourpy``
filled contours on the cell centres by :func:`hotspot_outlines`.
"""

from __future__ import annotations

import math

import contourpy
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon

from geodata.crs import BNG
from hotspots._batches import batches, concatenated_ranges
from hotspots._validation import check_float, check_option
from hotspots.coverage import top_cell_count
from hotspots.kde import DensitySurface

__all__ = ["OUTLINE_COLUMNS", "THRESHOLD_METHODS", "density_threshold", "hotspot_outlines"]

#: Threshold rules accepted by :func:`density_threshold`.
THRESHOLD_METHODS: tuple[str, ...] = ("top_percent", "mean_multiple")

#: Columns of the GeoDataFrame returned by :func:`hotspot_outlines`.
OUTLINE_COLUMNS: tuple[str, ...] = (
    "hotspot_id",
    "peak_density",
    "area_km2",
    "expected_incidents",
    "geometry",
)

CRS = BNG


def _check_surface(surface, func: str) -> None:
    if not isinstance(surface, DensitySurface):
        raise TypeError(
            f"The 'surface' parameter of {func} must be a DensitySurface. "
            f"Got an object of type {type(surface).__name__} instead."
        )


def density_threshold(
    surface: DensitySurface,
    *,
    method: str,
    value: float,
    mask: np.ndarray | None = None,
) -> float:
    """Density level that defines a hotspot, relative to the study area.

    Parameters
    ----------
    surface : DensitySurface
        Density surface (per km², grid in EPSG:27700 metres).
    method : {"top_percent", "mean_multiple"}
        ``"top_percent"``: the density of the ``ceil(value% * m)``-th densest
        of the ``m`` cells in ``mask``, so at least ``value`` % of the study
        area's cells are at or above it.  ``"mean_multiple"``: ``value``
        times the mean density of the cells in ``mask``.
    value : float
        Percentage in (0, 100] for ``"top_percent"``; multiple in (0, inf)
        for ``"mean_multiple"``.  Dimensionless.
    mask : numpy.ndarray of bool, shape (ny, nx), optional
        Cells of the study area (e.g. from :func:`hotspots.grid.cells_within`);
        row 0 is south.  Default: all cells.  All cells in the mask count,
        including those with zero density.

    Returns
    -------
    float
        Threshold in incidents per km², always > 0.  Cells of zero density
        are never hotspots: if the rule gives 0 the smallest positive density
        in the mask is returned instead, and ``inf`` (no hotspots) if the
        mask holds no positive density.
    """
    func = "density_threshold"
    _check_surface(surface, func)
    method = check_option(method, "method", func, THRESHOLD_METHODS)
    if method == "top_percent":
        value = check_float(value, "value", func, low=0.0, high=100.0, high_open=False)
    else:
        value = check_float(value, "value", func, low=0.0)
    if mask is None:
        values = surface.density.ravel()
    else:
        if not isinstance(mask, np.ndarray) or mask.dtype != bool:
            raise TypeError(
                f"The 'mask' parameter of {func} must be a boolean numpy array of shape "
                f"{surface.grid.shape}. Got {type(mask).__name__}"
                f"{' of dtype ' + str(mask.dtype) if isinstance(mask, np.ndarray) else ''} instead."
            )
        if mask.shape != surface.grid.shape:
            raise ValueError(
                f"The 'mask' parameter of {func} must have the grid shape {surface.grid.shape}. "
                f"Got shape {mask.shape} instead."
            )
        if not mask.any():
            raise ValueError(
                f"The 'mask' parameter of {func} must select at least one cell. "
                "Got an all-False mask instead."
            )
        values = surface.density[mask]
    positive = values[values > 0]
    if positive.size == 0:
        return math.inf
    if method == "top_percent":
        k = top_cell_count(values.size, value)  # the one definition of "top x %"
        # k-th largest value: partition instead of a full sort, of the positive cells only
        # (the same value when at least k cells are positive; most cells are empty).
        threshold = float(np.partition(positive, positive.size - k)[positive.size - k]) \
            if positive.size >= k else 0.0
    else:
        threshold = value * float(values.mean())
    if threshold <= 0:
        threshold = float(positive.min())
    return threshold


def _rings_to_polygons(points: list[np.ndarray], offsets: list[np.ndarray]) -> list[Polygon]:
    """Convert contourpy ``OuterOffset`` output into shapely polygons with holes."""
    polygons = []
    for pts, offs in zip(points, offsets):
        rings = [pts[offs[i] : offs[i + 1]] for i in range(len(offs) - 1)]
        rings = [r for r in rings if len(r) >= 4]
        if not rings:
            continue
        poly = Polygon(rings[0], rings[1:])
        if not poly.is_valid:
            poly = shapely.make_valid(poly)
            parts = [g for g in getattr(poly, "geoms", [poly]) if isinstance(g, Polygon)]
            polygons.extend(p for p in parts if p.area > 0)
        elif poly.area > 0:
            polygons.append(poly)
    return polygons


#: Cell centres tested at once by :func:`_cells_inside` (a polygon's bounding box larger
#: than this is tested alone).
CELL_PAIRS = 4_000_000


def _cells_inside(polygons: list[Polygon], xs: np.ndarray, ys: np.ndarray,
                  density: np.ndarray, threshold: float,
                  cell_area_km2: float) -> list[tuple[float, float]]:
    """Each polygon's peak density and expected incidents over the cells whose centre it
    covers; ``(threshold, 0.0)`` for a polygon covering no centre.

    The centres in the polygons' bounding boxes are tested in one vectorised call per
    batch of polygons, instead of one call per polygon (200 NumPy and GEOS calls for a
    Humber map). Each polygon's cells are summed in the bounding box's row-major order, as
    ``density[rows, cols][inside].sum()`` does, so the figures are the same to the bit.
    """
    geoms = np.empty(len(polygons), dtype=object)
    geoms[:] = polygons
    shapely.prepare(geoms)  # a test against a repeated polygon then uses its index
    bounds = shapely.bounds(geoms)
    c0 = np.searchsorted(xs, bounds[:, 0], side="left")
    nc = np.searchsorted(xs, bounds[:, 2], side="right") - c0
    r0 = np.searchsorted(ys, bounds[:, 1], side="left")
    nr = np.searchsorted(ys, bounds[:, 3], side="right") - r0
    size = np.maximum(nc, 0) * np.maximum(nr, 0)
    out = []
    for batch in batches(size, CELL_PAIRS):
        owner = np.repeat(batch, size[batch])
        local = concatenated_ranges(np.zeros(batch.size), size[batch])
        width = np.maximum(np.repeat(nc[batch], size[batch]), 1)
        r = np.repeat(r0[batch], size[batch]) + local // width
        c = np.repeat(c0[batch], size[batch]) + local % width
        inside = shapely.intersects_xy(geoms[owner], xs[c], ys[r])
        values, owner = density[r[inside], c[inside]], owner[inside]
        ends = np.searchsorted(owner, np.arange(batch[0], batch[-1] + 2))
        for a, b in zip(ends[:-1], ends[1:]):
            block = values[a:b]
            out.append((float(block.max()), float(block.sum() * cell_area_km2))
                       if block.size else (threshold, 0.0))
    return out


def _empty_outlines() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "hotspot_id": pd.Series([], dtype="int64"),
            "peak_density": pd.Series([], dtype="float64"),
            "area_km2": pd.Series([], dtype="float64"),
            "expected_incidents": pd.Series([], dtype="float64"),
        },
        geometry=gpd.GeoSeries([], crs=CRS),
        crs=CRS,
    )


def hotspot_outlines(
    surface: DensitySurface,
    threshold: float,
    *,
    min_area_m2: float = 0.0,
) -> gpd.GeoDataFrame:
    """Polygons of the regions where the density is at or above a threshold.

    Parameters
    ----------
    surface : DensitySurface
        Density surface (per km², grid in EPSG:27700 metres).
    threshold : float
        Density level in incidents per km², in (0, inf]; typically from
        :func:`density_threshold`.  ``inf`` gives no hotspots.
    min_area_m2 : float, default 0.0
        Drop polygons smaller than this area, square metres (>= 0).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per connected polygon (holes kept), CRS EPSG:27700, columns
        ``hotspot_id`` (1..k ranked by ``expected_incidents`` descending),
        ``peak_density`` (highest cell density inside, per km²),
        ``area_km2`` (polygon area, km²), ``expected_incidents`` (integral of
        the density over the cells whose centre lies in the polygon, i.e.
        the expected number of incidents inside) and ``geometry``.  Empty
        with those columns when no cell reaches the threshold.

    Notes
    -----
    Filled contours between ``threshold`` and ``+inf`` are traced with
    ``contourpy`` (``fill_type="OuterOffset"``) through the cell centres,
    interpolating linearly between them.
    """
    func = "hotspot_outlines"
    _check_surface(surface, func)
    threshold = check_float(threshold, "threshold", func, low=0.0, high=math.inf, high_open=False)
    min_area_m2 = check_float(min_area_m2, "min_area_m2", func, low=0.0, low_open=False)
    density = surface.density
    if math.isinf(threshold) or not np.any(density >= threshold):
        return _empty_outlines()

    grid = surface.grid
    xs, ys = grid.cell_centres()
    if grid.nx < 2 or grid.ny < 2:
        # contourpy needs at least a 2 x 2 grid: pad with zeros.
        density = np.pad(density, 1)
        xs = np.r_[xs[0] - grid.cell_size, xs, xs[-1] + grid.cell_size]
        ys = np.r_[ys[0] - grid.cell_size, ys, ys[-1] + grid.cell_size]
    gen = contourpy.contour_generator(
        xs, ys, density, name="serial", fill_type=contourpy.FillType.OuterOffset
    )
    points, offsets = gen.filled(threshold, math.inf)
    polygons = _rings_to_polygons(points, offsets)

    kept = [poly for poly in polygons if poly.area >= min_area_m2]
    if not kept:
        return _empty_outlines()
    rows = [(peak, poly.area / 1e6, expected, poly) for poly, (peak, expected) in
            zip(kept, _cells_inside(kept, xs, ys, density, threshold, grid.cell_area_km2))]
    # Rank by expected incidents, ties by peak density (both descending).
    rows.sort(key=lambda r: (-r[2], -r[0]))
    gdf = gpd.GeoDataFrame(
        {
            "hotspot_id": np.arange(1, len(rows) + 1, dtype=np.int64),
            "peak_density": np.array([r[0] for r in rows], dtype=np.float64),
            "area_km2": np.array([r[1] for r in rows], dtype=np.float64),
            "expected_incidents": np.array([r[2] for r in rows], dtype=np.float64),
        },
        geometry=gpd.GeoSeries([r[3] for r in rows], crs=CRS),
        crs=CRS,
    )
    return gdf
