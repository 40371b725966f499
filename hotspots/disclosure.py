"""Statistical disclosure control for aggregate-only audiences (partner and public roles).

What these roles receive must not locate an incident nor let a count below the threshold be
derived. The rules (:class:`DisclosureRule`, settings ``disclosure_*``; the reasoning is in
``docs/methods.md``, "Disclosure control"):

Counts and the figures made from them
    Counts below the threshold (default 5) are shown as ``"<5"``; every other count is
    rounded to a multiple of the rounding base (default 5), and rates, shares and changes
    are computed from the *rounded* counts, so no figure carries more than a rounded count
    does (a rate times the residents gives back a multiple of 5, a total minus its shown
    parts or two overlapping views differ by a multiple of 5, never by 1-4). Crime mixes
    list rounded counts, never percentages.
Smoothed surfaces (density, risk, change)
    A floor on the bandwidth and the cell size; incidents with fewer than `threshold`
    incidents (themselves included) within `radius_m` are left out of the surface (primary
    suppression: an isolated incident contributes nothing); cells are drawn only where at
    least `threshold` of the remaining incidents lie within `support_radius_m` of the cell
    centre. A drawn cell is then within `support_radius_m` of an incident that has company,
    so it is at least ``radius_m - support_radius_m`` (300 m) from any incident that has
    none: no peak of the image can sit on an isolated incident.
Outlines (hotspots, clusters, predicted cells)
    Areas holding fewer than `threshold` incidents are not drawn; outlines are generalised
    to a `generalise_m` grid; cluster outlines are buffered by half the radius.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pandas as pd

from hotspots._validation import check_float, check_int


@dataclass(frozen=True)
class DisclosureRule:
    """The disclosure control applied to what partner and public roles receive.

    Parameters
    ----------
    threshold : int, default 5
        Counts below it are shown as ``"<threshold>"``; areas and surface cells need at least
        this many incidents.
    rounding : int, default 5
        Counts at or above the threshold are rounded to a multiple of this (1: no rounding).
    radius_m : float, default 500
        Incidents with fewer than `threshold` incidents (themselves included) within this
        distance, metres, are left out of smoothed surfaces.
    min_bandwidth_m : float, default 300
        Smallest kernel bandwidth (standard deviation), metres, these roles can ask for.
    min_cell_m : float, default 100
        Smallest grid cell side, metres, these roles can ask for.
    support_radius_m : float, default 200
        A surface cell is drawn only where at least `threshold` incidents lie within this
        distance of its centre, metres; less than `radius_m`.
    generalise_m : float, default 50
        Outline vertices are snapped to a grid of this size, metres (EPSG:27700).
    """

    threshold: int = 5
    rounding: int = 5
    radius_m: float = 500.0
    min_bandwidth_m: float = 300.0
    min_cell_m: float = 100.0
    support_radius_m: float = 200.0
    generalise_m: float = 50.0

    def __post_init__(self):
        for name in ("threshold", "rounding"):
            check_int(getattr(self, name), name, "DisclosureRule", low=1)
        for name in ("radius_m", "min_bandwidth_m", "min_cell_m", "support_radius_m",
                     "generalise_m"):  # metres
            check_float(getattr(self, name), name, "DisclosureRule", low=0.0)
        if self.support_radius_m >= self.radius_m:
            raise ValueError(f"The 'support_radius_m' of a DisclosureRule must be less than "
                             f"its 'radius_m' ({self.radius_m:g} m), or a drawn cell could sit "
                             f"near an isolated incident. Got {self.support_radius_m!r}.")

    def bandwidth(self, requested: float) -> float:
        """The bandwidth used for a requested one: at least :attr:`min_bandwidth_m`."""
        return max(float(requested), float(self.min_bandwidth_m))

    def cell_size(self, requested: float) -> float:
        """The cell size used for a requested one: at least :attr:`min_cell_m`."""
        return max(float(requested), float(self.min_cell_m))


# -- counts ------------------------------------------------------------------------------------

def rounded_count(value, rule: DisclosureRule) -> float:
    """The count as these roles may know it: NaN below the threshold (or missing), 0 for 0,
    else rounded half up to a multiple of ``rule.rounding`` (never below the threshold)."""
    if value is None or pd.isna(value):
        return float("nan")
    value = float(value)
    if value == 0:
        return 0.0
    if value < rule.threshold:
        return float("nan")
    base = rule.rounding
    rounded = math.floor(value / base + 0.5) * base
    return float(max(rounded, math.ceil(rule.threshold / base) * base))


def rounded_counts(values, rule: DisclosureRule) -> np.ndarray:
    """:func:`rounded_count` of each value (a float array, NaN where suppressed)."""
    return np.array([rounded_count(v, rule) for v in np.asarray(values, dtype=float)],
                    dtype=float)


def shown_count(value, rule: DisclosureRule) -> str:
    """``"<5"`` below the threshold, else the rounded count with thousands separators."""
    if value is None or pd.isna(value):
        return ""
    rounded = rounded_count(value, rule)
    return f"<{rule.threshold}" if math.isnan(rounded) else f"{int(rounded):,}"


def protect_table(frame: pd.DataFrame, rule: DisclosureRule, *, counts: Iterable[str],
                  rates: dict[str, str] | None = None, text: bool = True) -> pd.DataFrame:
    """A copy of `frame` safe to show an aggregate-only audience.

    Parameters
    ----------
    frame : pandas.DataFrame
    rule : DisclosureRule
    counts : iterable of str
        Count columns: rounded (and suppressed below the threshold).
    rates : dict, optional
        ``{rate column: count column it is proportional to}``. Each rate is rescaled to the
        rounded count (``rate * rounded / exact``), so it carries no more than the rounded
        count; withheld (NaN) where the count is suppressed.
    text : bool, default True
        Counts become text (``"<5"``, ``"1,235"``); with False they stay numbers (NaN where
        suppressed), e.g. for charts.

    Returns
    -------
    pandas.DataFrame
    """
    counts = list(counts)
    rates = dict(rates or {})
    missing = [c for c in [*counts, *rates, *rates.values()] if c not in frame.columns]
    if missing:
        raise ValueError(f"protect_table: columns {missing} are not in the frame; it has "
                         f"{list(frame.columns)}.")
    result = frame.copy()
    exact = {c: pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float)
             for c in set(counts) | set(rates.values())}
    rounded = {c: rounded_counts(values, rule) for c, values in exact.items()}
    for column, basis in rates.items():
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(exact[basis] > 0, rounded[basis] / exact[basis],
                             np.where(exact[basis] == 0, 1.0, np.nan))
        result[column] = pd.to_numeric(frame[column], errors="coerce").to_numpy(float) * scale
    for column in counts:
        result[column] = ([shown_count(v, rule) for v in exact[column]] if text
                          else rounded[column])
    return result


def mix_text(crime_types: Iterable[str], rule: DisclosureRule, *, top: int = 3) -> str:
    """The crime mix of an area as rounded counts, never shares.

    Types with at least the threshold are listed (up to `top`, largest first) with rounded
    counts; the rest are one "other types" figure (rounded, or ``"<5"``), so neither a share
    nor a total minus the shown parts gives a small count of one type.
    """
    counts = pd.Series(list(crime_types), dtype=object).value_counts()
    counts = counts.iloc[np.lexsort((counts.index.astype(str), -counts.to_numpy()))]
    listed = counts[counts >= rule.threshold].iloc[:top]
    rest = int(counts.sum() - listed.sum())
    parts = [f"{name} {shown_count(n, rule)}" for name, n in listed.items()]
    if rest:
        parts.append(f"other types {shown_count(rest, rule)}")
    return ", ".join(parts)


# -- surfaces ----------------------------------------------------------------------------------

def surface_incidents(x, y, rule: DisclosureRule) -> np.ndarray:
    """Which incidents may contribute to a smoothed surface (primary suppression).

    An incident is kept when at least ``rule.threshold`` incidents, itself included, lie
    within ``rule.radius_m`` of it. police.uk snaps incidents to shared map points, so the
    search runs on unique locations weighted by their incidents: exact, and fast.

    Parameters
    ----------
    x, y : array-like of shape (n,)
        Eastings and northings, metres (EPSG:27700).
    rule : DisclosureRule

    Returns
    -------
    numpy.ndarray of bool, shape (n,)
    """
    from scipy.spatial import cKDTree

    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    if xa.shape != ya.shape or xa.ndim != 1:
        raise ValueError(f"surface_incidents: x and y must be 1-D arrays of one length. Got "
                         f"shapes {xa.shape} and {ya.shape}.")
    if xa.size == 0:
        return np.zeros(0, dtype=bool)
    locations, inverse, multiplicity = np.unique(np.column_stack([xa, ya]), axis=0,
                                                 return_inverse=True, return_counts=True)
    k = min(rule.threshold, len(locations))
    distances, neighbours = cKDTree(locations).query(locations, k=k,
                                                     distance_upper_bound=rule.radius_m)
    distances = distances.reshape(len(locations), k)
    neighbours = neighbours.reshape(len(locations), k)
    found = np.isfinite(distances)
    weights = np.where(found, multiplicity[np.where(found, neighbours, 0)], 0)
    kept_locations = weights.sum(axis=1) >= rule.threshold
    return kept_locations[inverse.ravel()]


def support_mask(x, y, grid, *, radius_m: float, threshold: int) -> np.ndarray:
    """Cells with at least `threshold` incidents within `radius_m` of their centre (exact).

    Candidate cells are found by binning and a disc convolution with a radius enlarged by
    half a cell diagonal (a superset), then counted exactly with a k-d tree.

    Parameters
    ----------
    x, y : array-like of shape (n,)
        Incident eastings and northings, metres (EPSG:27700); repeated map points count
        once per incident.
    grid : hotspots.grid.Grid
    radius_m : float
        Metres, > 0.
    threshold : int

    Returns
    -------
    numpy.ndarray of bool, shape ``grid.shape``
    """
    from scipy.signal import fftconvolve
    from scipy.spatial import cKDTree

    threshold = check_int(threshold, "threshold", "support_mask", low=1)
    radius_m = check_float(radius_m, "radius_m", "support_mask", low=0.0)
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    mask = np.zeros(grid.shape, dtype=bool)
    if xa.size < threshold:
        return mask
    counts = np.zeros(grid.shape, dtype=float)
    cols = np.floor((xa - grid.x0) / grid.cell_size).astype(int)
    rows = np.floor((ya - grid.y0) / grid.cell_size).astype(int)
    inside = (cols >= 0) & (cols < grid.nx) & (rows >= 0) & (rows < grid.ny)
    np.add.at(counts, (rows[inside], cols[inside]), 1.0)
    wide = radius_m + grid.cell_size * math.sqrt(2)  # a bin centre is within half a diagonal
    reach = int(math.ceil(wide / grid.cell_size))
    offsets = np.arange(-reach, reach + 1) * grid.cell_size
    disc = (offsets[None, :] ** 2 + offsets[:, None] ** 2 <= wide ** 2).astype(float)
    candidates = fftconvolve(counts, disc, mode="same") >= threshold - 0.5
    rows, cols = np.nonzero(candidates)
    if rows.size == 0:
        return mask
    centres = np.column_stack([grid.x0 + (cols + 0.5) * grid.cell_size,
                               grid.y0 + (rows + 0.5) * grid.cell_size])
    found = cKDTree(np.column_stack([xa, ya])).query_ball_point(centres, r=radius_m,
                                                                return_length=True)
    mask[rows, cols] = np.asarray(found) >= threshold
    return mask


def protect_surface(values: np.ndarray, grid, x, y, rule: DisclosureRule) -> np.ndarray:
    """`values` on `grid` with NaN where fewer than ``rule.threshold`` of the incidents
    (``x``, ``y``: those the surface was made from) lie within ``rule.support_radius_m`` of
    the cell centre."""
    mask = support_mask(x, y, grid, radius_m=rule.support_radius_m, threshold=rule.threshold)
    return np.where(mask, np.asarray(values, dtype=float), np.nan)
