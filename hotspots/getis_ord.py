"""Getis-Ord Gi* hot and cold spots on LSOAs or on a regular grid, with an FDR correction.

Gi* (Getis & Ord 1992; Ord & Getis 1995) compares the incidents in and
around each area (the area itself included, the "star") with the study-area
mean.  A large positive z-score means the area and its neighbours hold more
incidents than expected under spatial randomness (a hot spot); a large
negative one, fewer (a cold spot).

Significance comes from ``esda.G_Local`` conditional permutations: the
pseudo p-value ``p_sim`` is one-sided in the direction of the observed
statistic and counts permutations *tied* with the observation as extreme
(esda's own ``p_sim`` does not, which makes every empty cell among empty
neighbours a "cold 99%" spot on a sparse grid; see :func:`_tie_aware_p`).  As in
ArcGIS's *Hot Spot Analysis*, the pseudo p-value is doubled into a two-sided
one, ``p = min(1, 2 * p_sim)``, and, because thousands of areas are tested
at once, adjusted for the false discovery rate with Benjamini & Hochberg
(1995) (:func:`benjamini_hochberg`).  Classes use the adjusted p-value:
"hot 99%" (p_fdr <= 0.01, z > 0), "hot 95%" (<= 0.05), "hot 90%" (<= 0.10),
"not significant", and the same "cold" classes for z < 0.

References
----------
Getis, A. & Ord, J. K. (1992). The analysis of spatial association by use of
distance statistics. *Geographical Analysis* 24(3), 189-206.

Ord, J. K. & Getis, A. (1995). Local spatial autocorrelation statistics:
distributional issues and an application. *Geographical Analysis* 27(4), 286-306.

Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate.
*Journal of the Royal Statistical Society B* 57(1), 289-300.
"""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage

from geodata.crs import BNG
from hotspots._validation import (
    as_coordinates,
    as_float_array,
    as_weights,
    check_float,
    check_geoframe,
    check_int,
    check_option,
)
from hotspots.grid import grid_for_extent

__all__ = [
    "CELL_SHAPES",
    "GI_CLASSES",
    "WEIGHT_TYPES",
    "benjamini_hochberg",
    "classify_gi",
    "gi_star",
    "gi_star_grid",
    "gi_star_lattice_z",
    "gi_star_lsoas",
    "grid_cells",
]

CRS = BNG

#: Classes returned in the ``gi_class`` column, hottest first.
GI_CLASSES: tuple[str, ...] = (
    "hot 99%", "hot 95%", "hot 90%", "not significant", "cold 90%", "cold 95%", "cold 99%",
)

#: Spatial weights understood by :func:`gi_star` and :func:`gi_star_grid`.
WEIGHT_TYPES: tuple[str, ...] = ("queen", "distance")

#: Cell shapes of :func:`grid_cells`.
CELL_SHAPES: tuple[str, ...] = ("square", "hex")

_LEVELS = ((0.01, "99%"), (0.05, "95%"), (0.10, "90%"))


