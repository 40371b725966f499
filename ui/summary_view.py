"""Headline figures: CSP cards and monthly trend charts (with disclosure control)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from hotspots import pipeline
from hotspots.disclosure import DisclosureRule, protect_table, shown_count
from ui import data
from ui.disclosure import current_rule


def protected_summary(summary: pd.DataFrame, rule: DisclosureRule) -> pd.DataFrame:
    """CSP figures from rounded counts: rate and share computed from them, numbers kept.

    Suppressed counts are NaN; the share is of the sum of the rounded counts shown.
    """
    table = protect_table(summary, rule, counts=["incidents"],
                          rates={"rate_per_1000": "incidents"}, text=False)
    total = table["incidents"].sum()
    table["share_pct"] = 100 * table["incidents"] / total if total else float("nan")
    return table


def csp_cards(summary: pd.DataFrame, *, only: str | None = None) -> None:
    """One metric card per CSP (or only the CSP `only`): incidents, rate and share."""
    rule = current_rule()
    if rule is not None:
        summary = protected_summary(summary, rule)
    rows = summary if only is None else summary[summary["lad_code"] == only]
    for column, row in zip(st.columns(len(rows)), rows.itertuples(index=False)):
        withheld = pd.isna(row.incidents)
        with column:
            st.metric(f"{row.CSP}: incidents",
                      f"<{rule.threshold}" if withheld else f"{int(row.incidents):,}")
            st.metric("Rate per 1,000 residents",
                      "withheld" if withheld else f"{row.rate_per_1000:,.2f}")
            st.metric("Share of Humber total", "withheld" if withheld else f"{row.share_pct:.1f}%")


def summary_table(summary: pd.DataFrame) -> None:
    """The CSPs side by side as a table."""
    rule = current_rule()
    table = summary
    if rule is not None:
        table = protected_summary(summary, rule)
        table["incidents"] = [shown_count(v, rule) if pd.notna(v) else f"<{rule.threshold}"
                              for v in table["incidents"]]
    table = table.round(2)
    shown = table.rename(columns={"population": "Residents (Census 2021)",
                                  "incidents": "Incidents",
                                  "rate_per_1000": "Rate per 1,000 residents",
                                  "share_pct": "Share of Humber total (%)"})
    st.dataframe(shown.drop(columns=["lad_code"]), hide_index=True)
    if rule is not None:
        st.caption(f"Counts rounded to multiples of {rule.rounding} (below {rule.threshold}: "
                   f"withheld); rates and shares computed from the rounded counts.")


def trend_chart(months: tuple[str, ...], crime_group: str, *, area: str | None = None) -> None:
    """Incidents by month for each CSP (or one CSP), as a line chart."""
    trend = data.csp_trend(months, crime_group)
    if area is not None:
        trend = trend[[area]]
    rule = current_rule()
    if rule is not None:
        trend = protect_table(trend, rule, counts=list(trend.columns), text=False)
        st.caption(f"Monthly counts rounded to multiples of {rule.rounding}; months with "
                   f"fewer than {rule.threshold} incidents are left out.")
    st.altair_chart(trend_figure(trend), width="stretch")


def trend_figure(trend: pd.DataFrame) -> alt.Chart:
    """Monthly counts on a real time axis: one line per run of consecutive stored months, so
    that months not stored show as gaps instead of being drawn side by side."""
    runs = {month: number for number, run in enumerate(pipeline.contiguous_runs(trend.index))
            for month in run}
    long = trend.rename_axis("month").reset_index().melt(
        id_vars="month", var_name="Area", value_name="Incidents").dropna(subset=["Incidents"])
    long["Month"] = pd.to_datetime(long["month"] + "-01")
    long["run"] = long["month"].map(runs)
    base = alt.Chart(long).encode(
        x=alt.X("Month:T", title="Month", axis=alt.Axis(format="%Y-%m", tickCount="month")),
        y=alt.Y("Incidents:Q", title="Incidents per month"),
        color=alt.Color("Area:N", title=None),
        tooltip=[alt.Tooltip("Area:N"), alt.Tooltip("month:N", title="Month"),
                 alt.Tooltip("Incidents:Q", format=",")])
    return base.mark_line().encode(detail="run:N") + base.mark_point(filled=True, size=40)
