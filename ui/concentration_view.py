"""How concentrated violence is: the Lorenz chart and the plain-language sentence.

Shown on the overview and the Need page. For aggregate-only roles (partner, public) only
shares and coefficients are shown (no incident or place-level counts, no harm), and the curve
is drawn at a few shares of places only.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from config.harm import HARM_LABEL
from hotspots.concentration import PLACE_KINDS, PLACE_LABELS, concentration_sentence
from ui import cached
from ui.disclosure import current_rule

#: Shares of places (per cent) at which aggregate-only roles see the curve.
COARSE_SHARES = (0, 1, 2, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100)
MEASURE_LABELS = {"count": "Incidents", "harm": HARM_LABEL}


def curve_frame(results, *, coarse: bool) -> pd.DataFrame:
    """Long table of the curves: place kind, measure, % of places, % of the total."""
    rows = []
    for r in results:
        x = np.asarray(r.curve_x) * 100
        y = np.asarray(r.curve_y) * 100
        if coarse:
            x, y = np.asarray(COARSE_SHARES, float), np.interp(COARSE_SHARES, x, y)
        rows.append(pd.DataFrame({"Places": PLACE_LABELS[r.place],
                                  "Measure": MEASURE_LABELS[r.measure],
                                  "% of places (busiest first)": np.round(x, 2),
                                  "% of the total": np.round(y, 2)}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def figures_table(results, *, exact: bool) -> pd.DataFrame:
    """One row per kind of place and measure: places, Gini, generalised Gini, shares."""
    rows = []
    for r in results:
        row = {"Places": PLACE_LABELS[r.place], "Measure": MEASURE_LABELS[r.measure],
               "Number of places": r.places}
        if exact:
            row["Incidents"] = r.incidents
        row.update({"Gini": round(r.gini, 3),
                    "Generalised Gini": round(r.gini_generalised, 3),
                    "95% interval": (f"{r.ci_low:.3f}–{r.ci_high:.3f}"
                                     if r.ci_low == r.ci_low else "–"),
                    "% of places with half": round(r.share_of_places_for_half, 2),
                    "% of places with none": round(r.share_of_places_empty, 1)})
        rows.append(row)
    return pd.DataFrame(rows)


#: The section's heading, also its expander's label.
SECTION_LABEL = "How concentrated is it? Lorenz curves and Gini coefficients"


def concentration_section(area_code: str | None, months: tuple[str, ...],
                          crime_group: str, *, key: str) -> None:
    """The Lorenz chart (with the diagonal), the sentence and the figures of a selection, in
    an expander computed only while it is open.

    The figures need a bootstrap over three kinds of place (a sixth of an overview rerun),
    and they sit below the fold: a page computes them only once its viewer opens the
    section, and again on each selection change while it stays open. `key` names the
    expander (its open state lives in ``st.session_state[f"{key}_concentration"]``).
    """
    with st.expander(SECTION_LABEL, key=f"{key}_concentration", on_change="rerun") as section:
        if not section.open:
            return
        _concentration_figures(area_code, months, crime_group)


def _concentration_figures(area_code: str | None, months: tuple[str, ...],
                           crime_group: str) -> None:
    rule = current_rule()
    results = cached.concentration(area_code, months, crime_group)
    if rule is not None:  # counts only: a harm total with known weights gives counts back
        results = [r for r in results if r.measure == "count"]
    if not results or results[0].incidents == 0:
        st.info("No incidents in this selection, so there is no concentration to measure.")
        return
    if rule is not None and results[0].incidents < rule.threshold:
        st.info(f"Fewer than {rule.threshold} incidents in this selection: concentration "
                f"figures are withheld.")
        return
    st.markdown(concentration_sentence(results))
    frame = curve_frame(results, coarse=rule is not None)
    diagonal = alt.Chart(pd.DataFrame({"x": [0, 100], "y": [0, 100]})).mark_line(
        color="#999999", strokeDash=[4, 4]).encode(x="x:Q", y="y:Q")
    lines = alt.Chart(frame).mark_line().encode(
        x=alt.X("% of places (busiest first):Q", scale=alt.Scale(domain=[0, 100])),
        y=alt.Y("% of the total:Q", scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("Places:N", sort=[PLACE_LABELS[k] for k in PLACE_KINDS]),
        strokeDash=alt.StrokeDash("Measure:N"),
        tooltip=list(frame.columns))
    left, right = st.columns([3, 2])
    with left:
        st.altair_chart((diagonal + lines).properties(height=320), width="stretch")
        st.caption("Lorenz curves drawn from the busiest place: the share of all incidents (or "
                   "harm) held by the busiest x% of places. The dashed diagonal is no "
                   "concentration; the further above it, the more concentrated. Places "
                   "include those with no incident: every police.uk map point stored in the "
                   "area, every 100 m cell of the area, every LSOA.")
    with right:
        st.dataframe(figures_table(results, exact=rule is None), hide_index=True)
        st.caption("Generalised Gini (Bernasco & Steenbeek 2017): the plain Gini is biased "
                   "upwards when there are more places than incidents; the generalised one "
                   "measures against the most equal spread possible (one incident per place). "
                   "Interval: basic bootstrap, incidents resampled (200 samples, seed 0). "
                   "See docs/methods.md.")