def benjamini_hochberg(p_values) -> np.ndarray:
    """Benjamini-Hochberg false-discovery-rate adjusted p-values.

    Parameters
    ----------
    p_values : array-like of shape (m,)
        p-values in [0, 1].

    Returns
    -------
    numpy.ndarray of shape (m,)
        ``p_adj[(i)] = min_{j >= i} min(1, p_(j) * m / j)`` for the p-values
        sorted ascending (``(i)`` = rank ``i``, 1-based); rejecting where
        ``p_adj <= q`` controls the FDR at level ``q``.
    """
    func = "benjamini_hochberg"
    p = as_float_array(p_values, "p_values", func)
    if np.any((p < 0) | (p > 1)):
        raise ValueError(f"The 'p_values' parameter of {func} must hold values in [0, 1]. "
                         f"Got {int(np.count_nonzero((p < 0) | (p > 1)))} value(s) outside.")
    m = p.size
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def classify_gi(z, p_adjusted) -> np.ndarray:
    """Hot/cold class of each area from its z-score and adjusted two-sided p-value.

    Parameters
    ----------
    z : array-like of shape (m,)
        Gi* z-scores (NaN allowed: "not significant").
    p_adjusted : array-like of shape (m,)
        FDR-adjusted two-sided p-values in [0, 1] (NaN allowed).

    Returns
    -------
    numpy.ndarray of str, shape (m,)
        One of :data:`GI_CLASSES`: "hot 99%" if ``p <= 0.01`` and ``z > 0``,
        "hot 95%" if ``p <= 0.05``, "hot 90%" if ``p <= 0.10``, the same for
        "cold" with ``z < 0``, otherwise "not significant".
    """
    za = as_float_array(z, "z", "classify_gi", finite=False)
    pa = as_float_array(p_adjusted, "p_adjusted", "classify_gi", finite=False)
    if za.size != pa.size:
        raise ValueError("The 'z' and 'p_adjusted' parameters of classify_gi must have the same "
                         f"length. Got {za.size} and {pa.size} instead.")
    out = np.full(za.size, "not significant", dtype=object)
    for level, name in reversed(_LEVELS):
        sig = np.nan_to_num(pa, nan=2.0) <= level
        out[sig & (za > 0)] = f"hot {name}"
        out[sig & (za < 0)] = f"cold {name}"
    return out.astype(str)


def _weights(gdf: gpd.GeoDataFrame, weights: str, distance: float | None, func: str):
    from libpysal.weights import DistanceBand, Queen

    if weights == "queen":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # islands are reported by the caller
            return Queen.from_dataframe(gdf, use_index=False, silence_warnings=True)
    if distance is None:
        raise ValueError(f"The 'distance' parameter of {func} must be a float in the range "
                         "(0, inf) when weights='distance'. Got None instead.")
    pts = np.column_stack([gdf.geometry.centroid.x, gdf.geometry.centroid.y])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return DistanceBand(pts, threshold=distance, binary=True, silence_warnings=True)


