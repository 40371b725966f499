"""Headline figures: CSP cards and monthly trend charts (with disclosure control)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hotspots import pipeline
from hotspots.disclosure import DisclosureRule, protect_table, shown_count
from hotspots.rates import annualise
from ui import cached
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


RATE_LABEL = "Rate per 1,000 per year"


def shown_summary(summary: pd.DataFrame, months=None) -> pd.DataFrame:
    """The CSP figures as this viewer reads them.

    Protected for partner and public (:func:`protected_summary`); rates annualised over the
    months counted.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`ui.cached.csp_summary` (rates over the whole period).
    months : sequence of str, optional
        The months counted; by default ``summary.attrs["months"]``.

    Returns
    -------
    pandas.DataFrame
        With ``attrs["rate_unit"]`` ("per 1,000 residents per year (annualised from …)").
    """
    months = tuple(months if months is not None else summary.attrs.get("months", ()))
    if not months:
        raise ValueError("The CSP summary should say which months it counts (pass 'months' "
                         "or set summary.attrs['months']); got neither.")
    rule = current_rule()
    table = protected_summary(summary, rule) if rule is not None else summary
    return annualise(table, months, ["rate_per_1000"])


def csp_cards(summary: pd.DataFrame, *, months=None, only: str | None = None,
              details: bool = False) -> None:
    """One card per CSP (or only the CSP `only`): incidents, annualised rate and share.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`ui.cached.csp_summary`.
    months : sequence of str, optional
        The months counted; by default ``summary.attrs["months"]``.
    only : str, optional
        LAD code of the one CSP to show.
    details : bool, default False
        Also the residents (Census 2021) and the LSOAs in IMD decile 1 (the Need page).
    """
    table = shown_summary(summary, months)
    rule = current_rule()
    unit = table.attrs["rate_unit"]
    rows = table if only is None else table[table["lad_code"] == only]
    decile_one = pd.Series(dtype="int64")
    if details:
        lsoas = cached.lsoa_table()
        decile_one = lsoas[lsoas["imd_decile"] == 1].groupby("lad_code").size()
    for column, row in zip(st.columns(len(rows)), rows.itertuples(index=False)):
        withheld = pd.isna(row.incidents)
        with column, st.container(border=True):
            # The name as a heading: a metric label is cut short ("East Riding of Yorkshire:
            # inci…") when four cards share a 1366-pixel screen.
            st.markdown(f"**{row.CSP}**")
            st.metric("Incidents",
                      f"<{rule.threshold}" if withheld else f"{int(row.incidents):,}")
            st.metric(RATE_LABEL, "withheld" if withheld else f"{row.rate_per_1000:,.2f}",
                      help=f"Incidents {unit}, per Census 2021 usual residents.")
            st.metric("Share of Humber total", "withheld" if withheld else f"{row.share_pct:.1f}%")
            if details:
                st.metric("Residents (Census 2021)", f"{int(row.population):,}")
                st.metric("LSOAs in IMD decile 1", f"{int(decile_one.get(row.lad_code, 0)):,}",
                          help="Among the 10% most deprived LSOAs in England (IoD 2025).")
    st.caption(f"Rates are incidents {unit}.")


def summary_table(summary: pd.DataFrame, *, months=None) -> None:
    """The CSPs side by side as a table (rates annualised, see :func:`shown_summary`)."""
    rule = current_rule()
    table = shown_summary(summary, months)
    unit = table.attrs["rate_unit"]
    if rule is not None:
        table["incidents"] = [shown_count(v, rule) if pd.notna(v) else f"<{rule.threshold}"
                              for v in table["incidents"]]
    table = table.round(2)
    shown = table.rename(columns={"population": "Residents (Census 2021)",
                                  "incidents": "Incidents",
                                  "rate_per_1000": RATE_LABEL,
                                  "share_pct": "Share of Humber total (%)"})
    st.dataframe(shown.drop(columns=["lad_code"]), hide_index=True, column_config={
        RATE_LABEL: st.column_config.NumberColumn(help=f"Incidents {unit}.", format="%.2f"),
        "Residents (Census 2021)": st.column_config.NumberColumn(format="localized")})
    notes = [f"Rates: incidents {unit}."]
    if rule is not None:
        notes.append(f"Counts rounded to multiples of {rule.rounding} (below {rule.threshold}: "
                     f"withheld); rates and shares computed from the rounded counts.")
    st.caption(" ".join(notes))


def trend_chart(months: tuple[str, ...], crime_group: str, *, area: str | None = None) -> None:
    """Incidents by month for each CSP (or one CSP), as a line chart."""
    trend = cached.csp_trend(months, crime_group)
    if area is not None:
        trend = trend[[area]]
    rule = current_rule()
    if rule is not None:
        trend = protect_table(trend, rule, counts=list(trend.columns), text=False)
        st.caption(f"Monthly counts rounded to multiples of {rule.rounding}; months with "
                   f"fewer than {rule.threshold} incidents are left out.")
    st.vega_lite_chart(_trend_spec(trend), width="stretch")


@st.cache_data(show_spinner=False, max_entries=64)
def _trend_spec(trend: pd.DataFrame) -> dict:
    """:func:`trend_spec`, made once per selection."""
    return trend_spec(trend)


def trend_spec(trend: pd.DataFrame) -> dict:
    """Monthly counts on a real time axis, as a Vega-Lite spec: one line per run of
    consecutive stored months, so that months not stored show as gaps instead of being
    drawn side by side.

    Parameters
    ----------
    trend : pandas.DataFrame
        Incidents per month (index ``YYYY-MM``) and area (columns); missing values (months
        withheld for aggregate-only roles) are left out.

    Returns
    -------
    dict
        The spec, its rows inline (``Month`` is the month's first day at local midnight,
        as Vega-Lite reads a date without a time zone; ``run`` numbers the runs).
    """
    runs = {month: number for number, run in enumerate(pipeline.contiguous_runs(trend.index))
            for month in run}
    rows = [{"month": str(month), "Month": f"{month}-01T00:00:00", "run": runs[month],
             "Area": str(area), "Incidents": float(value) if value % 1 else int(value)}
            for area in trend.columns for month, value in trend[area].items()
            if pd.notna(value)]
    encoding = {
        "x": {"field": "Month", "type": "temporal", "title": "Month",
              "axis": {"format": "%Y-%m", "tickCount": "month"}},
        "y": {"field": "Incidents", "type": "quantitative", "title": "Incidents per month"},
        "color": {"field": "Area", "type": "nominal", "title": None},
        "tooltip": [{"field": "Area", "type": "nominal"},
                    {"field": "month", "type": "nominal", "title": "Month"},
                    {"field": "Incidents", "type": "quantitative", "format": ","}]}
    return {"$schema": "https://vega.github.io/schema/vega-lite/v6.json",
            "data": {"values": rows},
            "layer": [{"mark": {"type": "line"},
                       "encoding": {**encoding, "detail": {"field": "run", "type": "nominal"}}},
                      {"mark": {"type": "point", "filled": True, "size": 40},
                       "encoding": encoding}]}
