"""Back-testing hotspot methods: hit rate, PAI, RRI and PEI* on a common grid.

A *method* turns the training-period incidents into a **score per grid
cell**; the cells of the study area are ranked by score and the top
``coverage`` % of them are "selected".  The test-period incidents then say
how well the selection predicted where crime happened.  All methods are
scored on the same evaluation grid (:func:`evaluation_grid`, square cells in
EPSG:27700 metres), so their numbers are comparable.

Definitions (also in ``docs/methods.md``).  With ``N`` study-area cells, ``k``
selected cells, ``t_i`` / ``r_i`` the test / training incidents in cell
``i``, ``T`` every test incident (``sum(t)`` plus any outside the cells) and
``R = sum(r)``:

* **hit rate** = ``sum_{selected} t_i / T``;
* **PAI** (Predictive Accuracy Index, Chainey, Tompson & Uhlig 2008) =
  ``hit rate / (k / N)``;
* **RRI** (Recapture Rate Index, Levine 2008) =
  ``(sum_{selected} t_i / sum_{selected} r_i) / (T / R)``;
* **PEI*** (Predictive Efficiency Index*, Hunt 2016; Drawve 2016) =
  ``sum_{selected} t_i / max_{|S| = k} sum_{S} t_i``, i.e. the hits over the
  hits of the ``k`` cells with the most test incidents (1 = perfect).

``k`` is :func:`hotspots.coverage.top_cell_count` (``ceil``, the definition the
hotspot threshold and the map use too).  Ties: when several cells share the
``k``-th highest score, each of them is selected with the same fraction so that
exactly ``k`` cells are selected (the expected result of breaking the tie at
random; the map draws one such random draw, :func:`hotspots.coverage.top_cells`).
This matters for the naive count baseline, whose scores are small integers.

The cells ranked are those of :func:`evaluation_grid` built from the *training*
incidents, as the map's predicted-cells layer builds it from the selected months;
test incidents outside them count as missed.

Methods live in a registry, :data:`SCORERS`: a method is a scorer function
registered with :func:`register_scorer`, and the back-test, the map's predicted
cells and the Methods page all read it.  A scorer that cannot rank the cells
(Gi* when every training cell holds the same count) raises
:class:`MethodCannotScore`; the method is then reported as not scored.

References
----------
Chainey, S., Tompson, L. & Uhlig, S. (2008). The utility of hotspot mapping
for predicting spatial patterns of crime. *Security Journal* 21, 4-28.

Levine, N. (2008). The "hottest" part of a hotspot: comments on "The utility
of hotspot mapping for predicting spatial patterns of crime". *Security
Journal* 21, 298-301.

Hunt, J. M. (2016). Do crime hot spots move? Exploring the effects of the
modifiable areal unit problem and modifiable temporal unit problem on crime
hot spot stability. PhD thesis, American University.

Drawve, G. (2016). A metric comparison of predictive hot spot techniques and
RTM. *Justice Quarterly* 33(3), 369-397.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely

from hotspots._validation import as_coordinates, as_float_array, as_weights, check_float
from hotspots.clusters import ClusterMemoryError, dbscan_incidents
from hotspots.coverage import top_cell_count, top_cell_fractions
from hotspots.grid import Grid, cells_within, grid_for_extent
from hotspots.kde import kernel_density

__all__ = [
    "DEFAULT_COVERAGES",
    "DEFAULT_EVAL_CELL_SIZE",
    "DEFAULT_BLEND_PARAMS",
    "METHODS",
    "SCORERS",
    "EvaluationGrid",
    "MethodCannotScore",
    "MethodSpec",
    "Scorer",
    "Scores",
    "cell_counts",
    "choose_bandwidth",
    "default_method",
    "evaluate_methods",
    "evaluation_grid",
    "hit_metrics",
    "method_scores",
    "n_selected",
    "register_scorer",
    "score_method",
    "select_top_cells",
    "standard_methods",
]

#: Coverages (per cent of the study area's cells) evaluated by default.
DEFAULT_COVERAGES: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0)

#: Side of the evaluation grid's cells, metres.
DEFAULT_EVAL_CELL_SIZE: float = 100.0

#: The dashboard's default method (see :func:`default_method`): tuned on train 2024-01 ->
#: test 2024-02 (serious violence, four CSPs), checked on train 2024-01..02 -> test 2024-03.
DEFAULT_BLEND_PARAMS: dict[str, float] = {
    "bandwidth": 100.0, "smooth_weight": 0.25, "context_weight": 0.25, "context_bandwidth": 0.0,
}

#: Largest DBSCAN memory used inside an evaluation, MB.
_DBSCAN_MEMORY_MB = 1000.0


class MethodCannotScore(ValueError):
    """A method cannot rank the cells from these training incidents.

    Raised by a scorer (for example Gi* when every training cell holds the same count, so
    every z-score is undefined); :func:`evaluate_methods` reports the method as not scored,
    with this message as the reason, and still scores the others.
    """


@dataclass(frozen=True)
class EvaluationGrid:
    """The common grid on which methods are compared, and from which cells are predicted.

    Parameters
    ----------
    grid : Grid
        Square-cell grid, EPSG:27700 metres.
    mask : numpy.ndarray of bool, shape (ny, nx)
        The study area's cells (row 0 south): cells whose centre lies in the
        study area, plus cells holding any of the incidents passed to
        :func:`evaluation_grid` (police.uk locations can sit just outside
        generalised boundaries).
    """

    grid: Grid
    mask: np.ndarray

    @property
    def n_cells(self) -> int:
        """Number of study-area cells ``N``."""
        return int(self.mask.sum())


@dataclass(frozen=True)
class Scores:
    """What a scorer returns: a score per cell and what it actually used.

    Parameters
    ----------
    values : numpy.ndarray of float, shape (ny, nx)
        Higher = more likely a hotspot; ``-inf`` for a cell that cannot be ranked.
    used : str, default ""
        The parameters really used when they are not all in the method's label (for
        example the automatic DBSCAN radius, or a smaller one the memory limit forced), in
        words for the results table: ``"eps 180 m, min_samples 6"``.
    """

    values: np.ndarray
    used: str = ""


#: A scorer function: ``(egrid, train, context, params) -> Scores``.
ScoreFunction = Callable[["EvaluationGrid", pd.DataFrame, "pd.DataFrame | None",
                          Mapping[str, Any]], Scores]


@dataclass(frozen=True)
class Scorer:
    """A registered hotspot method.

    Parameters
    ----------
    name : str
        The registry key, the ``method`` of a :class:`MethodSpec` (``"kde"`` ...).
    function : callable
        ``function(egrid, train, context, params) -> Scores``: scores every cell of
        ``egrid`` from the training incidents (``x``, ``y``, EPSG:27700 metres) and, for
        methods that use them, the training-period incidents of the other crime types
        (``context``); raises :class:`MethodCannotScore` when it cannot.
    description : str
        One plain sentence for the Methods page.
    """

    name: str
    function: ScoreFunction
    description: str


#: The hotspot methods, by name. :func:`evaluate_methods`, :func:`method_scores` (so the
#: map's predicted-cells layer) and the Methods page all read this registry: adding a
#: method is one scorer function and one :func:`register_scorer` line.
SCORERS: dict[str, Scorer] = {}


def register_scorer(name: str, description: str) -> Callable[[ScoreFunction], ScoreFunction]:
    """Register a scorer function under `name` (a decorator).

    Parameters
    ----------
    name : str
        New method name (a :class:`MethodSpec`'s ``method``).
    description : str
        One plain sentence saying what the method does, for the Methods page.

    Returns
    -------
    callable
        The decorator; it returns the function unchanged.

    Examples
    --------
    >>> @register_scorer("uniform", "Every cell the same score (a random pick).")
    ... def _uniform(egrid, train, context, params):
    ...     return Scores(np.zeros(egrid.grid.shape))
    >>> "uniform" in SCORERS
    True
    >>> del SCORERS["uniform"]
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"The 'name' parameter of register_scorer must be a non-empty str. "
                        f"Got {name!r} instead.")
    if name in SCORERS:
        raise ValueError(f"The 'name' parameter of register_scorer must be a new method name. "
                         f"Got {name!r}, which is already registered.")

    def decorator(function: ScoreFunction) -> ScoreFunction:
        SCORERS[name] = Scorer(name=name, function=function, description=str(description))
        return function

    return decorator


