"""The Need page's pieces: where the CSP shares come from, the table, the map and the scatter.

The CSP cards are :func:`ui.summary_view.csp_cards`, shared with the overview and CSP pages.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from config import AppConfig
from config.harm import HARM_LABEL
from geodata.csv_safety import frame_to_csv_bytes
from geodata.sources import load_sources
from hotspots.disclosure import DisclosureRule
from hotspots.need import BIVARIATE_PALETTE, DOMAIN_KEYS, share_explanation
from ui import cached, deck
from ui.access import record_export
from ui.disclosure import current_rule
from ui.map_view import focus_bounds, focus_records
from ui.summary_view import shown_summary

DOMAIN_LABELS = {"imd": "IMD", "income": "Income", "employment": "Employment",
                 "education": "Education", "health": "Health", "crime": "Crime",
                 "housing_and_services": "Housing & services", "environment": "Environment"}
RATE = "Rate per 1,000 per year"
RATE_16_34 = "Rate per 1,000 aged 16–34 per year"
HARM = HARM_LABEL
HARM_RATE = "Harm per 1,000 per year"
#: Column headers of the Need table, in the order shown: the LSOA (pinned), then what a
#: commissioner reads first (in a hotspot, incidents, rate, change, residents, deprivation),
#: then the rest (shown with "Show every column").
COLUMNS = {"lsoa21nm": "LSOA", "in_hotspot": "In a hotspot", "incidents": "Incidents",
           "rate_per_1000": RATE, "change": "Change", "change_pct": "Change (%)",
           "population": "Residents", "imd_decile": "IMD decile", "ward_name": "Ward",
           "incidents_before": "Incidents, previous period",
           "rate_16_34_per_1000": RATE_16_34, "population_16_34": "Residents aged 16–34",
           "imd_rank": "IMD rank", "imd_score": "IMD score",
           **{f"{d}_decile": f"{DOMAIN_LABELS[d]} decile" for d in DOMAIN_KEYS if d != "imd"},
           "lsoa21cd": "LSOA code"}
#: Shown without "Show every column" (the others are in the table and its CSV, one click away).
KEY_COLUMNS = ("LSOA", "In a hotspot", "Incidents", RATE, "Change", "Change (%)", "Residents",
               "IMD decile", "Ward")
HARM_COLUMNS = {"harm": HARM, "harm_per_1000": HARM_RATE}


def need_table(config: AppConfig, area_code: str | None, months: tuple[str, ...],
               crime_group: str, *, measure: str = "count",
               rule: DisclosureRule | None = None) -> pd.DataFrame:
    """The Need page's LSOA table (:func:`ui.cached.need_table`), its "in a hotspot" flag
    from the hotspots at the area's back-tested bandwidth and the default threshold."""
    return cached.need_table(
        area_code, months, crime_group,
        bandwidth=cached.default_bandwidth(area_code, crime_group),
        cell_size=float(config.setting("kde_cell_size").default),
        threshold_method=str(config.setting("hotspot_threshold_method").default),
        threshold_value=float(config.setting("hotspot_top_percent").default),
        measure=measure, disclosure=rule)


def share_note(summary: pd.DataFrame, months: tuple[str, ...], crime_group: str,
               config: AppConfig) -> None:
    """Which data and months each CSP's share comes from, and why published shares differ."""
    shown = shown_summary(summary, months)
    stored = set(cached.store().ingests().query("status == 'ingested'")["source"])
    specs = load_sources()
    sources = {name: specs[name].description if name in specs else name
               for name in sorted(stored)} or {"police_uk": specs["police_uk"].description}
    st.caption(share_explanation(shown, months=months, crime_group=crime_group,
                                 crime_types=config.crime_group(crime_group).types,
                                 sources=sources))


def filtered(table: pd.DataFrame, *, key: str) -> pd.DataFrame:
    """Filters above the table: text search, hotspot membership, deprivation deciles."""
    left, middle, right = st.columns([2, 1, 2])
    text = left.text_input("Search LSOA, code or ward", key=f"{key}_search")
    only_hot = middle.checkbox("Only LSOAs in a hotspot", key=f"{key}_hot")
    # A range of deciles as two plain choices: a range slider's end labels overlapped its
    # value labels in the narrow column.
    low_col, high_col = right.columns(2)
    deciles = list(range(1, 11))
    names = {1: "1 (most deprived)", 10: "10 (least deprived)"}
    low = low_col.selectbox("IMD decile from", deciles, index=0, key=f"{key}_decile_from",
                            format_func=lambda d: names.get(d, str(d)),
                            help="IoD 2025 decile of the LSOA in England: 1 is the 10% most "
                                 "deprived.")
    high = high_col.selectbox("to", deciles, index=9, key=f"{key}_decile_to",
                              format_func=lambda d: names.get(d, str(d)))
    low, high = min(low, high), max(low, high)
    keep = table["imd_decile"].between(low, high)
    if only_hot:
        keep &= table["in_hotspot"].astype(bool)
    if text.strip():
        needle = text.strip().lower()
        keep &= (table["lsoa21nm"].str.lower().str.contains(needle, regex=False)
                 | table["lsoa21cd"].str.lower().str.contains(needle, regex=False)
                 | table["ward_name"].str.lower().str.contains(needle, regex=False))
    result = table[keep.to_numpy(bool)]
    result.attrs = dict(table.attrs)  # the rate unit and the comparison go with the rows
    return result


