"""Emerging hot spots: space-time Gi*, Mann-Kendall trends and ArcGIS Pro's 17 categories.

A **space-time cube** counts incidents per square cell (500 m by default) and calendar month.
Each bin (cell, month) gets the analytic Getis-Ord Gi* z-score (Getis & Ord 1992) over the
whole cube, with binary weights: the bins of the cells within ``radius_cells`` cell sides of
the cell (1.5: the cell and its 8 Queen neighbours) in the same month and the ``time_window``
months before and after (default 1). Two-sided p-values from the normal distribution are
adjusted with Benjamini & Hochberg (1995) over all bins of the cube; a bin is a significant
hot (cold) spot when its adjusted p-value is below ``alpha`` (0.10, ArcGIS's 90 %) and z > 0
(z < 0). Each cell's series of Gi* z-scores is tested for a monotonic trend with the
Mann-Kendall test (Mann 1945; Kendall 1975). The categories follow ArcGIS Pro's published
rules ("How Emerging Hot Spot Analysis works"); :func:`classify_emerging` has the exact
rules and their order, also written in ``docs/methods.md``.

Months: the cube covers calendar months. A month with no stored data is a *gap*, not a month
with zero incidents, so the cube is the latest uninterrupted run of stored months within the
selection (:func:`cube_months`); with fewer than ``min_months`` (10, as ArcGIS requires) the
analysis says so instead of inventing categories.

References
----------
Getis, A. & Ord, J. K. (1992). The analysis of spatial association by use of distance
statistics. *Geographical Analysis* 24(3), 189-206.

Ord, J. K. & Getis, A. (1995). Local spatial autocorrelation statistics: distributional
issues and an application. *Geographical Analysis* 27(4), 286-306.

Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. *JRSS B* 57(1),
289-300.

Mann, H. B. (1945). Nonparametric tests against trend. *Econometrica* 13(3), 245-259.

Kendall, M. G. (1975). *Rank Correlation Methods*, 4th ed. London: Charles Griffin.

Esri. How Emerging Hot Spot Analysis works. ArcGIS Pro 3 documentation, Space Time Pattern
Mining toolbox.

Usage::

    python -m hotspots.emerging --incidents FILE... [--area CODE] [--crime-group NAME]
        [--cell-size METRES] [--months YYYY-MM..YYYY-MM] [--format table|json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from hotspots._validation import check_float, check_int
from hotspots.getis_ord import benjamini_hochberg, distance_band_kernel, gi_star_kernel_z
from hotspots.grid import Grid, cells_within, grid_for_extent

__all__ = ["EMERGING_CATEGORIES", "MIN_MONTHS", "PATTERNS", "EmergingHotSpots",
           "classify_emerging", "cube_months", "emerging_from_cube", "emerging_hotspots",
           "mann_kendall", "protect_emerging", "space_time_cube", "space_time_gi"]

#: ArcGIS needs at least ten time steps for a trend.
MIN_MONTHS = 10
#: The eight patterns, hot or cold.
PATTERNS: tuple[str, ...] = ("new", "consecutive", "intensifying", "persistent", "diminishing",
                             "sporadic", "oscillating", "historical")
#: Category names; a category raster holds the index into this tuple (0: no pattern,
#: 1-8 the hot patterns in :data:`PATTERNS` order, 9-16 the cold ones).
EMERGING_CATEGORIES: tuple[str, ...] = (
    ("no pattern",) + tuple(f"{p} hot spot" for p in PATTERNS)
    + tuple(f"{p} cold spot" for p in PATTERNS))


# ------------------------------------------------------------------------------ months
def _next_month(month: str) -> str:
    y, m = int(month[:4]), int(month[5:])
    return f"{y + 1:04d}-01" if m == 12 else f"{y:04d}-{m + 1:02d}"


def _calendar(first: str, last: str) -> list[str]:
    out, m = [], first
    while m <= last:
        out.append(m)
        m = _next_month(m)
    return out


def cube_months(selected: Iterable[str], stored: Iterable[str], *,
                min_months: int = MIN_MONTHS) -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """The months of the cube: the latest uninterrupted run of stored months in the selection.

    Parameters
    ----------
    selected : iterable of str
        ``YYYY-MM`` months asked for; the calendar months from the first to the last are
        considered.
    stored : iterable of str
        Months for which the store holds data (of any crime type): a month outside it is a
        gap, not a zero.
    min_months : int, default 10
        Fewest months the analysis accepts.

    Returns
    -------
    months : tuple of str
        The run used (empty when shorter than `min_months`).
    gaps : tuple of str
        Calendar months of the selection without stored data.
    message : str
        Plain-language account of what was used, or why nothing was.
    """
    min_months = check_int(min_months, "min_months", "cube_months", low=2)
    selected = sorted(set(selected))
    have = set(stored)
    if not selected:
        return (), (), "No months selected."
    calendar = _calendar(selected[0], selected[-1])
    gaps = tuple(m for m in calendar if m not in have)
    run: list[str] = []
    for month in reversed(calendar):
        if month in have:
            run.append(month)
        elif run:
            break
    run.reverse()
    gap_text = (f" {_compact(gaps)} {'is' if len(gaps) == 1 else 'are'} not stored: a month "
                f"without data is a gap, not a month with no incidents." if gaps else "")
    if len(run) < min_months:
        latest = f"{run[0]}..{run[-1]} ({len(run)})" if run else "none"
        return (), gaps, (f"Too few contiguous months (need at least {min_months}) for "
                          f"emerging hot spots: the latest uninterrupted run of stored months "
                          f"in {selected[0]}..{selected[-1]} is {latest}.{gap_text}")
    dropped = [m for m in calendar if m < run[0]]
    text = f"Space-time cube of {len(run)} months, {run[0]} to {run[-1]}."
    if dropped:
        text += (f" {_compact(dropped)} {'is' if len(dropped) == 1 else 'are'} left out "
                 f"(before a gap in the stored months).{gap_text}")
    return tuple(run), gaps, text


def _compact(months: Sequence[str]) -> str:
    runs: list[list[str]] = []
    for month in sorted(months):
        if runs and _next_month(runs[-1][-1]) == month:
            runs[-1].append(month)
        else:
            runs.append([month])
    return ", ".join(r[0] if len(r) == 1 else f"{r[0]}..{r[-1]}" for r in runs)


# ------------------------------------------------------------------------------ statistics
def mann_kendall(series) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mann-Kendall trend test of each row, with the tie correction and continuity correction.

    Parameters
    ----------
    series : array-like of shape (T,) or (m, T)
        One series per row, in time order (finite values; ``T >= 2``).

    Returns
    -------
    s, var_s, z, p : numpy.ndarray of shape (m,) (scalars' shape () for one series)
        ``S = sum_{i<j} sign(x_j - x_i)``;
        ``Var(S) = [T(T-1)(2T+5) - sum_k t_k(t_k-1)(2t_k+5)] / 18`` with ``t_k`` the sizes
        of the groups of tied values; ``z = (S - 1)/sqrt(Var)`` if ``S > 0``,
        ``(S + 1)/sqrt(Var)`` if ``S < 0``, else 0; the two-sided ``p = 2 (1 - Phi(|z|))``
        (1 when ``Var(S) = 0``). Values equal to 1e-9 relative precision are ties.

    References
    ----------
    Mann, H. B. (1945). *Econometrica* 13(3), 245-259. Kendall, M. G. (1975). *Rank
    Correlation Methods*, 4th ed., ch. 4. Hipel, K. W. & McLeod, A. I. (1994). *Time Series
    Modelling of Water Resources and Environmental Systems*, section 23.3 (ties).
    """
    x = np.asarray(series, dtype=np.float64)
    single = x.ndim == 1
    if single:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] < 2:
        raise ValueError(f"The 'series' parameter of mann_kendall must be a 1-D or 2-D array "
                         f"with at least 2 time steps. Got shape {np.shape(series)} instead.")
    if not np.all(np.isfinite(x)):
        raise ValueError("The 'series' parameter of mann_kendall must contain only finite "
                         "numbers.")
    t = x.shape[1]
    scale = np.maximum(np.abs(x).max(axis=1, keepdims=True), 1e-300)
    r = np.round(x / scale, 9)  # ties up to rounding noise
    i, j = np.triu_indices(t, k=1)
    s = np.sign(r[:, j] - r[:, i]).sum(axis=1)
    equal = (r[:, :, None] == r[:, None, :]).sum(axis=2)  # size of each value's tie group
    ties = ((equal - 1) * (2 * equal + 5)).sum(axis=1)  # = sum_k t_k(t_k-1)(2t_k+5)
    var = (t * (t - 1) * (2 * t + 5) - ties) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, (s - np.sign(s)) / np.sqrt(var), 0.0)
    p = np.where(var > 0, special.erfc(np.abs(z) / math.sqrt(2.0)), 1.0)
    out = (s.astype(np.float64), var, z, p)
    return tuple(o[0] for o in out) if single else out


