"""The Methods page's rendering helpers: back-test table, charts and plain-English notes.

No unsafe HTML: data strings (method labels, area names, months) only reach the page through
``st.dataframe``, Vega-Lite charts and Markdown text that is escaped with :func:`md`.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Sequence

import altair as alt
import pandas as pd
import streamlit as st

from hotspots.backtest import SCORERS
from hotspots.coverage import top_cell_count

DEFAULT_MARK = "★ default"
NAIVE_KIND = "naive"
#: Colours: the default method in the map's hotspot red, the naive baseline in dark grey.
DEFAULT_COLOUR = "#d7191c"
NAIVE_COLOUR = "#404040"
OTHER_COLOURS = ["#0072b2", "#56b4e9", "#009e73", "#e69f00", "#cc79a7", "#8c564b", "#7f7f7f"]

TABLE_COLUMNS = {"method": "Method", "default": "Default", "coverage": "Coverage (%)",
                 "hit_rate_pct": "Hit rate (%)", "pai": "PAI", "rri": "RRI",
                 "pei_star": "PEI*", "used": "Used"}

METRICS_EXPLAINED = """
**How to read the numbers.** Each method looks only at the *training* months and ranks the
area's {cell:g} m grid squares from most to least likely to see the chosen crime. We then take
the top squares covering a given share of the area (the *coverage*: 1% of the squares, 2%, …)
and check them against what actually happened in the *test* month.

* **Hit rate**: the share of the test month's incidents that fell inside the selected squares.
  "At 5% coverage, hit rate 46%" means: patrolling the top 5% of the area would have covered
  46% of that month's incidents.
* **PAI** (Predictive Accuracy Index): the hit rate divided by the share of the area selected,
  so how many times more concentrated the incidents were in the selected squares than if they
  had been spread evenly. PAI 1 is no better than picking squares at random; PAI 10 means the
  selected squares held ten times their "fair share" of incidents.
* **RRI** (Recapture Rate Index): how the selected squares' count in the test month compares
  with their count in the training months, relative to the whole area. Above 1: the selected
  places got relatively *busier*; below 1: they cooled down. Blank when the selected squares
  had no training incidents.
* **PEI\\*** (Predictive Efficiency Index*): the incidents caught over the most that *any*
  squares of the same total area could have caught (the busiest squares of the test month,
  known only afterwards). 1 is perfect; 0.5 means half of what was possible.

A method with a higher hit rate (and so PAI) at the same coverage predicted better. Compare
methods at the same coverage only: bigger coverage always catches more but is less focused.
"""


def md(text: object) -> str:
    """Escape a data string for Markdown (no HTML, links, emphasis or LaTeX from data)."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:])", r"\\\1", str(text))