def gi_star(areas: gpd.GeoDataFrame, *, column: str = "count", weights: str = "queen",
            distance: float | None = None, permutations: int = 999,
            seed: int | None = 0, w=None,
            inference: str = "permutation") -> gpd.GeoDataFrame:
    """Getis-Ord Gi* of a count (or any non-negative value) per polygon.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Polygons (EPSG:27700 metres) with the value in ``column``.  Not modified.
    column : str, default "count"
        Column holding the value per area (incidents, or summed harm weights).
    weights : {"queen", "distance"}, default "queen"
        Binary spatial weights: Queen contiguity (shared edge or corner), or
        every area whose centroid lies within ``distance`` metres.  The area
        itself is always included (Gi*, ``star=True``).
    distance : float, optional
        Distance band in metres, > 0; required with ``weights="distance"``.
    permutations : int, default 999
        Conditional permutations for ``p_sim``, in [99, 99999].
    seed : int or None, default 0
        Seed of the permutations, so results repeat; None for a fresh draw.
    w : libpysal.weights.W, optional
        Precomputed binary weights (overrides ``weights``).
    inference : {"permutation", "normal"}, default "permutation"
        Where ``p_value`` comes from: the permutation pseudo p-value
        (``p_sim``; its smallest value is ``1 / (permutations + 1)``, so with
        999 permutations and the FDR correction over hundreds of areas only
        the most extreme areas can reach 90 %: use 9999 permutations for
        LSOAs), or the normal approximation of the z-score (``esda``'s
        ``p_norm``; ArcGIS's choice, optimistic for skewed counts).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``areas`` with ``z`` (Gi* z-score under normality),
        ``p_sim`` (one-sided pseudo p-value), ``p_value`` (two-sided,
        ``min(1, 2 p)`` with ``p`` from ``inference``), ``p_fdr`` (Benjamini-Hochberg adjusted
        ``p_value``) and ``gi_class`` (:data:`GI_CLASSES`).  Areas without
        neighbours still get Gi* from their own value.

    Notes
    -----
    Runs ``esda.G_Local(y, w, transform="B", star=True,
    keep_simulations=True)`` and recomputes ``p_sim`` with ties counted as
    extreme.  Memory: ``8 * n * permutations`` bytes for the simulations
    (450 MB for 56,000 cells and 999 permutations).  Without numba the
    permutations cost about ``n * permutations * mean neighbours``
    operations.
    """
    from esda.getisord import G_Local

    func = "gi_star"
    inference = check_option(inference, "inference", func, ("permutation", "normal"))
    check_geoframe(areas, "areas", func, column=column)
    weights = check_option(weights, "weights", func, WEIGHT_TYPES)
    if distance is not None:
        distance = check_float(distance, "distance", func, low=0.0)
    permutations = check_int(permutations, "permutations", func, low=99, high=99_999,
                             high_open=False)
    if seed is not None:
        seed = check_int(seed, "seed", func, low=0)
    y = as_float_array(areas[column], column, func)
    if np.any(y < 0):
        raise ValueError(f"The {column!r} column passed to {func} must be non-negative. "
                         f"Got {int(np.count_nonzero(y < 0))} negative value(s).")
    if len(areas) < 3:
        raise ValueError(f"The 'areas' parameter of {func} must hold at least 3 areas. "
                         f"Got {len(areas)} instead.")
    if w is None:
        w = _weights(areas, weights, distance, func)
    w.transform = "B"
    out = areas.copy()
    if y.sum() == 0 or np.all(y == y[0]):
        out["z"] = 0.0
        out["p_sim"] = 1.0
        out["p_value"] = 1.0
        out["p_fdr"] = 1.0
        out["gi_class"] = "not significant"
        return out
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore")
        g = G_Local(y, w, transform="B", permutations=permutations, star=True,
                    keep_simulations=True, seed=seed)
    z = np.asarray(g.Zs, dtype=float)
    p_sim = _tie_aware_p(np.asarray(g.Gs, dtype=float), np.asarray(g.rGs, dtype=float))
    p_one = p_sim if inference == "permutation" else np.asarray(g.p_norm, dtype=float)
    p_two = np.minimum(1.0, 2.0 * p_one)
    p_fdr = benjamini_hochberg(p_two)
    out["z"] = z
    out["p_sim"] = p_sim
    out["p_value"] = p_two
    out["p_fdr"] = p_fdr
    out["gi_class"] = classify_gi(z, p_fdr)
    return out


def _tie_aware_p(observed: np.ndarray, simulated: np.ndarray) -> np.ndarray:
    """One-sided pseudo p-value in the direction of the observation, ties counted as extreme.

    ``(min(#{sim >= obs}, #{sim <= obs}) + 1) / (permutations + 1)``.  esda's ``p_sim``
    folds ``#{sim >= obs}`` as ``permutations - #{sim >= obs}``, which counts ties as *not*
    extreme: a cell of 0 incidents among neighbours of 0 (the most common case on a grid)
    would have ``p_sim = 0.001`` and be a "cold 99%" spot.  Here such a cell is not
    significant.
    """
    tol = 1e-12 * np.maximum(1.0, np.abs(observed))[:, None]
    larger = (simulated >= observed[:, None] - tol).sum(axis=1)
    smaller = (simulated <= observed[:, None] + tol).sum(axis=1)
    return (np.minimum(larger, smaller) + 1.0) / (simulated.shape[1] + 1.0)


def _incident_xy(incidents: pd.DataFrame, func: str) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(incidents, pd.DataFrame):
        raise TypeError(f"The 'incidents' parameter of {func} must be a DataFrame. "
                        f"Got an object of type {type(incidents).__name__} instead.")
    missing = [c for c in ("x", "y") if c not in incidents.columns]
    if missing:
        raise ValueError(f"The 'incidents' parameter of {func} must have columns 'x' and 'y' "
                         f"(EPSG:27700 metres). Missing: {missing}.")
    return as_coordinates(incidents["x"], incidents["y"], func)


