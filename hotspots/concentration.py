"""How concentrated incidents are across places: Lorenz curves, Gini and generalised Gini.

The *law of crime concentration* (Weisburd 2015) says that about half of crime falls on a few
per cent of places. This module measures it for one selection, for three kinds of place:

``map_point``
    police.uk's anonymous map points (a street-segment proxy). The universe of places is every
    map point seen in the whole store (all months, all crime types) in the area, so a map point
    with no incident of the selection counts as a place with zero.
``cell``
    Square cells (100 m by default) of a grid snapped to multiples of the cell size, whose
    centre lies in the area, plus any cell that holds an incident of the selection (police.uk
    points can fall just outside the generalised boundaries).
``lsoa``
    Every 2021 LSOA of the area.

For counts (every incident weighs 1) and for harm (each incident weighs its crime type's
harm), over all places of the kind including those with nothing:

* the Lorenz curve, drawn from the busiest place (cumulative share of the total against the
  cumulative share of places ranked from the busiest);
* the Gini coefficient ``G = 2 sum_i i x_(i) / (N T) - (N + 1) / N`` (``x`` sorted ascending,
  ``i = 1..N``, ``T`` the total), 0 for equal values and ``1 - 1/N`` when everything is at one
  place (1 in the limit of many places);
* the generalised Gini of Bernasco & Steenbeek (2017): when there are fewer incidents ``n``
  than places ``N``, the most equal distribution possible puts one incident in each of ``n``
  places and leaves ``N - n`` empty, whose Gini is ``1 - n/N``, not 0. The generalised Gini
  measures the observed curve against that line of maximal equality:
  ``G' = 1 - (N / n) (1 - G)`` when ``n < N``, else ``G' = G``. It is 0 for the maximally
  equal distribution and 1 - 1/n when everything is at one place;
* a bootstrap percentile interval of ``G'`` (incidents resampled with replacement, seeded);
* the share of places, ranked from the busiest, that holds half of the total, and the share of
  places with nothing.

Nothing here locates an incident: the figures are shares and coefficients.

References
----------
Weisburd, D. (2015). The law of crime concentration and the criminology of place.
*Criminology* 53(2), 133-157.

Bernasco, W. & Steenbeek, W. (2017). More places than crimes: implications for evaluating the
law of crime concentration at place. *Journal of Quantitative Criminology* 33(3), 451-467.

Efron, B. & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*. Chapman & Hall.

Usage::

    python -m hotspots.concentration --incidents FILE... --months YYYY-MM[..YYYY-MM]
        [--area CODE] [--crime-group NAME] [--format table|json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd

from hotspots._validation import as_float_array, check_float, check_int, check_option
from hotspots.grid import cells_within, grid_for_extent

__all__ = ["MEASURES", "PLACE_KINDS", "PLACE_LABELS", "Concentration", "bootstrap_gini",
           "concentration", "concentration_sentence", "concentration_table",
           "generalised_gini", "gini", "lorenz_curve", "map_point_keys", "place_index",
           "share_of_places_for"]

#: Kinds of place, in the order they are reported.
PLACE_KINDS: tuple[str, ...] = ("map_point", "cell", "lsoa")
#: Plural labels for sentences and charts.
PLACE_LABELS: dict[str, str] = {"map_point": "police.uk map points", "cell": "100 m cells",
                                "lsoa": "LSOAs"}
#: What is counted: incidents, or their harm weights.
MEASURES: tuple[str, ...] = ("count", "harm")

#: Points of the curve kept for charts (the full curve has one point per place).
CURVE_POINTS = 201


def _values(values, func: str) -> np.ndarray:
    v = as_float_array(values, "values", func)
    if np.any(v < 0):
        raise ValueError(f"The 'values' parameter of {func} must contain only non-negative "
                         f"numbers. Got {int(np.count_nonzero(v < 0))} negative value(s) "
                         f"instead.")
    return v


def _gini_nonzero(nonzero: np.ndarray, n_places: int) -> float:
    """Gini of ``n_places`` values of which only ``nonzero`` (> 0) are not zero."""
    total = float(nonzero.sum())
    if n_places < 1 or total <= 0:
        return float("nan")
    v = np.sort(nonzero)
    ranks = np.arange(n_places - v.size + 1, n_places + 1, dtype=np.float64)
    return float(2.0 * np.dot(ranks, v) / (n_places * total) - (n_places + 1.0) / n_places)


def gini(values) -> float:
    """Gini coefficient of non-negative values (one per place, zeros included).

    Parameters
    ----------
    values : array-like of shape (N,)
        Incidents (or harm) per place, >= 0; every place of the universe, including those
        with nothing.

    Returns
    -------
    float
        ``G = 2 sum_i i x_(i) / (N T) - (N + 1) / N`` with ``x`` sorted ascending and ``T``
        the total: twice the area between the diagonal and the Lorenz curve. 0 when every
        place has the same value, ``1 - 1/N`` when one place has everything; NaN when the
        total is 0.

    References
    ----------
    Gini, C. (1912). *Variabilità e mutabilità*. Bologna: Cuppini.
    """
    v = _values(values, "gini")
    return _gini_nonzero(v[v > 0], v.size)


def _generalise(g: float, n_places: int, n_incidents: float) -> float:
    if math.isnan(g) or n_incidents <= 0:
        return float("nan")
    if n_incidents < n_places:
        return 1.0 - (n_places / n_incidents) * (1.0 - g)
    return g


def generalised_gini(values, n_incidents: float | None = None) -> float:
    """Generalised Gini coefficient for sparse data (Bernasco & Steenbeek 2017).

    Parameters
    ----------
    values : array-like of shape (N,)
        Incidents (or harm) per place, >= 0, zeros included.
    n_incidents : float, optional
        Number of incidents ``n`` behind the values; default their sum (right for counts;
        pass the number of incidents for harm).

    Returns
    -------
    float
        ``G' = 1 - (N / n) (1 - G)`` when ``n < N`` (the Gini measured against the line of
        maximal equality, one incident in each of ``n`` places), else ``G' = G``. NaN when
        the total is 0.

    References
    ----------
    Bernasco, W. & Steenbeek, W. (2017). More places than crimes: implications for
    evaluating the law of crime concentration at place. *Journal of Quantitative
    Criminology* 33(3), 451-467.
    """
    func = "generalised_gini"
    v = _values(values, func)
    n = float(v.sum()) if n_incidents is None else check_float(
        n_incidents, "n_incidents", func, low=0.0, low_open=False)
    return _generalise(gini(v), v.size, n)


def lorenz_curve(values, *, points: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Lorenz curve drawn from the busiest place (the concentration curve).

    Parameters
    ----------
    values : array-like of shape (N,)
        Incidents (or harm) per place, >= 0, zeros included.
    points : int, optional
        Resample the curve at this many equally spaced shares of places (linear
        interpolation; for charts). Default: one point per place, plus the origin.

    Returns
    -------
    place_share, total_share : numpy.ndarray
        Cumulative fraction of places, ranked from the busiest, and the cumulative fraction of
        the total they hold, both from 0 to 1. The usual Lorenz curve (ascending) is this one
        rotated by 180 degrees; the Gini is twice the area between it and the diagonal.
    """
    func = "lorenz_curve"
    v = _values(values, func)
    total = float(v.sum())
    x = np.arange(v.size + 1, dtype=np.float64) / max(v.size, 1)
    cum = np.r_[0.0, np.cumsum(np.sort(v)[::-1])]
    y = cum / total if total > 0 else np.zeros_like(cum)
    if points is not None:
        points = check_int(points, "points", func, low=2)
        grid = np.linspace(0.0, 1.0, points)
        return grid, np.interp(grid, x, y)
    return x, y