@dataclass(frozen=True)
class MethodSpec:
    """A hotspot method and its parameters, as evaluated and as shown to users.

    Parameters
    ----------
    method : str
        A key of :data:`SCORERS`.
    params : dict
        Keyword parameters of the method (metres for distances).
    label : str
        Short human-readable name, e.g. ``"KDE 150 m"``.
    """

    method: str
    params: dict[str, Any] = field(default_factory=dict)
    label: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.method, str) or self.method not in SCORERS:
            known = ", ".join(repr(m) for m in SCORERS)
            raise ValueError(f"The 'method' parameter of MethodSpec must be a str among "
                             f"{{{known}}}. Got {self.method!r} instead.")
        if not self.label:
            object.__setattr__(self, "label", _label(self.method, self.params))


def _label(method: str, params: Mapping[str, Any]) -> str:
    if not params:
        return method
    inner = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                      for k, v in params.items())
    return f"{method}({inner})"


# ----------------------------------------------------------------------------- grid


def evaluation_grid(study_area: shapely.Geometry, *, cell_size: float = DEFAULT_EVAL_CELL_SIZE,
                    x=None, y=None) -> EvaluationGrid:
    """Grid of square cells over a study area, with the study-area mask.

    The back-test (:func:`evaluate_methods`) and the map's predicted cells
    (:func:`hotspots.pipeline.predicted_cells`) both rank the cells of this grid, built
    from the same incidents: those the method learns from. The test period's incidents
    never add cells (they are not known when the prediction is made).

    Parameters
    ----------
    study_area : shapely Polygon or MultiPolygon
        The area, EPSG:27700 metres.
    cell_size : float, default 100.0
        Cell side, metres, > 0.
    x, y : array-like of shape (n,), optional
        Eastings / northings (metres, EPSG:27700) of the training incidents, whose cells
        belong to the study area even when the cell centre falls outside the polygon.

    Returns
    -------
    EvaluationGrid
    """
    func = "evaluation_grid"
    cell_size = check_float(cell_size, "cell_size", func, low=0.0)
    if not isinstance(study_area, shapely.Geometry) or study_area.is_empty:
        raise TypeError(
            f"The 'study_area' parameter of {func} must be a non-empty shapely geometry. "
            f"Got {type(study_area).__name__} instead."
        )
    bounds = list(study_area.bounds)
    xa = ya = None
    if x is not None or y is not None:
        xa, ya = as_coordinates(x, y, func)
        if xa.size:
            bounds = [min(bounds[0], xa.min()), min(bounds[1], ya.min()),
                      max(bounds[2], xa.max()), max(bounds[3], ya.max())]
    grid = grid_for_extent(tuple(bounds), cell_size=cell_size, margin=cell_size)
    mask = cells_within(grid, study_area)
    if xa is not None and xa.size:
        mask |= cell_counts(grid, xa, ya) > 0
    mask.flags.writeable = False
    return EvaluationGrid(grid=grid, mask=mask)