def _cube_and_mask(cube, mask, func: str) -> tuple[np.ndarray, np.ndarray]:
    """The cube as floats (T, ny, nx) and the mask as bools (ny, nx), checked."""
    x = np.asarray(cube, dtype=np.float64)
    m = np.asarray(mask, dtype=bool)
    if x.ndim != 3 or x.shape[1:] != m.shape:
        raise ValueError(f"The 'cube' of {func} must have shape (T, ny, nx) and the 'mask' "
                         f"(ny, nx). Got {x.shape} and {m.shape} instead.")
    return x, m


def space_time_gi(cube, mask, *, radius_cells: float = 1.5,
                  time_window: int = 1) -> np.ndarray:
    """Analytic Gi* z-score of every bin of a space-time cube.

    Parameters
    ----------
    cube : array-like of shape (T, ny, nx)
        Count (or value) per month and cell.
    mask : array-like of bool, shape (ny, nx)
        Cells of the study area; the others take no part and get NaN.
    radius_cells : float, default 1.5
        Spatial distance band in cell sides (>= 1); 1.5 is the cell and its 8 Queen
        neighbours.
    time_window : int, default 1
        Months before and after that are neighbours too (>= 0).

    Returns
    -------
    numpy.ndarray of shape (T, ny, nx)
        ``z_i = (sum_j w_ij x_j - xbar W_i) / (S sqrt((n W_i - W_i^2) / (n - 1)))`` with
        binary ``w_ij`` (the bin itself included), ``W_i = sum_j w_ij``, ``n`` the bins of the
        cube in the mask, ``xbar`` and ``S`` their mean and population standard deviation
        (Getis & Ord 1992; the ``Zs`` of ``esda.G_Local(star=True, transform="B")`` on the
        cube's bins). All NaN when the cube is constant.
    """
    func = "space_time_gi"
    x, m2 = _cube_and_mask(cube, mask, func)
    radius_cells = check_float(radius_cells, "radius_cells", func, low=1.0, low_open=False)
    time_window = check_int(time_window, "time_window", func, low=0)
    disc = distance_band_kernel(radius_cells)
    kernel = np.repeat(disc[None, :, :], 2 * time_window + 1, axis=0)
    return gi_star_kernel_z(x, np.broadcast_to(m2, x.shape), kernel)