def share_of_places_for(values, fraction: float = 0.5) -> float:
    """Per cent of places, ranked from the busiest, needed to hold `fraction` of the total.

    Parameters
    ----------
    values : array-like of shape (N,)
        Incidents (or harm) per place, >= 0, zeros included.
    fraction : float, default 0.5
        Share of the total, in (0, 1].

    Returns
    -------
    float
        ``100 m / N`` with ``m`` the smallest number of the busiest places whose values sum
        to at least ``fraction`` of the total; NaN when the total is 0.
    """
    func = "share_of_places_for"
    v = _values(values, func)
    fraction = check_float(fraction, "fraction", func, low=0.0, high=1.0, high_open=False)
    total = float(v.sum())
    if total <= 0:
        return float("nan")
    cum = np.cumsum(np.sort(v)[::-1])
    m = int(np.searchsorted(cum, fraction * total * (1 - 1e-12), side="left")) + 1
    return 100.0 * m / v.size


def bootstrap_gini(index, n_places: int, *, weights=None, replicates: int = 500,
                   seed: int | None = 0, level: float = 0.95) -> tuple[float, float]:
    """Bootstrap percentile interval of the generalised Gini, resampling incidents.

    Parameters
    ----------
    index : array-like of int, shape (n,)
        Place of each incident, in ``[0, n_places)``.
    n_places : int
        Number of places in the universe (zeros included).
    weights : array-like of shape (n,), optional
        Weight of each incident (harm); default 1.
    replicates : int, default 500
        Bootstrap samples (>= 10).
    seed : int or None, default 0
        Seed, so the interval repeats.
    level : float, default 0.95
        Coverage of the interval, in (0, 1).

    Returns
    -------
    (float, float)
        The basic (reverse-percentile) bootstrap interval ``(2 G' - q_hi, 2 G' - q_lo)``,
        with ``G'`` the generalised Gini of the data and ``q_lo``, ``q_hi`` the
        ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the generalised Gini over
        the samples (each has ``n`` incidents drawn with replacement); NaNs when there are no
        incidents. Resampling adds multinomial noise to counts that already hold chance
        variation, so the resampled Gini is biased upwards; the basic interval corrects that
        bias, and it lies below ``G'`` when part of the observed concentration is chance
        (few incidents over many places).

    References
    ----------
    Efron, B. & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*, ch. 13.
    Davison, A. C. & Hinkley, D. V. (1997). *Bootstrap Methods and their Application*,
    section 5.2 (the basic bootstrap interval). Cambridge University Press.
    """
    func = "bootstrap_gini"
    idx = np.asarray(index)
    if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
        raise TypeError(f"The 'index' parameter of {func} must be a 1-D array of ints. Got "
                        f"an array of shape {idx.shape} and dtype {idx.dtype} instead.")
    n_places = check_int(n_places, "n_places", func, low=1)
    replicates = check_int(replicates, "replicates", func, low=10)
    level = check_float(level, "level", func, low=0.0, high=1.0)
    if idx.size and (idx.min() < 0 or idx.max() >= n_places):
        raise ValueError(f"The 'index' parameter of {func} must hold places in [0, "
                         f"{n_places}). Got values from {idx.min()} to {idx.max()} instead.")
    w = None if weights is None else as_float_array(weights, "weights", func)
    return _bootstrap_intervals([(idx, n_places, w)], replicates=replicates, seed=seed,
                                level=level)[0]