def _counts_as_text(table: pd.DataFrame, rule: DisclosureRule) -> pd.DataFrame:
    """A protected need table (:func:`hotspots.need.protect_need_table`) with its counts as
    text: "<5" where suppressed, else the rounded count."""
    shown = table.copy()
    for column, flag in (("incidents", "suppressed"), ("incidents_before", "suppressed_before")):
        shown[column] = [f"<{rule.threshold}" if small else ("" if pd.isna(v) else f"{int(v):,}")
                         for v, small in zip(table[column], table[flag])]
    return shown


def shown_table(table: pd.DataFrame) -> pd.DataFrame:
    """The need table with human headers, "In a hotspot" as Yes/No, in the order shown.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`hotspots.need.annualised` of the (exact or protected) need table; with
        disclosure control, counts as text (:func:`_counts_as_text`).

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`COLUMNS` (and the harm columns, after the rate, when ranked by
        harm), renamed.
    """
    columns = dict(COLUMNS)
    if "harm" in table:  # ranked by harm: show it beside the rate
        keys = list(columns)
        at = keys.index("rate_per_1000") + 1
        columns = {k: columns.get(k, HARM_COLUMNS.get(k))
                   for k in [*keys[:at], *HARM_COLUMNS, *keys[at:]]}
    shown = table[list(columns)].rename(columns=columns)
    shown["In a hotspot"] = table["in_hotspot"].map({True: "Yes", False: "No"}).to_numpy()
    return shown


def lsoa_table(table: pd.DataFrame, *, file_name: str) -> None:
    """The sortable table and its CSV download (both with disclosure control if needed).

    `table` is annualised (:func:`hotspots.need.annualised`): its ``attrs`` carry the rate
    unit and the reason why change is shown or not (``attrs["comparison"]``).
    """
    rule = current_rule()
    unit = table.attrs.get("rate_unit", "per 1,000 residents")
    comparison = table.attrs.get("comparison", "")
    if rule is not None:  # the table came protected (cached.need_table): counts as text
        table = _counts_as_text(table, rule)
    shown = shown_table(table)
    no_change = shown["Change"].isna().all()
    st.caption(f"Rates: incidents {unit}. Change: {comparison}"
               + (" The change columns are empty." if no_change and len(shown) else ""))
    every = st.checkbox("Show every column", key="need_every_column",
                        help="Also the previous period's incidents, the 16–34 rate and "
                             "residents, the IMD rank and score, every deprivation domain's "
                             "decile and the LSOA code.")
    order = None if every else [c for c in shown.columns
                                if c in KEY_COLUMNS or c in HARM_COLUMNS.values()]
    change_help = f"Incidents now minus in the previous period. {comparison}"
    st.dataframe(shown, hide_index=True, height=420, column_order=order, placeholder="",
                 column_config={
        "LSOA": st.column_config.TextColumn(pinned=True, width=190,
                                            help="Lower-layer Super Output Area (2021): "
                                                 "about 1,500 residents."),
        "In a hotspot": st.column_config.TextColumn(
            width=90, help="Yes: at least one incident inside a current hotspot outline."),
        "Incidents": st.column_config.Column(width=80),
        RATE: st.column_config.NumberColumn(format="%.2f", width=150,
                                            help=f"Incidents {unit}."),
        RATE_16_34: st.column_config.NumberColumn(
            format="%.2f", help=f"All incidents {unit.replace('residents', 'residents aged 16–34')}"
                                f" (police.uk records no ages)."),
        HARM: st.column_config.NumberColumn(
            format="%.0f", help="Incidents weighted by the harm of their crime type: ONS Crime "
                                "Severity Score, in days of custody equivalent (the average "
                                "sentence), over the selected months."),
        HARM_RATE: st.column_config.NumberColumn(
            format="%.1f", help=f"{HARM_LABEL} {unit}."),
        "Change": st.column_config.NumberColumn(width=75, help=change_help),
        "Change (%)": st.column_config.NumberColumn(format="%.0f%%", width=90,
                                                    help=change_help),
        "IMD decile": st.column_config.NumberColumn(
            width=85, help="Index of Multiple Deprivation 2025: 1 = the 10% most deprived "
                           "LSOAs in England."),
        "IMD score": st.column_config.NumberColumn(format="%.1f"),
        "Residents": st.column_config.NumberColumn(format="localized", width=90,
                                                   help="Census 2021 usual residents."),
        "Residents aged 16–34": st.column_config.NumberColumn(format="localized")})
    st.download_button("Download this table (CSV)", frame_to_csv_bytes(csv_figures(shown)),
                       file_name=file_name, mime="text/csv", key="need_download",
                       on_click=record_export, args=(f"need table {file_name}", len(shown)))