def classify_emerging(hot, cold, trend_z, trend_p, *, trend_alpha: float = 0.05,
                      threshold: float = 0.9) -> np.ndarray:
    """Category of each cell from its significant hot/cold months and its trend.

    Parameters
    ----------
    hot, cold : array-like of bool, shape (m, T)
        Whether each month (in time order) is a significant hot / cold spot.
    trend_z, trend_p : array-like of shape (m,)
        Mann-Kendall z and two-sided p of the cell's Gi* z-scores.
    trend_alpha : float, default 0.05
        A trend is significant when ``trend_p < trend_alpha``.
    threshold : float, default 0.9
        "At least 90 % of the time steps": ``n_hot >= ceil(threshold * T)``.

    Returns
    -------
    numpy.ndarray of int8, shape (m,)
        Index into :data:`EMERGING_CATEGORIES`. The rules, for hot spots (cold spots mirror
        them, exchanging hot and cold and the sign of the trend), with ``T`` months, ``h`` the
        hot months, "most" = ``h >= ceil(0.9 T)``, "final" = the last month is hot:

        1. final and most: **intensifying** if the trend is significant and z > 0,
           **diminishing** if significant and z < 0, else **persistent**;
        2. most but not final: **historical**;
        3. final, not most: **new** if h = 1 (never hot before); else **consecutive** if the
           hot months are one uninterrupted run at the end of length >= 2; else
           **oscillating** if some earlier month was a significant cold spot; else
           **sporadic**;
        4. not final, not most, h >= 1 and never cold: **sporadic**;
        5. otherwise **no pattern**.

        The side of the final month decides first (a cell hot in the final month is judged
        as a hot spot); when the final month is neither, historical hot/cold, then sporadic
        hot/cold are tried.
    """
    func = "classify_emerging"
    h = np.asarray(hot, dtype=bool)
    c = np.asarray(cold, dtype=bool)
    if h.ndim != 2 or h.shape != c.shape:
        raise ValueError(f"The 'hot' and 'cold' parameters of {func} must be 2-D arrays of "
                         f"one shape (cells, months). Got {h.shape} and {c.shape} instead.")
    if np.any(h & c):
        raise ValueError(f"The 'hot' and 'cold' parameters of {func} must not both be True "
                         f"for a bin.")
    tz = np.asarray(trend_z, dtype=np.float64)
    tp = np.asarray(trend_p, dtype=np.float64)
    trend_alpha = check_float(trend_alpha, "trend_alpha", func, low=0.0, high=1.0)
    threshold = check_float(threshold, "threshold", func, low=0.0, high=1.0,
                            high_open=False)
    n_cells, t = h.shape
    need = math.ceil(threshold * t - 1e-9)
    out = np.zeros(n_cells, dtype=np.int8)
    significant = tp < trend_alpha

    def side(a, b, sign):
        """Category codes for one side (a: this side's flags, b: the other side's)."""
        offset = 0 if sign > 0 else len(PATTERNS)
        code = {p: offset + k + 1 for k, p in enumerate(PATTERNS)}
        n_a = a.sum(axis=1)
        n_b = b.sum(axis=1)
        final = a[:, -1]
        most = n_a >= need
        # length of the run of this side's months at the end
        not_a = ~a[:, ::-1]
        run = np.where(not_a.any(axis=1), not_a.argmax(axis=1), t)
        res = np.zeros(n_cells, dtype=np.int8)
        up = significant & (tz * sign > 0)
        down = significant & (tz * sign < 0)
        res[final & most] = code["persistent"]
        res[final & most & up] = code["intensifying"]
        res[final & most & down] = code["diminishing"]
        res[~final & most] = code["historical"]
        f = final & ~most
        res[f & (n_b == 0)] = code["sporadic"]
        res[f & (n_b > 0)] = code["oscillating"]
        res[f & (run >= 2) & (run == n_a)] = code["consecutive"]
        res[f & (n_a == 1)] = code["new"]
        res[~final & ~most & (n_a >= 1) & (n_b == 0)] = code["sporadic"]
        return res, final, most

    hot_code, hot_final, hot_most = side(h, c, +1)
    cold_code, cold_final, cold_most = side(c, h, -1)
    out[hot_final] = hot_code[hot_final]
    out[cold_final] = cold_code[cold_final]
    neither = ~hot_final & ~cold_final
    out[neither & hot_most] = hot_code[neither & hot_most]
    out[neither & cold_most] = cold_code[neither & cold_most]
    rest = neither & ~hot_most & ~cold_most
    out[rest] = np.where(hot_code[rest] > 0, hot_code[rest], cold_code[rest])
    return out