def _gini_of_counts(counts: np.ndarray, n_places: int) -> float:
    """:func:`_gini_nonzero` of whole counts (> 0) without sorting them: places holding the
    same count take consecutive ranks, so the ranked sum is a sum over distinct counts."""
    total = float(counts.sum())
    if total <= 0:
        return float("nan")
    per_value = np.bincount(counts)             # places holding 0, 1, 2, ... incidents
    values = np.flatnonzero(per_value)
    places = per_value[values].astype(np.float64)
    first = n_places - counts.size + 1 + np.concatenate(([0.0], np.cumsum(places)[:-1]))
    rank_sums = places * first + places * (places - 1) / 2
    ranked = float(np.dot(values.astype(np.float64), rank_sums))
    return 2.0 * ranked / (n_places * total) - (n_places + 1.0) / n_places


def _bootstrap_intervals(specs, *, replicates: int, seed: int | None,
                         level: float) -> list[tuple[float, float]]:
    """The basic bootstrap interval of :func:`bootstrap_gini` for each ``(index, n_places,
    weights)`` of `specs` (validated), in order.

    Specs with the same number of incidents share one stream of resamples: each draws exactly
    what it would draw alone with `seed` (the same generator, the same calls), so the result
    is that of separate calls while the draws are made once (a concentration table resamples
    the same incidents for three kinds of place and two measures).
    """
    out: list[tuple[float, float] | None] = [None] * len(specs)
    by_size: dict[int, list[int]] = {}
    for position, (idx, _, _) in enumerate(specs):
        by_size.setdefault(int(np.asarray(idx).size), []).append(position)
    for n, positions in by_size.items():
        if n == 0:
            for position in positions:
                out[position] = (float("nan"), float("nan"))
            continue
        prepared = []
        for position in positions:
            idx, n_places, w = specs[position]
            used, compact = np.unique(np.asarray(idx), return_inverse=True)
            prepared.append((compact, used.size, n_places, w))
        rng = np.random.default_rng(seed)
        stats = np.empty((len(positions), replicates))
        for r in range(replicates):
            draw = rng.integers(0, n, n)
            for j, (compact, k, n_places, w) in enumerate(prepared):
                if w is None:
                    sums = np.bincount(compact[draw], minlength=k)
                    g = _gini_of_counts(sums[sums > 0], n_places)
                else:
                    sums = np.bincount(compact[draw], weights=w[draw], minlength=k)
                    g = _gini_nonzero(sums[sums > 0], n_places)
                stats[j, r] = _generalise(g, n_places, float(n))
        for j, position in enumerate(positions):
            compact, k, n_places, w = prepared[j]
            q_lo, q_hi = np.nanquantile(stats[j], [(1 - level) / 2, (1 + level) / 2])
            observed = np.bincount(compact, weights=w, minlength=k)
            g = _generalise(_gini_nonzero(observed[observed > 0], n_places), n_places,
                            float(n))
            out[position] = (float(2 * g - q_hi), float(2 * g - q_lo))
    return out


