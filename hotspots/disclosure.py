"""Statistical disclosure control for aggregate-only audiences (partner and public roles).

Counts below a threshold (default 5) are shown as ``"<5"``, rates computed from them are
withheld, and areas drawn from fewer incidents are not shown at all.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd


def _check_threshold(threshold: int) -> int:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, np.integer)) \
            or threshold < 1:
        raise ValueError(f"The 'threshold' must be an int >= 1. Got {threshold!r} instead.")
    return int(threshold)


def suppressed_count(value, threshold: int) -> str:
    """``"<5"`` for a count below the threshold, else the count with thousands separators."""
    threshold = _check_threshold(threshold)
    if value is None or pd.isna(value):
        return ""
    return f"<{threshold}" if value < threshold else f"{int(round(value)):,}"


def suppress_table(frame: pd.DataFrame, *, threshold: int, counts: Iterable[str],
                   rates: Iterable[str] = (), basis: str | None = None) -> pd.DataFrame:
    """A copy of `frame` safe to show an aggregate-only audience.

    Parameters
    ----------
    frame : pandas.DataFrame
    threshold : int
        Counts below it are shown as ``"<threshold>"``.
    counts : iterable of str
        Count columns; each becomes text (``"<5"`` or the count).
    rates : iterable of str
        Columns derived from the `basis` count (rates, changes); set to NaN where the basis
        count is below the threshold.
    basis : str, optional
        The count column the rates come from (default the first of `counts`).
    """
    threshold = _check_threshold(threshold)
    counts = list(counts)
    result = frame.copy()
    basis = basis or (counts[0] if counts else None)
    if basis is not None:
        small = pd.to_numeric(frame[basis], errors="coerce").fillna(0).to_numpy() < threshold
        for column in rates:
            result[column] = result[column].astype(float).mask(small)
    for column in counts:
        result[column] = [suppressed_count(v, threshold) for v in frame[column]]
    return result


def drop_small_areas(frame: pd.DataFrame, *, threshold: int,
                     count: str = "incidents") -> pd.DataFrame:
    """Only the rows (hotspots, clusters) built from at least `threshold` incidents."""
    threshold = _check_threshold(threshold)
    return frame[pd.to_numeric(frame[count], errors="coerce").fillna(0) >= threshold]


def suppress_series(values: pd.Series, *, threshold: int) -> pd.Series:
    """Numeric counts with those below the threshold withheld (NaN), e.g. for charts."""
    threshold = _check_threshold(threshold)
    return values.astype(float).mask(values < threshold)