# ------------------------------------------------------------------------------ the analysis
@dataclass(frozen=True)
class EmergingHotSpots:
    """Emerging hot spot analysis of a space-time cube (or why it could not be run).

    Parameters
    ----------
    enough : bool
        False when the cube has fewer than ``min_months`` months (nothing else is filled).
    message : str
        What was analysed, or why nothing was.
    months : tuple of str
        Months of the cube, in order.
    grid : Grid or None
        The cells (EPSG:27700); ``None`` when not `enough`.
    mask : numpy.ndarray of bool, shape (ny, nx)
        Cells of the study area.
    counts : numpy.ndarray of float, shape (T, ny, nx)
        The cube.
    z, p_fdr : numpy.ndarray of float, shape (T, ny, nx)
        Gi* z-score and FDR-adjusted two-sided p-value per bin (NaN outside the mask).
    category : numpy.ndarray of int8, shape (ny, nx)
        Index into :data:`EMERGING_CATEGORIES` (0 outside the mask).
    trend_z, trend_p : numpy.ndarray of float, shape (ny, nx)
        Mann-Kendall z and p of each cell's Gi* z-scores (NaN outside the mask).
    hot_months, cold_months : numpy.ndarray of int, shape (ny, nx)
        Significant hot / cold months of each cell.
    params : dict
        The parameters used (cell size, neighbourhood, alphas).
    """

    enough: bool
    message: str
    months: tuple[str, ...]
    grid: Grid | None = None
    mask: np.ndarray | None = None
    counts: np.ndarray | None = None
    z: np.ndarray | None = None
    p_fdr: np.ndarray | None = None
    category: np.ndarray | None = None
    trend_z: np.ndarray | None = None
    trend_p: np.ndarray | None = None
    hot_months: np.ndarray | None = None
    cold_months: np.ndarray | None = None
    params: dict | None = None

    def category_counts(self) -> dict[str, int]:
        """Cells of the study area in each category (all 17, zeros included)."""
        if not self.enough:
            return {}
        n = np.bincount(self.category[self.mask], minlength=len(EMERGING_CATEGORIES))
        return {name: int(k) for name, k in zip(EMERGING_CATEGORIES, n)}

    def cells(self, *, include_no_pattern: bool = False) -> pd.DataFrame:
        """One row per cell with a pattern (or every cell of the area).

        Columns: ``x``, ``y`` (cell centre, EPSG:27700), ``category``, ``trend_z``,
        ``trend_p``, ``hot_months``, ``cold_months``, ``months`` (of the cube),
        ``incidents`` (over the cube), ``col``, ``row``.
        """
        columns = ["x", "y", "category", "trend_z", "trend_p", "hot_months", "cold_months",
                   "months", "incidents", "col", "row"]
        if not self.enough:
            return pd.DataFrame(columns=columns)
        keep = self.mask & ((self.category > 0) | include_no_pattern)
        rows, cols = np.nonzero(keep)
        xs, ys = self.grid.cell_centres()
        frame = pd.DataFrame({
            "x": xs[cols], "y": ys[rows],
            "category": np.asarray(EMERGING_CATEGORIES, dtype=object)[self.category[rows, cols]],
            "trend_z": self.trend_z[rows, cols], "trend_p": self.trend_p[rows, cols],
            "hot_months": self.hot_months[rows, cols].astype(int),
            "cold_months": self.cold_months[rows, cols].astype(int),
            "months": len(self.months),
            "incidents": self.counts[:, rows, cols].sum(axis=0),
            "col": cols, "row": rows})
        order = np.argsort(self.category[rows, cols], kind="stable")
        return frame.iloc[order].reset_index(drop=True)