@dataclass(frozen=True)
class Concentration:
    """Concentration of one measure over one kind of place.

    Parameters
    ----------
    place : str
        One of :data:`PLACE_KINDS`.
    measure : str
        ``"count"`` or ``"harm"``.
    places : int
        Places of the kind in the area (the universe, zeros included).
    incidents : int
        Incidents of the selection.
    total : float
        Sum of the measure (incidents, or harm).
    gini, gini_generalised : float
        :func:`gini` and :func:`generalised_gini`.
    ci_low, ci_high : float
        Bootstrap interval of ``gini_generalised`` (:func:`bootstrap_gini`).
    share_of_places_for_half : float
        Per cent of places, ranked from the busiest, holding half of the total.
    share_of_places_empty : float
        Per cent of places with nothing.
    curve_x, curve_y : tuple of float
        The Lorenz curve from the busiest place, resampled at :data:`CURVE_POINTS` shares.
    """

    place: str
    measure: str
    places: int
    incidents: int
    total: float
    gini: float
    gini_generalised: float
    ci_low: float
    ci_high: float
    share_of_places_for_half: float
    share_of_places_empty: float
    curve_x: tuple[float, ...] = field(repr=False, default=())
    curve_y: tuple[float, ...] = field(repr=False, default=())

    def record(self) -> dict:
        """The figures as a JSON-ready dict (NaN as None, without the curve)."""
        out = asdict(self)
        out.pop("curve_x")
        out.pop("curve_y")
        return {k: (None if isinstance(v, float) and math.isnan(v) else v)
                for k, v in out.items()}