def gi_star_lsoas(incidents: pd.DataFrame, lsoas: gpd.GeoDataFrame, *,
                  weight: str | None = None, permutations: int = 999,
                  seed: int | None = 0, inference: str = "permutation") -> gpd.GeoDataFrame:
    """Gi* of incidents per 2021 LSOA with Queen contiguity weights.

    Parameters
    ----------
    incidents : pandas.DataFrame
        Incidents with ``lsoa21cd`` (and ``weight`` if given).
    lsoas : geopandas.GeoDataFrame
        The study area's LSOAs (EPSG:27700) with ``lsoa21cd``.
    weight : str, optional
        Column of per-incident weights (e.g. harm); counts are then sums.
    permutations : int, default 999
        Conditional permutations.
    seed : int or None, default 0
        Seed of the permutations.
    inference : {"permutation", "normal"}, default "permutation"
        See :func:`gi_star`.

    Returns
    -------
    geopandas.GeoDataFrame
        ``lsoas`` with ``count`` and the columns of :func:`gi_star`.
    """
    func = "gi_star_lsoas"
    if not isinstance(lsoas, gpd.GeoDataFrame) or "lsoa21cd" not in lsoas.columns:
        raise TypeError(f"The 'lsoas' parameter of {func} must be a GeoDataFrame with a "
                        "'lsoa21cd' column.")
    if not isinstance(incidents, pd.DataFrame) or "lsoa21cd" not in incidents.columns:
        raise TypeError(f"The 'incidents' parameter of {func} must be a DataFrame with a "
                        "'lsoa21cd' column.")
    values = (pd.Series(1.0, index=incidents.index) if weight is None
              else incidents[weight].astype(float))
    counts = values.groupby(incidents["lsoa21cd"].astype(object)).sum()
    areas = lsoas.reset_index(drop=True).copy()
    areas["count"] = areas["lsoa21cd"].astype(object).map(counts).fillna(0.0).to_numpy()
    return gi_star(areas, column="count", weights="queen", permutations=permutations, seed=seed,
                   inference=inference)


def grid_cells(study_area: shapely.Geometry, *, cell_size: float,
               shape: str = "square") -> gpd.GeoDataFrame:
    """Square or hexagonal cells covering a study area.

    Parameters
    ----------
    study_area : shapely Polygon or MultiPolygon
        EPSG:27700 metres.
    cell_size : float
        Square: the side, metres.  Hex (pointy-top): the distance between the
        centres of neighbouring cells (= the width across flats), metres.
    shape : {"square", "hex"}, default "square"
        Cell shape.

    Returns
    -------
    geopandas.GeoDataFrame
        ``cell_id`` (0..m-1), ``col``, ``row`` and the polygon, for every
        cell that intersects the study area; CRS EPSG:27700.
    """
    func = "grid_cells"
    cell_size = check_float(cell_size, "cell_size", func, low=0.0)
    shape = check_option(shape, "shape", func, CELL_SHAPES)
    xmin, ymin, xmax, ymax = study_area.bounds
    if shape == "square":
        g = grid_for_extent((xmin, ymin, xmax, ymax), cell_size=cell_size)
        cols, rows = np.meshgrid(np.arange(g.nx), np.arange(g.ny))
        cols, rows = cols.ravel(), rows.ravel()
        x0 = g.x0 + cols * cell_size
        y0 = g.y0 + rows * cell_size
        polys = shapely.box(x0, y0, x0 + cell_size, y0 + cell_size)
    else:
        side = cell_size / math.sqrt(3.0)
        dy = 1.5 * side
        nrow = int(math.ceil((ymax - ymin) / dy)) + 2
        ncol = int(math.ceil((xmax - xmin) / cell_size)) + 2
        cols, rows = np.meshgrid(np.arange(ncol), np.arange(nrow))
        cols, rows = cols.ravel(), rows.ravel()
        cx = xmin - cell_size + cols * cell_size + (rows % 2) * cell_size / 2
        cy = ymin - dy + rows * dy
        angles = np.deg2rad(np.arange(30, 390, 60))
        ring = np.stack([cx[:, None] + side * np.cos(angles)[None, :],
                         cy[:, None] + side * np.sin(angles)[None, :]], axis=-1)
        polys = shapely.polygons(ring)
    prepared = shapely.from_wkb(shapely.to_wkb(study_area))
    shapely.prepare(prepared)
    keep = shapely.intersects(prepared, polys)
    return gpd.GeoDataFrame({"cell_id": np.arange(int(keep.sum())), "col": cols[keep],
                             "row": rows[keep]}, geometry=polys[keep], crs=CRS)


