"""Streamlit caching wrappers around the back-testing library (:mod:`hotspots.backtest`).

Like :mod:`ui.cached`, every public wrapper takes hashable values that identify its result and
passes the store's version to a private ``st.cache_data`` function, so data ingested while
the dashboard runs invalidates the cached back-tests on the next interaction.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import shapely
import streamlit as st

from config import get_config
from hotspots.backtest import DEFAULT_COVERAGES, DEFAULT_EVAL_CELL_SIZE, evaluate_methods
from ui import cached

#: The columns the back-tests read from the store.
EVALUATION_COLUMNS = ("x", "y", "month", "crime_type")


def area_geometry(area_code: str | None) -> shapely.Geometry:
    """The study area (union of the area's 2021 LSOAs, EPSG:27700); None for the Humber."""
    return _area_geometry(area_code)


@st.cache_data(show_spinner=False)
def _area_geometry(area_code: str | None) -> shapely.Geometry:
    return cached.study_area(area_code)


def evaluation_table(area_code: str | None, crime_group: str, train_months: Iterable[str],
                     test_months: Iterable[str],
                     coverages: Iterable[float] = DEFAULT_COVERAGES,
                     cell_size: float = DEFAULT_EVAL_CELL_SIZE) -> pd.DataFrame:
    """Back-test every standard method: train on `train_months`, score on `test_months`.

    Parameters
    ----------
    area_code : str or None
        LAD code of one CSP, or None for the whole Humber area.
    crime_group : str
        Name of the crime group predicted (``config/crime_groups.toml``).
    train_months, test_months : iterable of str
        Disjoint ``YYYY-MM`` months.
    coverages : iterable of float
        Percentages of the area's cells selected, each in (0, 100].
    cell_size : float
        Side of the evaluation grid's cells, metres.

    Returns
    -------
    pandas.DataFrame
        :func:`hotspots.backtest.evaluate_methods`'s table: one row per method and coverage.
    """
    return _evaluation_table(area_code, crime_group, tuple(sorted(train_months)),
                             tuple(sorted(test_months)),
                             tuple(sorted(float(c) for c in coverages)), float(cell_size),
                             cached.store_version())


@st.cache_data(show_spinner="Back-testing the hotspot methods on the chosen months…",
               max_entries=32)
def _evaluation_table(area_code: str | None, crime_group: str, train_months: tuple[str, ...],
                      test_months: tuple[str, ...], coverages: tuple[float, ...],
                      cell_size: float, version: int) -> pd.DataFrame:
    group = get_config().crime_group(crime_group)
    # Every crime type: the default "blend" method uses the other types as context.
    incidents = cached.store().query(area_code=area_code,
                                   months=list(train_months) + list(test_months),
                                   columns=EVALUATION_COLUMNS)
    return evaluate_methods(incidents, study_area=area_geometry(area_code),
                            train_months=list(train_months), test_months=list(test_months),
                            crime_types=group.types, coverages=coverages, cell_size=cell_size)
