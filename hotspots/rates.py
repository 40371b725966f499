"""Counts and rates per area: incidents, rate per 1,000 residents, share of the total, trend.

Rates use Census 2021 usual residents as the denominator. A rate per 1,000 residents is
``1000 * incidents / population``; for a period of several months it is the rate over the whole
period, not per month.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _check_columns(frame: pd.DataFrame, columns: list[str], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"'{name}' should be a pandas DataFrame, got {type(frame)}.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"'{name}' lacks the columns {missing}; it has {list(frame.columns)}.")


def _weights(incidents: pd.DataFrame, weight: str | None) -> pd.Series:
    if weight is None:
        return pd.Series(1.0, index=incidents.index)
    _check_columns(incidents, [weight], "incidents")
    return incidents[weight].astype(float)


def area_rates(incidents: pd.DataFrame, populations: pd.DataFrame, *, key: str,
               weight: str | None = None) -> pd.DataFrame:
    """Count incidents per area and turn them into rates and shares.

    Parameters
    ----------
    incidents : pandas.DataFrame
        One row per incident with the area key column `key` (incidents whose key is missing
        are not counted in any area).
    populations : pandas.DataFrame
        One row per area: `key` and ``population`` (residents). Every area appears in the
        result, with 0 incidents if none fell in it.
    key : str
        Column naming the area (for example ``"lad_code"`` or ``"lsoa21cd"``).
    weight : str, optional
        Column of per-incident weights (for example harm); counts are sums of weights.

    Returns
    -------
    pandas.DataFrame
        `key`, ``population``, ``incidents``, ``rate_per_1000`` (incidents per 1,000 residents;
        NaN where the population is 0) and ``share_pct`` (percentage of all counted incidents).
    """
    _check_columns(incidents, [key], "incidents")
    _check_columns(populations, [key, "population"], "populations")
    counts = _weights(incidents, weight).groupby(incidents[key]).sum()
    result = populations[[key, "population"]].copy()
    result["incidents"] = result[key].map(counts).fillna(0.0).to_numpy()
    if weight is None:
        result["incidents"] = result["incidents"].astype("int64")
    population = result["population"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        result["rate_per_1000"] = np.where(population > 0,
                                           1000.0 * result["incidents"] / population, np.nan)
    total = result["incidents"].sum()
    result["share_pct"] = 100.0 * result["incidents"] / total if total else 0.0
    return result


def monthly_counts(incidents: pd.DataFrame, *, key: str, months: list[str] | None = None,
                   weight: str | None = None) -> pd.DataFrame:
    """Count incidents per month and area.

    Parameters
    ----------
    incidents : pandas.DataFrame
        Incidents with ``month`` (``YYYY-MM``) and `key`.
    key : str
        Area column.
    months : list of str, optional
        Months to show as rows even when they hold no incidents (in this order).
    weight : str, optional
        Column of per-incident weights.

    Returns
    -------
    pandas.DataFrame
        Index ``month``, one column per area value, zeros where nothing was recorded.
    """
    _check_columns(incidents, ["month", key], "incidents")
    table = (_weights(incidents, weight)
             .groupby([incidents["month"], incidents[key]]).sum()
             .unstack(fill_value=0.0))
    if months is not None:
        table = table.reindex(months, fill_value=0.0)
    table.index.name = "month"
    table.columns.name = None
    return table.astype("int64") if weight is None else table