def gi_star_grid(incidents: pd.DataFrame, study_area: shapely.Geometry, *,
                 cell_size: float = 250.0, shape: str = "square", weights: str = "queen",
                 distance: float | None = None, weight: str | None = None,
                 permutations: int = 999, seed: int | None = 0,
                 inference: str = "permutation") -> gpd.GeoDataFrame:
    """Gi* of incidents counted on a regular grid over the study area.

    Parameters
    ----------
    incidents : pandas.DataFrame
        Incidents with ``x``, ``y`` (EPSG:27700 metres); those outside every
        cell are not counted.
    study_area : shapely Polygon or MultiPolygon
        EPSG:27700 metres; cells intersecting it are analysed.
    cell_size : float, default 250.0
        Cell size in metres (see :func:`grid_cells`).
    shape : {"square", "hex"}, default "square"
        Cell shape.
    weights : {"queen", "distance"}, default "queen"
        Queen contiguity (8 neighbours for squares, 6 for hexagons) or a
        distance band of ``distance`` metres between cell centres.
    distance : float, optional
        Distance band, metres; required with ``weights="distance"``.
    weight : str, optional
        Column of per-incident weights (e.g. harm).
    permutations : int, default 999
    seed : int or None, default 0
    inference : {"permutation", "normal"}, default "permutation"
        Conditional permutations, their seed, and where p-values come from: see
        :func:`gi_star`.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per cell: ``cell_id``, ``col``, ``row``, ``count`` and the
        columns of :func:`gi_star`; CRS EPSG:27700.
    """
    func = "gi_star_grid"
    x, y = _incident_xy(incidents, func)
    w_inc = as_weights(None if weight is None else incidents[weight], x.size, func)
    cells = grid_cells(study_area, cell_size=cell_size, shape=shape)
    weights = check_option(weights, "weights", func, WEIGHT_TYPES)
    if len(cells) < 3:
        raise ValueError(f"The study area of {func} holds {len(cells)} cell(s) of "
                         f"{cell_size:g} m; use a smaller 'cell_size'.")
    pts = shapely.points(x, y)
    tree = shapely.STRtree(cells.geometry.to_numpy())
    pi, ci = tree.query(pts, predicate="intersects")
    # A point on a shared edge is counted once, in the first cell found.
    first = np.unique(pi, return_index=True)[1]
    counts = np.bincount(ci[first], weights=w_inc[pi[first]], minlength=len(cells))
    cells["count"] = counts
    w = None
    if weights == "queen":
        w = _lattice_queen(cells, shape)
    return gi_star(cells, column="count", weights=weights, distance=distance,
                   permutations=permutations, seed=seed, w=w, inference=inference)