def emerging_from_cube(cube, mask, *, months: Sequence[str], grid: Grid | None = None,
                       radius_cells: float = 1.5, time_window: int = 1, alpha: float = 0.10,
                       trend_alpha: float = 0.05, min_months: int = MIN_MONTHS,
                       ) -> EmergingHotSpots:
    """Emerging hot spot analysis of a given cube (counts per month and cell).

    Parameters
    ----------
    cube : array-like of shape (T, ny, nx)
        Counts (or weights) per month (in time order) and cell.
    mask : array-like of bool, shape (ny, nx)
        Cells of the study area.
    months : sequence of str
        The T months, for the result.
    grid : Grid, optional
        The cells' grid (EPSG:27700), for cell centres; default a grid of 1 m cells at 0, 0.
    radius_cells, time_window : float, int
        Neighbourhood (:func:`space_time_gi`).
    alpha : float, default 0.10
        A bin is significant when its FDR-adjusted p-value is below `alpha`.
    trend_alpha : float, default 0.05
        Mann-Kendall significance for intensifying / diminishing.
    min_months : int, default 10
        Fewer months give ``enough=False``.

    Returns
    -------
    EmergingHotSpots
    """
    func = "emerging_from_cube"
    x, m = _cube_and_mask(cube, mask, func)
    months = tuple(months)
    if len(months) != x.shape[0]:
        raise ValueError(f"The 'months' parameter of {func} must name the {x.shape[0]} months "
                         f"of the cube. Got {len(months)} instead.")
    alpha = check_float(alpha, "alpha", func, low=0.0, high=1.0)
    min_months = check_int(min_months, "min_months", func, low=2)
    params = {"cell_size_m": None if grid is None else grid.cell_size,
              "radius_cells": radius_cells, "time_window": time_window, "alpha": alpha,
              "trend_alpha": trend_alpha, "min_months": min_months}
    if len(months) < min_months:
        return EmergingHotSpots(False, f"Too few contiguous months (need at least "
                                       f"{min_months}) for emerging hot spots: the cube has "
                                       f"{len(months)}.", months, params=params)
    if grid is None:
        grid = Grid(x0=0.0, y0=0.0, cell_size=1.0, nx=m.shape[1], ny=m.shape[0])
    z = space_time_gi(x, m, radius_cells=radius_cells, time_window=time_window)
    if not m.any() or not np.isfinite(z[:, m]).any():
        return EmergingHotSpots(False, "No variation in the cube (no incidents, or the same "
                                       "count in every bin): nothing to test.", months,
                                params=params)
    zs = z[:, m].T  # (cells, T)
    p = special.erfc(np.abs(zs) / math.sqrt(2.0))
    p_adj = benjamini_hochberg(p.ravel()).reshape(p.shape)
    hot = (p_adj < alpha) & (zs > 0)
    cold = (p_adj < alpha) & (zs < 0)
    _, _, tz, tp = mann_kendall(zs)
    codes = classify_emerging(hot, cold, tz, tp, trend_alpha=trend_alpha)

    def raster(values, fill, dtype):
        out = np.full(m.shape, fill, dtype=dtype)
        out[m] = values
        return out

    p_cube = np.full(x.shape, np.nan)
    p_cube[:, m] = p_adj.T
    counts = {name: int(k) for name, k in zip(
        EMERGING_CATEGORIES, np.bincount(codes, minlength=len(EMERGING_CATEGORIES)))}
    found = ", ".join(f"{k} {name}" for name, k in counts.items()
                      if k and name != "no pattern") or "no cell with a pattern"
    return EmergingHotSpots(
        True, f"Space-time cube of {len(months)} months, {months[0]} to {months[-1]}: "
              f"{found}.", months, grid=grid, mask=m, counts=x, z=z, p_fdr=p_cube,
        category=raster(codes, 0, np.int8), trend_z=raster(tz, np.nan, np.float64),
        trend_p=raster(tp, np.nan, np.float64), hot_months=raster(hot.sum(axis=1), 0, np.int32),
        cold_months=raster(cold.sum(axis=1), 0, np.int32), params=params)