def month_name(month: str) -> str:
    """``"2024-03"`` -> ``"March 2024"`` (anything else is returned unchanged)."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", str(month))
    if not match or not 1 <= int(match.group(2)) <= 12:
        return str(month)
    return f"{calendar.month_name[int(match.group(2))]} {match.group(1)}"


def months_text(months: Sequence[str]) -> str:
    """A readable list of months: ``"January 2024, February 2024"``."""
    return ", ".join(month_name(m) for m in sorted(months))


def _pct(value: float) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{100 * value:.1f}%"


def display_table(table: pd.DataFrame, *, default_label: str) -> pd.DataFrame:
    """The back-test table as shown: method, ★ default, coverage, hit rate %, PAI, RRI, PEI*.

    Rows are grouped by coverage (methods in the library's order within each), so the methods
    are compared at the same coverage; numbers are rounded for reading. "Used" says what a
    method really used when its label cannot (DBSCAN's radius), or "not scored: why".
    """
    shown = table.copy()
    shown["used"] = [f"not scored: {used}" if status != "scored" else used
                     for status, used in zip(shown["status"], shown["used"])]
    shown["default"] = (shown["method"] == default_label).map({True: DEFAULT_MARK, False: ""})
    shown["hit_rate_pct"] = (100 * shown["hit_rate"]).round(1)
    shown["pai"] = shown["pai"].round(1)
    shown["rri"] = shown["rri"].round(2)
    shown["pei_star"] = shown["pei_star"].round(2)
    shown["order"] = range(len(shown))
    shown = shown.sort_values(["coverage", "order"], kind="stable")
    return shown[list(TABLE_COLUMNS)].rename(columns=TABLE_COLUMNS).reset_index(drop=True)


def results_table(table: pd.DataFrame, *, default_label: str) -> None:
    """Render the back-test table with the default method's rows highlighted."""
    shown = display_table(table, default_label=default_label)

    def highlight(row: pd.Series) -> list[str]:
        style = "background-color: #fde0dd; font-weight: bold" if row["Default"] else ""
        return [style] * len(row)

    styled = shown.style.apply(highlight, axis=1).format(
        {"Coverage (%)": "{:g}", "Hit rate (%)": "{:.1f}", "PAI": "{:.1f}", "RRI": "{:.2f}",
         "PEI*": "{:.2f}"}, na_rep="–")
    st.dataframe(styled, hide_index=True, height=38 + 35 * len(shown),
                 key="methods_table",
                 column_config={
                     "Method": st.column_config.TextColumn(width="large"),
                     "Hit rate (%)": st.column_config.NumberColumn(
                         help="Share of the test month's incidents inside the selected squares."),
                     "PAI": st.column_config.NumberColumn(
                         help="Hit rate ÷ share of the area selected (1 = no better than "
                              "random)."),
                     "RRI": st.column_config.NumberColumn(
                         help="Test-to-training ratio in the selected squares, relative to "
                              "the whole area."),
                     "PEI*": st.column_config.NumberColumn(
                         help="Incidents caught ÷ the most any squares of the same area could "
                              "have caught (1 = perfect)."),
                     "Used": st.column_config.TextColumn(
                         width="medium",
                         help="What the method really used when its name cannot say (the "
                              "DBSCAN radius), or why it could not score these months."),
                 })


def _colour_scale(labels: list[str], default_label: str, naive_label: str | None) -> alt.Scale:
    others = iter(OTHER_COLOURS * 3)
    colours = [DEFAULT_COLOUR if lab == default_label
               else NAIVE_COLOUR if lab == naive_label else next(others) for lab in labels]
    return alt.Scale(domain=labels, range=colours)


def metric_chart(table: pd.DataFrame, *, value: str, title: str, default_label: str,
                 percent: bool = False) -> alt.Chart:
    """A line per method of `value` against coverage; the default method drawn thick.

    Methods that could not score are left out (the table and a warning say why).
    """
    frame = table.loc[table["status"] == "scored", ["method", "kind", "coverage", value]].copy()
    frame["value"] = frame[value] * (100 if percent else 1)
    frame["is_default"] = frame["method"] == default_label
    labels = list(dict.fromkeys(frame["method"]))
    naive = frame.loc[frame["kind"] == NAIVE_KIND, "method"]
    scale = _colour_scale(labels, default_label, naive.iloc[0] if len(naive) else None)
    return (
        alt.Chart(frame, title=f"{title} by coverage")
        .mark_line(point=True)
        .encode(
            x=alt.X("coverage:Q", title="Coverage (% of the area's squares)",
                    scale=alt.Scale(zero=False),
                    axis=alt.Axis(values=sorted(frame["coverage"].unique().tolist()),
                                  labelExpr="datum.value + '%'")),
            y=alt.Y("value:Q", title=title),
            color=alt.Color("method:N", title="Method", scale=scale,
                            legend=alt.Legend(orient="right", labelLimit=340)),
            strokeWidth=alt.condition(alt.datum.is_default, alt.value(4), alt.value(1.8)),
            tooltip=[alt.Tooltip("method:N", title="Method"),
                     alt.Tooltip("coverage:Q", title="Coverage (%)", format=".1~f"),
                     alt.Tooltip("value:Q", title=title, format=".1f")],
        )
        .properties(height=300)
    )


def charts(table: pd.DataFrame, *, default_label: str) -> None:
    """PAI by coverage and hit rate by coverage, one under the other."""
    st.altair_chart(metric_chart(table, value="pai", title="PAI", default_label=default_label),
                    width="stretch", key="methods_pai_chart")
    st.caption("PAI by coverage: how many times more concentrated the test month's incidents "
               "were in the selected squares than across the whole area. Higher is better; "
               "the default method is the thick red line, the naive baseline dark grey.")
    st.altair_chart(metric_chart(table, value="hit_rate", title="Hit rate (%)",
                                 default_label=default_label, percent=True),
                    width="stretch", key="methods_hit_chart")
    st.caption("Hit rate by coverage: the share of the test month's incidents caught. It "
               "always grows with coverage; compare the lines at the same coverage.")


def comparison_sentences(table: pd.DataFrame, *, default_label: str,
                         test_months: Sequence[str],
                         coverages: Sequence[float] = (1.0, 5.0)) -> list[str]:
    """Plain sentences comparing the default method with the naive baseline, from `table`.

    At each of `coverages` present in the table (or, if none is, the smallest coverage
    evaluated). Says so plainly when the default did worse.
    """
    hit = table.pivot_table(index="coverage", columns="kind", values="hit_rate",
                            aggfunc="first")
    default_kind = table.loc[table["method"] == default_label, "kind"]
    if hit.empty or not len(default_kind) or NAIVE_KIND not in hit.columns:
        return []
    default_kind = default_kind.iloc[0]
    wanted = [c for c in coverages if c in hit.index] or [float(hit.index.min())]
    when = months_text(test_months)
    n_test = int(table["n_test"].iloc[0])
    sentences = []
    for cov in wanted:
        ours, naive = hit.loc[cov, default_kind], hit.loc[cov, NAIVE_KIND]
        if math.isnan(ours) or math.isnan(naive):
            continue
        diff = 100 * (ours - naive)
        verdict = ("the same as" if abs(diff) < 0.05 else
                   f"{abs(diff):.1f} points {'better than' if diff > 0 else 'worse than'}")
        sentences.append(
            f"At {cov:g}% of the area the default method caught {_pct(ours)} of {md(when)}'s "
            f"{n_test:,} incidents; the naive baseline (last period's counts) {_pct(naive)}: "
            f"{verdict} the baseline.")
    return sentences


def summary(table: pd.DataFrame, *, default_label: str, train_months: Sequence[str],
            test_months: Sequence[str], area_name: str, crime_group: str) -> None:
    """What was tested, the default-versus-baseline sentences, and small-sample warnings."""
    first = table.iloc[0]
    n_train, n_test = int(first["n_train"]), int(first["n_test"])
    st.markdown(
        f"**{md(area_name)}, {md(crime_group)}**: trained on {n_train:,} incidents in "
        f"{md(months_text(train_months))}; tested on {n_test:,} incidents in "
        f"{md(months_text(test_months))}. The area is {int(first['cells']):,} grid squares, so "
        f"1% coverage is {top_cell_count(int(first['cells']), 1.0):,} squares.")
    if n_test == 0:
        st.warning("No incidents of this group in the test month: the hit rate, PAI and PEI* "
                   "are undefined. Choose another month or a broader crime group.")
        return
    if n_train == 0:
        st.warning("No incidents of this group in the training months: every method is "
                   "guessing. Choose other training months.")
    for sentence in comparison_sentences(table, default_label=default_label,
                                         test_months=test_months):
        st.markdown(sentence)
    st.caption("Compare methods within one area and month, not areas with each other: in a "
               "large, mostly rural area (East Riding, the whole Humber) a few town centres "
               "hold most incidents, so every method scores a high hit rate and PAI at 1%.")
    if n_test < 50:
        st.info(f"Only {n_test} test incidents: a few incidents more or less in a square move "
                "these percentages by several points. Treat small differences as noise.")


def not_scored(table: pd.DataFrame) -> None:
    """A warning naming each method that could not score these months, and why."""
    lost = table.loc[table["status"] != "scored"].drop_duplicates("method")
    for row in lost.itertuples(index=False):
        st.warning(f"**{md(row.method)}** could not be scored on these months: {md(row.used)} "
                   "Its rows in the table are blank; the other methods are compared as usual.")


def methods_compared(table: pd.DataFrame, *, default_label: str) -> None:
    """What each method in the table does, from the methods registry (one line per kind).

    The default method's line says it is the one the map draws as the predicted cells.
    """
    labels = table.drop_duplicates("method").groupby("kind", sort=False)["method"].agg(list)
    lines = []
    for kind, names in labels.items():
        if kind not in SCORERS:
            continue
        note = (" The dashboard's default: the map's purple predicted cells."
                if default_label in names else "")
        lines.append(f"* {', '.join(f'**{md(label)}**' for label in names)}: "
                     f"{md(SCORERS[kind].description)}{md(note)}")
    st.markdown("**The methods compared.**\n\n" + "\n".join(lines))


def metrics_explained(cell_size: float) -> None:
    """The plain-English definitions of hit rate, PAI, RRI and PEI*."""
    st.markdown(METRICS_EXPLAINED.format(cell=cell_size))


def how_defaults_are_chosen(*, default_label: str, bandwidth: float | None,
                            candidates: Sequence[float], store_months: Sequence[str],
                            map_bandwidth: float, area_name: str, crime_group: str) -> None:
    """How the dashboard's default method and KDE bandwidth were chosen."""
    st.markdown(
        f"**Default method: {md(default_label)}.** Each 100 m square scores its own incidents "
        "in the training months, plus 0.25 × a 100 m Gaussian density of them (which breaks "
        "ties between squares with 0, 1 or 2 incidents in favour of busy surroundings), plus "
        "0.25 × its incidents of every *other* police.uk crime type (public order, ASB, "
        "shoplifting… mark the places where violence gets recorded). police.uk snaps "
        "incidents to a fixed set of anonymous map points, so last period's counts are a "
        "strong baseline that plain smoothing (KDE) loses to. The weights were tuned on train "
        "January 2024 → test February 2024 for serious violence in the four CSPs (best "
        "worst-case gain over the naive baseline at 1% and 5% coverage) and checked on train "
        "January–February 2024 → test March 2024, a month not used for tuning; the tests pin "
        "\"default ≥ naive at 1% and 5% in every CSP\" on that split. Details: "
        "`docs/methods.md`.")
    if bandwidth is None:
        st.markdown(f"**KDE bandwidth**: too few months or incidents of this group in "
                    f"{md(area_name)} to back-test one, so the map pages use the configured "
                    f"{map_bandwidth:g} m (`config/settings.toml`).")
        return
    months = sorted(store_months)
    tried = ", ".join(f"{b:g}" for b in candidates[:-1]) + f" and {candidates[-1]:g} m"
    st.markdown(
        f"**KDE bandwidth for {md(area_name)}, {md(crime_group)}: {bandwidth:g} m.** The map "
        "pages' density surface starts at the bandwidth that back-tests best: hold out the "
        f"latest month in the store ({md(month_name(months[-1]))}), train on the earlier ones "
        f"({md(months_text(months[:-1]))}), and keep the one of {tried} with the best average "
        "hit rate at 1% and 5% coverage (ties go to the smoother one). Narrower kernels are "
        "not tried: they break the surface into single police.uk map points, which the "
        "map's predicted-cells layer (the default method above) already shows better. The "
        "bandwidth slider on the map pages can still override it.")
