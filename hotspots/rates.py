"""Counts and rates per area: incidents, rate per 1,000 residents, share of the total, trend.

Rates use Census 2021 usual residents as the denominator. :func:`area_rates` gives the rate
over the whole period counted (``1000 * incidents / population``); every rate a user reads is
annualised (:func:`annualise`, × 12 / months) and labelled with :func:`rate_unit`, "per 1,000
residents per year (annualised from 3 months: 2024-01..2024-03)", so that rates of periods of
different lengths compare and none is mistaken for a yearly figure.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from hotspots._validation import check_frame

MONTHS_PER_YEAR = 12


def _weights(incidents: pd.DataFrame, weight: str | None, func: str) -> pd.Series:
    if weight is None:
        return pd.Series(1.0, index=incidents.index)
    check_frame(incidents, "incidents", func, [weight])
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
    check_frame(incidents, "incidents", "area_rates", [key])
    check_frame(populations, "populations", "area_rates", [key, "population"])
    counts = _weights(incidents, weight, "area_rates").groupby(incidents[key]).sum()
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
    check_frame(incidents, "incidents", "monthly_counts", ["month", key])
    table = (_weights(incidents, weight, "monthly_counts")
             .groupby([incidents["month"], incidents[key]]).sum()
             .unstack(fill_value=0.0))
    if months is not None:
        table = table.reindex(months, fill_value=0.0)
    table.index.name = "month"
    table.columns.name = None
    return table.astype("int64") if weight is None else table


def _month_index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def _checked_months(months: Iterable[str]) -> list[str]:
    if isinstance(months, str):
        raise TypeError(f"'months' should be a sequence of 'YYYY-MM' strings, got the string "
                        f"{months!r}; pass ({months!r},) for one month.")
    chosen = sorted(set(months))
    bad = [m for m in chosen if not (isinstance(m, str) and len(m) == 7 and m[4] == "-"
                                     and m[:4].isdigit() and m[5:].isdigit()
                                     and 1 <= int(m[5:]) <= 12)]
    if bad:
        raise ValueError(f"'months' should be 'YYYY-MM' strings, got {bad[:3]}.")
    if not chosen:
        raise ValueError("'months' should hold at least one month, got none.")
    return chosen


def month_span(months: Iterable[str]) -> str:
    """The months as runs of consecutive months, e.g. ``"2024-01..2024-03"``.

    A gap shows as a comma (``"2022-01, 2024-01..2024-03"``); one month is itself
    (``"2024-03"``).

    Parameters
    ----------
    months : iterable of str
        Months, ``YYYY-MM``, in any order.

    Returns
    -------
    str
    """
    runs: list[list[str]] = []
    for month in _checked_months(months):
        if runs and _month_index(month) == _month_index(runs[-1][-1]) + 1:
            runs[-1].append(month)
        else:
            runs.append([month])
    return ", ".join(run[0] if len(run) == 1 else f"{run[0]}..{run[-1]}" for run in runs)


def annualisation_factor(months: Iterable[str]) -> float:
    """What turns a rate over `months` into a rate per year: ``12 / number of months``.

    Parameters
    ----------
    months : iterable of str
        The months counted (``YYYY-MM``); each month once.

    Returns
    -------
    float
    """
    return MONTHS_PER_YEAR / len(_checked_months(months))


def rate_unit(months: Iterable[str], *, per: str = "residents") -> str:
    """What an annualised rate is, with its period.

    Parameters
    ----------
    months : iterable of str
        The months counted (``YYYY-MM``).
    per : str, default "residents"
        Who the 1,000 are, e.g. ``"residents aged 16–34"``.

    Returns
    -------
    str
        For example "per 1,000 residents per year (annualised from 3 months:
        2024-01..2024-03)"; one month reads "from 1 month: 2024-03".
    """
    chosen = _checked_months(months)
    plural = "month" if len(chosen) == 1 else "months"
    return (f"per 1,000 {per} per year (annualised from {len(chosen)} {plural}: "
            f"{month_span(chosen)})")


def annualise(frame: pd.DataFrame, months: Sequence[str], columns: Iterable[str]
              ) -> pd.DataFrame:
    """A copy of `frame` whose rate `columns` are per year instead of over `months`.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rates over the whole of `months` (e.g. ``rate_per_1000`` of :func:`area_rates`).
    months : sequence of str
        The months the rates were counted over (``YYYY-MM``).
    columns : iterable of str
        The rate columns to annualise; absent ones are skipped, so one call serves tables
        with and without harm rates.

    Returns
    -------
    pandas.DataFrame
        The copy, with ``attrs["rate_unit"]`` (:func:`rate_unit`) and ``attrs["months"]``.
    """
    check_frame(frame, "frame", "annualise")
    factor = annualisation_factor(months)
    result = frame.copy()
    for column in columns:
        if column in result.columns:
            result[column] = pd.to_numeric(result[column], errors="coerce") * factor
    result.attrs["rate_unit"] = rate_unit(months)
    result.attrs["months"] = tuple(_checked_months(months))
    return result
