"""Headline figures: CSP cards and monthly trend charts (with disclosure control)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hotspots.disclosure import suppress_series, suppress_table, suppressed_count
from ui import data
from ui.access import disclosure_threshold, viewer


def _threshold() -> int | None:
    return disclosure_threshold() if viewer().aggregate_only else None


def csp_cards(summary: pd.DataFrame, *, only: str | None = None) -> None:
    """One metric card per CSP (or only the CSP `only`): incidents, rate and share."""
    rows = summary if only is None else summary[summary["lad_code"] == only]
    threshold = _threshold()
    for column, row in zip(st.columns(len(rows)), rows.itertuples(index=False)):
        small = threshold is not None and row.incidents < threshold
        with column:
            st.metric(f"{row.CSP}: incidents",
                      suppressed_count(row.incidents, threshold) if threshold
                      else f"{int(row.incidents):,}")
            st.metric("Rate per 1,000 residents",
                      "withheld" if small else f"{row.rate_per_1000:,.2f}")
            st.metric("Share of Humber total", "withheld" if small else f"{row.share_pct:.1f}%")


def summary_table(summary: pd.DataFrame) -> None:
    """The CSPs side by side as a table."""
    threshold = _threshold()
    table = summary.round(2)
    if threshold is not None:
        table = suppress_table(table, threshold=threshold, counts=["incidents"],
                               rates=["rate_per_1000", "share_pct"])
    shown = table.rename(columns={"population": "Residents (Census 2021)",
                                  "incidents": "Incidents",
                                  "rate_per_1000": "Rate per 1,000 residents",
                                  "share_pct": "Share of Humber total (%)"})
    st.dataframe(shown.drop(columns=["lad_code"]), hide_index=True)


def trend_chart(months: tuple[str, ...], crime_group: str, *, area: str | None = None) -> None:
    """Incidents by month for each CSP (or one CSP), as a line chart."""
    trend = data.csp_trend(months, crime_group)
    if area is not None:
        trend = trend[[area]]
    threshold = _threshold()
    if threshold is not None:
        trend = trend.apply(lambda column: suppress_series(column, threshold=threshold))
        st.caption(f"Months with fewer than {threshold} incidents are left out.")
    st.line_chart(trend, x_label="Month", y_label="Incidents")