def _lattice_queen(cells: gpd.GeoDataFrame, shape: str):
    """Queen contiguity of lattice cells from their (col, row) indices (fast, exact)."""
    from libpysal.weights import W

    col = cells["col"].to_numpy()
    row = cells["row"].to_numpy()
    index = {(c, r): k for k, (c, r) in enumerate(zip(col.tolist(), row.tolist()))}
    if shape == "square":
        offsets = [(dc, dr) for dc in (-1, 0, 1) for dr in (-1, 0, 1) if (dc, dr) != (0, 0)]
        offs = lambda r: offsets  # noqa: E731
    else:  # odd rows shifted east by half a cell
        even = [(-1, 0), (1, 0), (-1, -1), (0, -1), (-1, 1), (0, 1)]
        odd = [(-1, 0), (1, 0), (0, -1), (1, -1), (0, 1), (1, 1)]
        offs = lambda r: odd if r % 2 else even  # noqa: E731
    neighbours = {}
    for k, (c, r) in enumerate(zip(col.tolist(), row.tolist())):
        neighbours[k] = [index[(c + dc, r + dr)] for dc, dr in offs(r) if (c + dc, r + dr) in index]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return W(neighbours, silence_warnings=True)


def gi_star_lattice_z(values, mask, *, radius_cells: float) -> np.ndarray:
    """Analytical Gi* z-scores on a raster, with binary distance-band weights (fast).

    Parameters
    ----------
    values : numpy.ndarray of shape (ny, nx)
        Count (or value) per cell.
    mask : numpy.ndarray of bool, shape (ny, nx)
        Cells taking part (the study area); the others are ignored and get NaN.
    radius_cells : float
        Distance band in cells (>= 1): cell ``j`` is a neighbour of ``i`` when
        their centres are at most ``radius_cells`` cell sides apart; ``i`` is
        its own neighbour (Gi*).  ``1.5`` is Queen contiguity.

    Returns
    -------
    numpy.ndarray of float, shape (ny, nx)
        ``z_i = (sum_j w_ij x_j - xbar W_i) / (S sqrt((n W_i - W_i^2) / (n - 1)))``
        with ``n`` masked cells, ``W_i = sum_j w_ij``, ``xbar`` and ``S`` the
        mean and (population) standard deviation of the masked values: the
        ``Zs`` of ``esda.G_Local(..., transform="B", star=True)``.  NaN
        outside the mask or where the variance is 0.
    """
    func = "gi_star_lattice_z"
    radius_cells = check_float(radius_cells, "radius_cells", func, low=1.0, low_open=False)
    x = np.asarray(values, dtype=np.float64)
    m = np.asarray(mask, dtype=bool)
    if x.shape != m.shape or x.ndim != 2:
        raise ValueError(f"The 'values' and 'mask' parameters of {func} must be 2-D arrays of "
                         f"the same shape. Got {x.shape} and {m.shape} instead.")
    return gi_star_kernel_z(x, m, distance_band_kernel(radius_cells))


def distance_band_kernel(radius_cells: float) -> np.ndarray:
    """Binary 2-D kernel of the cells whose centres lie within `radius_cells` cell sides."""
    r = int(math.floor(radius_cells))
    off = np.arange(-r, r + 1)
    return ((off[:, None] ** 2 + off[None, :] ** 2) <= radius_cells**2 + 1e-9).astype(float)


def gi_star_kernel_z(x: np.ndarray, m: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Analytical Gi* z-scores on a regular array of any dimension (cells, or cells x months).

    The binary weights are `kernel` centred on each element (the element itself included);
    the formula is the one of :func:`gi_star_lattice_z`, over the elements where `m` is True.
    NaN outside `m`, or everywhere when fewer than two elements take part or the values do
    not vary.
    """
    n = int(m.sum())
    out = np.full(x.shape, np.nan)
    if n < 2:
        return out
    xm = np.where(m, x, 0.0)
    xbar = xm.sum() / n
    s = math.sqrt(max(0.0, float((xm**2).sum()) / n - xbar**2))
    if s == 0:
        return out
    lag = ndimage.correlate(xm, kernel, mode="constant")
    wsum = ndimage.correlate(m.astype(float), kernel, mode="constant")
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (lag - xbar * wsum) / (s * np.sqrt((n * wsum - wsum**2) / (n - 1)))
    out[m] = z[m]
    return out