def concentration(index, n_places: int, *, place: str, weights=None,
                  replicates: int = 500, seed: int | None = 0) -> Concentration:
    """All concentration figures of incidents placed on ``n_places`` places.

    Parameters
    ----------
    index : array-like of int, shape (n,)
        Place of each incident, in ``[0, n_places)`` (:func:`place_index`).
    n_places : int
        Places in the universe, zeros included (>= 1).
    place : str
        Kind of place (one of :data:`PLACE_KINDS`), recorded in the result.
    weights : array-like of shape (n,), optional
        Harm weight of each incident; default counts.
    replicates : int, default 500
        Bootstrap samples for the interval (0: no interval, NaNs).
    seed : int or None, default 0
        Bootstrap seed.

    Returns
    -------
    Concentration
    """
    func = "concentration"
    place = check_option(place, "place", func, PLACE_KINDS)
    n_places = check_int(n_places, "n_places", func, low=1)
    idx = np.asarray(index, dtype=np.int64)
    w = None if weights is None else as_float_array(weights, "weights", func)
    if w is not None and w.size != idx.size:
        raise ValueError(f"The 'weights' parameter of {func} must have one value per incident "
                         f"({idx.size}). Got {w.size} instead.")
    values = np.bincount(idx, weights=w, minlength=n_places).astype(np.float64)
    if values.size > n_places:
        raise ValueError(f"The 'index' parameter of {func} must hold places in [0, "
                         f"{n_places}). Got a largest value of {int(idx.max())} instead.")
    g = gini(values)
    if replicates:
        lo, hi = bootstrap_gini(idx, n_places, weights=w, replicates=replicates, seed=seed)
    else:
        lo = hi = float("nan")
    cx, cy = lorenz_curve(values, points=CURVE_POINTS)
    return Concentration(
        place=place, measure="count" if w is None else "harm", places=n_places,
        incidents=int(idx.size), total=float(values.sum()), gini=g,
        gini_generalised=_generalise(g, n_places, float(idx.size)), ci_low=lo, ci_high=hi,
        share_of_places_for_half=share_of_places_for(values, 0.5),
        share_of_places_empty=100.0 * float(np.count_nonzero(values == 0)) / n_places,
        curve_x=tuple(np.round(cx, 6)), curve_y=tuple(np.round(cy, 6)))


# ------------------------------------------------------------------------------ places
def map_point_keys(x, y) -> np.ndarray:
    """One integer key per police.uk map point: the coordinates to 1 cm (EPSG:27700).

    ``key = round(100 x) * 2e8 + round(100 y)``: exact in int64 for British National Grid.
    police.uk publishes 6 decimals of a degree (about 7 cm of longitude here), so distinct
    map points get distinct keys.
    """
    xa = np.round(np.asarray(x, dtype=np.float64) * 100).astype(np.int64)
    ya = np.round(np.asarray(y, dtype=np.float64) * 100).astype(np.int64)
    return xa * 200_000_000 + ya


def place_index(incidents: pd.DataFrame, kind: str, *, study_area=None,
                lsoa_codes: Iterable[str] | None = None, universe: pd.DataFrame | None = None,
                cell_size: float = 100.0) -> tuple[np.ndarray, int]:
    """Place of each incident and the number of places of the kind in the area.

    Parameters
    ----------
    incidents : pandas.DataFrame
        The selection: ``x``, ``y`` (EPSG:27700 metres) and, for LSOAs, ``lsoa21cd``.
    kind : {"map_point", "cell", "lsoa"}
        Kind of place (see the module docstring).
    study_area : shapely Polygon or MultiPolygon
        The area, EPSG:27700; required for cells.
    lsoa_codes : iterable of str
        Every LSOA of the area; required for LSOAs. Incidents in other LSOAs are an error.
    universe : pandas.DataFrame
        ``x``, ``y`` of every incident stored in the area (all months and crime types): its
        map points are the universe of map points; required for map points. Points of the
        selection missing from it are added.
    cell_size : float, default 100.0
        Cell side, metres.

    Returns
    -------
    index : numpy.ndarray of int64, shape (n,)
    n_places : int
    """
    func = "place_index"
    kind = check_option(kind, "kind", func, PLACE_KINDS)
    x = incidents["x"].to_numpy(dtype=np.float64)
    y = incidents["y"].to_numpy(dtype=np.float64)
    if kind == "map_point":
        if universe is None:
            raise ValueError(f"The 'universe' parameter of {func} is required for "
                             f"kind='map_point'. Got None instead.")
        keys = map_point_keys(x, y)
        every = np.unique(np.r_[map_point_keys(universe["x"].to_numpy(float),
                                               universe["y"].to_numpy(float)), keys])
        return np.searchsorted(every, keys).astype(np.int64), int(every.size)
    if kind == "lsoa":
        if lsoa_codes is None:
            raise ValueError(f"The 'lsoa_codes' parameter of {func} is required for "
                             f"kind='lsoa'. Got None instead.")
        codes = pd.Index(pd.unique(pd.Series(list(lsoa_codes), dtype=object)))
        index = codes.get_indexer(incidents["lsoa21cd"].astype(object))
        if np.any(index < 0):
            bad = sorted(set(incidents["lsoa21cd"][index < 0].astype(str)))[:5]
            raise ValueError(f"The incidents of {func} lie in LSOAs outside 'lsoa_codes': "
                             f"{bad}.")
        return index.astype(np.int64), int(len(codes))
    if study_area is None:
        raise ValueError(f"The 'study_area' parameter of {func} is required for kind='cell'. "
                         f"Got None instead.")
    cell_size = check_float(cell_size, "cell_size", func, low=0.0)
    xmin, ymin, xmax, ymax = study_area.bounds
    if x.size:
        xmin, ymin = min(xmin, x.min()), min(ymin, y.min())
        xmax, ymax = max(xmax, x.max()), max(ymax, y.max())
    grid = grid_for_extent((xmin, ymin, xmax, ymax), cell_size=cell_size)
    inside = cells_within(grid, study_area).ravel()
    cols = np.clip(np.floor((x - grid.x0) / cell_size).astype(np.int64), 0, grid.nx - 1)
    rows = np.clip(np.floor((y - grid.y0) / cell_size).astype(np.int64), 0, grid.ny - 1)
    flat = rows * grid.nx + cols
    inside[flat] = True
    number = np.cumsum(inside) - 1
    return number[flat].astype(np.int64), int(inside.sum())