def space_time_cube(incidents: pd.DataFrame, study_area, months: Sequence[str], *,
                    cell_size: float = 500.0,
                    weight: str | None = None) -> tuple[Grid, np.ndarray, np.ndarray]:
    """Count incidents per square cell and month.

    Parameters
    ----------
    incidents : pandas.DataFrame
        ``x``, ``y`` (EPSG:27700 metres) and ``month`` (``YYYY-MM``); incidents of other
        months are ignored.
    study_area : shapely Polygon or MultiPolygon
        EPSG:27700; the cells whose centre lies inside, plus any cell holding an incident,
        form the mask.
    months : sequence of str
        Months of the cube, in order.
    cell_size : float, default 500.0
        Cell side, metres.
    weight : str, optional
        Column of per-incident weights (harm); default counts.

    Returns
    -------
    grid : Grid
    mask : numpy.ndarray of bool, shape (ny, nx)
    cube : numpy.ndarray of float, shape (T, ny, nx)
    """
    func = "space_time_cube"
    cell_size = check_float(cell_size, "cell_size", func, low=0.0)
    months = list(months)
    keep = incidents["month"].astype(str).isin(months).to_numpy()
    x = incidents["x"].to_numpy(dtype=np.float64)[keep]
    y = incidents["y"].to_numpy(dtype=np.float64)[keep]
    t = pd.Index(months).get_indexer(incidents["month"].astype(str)[keep])
    w = None if weight is None else incidents[weight].to_numpy(dtype=np.float64)[keep]
    xmin, ymin, xmax, ymax = study_area.bounds
    if x.size:
        xmin, ymin = min(xmin, x.min()), min(ymin, y.min())
        xmax, ymax = max(xmax, x.max()), max(ymax, y.max())
    grid = grid_for_extent((xmin, ymin, xmax, ymax), cell_size=cell_size)
    mask = cells_within(grid, study_area)
    cols = np.clip(np.floor((x - grid.x0) / cell_size).astype(np.int64), 0, grid.nx - 1)
    rows = np.clip(np.floor((y - grid.y0) / cell_size).astype(np.int64), 0, grid.ny - 1)
    mask[rows, cols] = True
    cube = np.zeros((len(months),) + grid.shape)
    np.add.at(cube, (t, rows, cols), 1.0 if w is None else w)
    return grid, mask, cube