def cell_counts(grid: Grid, x, y, weights=None) -> np.ndarray:
    """Number (or total weight) of incidents in each grid cell.

    Parameters
    ----------
    grid : Grid
        The grid, EPSG:27700 metres.
    x, y : array-like of shape (n,)
        Incident eastings and northings, metres (EPSG:27700).
    weights : array-like of shape (n,), optional
        Non-negative weight per incident; default 1.

    Returns
    -------
    numpy.ndarray of float, shape (ny, nx)
        Row 0 is south.  A point on a shared edge goes to the cell east /
        north of it; points outside the grid are not counted.
    """
    func = "cell_counts"
    if not isinstance(grid, Grid):
        raise TypeError(f"The 'grid' parameter of {func} must be a Grid. "
                        f"Got an object of type {type(grid).__name__} instead.")
    xa, ya = as_coordinates(x, y, func)
    w = as_weights(weights, xa.size, func)
    i = np.floor((xa - grid.x0) / grid.cell_size).astype(np.int64)
    j = np.floor((ya - grid.y0) / grid.cell_size).astype(np.int64)
    ok = (i >= 0) & (i < grid.nx) & (j >= 0) & (j < grid.ny)
    flat = np.bincount(j[ok] * grid.nx + i[ok], weights=w[ok], minlength=grid.n_cells)
    return flat.reshape(grid.shape)


# ----------------------------------------------------------------------------- metrics


def select_top_cells(scores, coverage: float) -> np.ndarray:
    """Fraction of each cell selected when the top ``coverage`` % are chosen by score.

    The back-test's selection: :func:`hotspots.coverage.top_cell_fractions` (ties share
    the last places evenly, the expected result of breaking them at random).

    Parameters
    ----------
    scores : array-like of shape (N,)
        Score of each study-area cell (higher = more likely a hotspot).
    coverage : float
        Percentage of the ``N`` cells to select, in (0, 100]; :func:`n_selected` cells
        are selected.

    Returns
    -------
    numpy.ndarray of float, shape (N,)
        1 for cells scoring above the ``k``-th highest score, ``(k - a) / b``
        for the ``b`` cells tied with it (``a`` = cells above), 0 otherwise;
        sums to ``k``.
    """
    try:
        return top_cell_fractions(scores, coverage)
    except (TypeError, ValueError) as error:
        raise type(error)(str(error).replace("top_cell_fractions", "select_top_cells")) from None


