"""The Need page's pieces: CSP cards, the LSOA table, the bivariate map and the scatter."""

from __future__ import annotations

import html

import altair as alt
import pandas as pd
import streamlit as st

from config import AppConfig
from geodata.csv_safety import frame_to_csv_bytes
from hotspots.disclosure import DisclosureRule
from hotspots.need import BIVARIATE_PALETTE, DOMAIN_KEYS
from ui import data, deck
from ui.access import record_export
from ui.disclosure import current_rule
from ui.map_view import focus_bounds, focus_records
from ui.summary_view import protected_summary

DOMAIN_LABELS = {"imd": "IMD", "income": "Income", "employment": "Employment",
                 "education": "Education", "health": "Health", "crime": "Crime",
                 "housing_and_services": "Housing & services", "environment": "Environment"}
COLUMNS = {"lsoa21cd": "LSOA code", "lsoa21nm": "LSOA", "ward_name": "Ward",
           "incidents": "Incidents", "rate_per_1000": "Rate per 1,000",
           "rate_16_34_per_1000": "Rate per 1,000 aged 16–34", "imd_rank": "IMD rank",
           "imd_score": "IMD score", **{f"{d}_decile": f"{DOMAIN_LABELS[d]} decile"
                                        for d in DOMAIN_KEYS},
           "in_hotspot": "In a hotspot", "incidents_before": "Incidents, previous period",
           "change": "Change", "change_pct": "Change (%)", "population": "Residents",
           "population_16_34": "Residents aged 16–34"}


def csp_cards(config: AppConfig, months: tuple[str, ...], crime_group: str,
              only: str | None) -> None:
    """Population, incidents, rate, share of Humber and decile-1 LSOAs for each CSP."""
    summary = data.csp_summary(months, crime_group)
    lsoas = data.lsoa_table()
    decile_one = lsoas[lsoas["imd_decile"] == 1].groupby("lad_code").size()
    rule = current_rule()
    if rule is not None:  # rounded counts; rate and share from them
        summary = protected_summary(summary, rule)
    rows = summary if only is None else summary[summary["lad_code"] == only]
    for column, row in zip(st.columns(len(rows)), rows.itertuples(index=False)):
        small = pd.isna(row.incidents)
        with column, st.container(border=True):
            st.markdown(f"**{row.CSP}**")
            st.metric("Residents (Census 2021)", f"{int(row.population):,}")
            st.metric("Incidents", f"<{rule.threshold}" if small else f"{int(row.incidents):,}")
            st.metric("Rate per 1,000 residents",
                      "withheld" if small else f"{row.rate_per_1000:,.2f}")
            st.metric("Share of Humber total", "withheld" if small else f"{row.share_pct:.1f}%")
            st.metric("LSOAs in IMD decile 1", f"{int(decile_one.get(row.lad_code, 0)):,}")


def filtered(table: pd.DataFrame, *, key: str) -> pd.DataFrame:
    """Filters above the table: text search, hotspot membership, deprivation deciles."""
    left, middle, right = st.columns([2, 1, 2])
    text = left.text_input("Search LSOA, code or ward", key=f"{key}_search")
    only_hot = middle.checkbox("Only LSOAs in a hotspot", key=f"{key}_hot")
    deciles = right.slider("IMD deciles", 1, 10, (1, 10), key=f"{key}_deciles")
    keep = table["imd_decile"].between(*deciles)
    if only_hot:
        keep &= table["in_hotspot"]
    if text.strip():
        needle = text.strip().lower()
        keep &= (table["lsoa21nm"].str.lower().str.contains(needle, regex=False)
                 | table["lsoa21cd"].str.lower().str.contains(needle, regex=False)
                 | table["ward_name"].str.lower().str.contains(needle, regex=False))
    return table[keep.to_numpy(bool)]


def _counts_as_text(table: pd.DataFrame, rule: DisclosureRule) -> pd.DataFrame:
    """A protected need table (:func:`hotspots.need.protect_need_table`) with its counts as
    text: "<5" where suppressed, else the rounded count."""
    shown = table.copy()
    for column, flag in (("incidents", "suppressed"), ("incidents_before", "suppressed_before")):
        shown[column] = [f"<{rule.threshold}" if small else ("" if pd.isna(v) else f"{int(v):,}")
                         for v, small in zip(table[column], table[flag])]
    return shown


def lsoa_table(table: pd.DataFrame, *, file_name: str) -> None:
    """The sortable table and its CSV download (both with disclosure control if needed)."""
    rule = current_rule()
    if rule is not None:  # the table came protected (data.need_table): counts as text
        table = _counts_as_text(table, rule)
    columns = dict(COLUMNS)
    if "harm" in table:  # ranked by harm: show it beside the counts
        columns = {**{k: v for k, v in COLUMNS.items() if k in ("lsoa21cd", "lsoa21nm",
                                                                "ward_name")},
                   "harm": "Harm (CSS)", "harm_per_1000": "Harm per 1,000",
                   **{k: v for k, v in COLUMNS.items() if k not in ("lsoa21cd", "lsoa21nm",
                                                                    "ward_name")}}
    shown = table[list(columns)].rename(columns=columns)
    st.dataframe(shown, hide_index=True, height=420, column_config={
        "Rate per 1,000": st.column_config.NumberColumn(format="%.2f"),
        "Rate per 1,000 aged 16–34": st.column_config.NumberColumn(format="%.2f"),
        "IMD score": st.column_config.NumberColumn(format="%.1f"),
        "Change (%)": st.column_config.NumberColumn(format="%.0f%%"),
        "Residents": st.column_config.NumberColumn(format="localized"),
        "Residents aged 16–34": st.column_config.NumberColumn(format="localized")})
    st.download_button("Download this table (CSV)", frame_to_csv_bytes(csv_figures(shown)),
                       file_name=file_name, mime="text/csv", key="need_download",
                       on_click=record_export, args=(f"need table {file_name}", len(shown)))