def emerging_hotspots(incidents: pd.DataFrame, study_area, *, months: Iterable[str],
                      stored_months: Iterable[str] | None = None, cell_size: float = 500.0,
                      radius_cells: float = 1.5, time_window: int = 1, alpha: float = 0.10,
                      trend_alpha: float = 0.05, min_months: int = MIN_MONTHS,
                      weight: str | None = None) -> EmergingHotSpots:
    """Emerging hot spot analysis of selected incidents.

    Parameters
    ----------
    incidents : pandas.DataFrame
        The selection: ``x``, ``y`` (EPSG:27700) and ``month``.
    study_area : shapely Polygon or MultiPolygon
        EPSG:27700.
    months : iterable of str
        Months asked for; the cube is the latest uninterrupted run of stored months within
        their calendar span (:func:`cube_months`).
    stored_months : iterable of str, optional
        Months with data in the store (any crime type); default the months of `months`.
    cell_size : float, default 500.0
        Cell side, metres.
    radius_cells, time_window, alpha, trend_alpha, min_months
        See :func:`emerging_from_cube`.
    weight : str, optional
        Column of per-incident weights.

    Returns
    -------
    EmergingHotSpots
        With ``enough=False`` and a message such as "Too few contiguous months (need at
        least 10) ..." when the run is too short.
    """
    months = list(months)
    stored = months if stored_months is None else list(stored_months)
    run, _, message = cube_months(months, stored, min_months=min_months)
    if not run:
        return EmergingHotSpots(False, message, (), params={
            "cell_size_m": cell_size, "radius_cells": radius_cells,
            "time_window": time_window, "alpha": alpha, "trend_alpha": trend_alpha,
            "min_months": min_months})
    grid, mask, cube = space_time_cube(incidents, study_area, run, cell_size=cell_size,
                                       weight=weight)
    result = emerging_from_cube(cube, mask, months=run, grid=grid, radius_cells=radius_cells,
                                time_window=time_window, alpha=alpha, trend_alpha=trend_alpha,
                                min_months=min_months)
    extra = message.split(".", 1)[1].strip()
    if result.enough and extra:  # months left out before a gap
        result = dataclasses.replace(result, message=f"{result.message} {extra}")
    return result