def concentration_table(incidents: pd.DataFrame, *, study_area, lsoa_codes: Iterable[str],
                        universe: pd.DataFrame, harm: str | None = "harm",
                        cell_size: float = 100.0, replicates: int = 500,
                        seed: int | None = 0) -> list[Concentration]:
    """Concentration of a selection over map points, cells and LSOAs, for counts and harm.

    Parameters
    ----------
    incidents : pandas.DataFrame
        The selection: ``x``, ``y`` (EPSG:27700), ``lsoa21cd`` and the `harm` column.
    study_area : shapely Polygon or MultiPolygon
        The area (EPSG:27700).
    lsoa_codes : iterable of str
        Every LSOA of the area.
    universe : pandas.DataFrame
        ``x``, ``y`` of every incident stored in the area (the universe of map points).
    harm : str or None, default "harm"
        Column of per-incident harm weights; None for counts only.
    cell_size : float, default 100.0
        Cell side, metres.
    replicates : int, default 500
        Bootstrap samples (0: no interval).
    seed : int or None, default 0
        Bootstrap seed.

    Returns
    -------
    list of Concentration
        One per kind of place (:data:`PLACE_KINDS` order) and measure (count, then harm).
    """
    lsoa_codes = list(lsoa_codes)
    out, specs = [], []
    weights = None if harm is None else incidents[harm].to_numpy(dtype=np.float64)
    for kind in PLACE_KINDS:
        index, n_places = place_index(incidents, kind, study_area=study_area,
                                      lsoa_codes=lsoa_codes, universe=universe,
                                      cell_size=cell_size)
        for measure_weights in ([None] if weights is None else [None, weights]):
            out.append(concentration(index, n_places, place=kind, weights=measure_weights,
                                     replicates=0))
            specs.append((np.asarray(index, dtype=np.int64), n_places, measure_weights))
    if replicates:  # the same intervals as concentration() gives each, resampled once
        replicates = check_int(replicates, "replicates", "concentration_table", low=10)
        intervals = _bootstrap_intervals(specs, replicates=replicates, seed=seed, level=0.95)
        out = [replace(result, ci_low=low, ci_high=high)
               for result, (low, high) in zip(out, intervals)]
    return out


def _pct(value: float) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    if value >= 10:
        return f"{value:.0f}%"
    return f"{value:.1f}%" if value >= 0.1 else f"{value:.2f}%"


