"""Emerging hot spots on a CSP page: the cells by category, or why there are none."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hotspots.emerging import EMERGING_CATEGORIES
from ui import cached
from ui.disclosure import current_rule
from ui.widgets import Filters


def category_table(result) -> pd.DataFrame:
    """Cells of the area in each category with a pattern (17 categories, "no pattern" last)."""
    counts = result.category_counts()
    rows = [{"Category": name, "Cells": counts.get(name, 0)}
            for name in EMERGING_CATEGORIES[1:] + EMERGING_CATEGORIES[:1]]
    return pd.DataFrame(rows)


def emerging_section(area_code: str, filters: Filters) -> None:
    """The emerging hot spot table of the area, or an honest note when the cube is too short."""
    rule = current_rule()
    result = cached.emerging(area_code, filters.months, filters.crime_group, disclosure=rule)
    if not result.enough:
        st.info(result.message + " The map offers the two-period layer \"Change since the "
                "previous period\" instead, which compares the chosen months with the same "
                "number of stored months before them.")
        return
    st.caption(result.message + " Categories follow ArcGIS Pro's Emerging Hot Spot Analysis "
               "rules (see docs/methods.md); the map layer \"Emerging hot spots (space-time "
               "Gi*)\" draws them.")
    left, right = st.columns([1, 2])
    with left:
        st.dataframe(category_table(result), hide_index=True)
    with right:
        cells = result.cells()
        if rule is not None:
            shown = cells[["category"]].rename(columns={"category": "Category"})
        else:
            shown = cells[["category", "x", "y", "hot_months", "cold_months", "trend_z",
                           "trend_p", "incidents"]].rename(columns={
                "category": "Category", "x": "Easting (cell centre)",
                "y": "Northing (cell centre)", "hot_months": "Hot months",
                "cold_months": "Cold months", "trend_z": "Trend z", "trend_p": "Trend p",
                "incidents": "Incidents"})
            shown = shown.round({"Trend z": 2, "Trend p": 4})
        st.dataframe(shown, hide_index=True, height=min(420, 38 + 35 * len(shown)))