def n_selected(n_cells: int, coverage: float) -> int:
    """Number of cells selected at ``coverage`` % of ``n_cells``.

    :func:`hotspots.coverage.top_cell_count`: ``ceil(coverage * n_cells / 100)``, at least
    one cell.
    """
    return top_cell_count(n_cells, coverage)


def hit_metrics(selected, train_counts, test_counts, *,
                total_test: float | None = None) -> dict[str, float]:
    """Hit rate, PAI, RRI and PEI* of a selection of cells.

    Parameters
    ----------
    selected : array-like of shape (N,)
        Fraction of each study-area cell selected (0 or 1, or fractional for
        ties, see :func:`select_top_cells`); its sum is the number ``k`` of
        selected cells.
    train_counts, test_counts : array-like of shape (N,)
        Training- and test-period incidents per study-area cell.
    total_test : float, optional
        All the test period's incidents ``T``, when some lie outside the study-area cells
        (they count as missed). Default ``sum(test_counts)``; never less than it.

    Returns
    -------
    dict
        ``hit_rate`` (share of test incidents in selected cells, 0-1),
        ``pai``, ``rri`` and ``pei_star`` as defined in the module docstring;
        NaN where a denominator is 0 (no test incidents, or no training
        incidents in the selected cells for RRI).  Also ``area_share`` =
        ``k / N``, ``hits`` and ``max_hits``.
    """
    func = "hit_metrics"
    sel = as_float_array(selected, "selected", func)
    r = as_float_array(train_counts, "train_counts", func)
    t = as_float_array(test_counts, "test_counts", func)
    if not (sel.size == r.size == t.size):
        raise ValueError(
            f"The 'selected', 'train_counts' and 'test_counts' parameters of {func} must have "
            f"the same length. Got {sel.size}, {r.size} and {t.size} instead."
        )
    if sel.size == 0 or np.any(sel < 0) or np.any(sel > 1):
        raise ValueError(f"The 'selected' parameter of {func} must hold fractions in [0, 1] "
                         "for at least one cell.")
    in_cells = float(t.sum())
    if total_test is None:
        total_test = in_cells
    else:
        total_test = check_float(total_test, "total_test", func, low=in_cells - 1e-9,
                                 low_open=False)
    n = sel.size
    k_float = float(sel.sum())
    k = int(round(k_float))
    total_train = float(r.sum())
    hits = float(sel @ t)
    train_hits = float(sel @ r)
    area_share = k_float / n
    max_hits = float(np.sort(t)[n - k:].sum()) if k > 0 else 0.0
    nan = math.nan
    hit_rate = hits / total_test if total_test > 0 else nan
    pai = hit_rate / area_share if area_share > 0 and total_test > 0 else nan
    if train_hits > 0 and total_test > 0 and total_train > 0:
        rri = (hits / train_hits) / (total_test / total_train)
    else:
        rri = nan
    pei_star = hits / max_hits if max_hits > 0 else nan
    return {"hit_rate": hit_rate, "pai": pai, "rri": rri, "pei_star": pei_star,
            "area_share": area_share, "hits": hits, "max_hits": max_hits}


# ----------------------------------------------------------------------------- methods


