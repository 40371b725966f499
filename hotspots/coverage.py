"""Top x % of the area: one definition of how many cells that is, and which.

Every place that selects the densest or highest-scoring share of a study area's cells (the
hotspot threshold :func:`hotspots.outlines.density_threshold`, the back-test
:func:`hotspots.backtest.evaluate_methods`, the predicted-cells layer
:func:`hotspots.pipeline.predicted_cells` and the Methods page's "1% is about … squares")
counts the cells with :func:`top_cell_count`, so a coverage means the same number of cells
everywhere.

Ties at the ``k``-th score are handled two ways, both selecting exactly ``k`` cells:

* :func:`top_cell_fractions` gives each tied cell the same fraction (the *expected* result
  of breaking the tie at random): what the back-test scores;
* :func:`top_cells` breaks the tie with a fixed pseudo-random draw, so a map can draw whole
  cells whose area is exactly the stated coverage: one draw of that same random tie-break.

Without ties the two select the same cells.
"""

from __future__ import annotations

import math

import numpy as np

from hotspots._validation import as_float_array, check_float, check_int

__all__ = ["top_cell_count", "top_cell_fractions", "top_cells"]

#: Seed of the tie-breaking draw in :func:`top_cells` (fixed: the same input draws the same
#: cells on every run and for every user).
TIE_SEED = 20_240_301


def top_cell_count(n_cells: int, percent: float) -> int:
    """Number of cells in the top `percent` % of `n_cells`: ``ceil(percent * n / 100)``.

    At least one cell and at most `n_cells`. A tolerance of 1e-9 keeps exact shares exact
    despite floating point (7 % of 100 cells is 7 cells, not 8).

    Parameters
    ----------
    n_cells : int
        Number of cells in the study area, >= 1.
    percent : float
        Share of the cells, per cent, in (0, 100].

    Returns
    -------
    int
        ``min(n_cells, max(1, ceil(percent * n_cells / 100 - 1e-9)))``.

    Examples
    --------
    >>> top_cell_count(100, 7.0), top_cell_count(250, 1.0), top_cell_count(10, 0.5)
    (7, 3, 1)
    """
    func = "top_cell_count"
    n = check_int(n_cells, "n_cells", func, low=1)
    p = check_float(percent, "percent", func, low=0.0, high=100.0, high_open=False)
    return int(min(n, max(1, math.ceil(p * n / 100.0 - 1e-9))))


def _kth_score(scores, coverage: float, func: str) -> tuple[np.ndarray, int, float]:
    """The validated scores, ``k`` and the ``k``-th highest score."""
    s = _scores(scores, func)
    coverage = check_float(coverage, "coverage", func, low=0.0, high=100.0, high_open=False)
    k = top_cell_count(s.size, coverage)
    return s, k, _kth_largest(s, k)


def _kth_largest(values: np.ndarray, k: int) -> float:
    """The `k`-th largest of `values` (1 <= k <= size), exactly.

    For a large grid and a small `k` (up to a quarter of 2.9M Humber cells) only the values
    above a bound taken from a sample are partitioned: when at least `k` values lie above
    the bound, the `k` largest are all among them; when fewer do but at least `k` lie at or
    above it, the bound is the answer. Otherwise, every value is partitioned.
    """
    n = values.size
    step = n // 50_000
    if step >= 4 and k * 4 <= n:
        sample = values[::step]
        # the sample's value with about twice k/step sample values above it: k values or
        # more lie above it in `values` unless the sample is very unlike the whole
        rank = max(0, sample.size - 2 * (k // step) - 16)
        bound = np.partition(sample, rank)[rank]
        # strictly above: when most cells share the bound (the empty cells' 0), partitioning
        # all of them is slow (numpy's introselect degrades on ties: 50 ms for 350k cells)
        above = values[values > bound]
        if above.size >= k:
            return float(np.partition(above, above.size - k)[above.size - k])
        if above.size + np.count_nonzero(values == bound) >= k:
            return float(bound)  # fewer than k above it, at least k at or above it
    return float(np.partition(values, n - k)[n - k])


def _scores(scores, func: str) -> np.ndarray:
    s = as_float_array(scores, "scores", func, finite=False)
    if s.size == 0:
        raise ValueError(f"The 'scores' parameter of {func} must hold at least one cell. "
                         "Got an empty array instead.")
    if np.isnan(s).any():
        raise ValueError(f"The 'scores' parameter of {func} must not contain NaN (score a cell "
                         f"that cannot be ranked -inf). Got {int(np.isnan(s).sum())} NaN "
                         "value(s) instead.")
    return s


def top_cell_fractions(scores, coverage: float) -> np.ndarray:
    """Fraction of each cell selected when the top `coverage` % are chosen by score.

    Parameters
    ----------
    scores : array-like of shape (N,)
        Score of each study-area cell (higher = more likely a hotspot; ``-inf`` for a cell
        that cannot be ranked).
    coverage : float
        Percentage of the ``N`` cells to select, in (0, 100]; ``k =``
        :func:`top_cell_count` ``(N, coverage)`` cells are selected.

    Returns
    -------
    numpy.ndarray of float, shape (N,)
        1 for cells scoring above the ``k``-th highest score, ``(k - a) / b`` for the ``b``
        cells tied with it (``a`` = cells above), 0 otherwise; sums to ``k``.
    """
    s, k, kth = _kth_score(scores, coverage, "top_cell_fractions")
    above = s > kth
    tied = s == kth
    frac = above.astype(np.float64)
    frac[tied] = (k - int(above.sum())) / int(tied.sum())
    return frac


def top_cells(scores, coverage: float) -> np.ndarray:
    """Exactly the top `coverage` % of cells by score, ties broken by a fixed random draw.

    Parameters
    ----------
    scores : array-like of shape (N,)
        Score of each study-area cell (higher = more likely a hotspot).
    coverage : float
        Percentage of the ``N`` cells, in (0, 100].

    Returns
    -------
    numpy.ndarray of bool, shape (N,)
        True for exactly :func:`top_cell_count` ``(N, coverage)`` cells: every cell above the
        ``k``-th highest score and as many of the cells tied with it as are needed, drawn
        with the seed :data:`TIE_SEED`. Each tied cell is drawn with the probability that
        :func:`top_cell_fractions` gives it.
    """
    s, k, kth = _kth_score(scores, coverage, "top_cells")
    chosen = s > kth
    tied = np.flatnonzero(s == kth)
    need = k - int(chosen.sum())
    draw = np.random.default_rng(TIE_SEED).permutation(tied.size)[:need]
    chosen[tied[draw]] = True
    return chosen
