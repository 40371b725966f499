"""Headline figures: CSP cards and monthly trend charts."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui import data


def csp_cards(summary: pd.DataFrame, *, only: str | None = None) -> None:
    """One metric card per CSP (or only the CSP `only`): incidents, rate and share."""
    rows = summary if only is None else summary[summary["lad_code"] == only]
    for column, row in zip(st.columns(len(rows)), rows.itertuples(index=False)):
        with column:
            st.metric(f"{row.CSP}: incidents", f"{int(row.incidents):,}")
            st.metric("Rate per 1,000 residents", f"{row.rate_per_1000:,.2f}")
            st.metric("Share of Humber total", f"{row.share_pct:.1f}%")


def summary_table(summary: pd.DataFrame) -> None:
    """The CSPs side by side as a table."""
    shown = summary.rename(columns={"population": "Residents (Census 2021)",
                                    "incidents": "Incidents",
                                    "rate_per_1000": "Rate per 1,000 residents",
                                    "share_pct": "Share of Humber total (%)"})
    st.dataframe(shown.drop(columns=["lad_code"]).round(2), hide_index=True)


def trend_chart(months: tuple[str, ...], crime_group: str, *, area: str | None = None) -> None:
    """Incidents by month for each CSP (or one CSP), as a line chart."""
    trend = data.csp_trend(months, crime_group)
    if area is not None:
        trend = trend[[area]]
    st.line_chart(trend, x_label="Month", y_label="Incidents")