def _xy(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return frame["x"].to_numpy(dtype=np.float64), frame["y"].to_numpy(dtype=np.float64)


def _density_per_cell(x: np.ndarray, y: np.ndarray, grid: Grid, bandwidth: float) -> np.ndarray:
    """Gaussian KDE of points on ``grid`` as expected incidents per cell (cell-centre value)."""
    if x.size == 0:
        return np.zeros(grid.shape)
    surface = kernel_density(x, y, bandwidth=bandwidth, cell_size=grid.cell_size,
                             bounds=grid.bounds)
    g = surface.grid
    i0 = int(round((grid.x0 - g.x0) / grid.cell_size))
    j0 = int(round((grid.y0 - g.y0) / grid.cell_size))
    out = surface.density[j0:j0 + grid.ny, i0:i0 + grid.nx] * grid.cell_area_km2
    return np.array(out)


@register_scorer("naive", "Last period's incidents per square (the baseline to beat).")
def _naive(egrid: EvaluationGrid, train: pd.DataFrame, context, params) -> Scores:
    return Scores(cell_counts(egrid.grid, *_xy(train)))


@register_scorer("kde", "A Gaussian kernel density of last period's incidents at the "
                        "square's centre (the map's density surface).")
def _kde(egrid: EvaluationGrid, train: pd.DataFrame, context, params) -> Scores:
    return Scores(_density_per_cell(*_xy(train), egrid.grid, float(params["bandwidth"])))


@register_scorer("gi_star", "The Getis-Ord Gi* z-score of the square's count with its "
                            "neighbours' (how unusually busy its surroundings are).")
def _gi_star(egrid: EvaluationGrid, train: pd.DataFrame, context, params) -> Scores:
    from hotspots.getis_ord import gi_star_lattice_z

    grid = egrid.grid
    counts = cell_counts(grid, *_xy(train))
    radius = float(params.get("distance", grid.cell_size * 1.5)) / grid.cell_size
    z = gi_star_lattice_z(counts, egrid.mask, radius_cells=radius)
    if not np.isfinite(z[egrid.mask]).any():
        raise MethodCannotScore(
            f"Gi* is undefined: every square held the same number of training incidents "
            f"({len(train):,} in all), so no square stands out from its neighbours.")
    return Scores(np.where(np.isfinite(z), z, -np.inf))


@register_scorer("dbscan", "Squares holding incidents of a DBSCAN cluster, ranked by the "
                           "cluster's size (the map's blue cluster outlines).")
def _dbscan(egrid: EvaluationGrid, train: pd.DataFrame, context, params) -> Scores:
    grid = egrid.grid
    x, y = _xy(train)
    score = np.zeros(grid.n_cells)
    if x.size < 2:
        raise MethodCannotScore(f"DBSCAN needs at least two training incidents. "
                                f"Got {x.size}.")
    eps, min_samples = params.get("eps"), params.get("min_samples")
    note = ""
    try:
        res = dbscan_incidents(x, y, eps=eps, min_samples=min_samples,
                               max_memory_mb=_DBSCAN_MEMORY_MB)
    except ClusterMemoryError as error:
        if error.suggested_eps is None:
            raise MethodCannotScore(
                f"DBSCAN would need {error.predicted_mb:,.0f} MB at eps {error.eps:g} m, more "
                f"than the {_DBSCAN_MEMORY_MB:,.0f} MB allowed, and no smaller eps fits."
            ) from None
        note = (f", not the {'automatic' if eps is None else 'requested'} {error.eps:g} m, "
                f"which needed {error.predicted_mb:,.0f} MB")
        res = dbscan_incidents(x, y, eps=error.suggested_eps, min_samples=min_samples,
                               max_memory_mb=_DBSCAN_MEMORY_MB)
    used = f"eps {res.eps:.0f} m{note}, min_samples {res.min_samples}"
    lab = res.labels
    keep = lab >= 0
    if keep.any():
        sizes = np.bincount(lab[keep]).astype(np.float64)
        i = np.clip(np.floor((x[keep] - grid.x0) / grid.cell_size).astype(np.int64),
                    0, grid.nx - 1)
        j = np.clip(np.floor((y[keep] - grid.y0) / grid.cell_size).astype(np.int64),
                    0, grid.ny - 1)
        flat = j * grid.nx + i
        np.maximum.at(score, flat, sizes[lab[keep]])
        score += 1e-6 * np.bincount(flat, minlength=grid.n_cells)
    else:
        used += "; no clusters, so every square ties (a random pick)"
    return Scores(score.reshape(grid.shape), used=used)


@register_scorer("blend", "Last period's incidents per square, plus a small share of a 100 m "
                          "density of them and of the square's other recorded crime.")
def _blend(egrid: EvaluationGrid, train: pd.DataFrame, context, params) -> Scores:
    grid = egrid.grid
    x, y = _xy(train)
    bw = float(params.get("bandwidth", 100.0))
    score = cell_counts(grid, x, y)
    if float(params.get("smooth_weight", 0.0)) > 0:
        score = score + float(params["smooth_weight"]) * _density_per_cell(x, y, grid, bw)
    cw = float(params.get("context_weight", 0.0))
    if cw > 0 and context is not None and len(context):
        cx, cy = _xy(context)
        cb = float(params.get("context_bandwidth", 0.0))
        other = cell_counts(grid, cx, cy) if cb == 0 else _density_per_cell(cx, cy, grid, cb)
        score = score + cw * other
    return Scores(score)


#: Method names registered at import (see :data:`SCORERS`, which also holds any added later).
METHODS: tuple[str, ...] = tuple(SCORERS)


def score_method(spec: MethodSpec, egrid: EvaluationGrid, train: pd.DataFrame, *,
                 context: pd.DataFrame | None = None) -> Scores:
    """Score every grid cell under one method, with what it actually used.

    Parameters
    ----------
    spec : MethodSpec
        The method (a key of :data:`SCORERS`) and its parameters:

        - ``"naive"``: training incidents per cell (no parameters).
        - ``"kde"``: Gaussian kernel density at the cell centre, ``bandwidth``
          metres (standard deviation).
        - ``"gi_star"``: Getis-Ord Gi* z-score of the cell counts with binary
          distance-band weights of radius ``distance`` metres (the cell
          itself included), over the study-area cells
          (:func:`hotspots.getis_ord.gi_star_lattice_z`); cells where it is
          undefined rank last, and a period where it is undefined everywhere
          cannot be scored.
        - ``"dbscan"``: cells holding incidents of a DBSCAN cluster score the
          cluster's size (plus a tiny share of their own clustered count to
          order cells within a cluster); ``eps`` (m) and ``min_samples``
          default to :func:`hotspots.clusters.auto_eps` /
          :func:`~hotspots.clusters.auto_min_samples`. When the radius needs more
          than 1,000 MB the largest radius that fits is used, and
          :attr:`Scores.used` says so.
        - ``"blend"``: ``counts + smooth_weight * density(bandwidth) +
          context_weight * context_counts``: the training counts, plus a
          small-bandwidth Gaussian density (expected incidents per cell) that
          ranks cells with equal counts by what happened around them, plus
          the cell's incidents of *other* crime types in the training period
          (``context``; with ``context_bandwidth > 0`` metres their density
          instead).  See :func:`default_method`.
    egrid : EvaluationGrid
        The common grid.
    train : pandas.DataFrame
        Training incidents with ``x``, ``y`` (EPSG:27700 metres).
    context : pandas.DataFrame, optional
        Training-period incidents of the context crime types (``x``, ``y``),
        used by ``"blend"`` when ``context_weight > 0``.

    Returns
    -------
    Scores
        ``values`` of shape (ny, nx), higher = more likely a hotspot (only the study-area
        cells are ranked), and ``used``.

    Raises
    ------
    MethodCannotScore
        When the method cannot rank the cells from these incidents.
    """
    if not isinstance(spec, MethodSpec):
        raise TypeError("The 'spec' parameter of score_method must be a MethodSpec. "
                        f"Got an object of type {type(spec).__name__} instead.")
    if not isinstance(egrid, EvaluationGrid):
        raise TypeError("The 'egrid' parameter of score_method must be an EvaluationGrid. "
                        f"Got an object of type {type(egrid).__name__} instead.")
    return SCORERS[spec.method].function(egrid, train, context, spec.params)


def method_scores(spec: MethodSpec, egrid: EvaluationGrid, train: pd.DataFrame, *,
                  context: pd.DataFrame | None = None) -> np.ndarray:
    """Score of every grid cell under one method: :func:`score_method`'s values.

    Parameters
    ----------
    spec : MethodSpec
        The method and its parameters (see :func:`score_method`).
    egrid : EvaluationGrid
        The common grid.
    train : pandas.DataFrame
        Training incidents with ``x``, ``y`` (EPSG:27700 metres).
    context : pandas.DataFrame, optional
        Training-period incidents of the other crime types (``x``, ``y``).

    Returns
    -------
    numpy.ndarray of float, shape (ny, nx)
        Higher = more likely a hotspot.  Only the study-area cells are ranked.
    """
    return score_method(spec, egrid, train, context=context).values


# ----------------------------------------------------------------------------- driver


def default_method() -> MethodSpec:
    """The dashboard's default hotspot method and its parameters.

    ``blend`` with :data:`DEFAULT_BLEND_PARAMS` on :data:`DEFAULT_EVAL_CELL_SIZE`
    metre cells: last period's incidents per cell (police.uk reuses the same
    anonymous map points month after month, so this is a strong baseline),
    plus ``0.25 x`` a 100 m Gaussian density of them (breaks the many ties
    between cells with 0, 1 or 2 incidents in favour of busy surroundings),
    plus ``0.25 x`` the cell's incidents of every *other* police.uk crime type
    (public order, ASB, shoplifting ... mark the places where violence gets
    recorded).  Chosen as the best worst-case gain over the naive baseline
    at 1 % and 5 % coverage across the four CSPs on train 2024-01 -> test
    2024-02, and checked on train 2024-01..02 -> test 2024-03 (see
    ``docs/methods.md``).

    Returns
    -------
    MethodSpec
        ``MethodSpec("blend", {...}, label="Blend (counts + 100 m density + other crime)")``;
        the cell size (metres) is in ``params["cell_size"]``.
    """
    params = dict(DEFAULT_BLEND_PARAMS)
    params["cell_size"] = DEFAULT_EVAL_CELL_SIZE
    return MethodSpec("blend", params, label="Blend (counts + 100 m density + other crime)")


def standard_methods(*, bandwidths: Sequence[float] = (100.0, 200.0, 400.0)) -> list[MethodSpec]:
    """The methods compared by :func:`evaluate_methods` by default.

    Parameters
    ----------
    bandwidths : sequence of float, default (100, 200, 400)
        KDE bandwidths to compare, metres.

    Returns
    -------
    list of MethodSpec
        Naive counts, KDE at each bandwidth, Gi* (250 m distance band), DBSCAN
        (automatic eps / min_samples) and :func:`default_method`.
    """
    specs = [MethodSpec("naive", {}, label="Naive (training counts)")]
    specs += [MethodSpec("kde", {"bandwidth": float(b)}, label=f"KDE {b:g} m") for b in bandwidths]
    specs.append(MethodSpec("gi_star", {"distance": 250.0}, label="Gi* grid (250 m band)"))
    specs.append(MethodSpec("dbscan", {}, label="DBSCAN clusters (auto eps)"))
    specs.append(default_method())
    return specs


def _months(values: Iterable[str], name: str, func: str) -> list[str]:
    if isinstance(values, str):
        values = [values]
    out = list(values)
    if not out or not all(isinstance(m, str) for m in out):
        raise ValueError(f"The {name!r} parameter of {func} must be a non-empty list of "
                         f"'YYYY-MM' strings. Got {out!r} instead.")
    return out


def evaluate_methods(incidents: pd.DataFrame, *, study_area: shapely.Geometry,
                     train_months: Iterable[str], test_months: Iterable[str],
                     crime_types: Iterable[str], methods: Sequence[MethodSpec] | None = None,
                     coverages: Sequence[float] = DEFAULT_COVERAGES,
                     cell_size: float = DEFAULT_EVAL_CELL_SIZE) -> pd.DataFrame:
    """Back-test hotspot methods: train on some months, score on later ones.

    Parameters
    ----------
    incidents : pandas.DataFrame
        The study area's incidents of **all** crime types (the ``"blend"``
        method uses the other types as context), with ``x``, ``y``
        (EPSG:27700 metres), ``month`` (``YYYY-MM``) and ``crime_type``; e.g.
        ``select_incidents(inc, area_code=..., months=..., crime_types=all_types)``.
    study_area : shapely Polygon or MultiPolygon
        EPSG:27700 metres (e.g. :func:`hotspots.pipeline.study_area`).
    train_months, test_months : iterable of str
        ``YYYY-MM`` months of the training and test periods (disjoint).
    crime_types : iterable of str
        police.uk crime types predicted (e.g. the serious-violence group).
    methods : sequence of MethodSpec, optional
        Default :func:`standard_methods`.
    coverages : sequence of float, default (1, 2, 5, 10)
        Percentages of the study area's cells to select, each in (0, 100].
    cell_size : float, default 100.0
        Side of the evaluation grid's cells, metres.

    Returns
    -------
    pandas.DataFrame
        One row per method and coverage: ``method`` (label), ``kind``
        (a key of :data:`SCORERS`), ``params`` (dict), ``status`` (``"scored"`` or
        ``"not scored"``), ``used`` (the parameters really used, for example DBSCAN's
        radius, or why the method could not score: its metrics are then NaN),
        ``coverage`` (%), ``hit_rate`` (0-1, over every test incident, including any
        outside the ranked cells), ``pai``, ``rri``, ``pei_star``, ``selected_cells``
        (k), ``cells`` (N), ``n_train``, ``n_test``. A method that cannot score (see
        :class:`MethodCannotScore`) does not stop the others.

    Raises
    ------
    ValueError
        For overlapping or empty month lists, a bad coverage or cell size, or
        missing columns.
    """
    func = "evaluate_methods"
    for col in ("x", "y", "month", "crime_type"):
        if col not in incidents.columns:
            raise ValueError(f"The 'incidents' parameter of {func} must have a {col!r} column.")
    train_months = _months(train_months, "train_months", func)
    test_months = _months(test_months, "test_months", func)
    overlap = sorted(set(train_months) & set(test_months))
    if overlap:
        raise ValueError(f"The 'train_months' and 'test_months' parameters of {func} must not "
                         f"overlap. Got {overlap} in both.")
    coverages = [check_float(c, "coverage", func, low=0.0, high=100.0, high_open=False)
                 for c in coverages]
    cell_size = check_float(cell_size, "cell_size", func, low=0.0)
    types = list(crime_types)
    methods = standard_methods() if methods is None else list(methods)

    month = incidents["month"].astype(str)
    is_target = incidents["crime_type"].isin(types).to_numpy(dtype=bool)
    in_train = month.isin(train_months).to_numpy(dtype=bool)
    in_test = month.isin(test_months).to_numpy(dtype=bool)
    train = incidents.loc[is_target & in_train]
    test = incidents.loc[is_target & in_test]
    context = incidents.loc[~is_target & in_train]
    tx, ty = _xy(train)
    sx, sy = _xy(test)
    # The cells a method may pick are those the deployed layer would rank: the study area's
    # plus those of the training incidents (never the test period's, unknown at the time).
    egrid = evaluation_grid(study_area, cell_size=cell_size, x=tx, y=ty)
    m = egrid.mask
    r = cell_counts(egrid.grid, tx, ty)[m]
    t = cell_counts(egrid.grid, sx, sy)[m]
    rows = []
    for spec in methods:
        try:
            scored = score_method(spec, egrid, train, context=context)
        except MethodCannotScore as reason:
            scored, status, used = None, "not scored", str(reason)
        else:
            status, used = "scored", scored.used
        for cov in coverages:
            if scored is None:
                metrics = dict.fromkeys(("hit_rate", "pai", "rri", "pei_star"), math.nan)
            else:
                # Test incidents outside the ranked cells count as missed.
                metrics = hit_metrics(select_top_cells(scored.values[m], cov), r, t,
                                      total_test=float(len(test)))
            rows.append({"method": spec.label, "kind": spec.method, "params": dict(spec.params),
                         "status": status, "used": used,
                         "coverage": cov, "hit_rate": metrics["hit_rate"],
                         "pai": metrics["pai"], "rri": metrics["rri"],
                         "pei_star": metrics["pei_star"],
                         "selected_cells": n_selected(egrid.n_cells, cov),
                         "cells": egrid.n_cells, "n_train": len(train), "n_test": len(test)})
    return pd.DataFrame(rows)


def choose_bandwidth(incidents: pd.DataFrame, *, study_area: shapely.Geometry,
                     crime_types: Iterable[str],
                     candidates: Sequence[float] = (50.0, 100.0, 150.0, 200.0, 300.0, 400.0),
                     coverages: Sequence[float] = (1.0, 5.0),
                     cell_size: float = DEFAULT_EVAL_CELL_SIZE) -> float:
    """KDE bandwidth that best predicted the latest month from the earlier ones.

    The incidents' last month is the test period and every earlier month the
    training period; each candidate bandwidth's mean hit rate over
    ``coverages`` is computed with :func:`evaluate_methods` and the best is
    returned (ties: the larger, smoother bandwidth).

    Parameters
    ----------
    incidents : pandas.DataFrame
        The study area's incidents (``x``, ``y`` EPSG:27700 metres, ``month``,
        ``crime_type``), at least two months.
    study_area : shapely Polygon or MultiPolygon
        EPSG:27700 metres.
    crime_types : iterable of str
        Crime types to predict.
    candidates : sequence of float
        Bandwidths to try, metres.
    coverages : sequence of float, default (1, 5)
        Coverages (%) whose hit rates are averaged.
    cell_size : float, default 100.0
        Evaluation cell side, metres.

    Returns
    -------
    float
        The chosen bandwidth, metres.
    """
    func = "choose_bandwidth"
    months = sorted(incidents["month"].astype(str).unique())
    if len(months) < 2:
        raise ValueError(f"{func} needs incidents from at least two months to hold the last "
                         f"one out. Got {months}.")
    cands = [check_float(b, "candidates", func, low=0.0) for b in candidates]
    specs = [MethodSpec("kde", {"bandwidth": b}, label=f"kde {b:g}") for b in cands]
    table = evaluate_methods(incidents, study_area=study_area, train_months=months[:-1],
                             test_months=months[-1:], crime_types=crime_types, methods=specs,
                             coverages=coverages, cell_size=cell_size)
    mean = table.groupby("method", sort=False)["hit_rate"].mean()
    best = max(zip(mean.to_numpy(), cands), key=lambda vb: (np.nan_to_num(vb[0], nan=-1), vb[1]))
    return float(best[1])