def concentration_sentence(results: Sequence[Concentration], *, place: str = "cell") -> str:
    """The plain-language figures: "50% of incidents occur in x% of places; 50% of harm in y%".

    Parameters
    ----------
    results : sequence of Concentration
        From :func:`concentration_table`.
    place : str, default "cell"
        The kind of place the sentence leads with; the others follow in brackets.

    Returns
    -------
    str
    """
    place = check_option(place, "place", "concentration_sentence", PLACE_KINDS)
    by = {(r.place, r.measure): r for r in results}
    lead = by.get((place, "count"))
    if lead is None or lead.incidents == 0:
        return "No incidents in this selection, so there is no concentration to measure."
    others = [f"{_pct(by[(k, 'count')].share_of_places_for_half)} of "
              f"{PLACE_LABELS[k]}" for k in PLACE_KINDS if k != place and (k, "count") in by]
    text = (f"50% of incidents occur in {_pct(lead.share_of_places_for_half)} of "
            f"{PLACE_LABELS[place]}" + (f" ({'; '.join(others)})" if others else ""))
    harm = by.get((place, "harm"))
    if harm is not None and harm.total > 0:
        text += f"; 50% of harm in {_pct(harm.share_of_places_for_half)}"
    text += (f". {_pct(lead.share_of_places_empty)} of {PLACE_LABELS[place]} had no incident. "
             f"Gini {lead.gini:.2f}; generalised Gini {lead.gini_generalised:.2f}"
             + (f" (95% bootstrap interval {lead.ci_low:.2f}–{lead.ci_high:.2f}"
                + ("; below the estimate because part of the observed concentration is "
                   "chance" if lead.ci_high < lead.gini_generalised else "") + ")"
                if not math.isnan(lead.ci_low) else "") + ".")
    return text


# ------------------------------------------------------------------------------ command line
def _parser() -> argparse.ArgumentParser:
    from hotspots._cli import add_area_and_group, incident_parser

    p = incident_parser("python -m hotspots.concentration",
                        "How concentrated incidents are across places (Lorenz curve, Gini, "
                        "generalised Gini) for map points, 100 m cells and LSOAs.")
    p.add_argument("--months", required=True, help="months, YYYY-MM[..YYYY-MM]")
    add_area_and_group(p)
    p.add_argument("--replicates", type=int, default=500, help="bootstrap samples (500)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    return p


def run(argv: Sequence[str] | None = None) -> list[Concentration]:
    """Parse arguments, load the files and return the figures (exits 2 on bad input)."""
    from config.harm import get_harm_weights
    from hotspots._cli import checked_area_and_group, load_incident_files
    from hotspots.evaluate import month_range
    from hotspots.harm import harm_weights
    from hotspots.pipeline import area_lsoas, select_incidents
    from hotspots.pipeline import study_area as union_of

    parser = _parser()
    args = parser.parse_args(argv)
    try:
        months = month_range(args.months)
    except ValueError as error:
        parser.error(str(error))
    if args.replicates < 0:
        parser.error(f"--replicates must be >= 0, got {args.replicates}.")
    cfg, group = checked_area_and_group(parser, args.area, args.crime_group)
    incidents, lsoas = load_incident_files(parser, args.incidents)
    all_types = {t for g in cfg.crime_groups for t in g.types}
    have = set(incidents["month"].astype(str))
    absent = sorted(set(months) - have)
    if absent:
        parser.error(f"Months not in the data: {', '.join(absent)}; the data has "
                     f"{', '.join(sorted(have))}.")
    universe = select_incidents(incidents, area_code=args.area, months=sorted(have),
                                crime_types=all_types)
    selection = select_incidents(incidents, area_code=args.area, months=months,
                                 crime_types=group.types)
    selection["harm"] = harm_weights(selection["crime_type"], get_harm_weights().weights)
    return concentration_table(selection, study_area=union_of(lsoas, args.area),
                               lsoa_codes=area_lsoas(lsoas, args.area)["lsoa21cd"],
                               universe=universe, replicates=args.replicates)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m hotspots.concentration``; returns the exit status."""
    args = _parser().parse_args(argv)
    results = run(argv)
    if args.format == "json":
        print(json.dumps([r.record() for r in results], indent=1))
        return 0
    table = pd.DataFrame([r.record() for r in results])
    with pd.option_context("display.width", 200):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print()
    print(concentration_sentence(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