def protect_emerging(result: EmergingHotSpots, x, y, *, threshold: int,
                     support_radius_m: float) -> EmergingHotSpots:
    """The result as an aggregate-only audience may receive it (disclosure control).

    A cell keeps its category only when it holds at least `threshold` incidents over the cube
    and at least `threshold` of the cube's incidents (``x``, ``y``, EPSG:27700) lie within
    `support_radius_m` of its centre (:func:`hotspots.disclosure.support_mask`); the others
    become "no pattern". The z-scores, p-values, trends and counts are removed (a Gi* z with
    known weights would let counts be solved for); categories only remain.
    """
    from hotspots.disclosure import support_mask

    if not result.enough:
        return result
    support = support_mask(np.asarray(x, float), np.asarray(y, float), result.grid,
                           radius_m=support_radius_m, threshold=threshold)
    keep = support & (result.counts.sum(axis=0) >= threshold) & result.mask
    category = np.where(keep, result.category, 0).astype(np.int8)
    blank = np.full(result.mask.shape, np.nan)
    zeros = np.zeros(result.mask.shape, dtype=np.int32)
    counts = {name: int(k) for name, k in zip(
        EMERGING_CATEGORIES, np.bincount(category[result.mask],
                                         minlength=len(EMERGING_CATEGORIES)))}
    found = ", ".join(f"{k} {name}" for name, k in counts.items()
                      if k and name != "no pattern") or "no cell with a pattern shown"
    return dataclasses.replace(
        result, category=category, counts=np.zeros_like(result.counts), z=None, p_fdr=None,
        trend_z=blank, trend_p=blank, hot_months=zeros, cold_months=zeros,
        message=f"Space-time cube of {len(result.months)} months, {result.months[0]} to "
                f"{result.months[-1]}: {found} (cells with at least {threshold} incidents "
                f"within {support_radius_m:g} m of their centre only).")


# ------------------------------------------------------------------------------ command line
def _parser() -> argparse.ArgumentParser:
    from hotspots._cli import add_area_and_group, incident_parser

    p = incident_parser("python -m hotspots.emerging",
                        "Emerging hot spots: space-time Gi* per cell and month, Mann-Kendall "
                        "trend, ArcGIS Pro's categories.")
    add_area_and_group(p)
    p.add_argument("--cell-size", type=float, default=500.0, help="cell side, metres (500)")
    p.add_argument("--months", default=None,
                   help="months, YYYY-MM..YYYY-MM (default: every month in the files)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    return p


def run(argv: Sequence[str] | None = None) -> EmergingHotSpots:
    """Parse arguments, load the files and run the analysis (exits 2 on bad input)."""
    from hotspots._cli import checked_area_and_group, load_incident_files
    from hotspots.evaluate import month_range
    from hotspots.pipeline import select_incidents, study_area

    parser = _parser()
    args = parser.parse_args(argv)
    if not (math.isfinite(args.cell_size) and args.cell_size >= 50):
        parser.error(f"--cell-size must be at least 50 metres, got {args.cell_size}.")
    _, group = checked_area_and_group(parser, args.area, args.crime_group)
    incidents, lsoas = load_incident_files(parser, args.incidents)
    stored = sorted(set(incidents["month"].astype(str)))
    if not stored:
        parser.error("The files hold no incidents.")
    try:
        months = month_range(args.months) if args.months else stored
    except ValueError as error:
        parser.error(str(error))
    selection = select_incidents(incidents, area_code=args.area, months=months,
                                 crime_types=group.types)
    return emerging_hotspots(selection, study_area(lsoas, args.area), months=months,
                             stored_months=stored, cell_size=args.cell_size)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m hotspots.emerging``; returns the exit status.

    Exit 0 with the cells (or, when the cube is too short, an empty list and the reason on
    stderr), 2 for bad arguments.
    """
    args = _parser().parse_args(argv)
    result = run(argv)
    cells = result.cells()
    if args.format == "json":
        if not result.enough:
            print(result.message, file=sys.stderr)
        records = [{"x": float(r.x), "y": float(r.y), "category": r.category,
                    "trend_z": round(float(r.trend_z), 4), "trend_p": round(float(r.trend_p), 6),
                    "hot_months": int(r.hot_months), "cold_months": int(r.cold_months),
                    "months": int(r.months), "incidents": float(r.incidents)}
                   for r in cells.itertuples(index=False)]
        print(json.dumps(records, indent=1))
        return 0
    print(result.message)
    if result.enough:
        counts = {k: v for k, v in result.category_counts().items() if v}
        print("\n".join(f"  {name}: {n} cell(s)" for name, n in counts.items()))
        if len(cells):
            with pd.option_context("display.width", 200, "display.max_rows", 10_000):
                print(cells.drop(columns=["col", "row"]).to_string(
                    index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