#: Decimals of the figures in the Need table's CSV, as the table shows them.
CSV_DECIMALS = {"Rate per 1,000": 2, "Rate per 1,000 aged 16–34": 2, "Harm per 1,000": 2,
                "Harm (CSS)": 0, "IMD score": 1, "Change (%)": 0}


def csv_figures(shown: pd.DataFrame) -> pd.DataFrame:
    """The table as its CSV carries it: rates and scores rounded as the page shows them."""
    return shown.round({c: d for c, d in CSV_DECIMALS.items() if c in shown.columns})


def bivariate_map(table: pd.DataFrame, area_code: str | None, config: AppConfig, *,
                  focus: dict | None = None) -> None:
    """LSOAs coloured by rate tercile × IMD tercile, with a 3 × 3 legend.

    `focus` (from "find a place") zooms the map there and outlines it.
    """
    lsoas = data.lsoa_table()
    lsoas = lsoas[lsoas["lsoa21cd"].isin(table["lsoa21cd"])]
    rule = current_rule()  # for partner and public the table came protected
    by_code = table.set_index("lsoa21cd")
    records = deck.polygon_records(lsoas, ["lsoa21cd"])
    for record in records:
        row = by_code.loc[record["lsoa21cd"]]
        record["fill"] = [*BIVARIATE_PALETTE[int(row.rate_tercile) - 1]
                          [int(row.imd_tercile) - 1], 230]
        if pd.isna(row.incidents):
            counts = f"Incidents: &lt;{rule.threshold}; rate withheld"
        else:
            rate = "n/a" if pd.isna(row.rate_per_1000) else f"{row.rate_per_1000:,.2f}"
            counts = f"Incidents: {int(row.incidents):,}; rate per 1,000: {rate}"
        record["tooltip"] = (f"<b>{html.escape(str(row.lsoa21nm))}</b><br/>{counts}<br/>"
                             f"IMD decile {int(row.imd_decile)}, score {row.imd_score:.1f}")
    layer = deck.choropleth_layer(records)
    layer.opacity = 0.85
    lads = data.lad_boundaries()
    if area_code is not None:
        lads = lads[lads["lad_code"] == area_code]
    layers = [layer, deck.boundary_layer(deck.polygon_records(lads, ["lad_code"]),
                                         layer_id="csp_boundaries", colour=deck.LAD_COLOUR,
                                         width_px=2.0)]
    bounds = tuple(lsoas.total_bounds)
    if focus is not None:
        layers.append(deck.focus_layer(focus_records(focus)))
        bounds = focus_bounds(focus)
    chart = deck.build_deck(layers, deck.view_for_bounds(bounds),
                            basemap_style=str(config.setting("basemap_style").default))
    st.pydeck_chart(chart, height=520, key="need_map")
    st.html(legend_html())


def legend_html() -> str:
    """The 3 × 3 legend: rate tercile upwards, deprivation tercile to the right."""
    cells = []
    for rate in (3, 2, 1):
        row = "".join(
            f'<td style="width:26px;height:20px;background:rgb({r},{g},{b})"></td>'
            for r, g, b in BIVARIATE_PALETTE[rate - 1])
        cells.append(f"<tr><td style='font-size:11px;padding-right:4px'>"
                     f"{['low', 'middle', 'high'][rate - 1]}</td>{row}</tr>")
    return ('<div style="font-size:12px"><b>Violence rate tercile</b> (rows) × '
            '<b>IMD tercile</b> (columns, least → most deprived of this area)'
            f'<table style="border-collapse:collapse;margin-top:4px">{"".join(cells)}</table>'
            'Dark blue: high violence and high deprivation.</div>')


def scatter(table: pd.DataFrame) -> None:
    """Rate against IMD score, one point per LSOA, named on hover."""
    frame = table[["lsoa21nm", "ward_name", "rate_per_1000", "imd_score", "imd_decile",
                   "incidents", "in_hotspot"]]
    # For partner and public the table came protected: suppressed LSOAs have no point.
    frame = frame.dropna(subset=["rate_per_1000", "incidents"])
    chart = alt.Chart(frame).mark_circle(size=45, opacity=0.7).encode(
        x=alt.X("imd_score:Q", title="IMD 2025 score (higher = more deprived)"),
        y=alt.Y("rate_per_1000:Q", title="Incidents per 1,000 residents"),
        color=alt.Color("in_hotspot:N", title="In a hotspot",
                        scale=alt.Scale(domain=[False, True], range=["#8c96c6", "#d7191c"])),
        tooltip=[alt.Tooltip("lsoa21nm:N", title="LSOA"), alt.Tooltip("ward_name:N",
                                                                        title="Ward"),
                 alt.Tooltip("rate_per_1000:Q", title="Rate per 1,000", format=".2f"),
                 alt.Tooltip("incidents:Q", title="Incidents"),
                 alt.Tooltip("imd_decile:Q", title="IMD decile")])
    st.altair_chart(chart, width="stretch")
