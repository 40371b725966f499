"""The tasking pack's "Responses under way and their results" section (issue 10).

:func:`responses_section` evaluates every response of a CSP that is under way at the pack's
last month (started on or before it, and not ended more than :data:`RECENT_MONTHS` months
before it; planned responses are counted, not evaluated) with
:func:`hotspots.responses.evaluate_in_store`: the same figures the Responses page shows for the
same hotspot outlines. It returns A4 page figures (footers are added by the caller) and the
table behind them. No Streamlit; every data string is drawn as plain text
(:mod:`reports.pdf`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from config import get_config
from config.response_types import get_response_types
from hotspots import responses as lib
from reports.pdf import (
    ACCENT,
    INK,
    MUTED,
    PLAIN_TEXT_RC,
    draw_table,
    fmt_float,
    fmt_int,
    new_page,
    plain,
    wrap,
)

__all__ = ["RECENT_MONTHS", "TABLE_COLUMNS", "responses_section", "under_way"]

#: A response that ended up to this many months before the pack's last month is still listed.
RECENT_MONTHS = 12
#: Responses given a page of their own (the table lists them all).
MAX_PAGES = 10
TABLE_COLUMNS = ["response_id", "title", "type", "lead_agency", "partners", "status",
                 "start_month", "end_month", "place", "months_before", "months_after",
                 "target_before", "target_after", "buffer_before", "buffer_after",
                 "control_before", "control_after", "control_kind", "control", "wdd",
                 "wdd_ci_low", "wdd_ci_high", "wdd_p", "wdd_target", "wdd_target_p", "wdq",
                 "wdq_reading", "outcome", "verdict"]
_COLOURS = {"target": ACCENT, "buffer": "#e08214", "control": "#2166ac"}
_NAMES = {"target": "Target (T)", "buffer": "Buffer (D)", "control": "Control (C)"}


def _shift(month: str, delta: int) -> str:
    index = int(month[:4]) * 12 + int(month[5:]) - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def under_way(responses, month_to: str) -> list:
    """Responses started on or before `month_to`, not planned, and not ended more than
    :data:`RECENT_MONTHS` months before it; oldest start first.
    """
    oldest_end = _shift(month_to, -RECENT_MONTHS)
    chosen = [r for r in responses if r.status != "planned" and r.start_month <= month_to
              and (r.end_month is None or r.end_month >= oldest_end)]
    return sorted(chosen, key=lambda r: (r.start_month, r.id))


def _row(response, result, error: str | None) -> dict:
    types = get_response_types()
    row = {"response_id": response.id, "title": response.title,
           "type": types.get(response.type, response.type),
           "lead_agency": response.lead_agency, "partners": ", ".join(response.partners),
           "status": response.status, "start_month": response.start_month,
           "end_month": response.end_month or "",
           "place": response.place.get("description", "")}
    if result is None:
        row.update({c: None for c in TABLE_COLUMNS if c not in row})
        row.update(outcome="not evaluated", verdict=f"Not evaluated: {error}")
        return row
    row.update(months_before=", ".join(result.months_before),
               months_after=", ".join(result.months_after),
               target_before=result.target_before, target_after=result.target_after,
               buffer_before=result.buffer_before, buffer_after=result.buffer_after,
               control_before=result.control_before, control_after=result.control_after,
               control_kind=result.extra.get("control_kind"), control=result.control,
               wdd=result.wdd, wdd_ci_low=result.wdd_ci[0], wdd_ci_high=result.wdd_ci[1],
               wdd_p=result.wdd_p, wdd_target=result.wdd_target,
               wdd_target_p=result.wdd_target_p, wdq=result.wdq,
               wdq_reading=result.wdq_reading or result.wdq_reason,
               outcome=lib.outcome(result), verdict=result.verdict)
    return row


def _summary_page(area_name: str, month_to: str, crime_group: str, table: pd.DataFrame,
                  summary: dict, planned: int, settings_text: str) -> Figure:
    fig = new_page()
    fig.text(0.06, 0.955, "Responses under way and their results", fontsize=14,
             fontweight="bold", va="top", color=INK)
    n = len(table)
    intro = (f"{area_name}, {crime_group}: {n} response(s) started by {month_to} and running "
             f"or ended within {RECENT_MONTHS} months of it"
             + (f" ({planned} more planned, not evaluated)" if planned else "")
             + ". Each is compared over the months before its start and from it: its place "
               "(T), a ring around it (D, displacement or diffusion) and a control (C: "
               "comparable hotspots of the CSP with no response in the period, else the rest "
               "of the CSP). WDD = net change in incidents in T + D against what the control "
               "implies (Wheeler & Ratcliffe 2018; negative = fewer); WDQ only when T improved "
               f"(Bowers & Johnson 2003). Hotspots: {settings_text}.")
    fig.text(0.06, 0.925, wrap(intro, 112), fontsize=8.2, va="top", linespacing=1.4)
    if summary["wdd"] is not None:
        low, high = summary["wdd_ci"]
        pooled = (f"All evaluated responses together: net change {summary['wdd']:+,.1f} "
                  f"incidents (95% interval {low:,.1f} to {high:,.1f}, p = "
                  f"{summary['wdd_p']:.3f}); {summary['reduction']} reduction(s), "
                  f"{summary['increase']} increase(s), {summary['no clear change']} with no "
                  f"clear change, {summary['too few incidents']} with too few incidents. "
                  f"{summary['caveat']}")
    else:
        pooled = "No response could be evaluated (no stored month before or from the start)."
    fig.text(0.06, 0.80, wrap(pooled, 112), fontsize=8.2, va="top", linespacing=1.4,
             color=INK)
    def missing(value) -> bool:
        return value is None or pd.isna(value)

    rows = [[str(r["response_id"]), plain(r["title"]), plain(r["type"]), r["start_month"],
             r["end_month"] or "–",
             "–" if missing(r["target_before"]) else
             f"{fmt_int(r['target_before'])} → {fmt_int(r['target_after'])}",
             "–" if missing(r["wdd"]) else fmt_float(r["wdd"], 1),
             "–" if missing(r["wdd_p"]) else f"{r['wdd_p']:.3f}", plain(r["outcome"])]
            for r in table.to_dict("records")]
    ax = fig.add_axes([0.06, 0.07, 0.88, 0.66])
    draw_table(ax, ["Id", "Response", "Type", "From", "To", "T before → after", "WDD",
                    "p", "Result"], rows,
               widths=[0.04, 0.24, 0.13, 0.07, 0.07, 0.15, 0.08, 0.07, 0.15],
               align=["right", "left", "left", "left", "left", "right", "right", "right",
                      "left"], row_height=0.028, empty="No responses under way.")
    return fig


def _response_page(response, result, row: dict) -> Figure:
    fig = new_page()
    fig.text(0.06, 0.955, wrap(f"Response {response.id}: {response.title}", 70), fontsize=13,
             fontweight="bold", va="top", color=INK)
    meta = (f"{row['type']} · lead: {response.lead_agency}"
            + (f" · partners: {row['partners']}" if row["partners"] else "")
            + f" · {response.status}, from {response.start_month}"
            + (f" to {response.end_month}" if response.end_month else "")
            + f" · place: {row['place']}")
    fig.text(0.06, 0.905, wrap(meta, 115), fontsize=8, va="top", color=MUTED,
             linespacing=1.35)
    months = [m["month"] for m in result.monthly]
    x = np.arange(len(months))
    start = months.index(result.start)
    for k, key in enumerate(("target", "buffer", "control")):
        ax = fig.add_axes([0.10, 0.70 - k * 0.105, 0.84, 0.085])
        values = np.array([m[key] if m["present"] else np.nan for m in result.monthly],
                          dtype=float)
        ax.plot(x, values, marker="o", color=_COLOURS[key], linewidth=1.5, markersize=3)
        ax.axvline(start - 0.5, color=INK, linestyle="--", linewidth=0.8)
        ax.set_ylabel(_NAMES[key], fontsize=7, rotation=0, ha="right", va="center")
        ax.set_xticks(x)
        ax.set_xticklabels(months if k == 2 else [""] * len(months), fontsize=6.5)
        ax.set_ylim(bottom=0)
        ax.spines[["top", "right"]].set_visible(False)
    fig.text(0.10, 0.805, "Incidents per month (months not in the data left out); dashed "
                          "line: the start.", fontsize=7.5, color=MUTED, va="top")
    rows = [["Target (the response's place)", fmt_int(result.target_before),
             fmt_int(result.target_after)],
            ["Buffer ring", fmt_int(result.buffer_before), fmt_int(result.buffer_after)],
            ["Control", fmt_int(result.control_before), fmt_int(result.control_after)]]
    ax = fig.add_axes([0.06, 0.36, 0.88, 0.1])
    draw_table(ax, ["Area", f"Before ({', '.join(result.months_before)})",
                    f"After ({', '.join(result.months_after)})"], rows,
               widths=[0.4, 0.3, 0.3], align=["left", "right", "right"], row_height=0.22)
    p = "–" if result.wdd_p is None else f"{result.wdd_p:.3f}"
    quotient = ("not shown: " + result.wdq_reason if result.wdq is None
                else f"{result.wdq:.2f} ({result.wdq_reading})")
    figures = (f"Net change in target + buffer (WDD): {fmt_float(result.wdd, 1)} incidents, "
               f"95% interval {fmt_float(result.wdd_ci[0], 1)} to "
               f"{fmt_float(result.wdd_ci[1], 1)}, p = {p}. Target only: "
               f"{fmt_float(result.wdd_target, 1)} (p = "
               f"{'–' if result.wdd_target_p is None else f'{result.wdd_target_p:.3f}'}). "
               f"WDQ: {quotient}. "
               f"Control: {result.control}.")
    fig.text(0.06, 0.335, wrap(figures, 115), fontsize=8, va="top", linespacing=1.35)
    fig.text(0.06, 0.215, wrap(result.verdict, 118), fontsize=7.6, va="top", linespacing=1.3,
             color=INK)
    return fig


def responses_section(area_code: str, month_to: str, *, incident_store, response_store,
                      hotspot_outlines, crime_group: str | None = None, pre: int = 3,
                      post: int = 3, buffer_m: float = lib.DEFAULT_BUFFER_M,
                      settings_text: str = "the pack's hotspot outlines"
                      ) -> tuple[list[Figure], pd.DataFrame]:
    """The pack's responses section: A4 pages and their table.

    Parameters
    ----------
    area_code : str
        The CSP (LAD code of ``config/areas.toml``).
    month_to : str
        The pack's last month (``YYYY-MM``): later stored months are not used.
    incident_store : geodata.store.IncidentStore
    response_store : geodata.responses.ResponseStore
    hotspot_outlines : geopandas.GeoDataFrame
        The pack's hotspot outlines (the map's, EPSG:27700, ``hotspot_id``): the control's
        comparable hotspots come from them.
    crime_group : str, optional
        Default ``config/crime_groups.toml``'s default.
    pre, post : int, default 3
        Months before the start, and from it.
    buffer_m : float, default DEFAULT_BUFFER_M
    settings_text : str
        How the outlines were drawn, for the page.

    Returns
    -------
    figures : list of matplotlib.figure.Figure
        A summary page, then one page per response (at most :data:`MAX_PAGES`), without
        footers.
    table : pandas.DataFrame
        :data:`TABLE_COLUMNS`, one row per response under way (``outcome`` "not evaluated"
        with the reason in ``verdict`` when the store has no month before or from the start).

    Raises
    ------
    ValueError
        For an unknown area, a malformed month or crime group.
    """
    from geodata.reference import load_lsoa_table

    config = get_config()
    if area_code not in config.area_codes:
        raise ValueError(f"The 'area_code' parameter of responses_section must be one of "
                         f"{list(config.area_codes)}. Got {area_code!r} instead.")
    lib.period_months(month_to, 1, 1)  # validates the month
    group = config.crime_group(crime_group or config.default_crime_group)
    lsoas = load_lsoa_table()
    every = response_store.list(lad_codes=[area_code])
    chosen = under_way(every, month_to)
    planned = sum(1 for r in every if r.status == "planned")
    rows, results = [], []
    for response in chosen:
        try:
            result = lib.evaluate_in_store(response, incident_store=incident_store,
                                           lsoas=lsoas, hotspot_outlines=hotspot_outlines,
                                           all_responses=every, crime_group=group.name,
                                           pre=pre, post=post, buffer_m=buffer_m,
                                           month_to=month_to)
            error = None
        except ValueError as exc:
            result, error = None, str(exc)
        rows.append(_row(response, result, error))
        results.append(result)
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    summary = lib.summarise_evaluations([r for r in results if r is not None])
    import matplotlib
    with matplotlib.rc_context(PLAIN_TEXT_RC):
        figures = [_summary_page(config.area(area_code).name, month_to, group.name, table,
                                 summary, planned, settings_text)]
        for response, result, row in zip(chosen, results, rows):
            if result is not None and len(figures) <= MAX_PAGES:
                figures.append(_response_page(response, result, row))
    return figures, table