#: Decimals of the figures in the Need table's CSV, as the table shows them.
CSV_DECIMALS = {RATE: 2, RATE_16_34: 2, HARM_RATE: 1, HARM: 0, "IMD score": 1,
                "Change (%)": 0}


def csv_figures(shown: pd.DataFrame) -> pd.DataFrame:
    """The table as its CSV carries it: rates and scores rounded as the page shows them."""
    return shown.round({c: d for c, d in CSV_DECIMALS.items() if c in shown.columns})


def bivariate_map(table: pd.DataFrame, area_code: str | None, config: AppConfig, *,
                  focus: dict | None = None) -> None:
    """LSOAs coloured by rate tercile × IMD tercile, with a 3 × 3 legend.

    `focus` (from "find a place") zooms the map there and outlines it.
    """
    lsoas = cached.lsoa_table()
    lsoas = lsoas[lsoas["lsoa21cd"].isin(table["lsoa21cd"])]
    rule = current_rule()  # for partner and public the table came protected
    rows = {row.lsoa21cd: row for row in table.itertuples(index=False)}
    records = cached.boundary_records("lsoa", lsoas["lsoa21cd"], "lsoa21cd")
    for record in records:
        row = rows[record["lsoa21cd"]]
        record["fill"] = [*BIVARIATE_PALETTE[int(row.rate_tercile) - 1]
                          [int(row.imd_tercile) - 1], 230]
        if pd.isna(row.incidents):
            counts = f"Incidents: <{rule.threshold}; rate withheld"
        else:
            rate = "n/a" if pd.isna(row.rate_per_1000) else f"{row.rate_per_1000:,.2f}"
            counts = f"Incidents: {int(row.incidents):,}; rate per 1,000 per year: {rate}"
        record["tooltip"] = deck.tooltip_text(  # plain text: the deck shows it as text
            str(row.lsoa21nm),
            [counts, f"IMD decile {int(row.imd_decile)}, score {row.imd_score:.1f}"])
    layer = deck.choropleth_layer(records)
    layer.opacity = 0.85
    lads = cached.lad_boundaries()
    if area_code is not None:
        lads = lads[lads["lad_code"] == area_code]
    layers = [layer, deck.boundary_layer(cached.boundary_records("lad", lads["lad_code"],
                                                                 "lad_code"),
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
    """The 3 × 3 legend: violence rate third upwards, deprivation third to the right."""
    cells = []
    for rate in (3, 2, 1):
        row = "".join(
            f'<td style="width:26px;height:20px;background:rgb({r},{g},{b})"></td>'
            for r, g, b in BIVARIATE_PALETTE[rate - 1])
        cells.append(f"<tr><td style='font-size:11px;padding-right:4px'>"
                     f"{['low', 'middle', 'high'][rate - 1]}</td>{row}</tr>")
    return ('<div style="font-size:12px"><b>Violence rate</b> (rows: the low, middle and high '
            'third of this area\'s LSOAs) × <b>deprivation, IMD</b> (columns: least → most '
            'deprived third)'
            f'<table style="border-collapse:collapse;margin-top:4px">{"".join(cells)}</table>'
            'Dark blue: high violence and high deprivation. (Thirds are terciles; see the '
            'Glossary.)</div>')


def scatter(table: pd.DataFrame) -> None:
    """Rate against IMD score, one point per LSOA, named on hover.

    `table` is annualised (:func:`hotspots.need.annualised`); its ``attrs["rate_unit"]``
    names the rate's period.
    """
    unit = table.attrs.get("rate_unit", "per 1,000 residents")
    frame = table[["lsoa21nm", "ward_name", "rate_per_1000", "imd_score", "imd_decile",
                   "incidents", "in_hotspot"]].copy()
    frame["in_hotspot"] = frame["in_hotspot"].map({True: "Yes", False: "No"})
    # For partner and public the table came protected: suppressed LSOAs have no point.
    frame = frame.dropna(subset=["rate_per_1000", "incidents"])
    chart = alt.Chart(frame).mark_circle(size=45, opacity=0.7).encode(
        x=alt.X("imd_score:Q", title="IMD 2025 score (higher = more deprived)"),
        y=alt.Y("rate_per_1000:Q", title=f"Incidents {unit.split(' (')[0]}"),
        color=alt.Color("in_hotspot:N", title="In a hotspot",
                        scale=alt.Scale(domain=["No", "Yes"], range=["#8c96c6", "#d7191c"])),
        tooltip=[alt.Tooltip("lsoa21nm:N", title="LSOA"), alt.Tooltip("ward_name:N",
                                                                        title="Ward"),
                 alt.Tooltip("rate_per_1000:Q", title=RATE, format=".2f"),
                 alt.Tooltip("incidents:Q", title="Incidents"),
                 alt.Tooltip("imd_decile:Q", title="IMD decile"),
                 alt.Tooltip("in_hotspot:N", title="In a hotspot")])
    st.altair_chart(chart, width="stretch")
    st.caption(f"Rate: incidents {unit}.")
