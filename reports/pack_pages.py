"""The pages of the tasking pack: layout only, from one :class:`PackContext`.

Every figure drawn here comes from the context that :func:`reports.tasking_pack.build_tasking_pack`
assembles from one analysis (:func:`hotspots.tasking.hotspots_with_change`); nothing here
reads the store or computes a statistic. Maps are in EPSG:27700 metres
(:mod:`reports.static_map`); every data string is drawn as plain text (:mod:`reports.pdf`).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import shapely
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from config.harm import HARM_LABEL
from hotspots.hotspot_profile import HotspotProfile
from hotspots.pipeline import period_label
from hotspots.rates import month_span
from hotspots.tasking import HotspotsWithChange
from reports import static_map
from reports.pdf import ACCENT, INK, MUTED, draw_table, fmt_float, fmt_int, new_page, plain, wrap

__all__ = ["ATTRIBUTION", "OGL_URL", "SOURCE_ATTRIBUTIONS", "PackContext", "footer",
           "page_hotspot", "page_methods", "page_ranking", "page_summary"]

#: Open Government Licence attributions (as the dashboard's ``ui.map_view.ATTRIBUTION``).
ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0 "
    "(data.police.uk). Boundaries and population: Office for National Statistics, OGL v3.0; "
    "contains OS data © Crown copyright and database right 2024. English Indices of "
    "Deprivation 2025, MHCLG, OGL v3.0.")

#: The attributions of ``data/SOURCES.md``, one per dataset.
SOURCE_ATTRIBUTIONS: tuple[tuple[str, str], ...] = (
    ("Crime", "Contains public sector information licensed under the Open Government Licence "
              "v3.0 (data.police.uk)."),
    ("Boundaries", "Source: Office for National Statistics licensed under the Open Government "
                   "Licence v3.0. Contains OS data © Crown copyright and database right 2024."),
    ("Deprivation", "English Indices of Deprivation 2025, Ministry of Housing, Communities and "
                    "Local Government (MHCLG), Open Government Licence v3.0."),
    ("Population", "Source: Office for National Statistics licensed under the Open Government "
                   "Licence v3.0."),
)

OGL_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"



@dataclass(frozen=True)
class PackContext:
    """Everything the pages draw, assembled once by ``build_tasking_pack``.

    ``analysis`` is the selection's one analysis (the map's, for the same filters);
    ``table`` its hotspots as written to ``hotspots.csv``; ``profiles`` one
    :class:`~hotspots.hotspot_profile.HotspotProfile` per hotspot; ``top`` the ids given a page;
    ``pages`` the total, extra pages (:attr:`extra_pages`) included.
    """

    area_name: str
    area_short: str
    area_code: str
    crime_group: str
    crime_types: tuple[str, ...]
    months: tuple[str, ...]
    missing_months: tuple[str, ...]
    data_line: str
    generated: str
    incidents: int
    population: int
    rate: float
    humber: int
    share: float
    monthly: pd.Series
    analysis: HotspotsWithChange
    area: object
    lsoas: gpd.GeoDataFrame
    all_lsoas: gpd.GeoDataFrame
    profiles: dict[int, HotspotProfile]
    table: pd.DataFrame
    top: list[int]
    bandwidth: float
    cell_size: float
    persistence_note: str
    harm_source: str
    pages: int
    measure: str = "count"

    @property
    def ranked_by(self) -> str:
        """What the hotspots are drawn and ranked by: ``"incidents"`` or ``"harm"``."""
        return "harm" if self.measure == "harm" else "incidents"

    def name(self, hotspot: int) -> str:
        """Return the hotspot's name, as the map shows it (``"Hotspot 2 — Newland Avenue"``)."""
        return self.analysis.names.get(int(hotspot), f"Hotspot {int(hotspot)}")


def footer(fig: Figure, ctx: PackContext, page: int) -> None:
    """Draw the footer: area, group, period, "Page N of M" and the licence line."""
    fig.text(0.06, 0.022,
             plain(f"{ctx.area_short} · {ctx.crime_group} · {period_label(ctx.months)}"),
             fontsize=6.5, color=MUTED)
    fig.text(0.94, 0.022, f"Page {page} of {ctx.pages}", fontsize=6.5, color=MUTED,
             ha="right")
    fig.text(0.06, 0.008, "Contains public sector information licensed under the Open "
             "Government Licence v3.0; full attributions on the last page.", fontsize=5.5,
             color=MUTED)


def _area_map(fig: Figure, rect, cbar_rect, ctx: PackContext, *, focus: int | None = None) -> None:
    """Draw the CSP map (focus None) or a zoom on one hotspot, in EPSG:27700 metres."""
    ax = fig.add_axes(rect)
    outlines = ctx.analysis.outlines
    if focus is None:
        bounds = ctx.area.bounds
        static_map.fit_extent(ax, bounds, pad=0.02)
    else:
        geom = outlines.loc[outlines["hotspot_id"] == focus].geometry.iloc[0]
        static_map.fit_extent(ax, geom.buffer(250).bounds, pad=0.05, min_size=1200.0)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    view = shapely.box(x0, y0, x1, y1)
    nearby = ctx.all_lsoas[ctx.all_lsoas.intersects(view)]
    static_map.draw_boundaries(ax, nearby.geometry, color="0.78", linewidth=0.25, zorder=2)
    inside = nearby[nearby["lad_code"] == ctx.area_code]
    static_map.draw_boundaries(ax, inside.geometry, color="0.55", linewidth=0.3, zorder=2)
    image = static_map.draw_density(ax, ctx.analysis.surface, clip=ctx.area)
    static_map.draw_boundaries(ax, [ctx.area], color="#222222", linewidth=1.0, zorder=4)
    if len(outlines):
        widths = [1.6 if focus is not None and i == focus else 0.9
                  for i in outlines["hotspot_id"]]
        for geom, width in zip(outlines.geometry, widths):
            static_map.draw_boundaries(ax, [geom], color=ACCENT, linewidth=width, zorder=6)
        shown = outlines[outlines["hotspot_id"].isin(ctx.top)]
        static_map.label_polygons(ax, shown.geometry, shown["hotspot_id"].astype(str),
                                  size=8 if focus is None else 10)
    static_map.add_scale_bar(ax)
    static_map.add_north_arrow(ax)
    if focus is None:
        handles = [Line2D([], [], color=ACCENT, linewidth=1.2,
                          label=f"Hotspot ({ctx.analysis.threshold_label}), numbered by rank"),
                   Line2D([], [], color="#222222", linewidth=1.0, label=f"{ctx.area_short} "
                                                                        "boundary"),
                   Line2D([], [], color="0.55", linewidth=0.6, label="2021 LSOAs")]
        ax.legend(handles=handles, loc="upper left", fontsize=6.5, frameon=True,
                  framealpha=0.85, edgecolor="none")
    if image is not None:
        bar = fig.colorbar(image, cax=fig.add_axes(cbar_rect), orientation="horizontal")
        unit = HARM_LABEL if ctx.measure == "harm" else "Incidents"
        bar.set_label(f"{unit} per km² over the period (Gaussian kernel density)", fontsize=6.5)
        bar.ax.tick_params(labelsize=6)


def _headline(fig: Figure, x: float, y: float, value: str, label: str, note: str) -> None:
    fig.text(x, y, value, fontsize=17, fontweight="bold", color=INK, va="top")
    fig.text(x, y - 0.027, label, fontsize=8, color=INK, va="top")
    fig.text(x, y - 0.043, note, fontsize=6.5, color=MUTED, va="top")


def page_summary(ctx: PackContext) -> Figure:
    """Page 1: the headline figures, the CSP map with the hotspots and the monthly trend."""
    fig = new_page()
    fig.text(0.06, 0.965, "Violence hotspot tasking pack", fontsize=9, color=MUTED, va="top")
    fig.text(0.06, 0.948, plain(ctx.area_name), fontsize=17, fontweight="bold", color=INK,
             va="top")
    fig.text(0.06, 0.927, plain(f"Community Safety Partnership ({ctx.area_code}), Humber "
                                "Violence Prevention Partnership"), fontsize=8.5, color=MUTED,
             va="top")
    plural = "s" if len(ctx.months) > 1 else ""
    months = (f"{period_label(ctx.months)} ({len(ctx.months)} month{plural}"
              + (f"; no data stored for {month_span(ctx.missing_months)}"
                 if ctx.missing_months else "") + ")")
    fig.text(0.06, 0.906, plain(f"{ctx.crime_group}  ·  {months}"), fontsize=9.5,
             color=INK, va="top")
    fig.text(0.06, 0.889, plain(f"{ctx.data_line}  ·  generated {ctx.generated}"),
             fontsize=7.5, color=MUTED, va="top")
    _headline(fig, 0.06, 0.866, fmt_int(ctx.incidents), "incidents",
              f"{ctx.crime_group}, {period_label(ctx.months)}")
    _headline(fig, 0.38, 0.866, fmt_float(ctx.rate, 1), "per 1,000 residents",
              f"over the period; Census 2021: {fmt_int(ctx.population)} residents")
    _headline(fig, 0.70, 0.866, f"{fmt_float(ctx.share, 1)}%", "of the Humber total",
              f"{fmt_int(ctx.incidents)} of {fmt_int(ctx.humber)} in the four CSPs")
    _area_map(fig, [0.06, 0.315, 0.88, 0.49], [0.2, 0.293, 0.6, 0.007], ctx)
    ax = fig.add_axes([0.09, 0.07, 0.85, 0.15])
    labels = list(ctx.monthly.index)
    values = ctx.monthly.to_numpy(dtype=int)
    bars = ax.bar(range(len(values)), values, color="#d6604d", width=0.7)
    ax.set_xticks(range(len(values)))
    step = max(1, len(values) // 12)
    ax.set_xticklabels([m if i % step == 0 else "" for i, m in enumerate(labels)])
    if len(values) <= 24:
        ax.bar_label(bars, labels=[fmt_int(v) for v in values], fontsize=6.5, padding=1.5)
    ax.set_ylabel("Incidents")
    ax.set_ylim(0, max(1, values.max(initial=0)) * 1.18)
    ax.set_title(f"Incidents per month, {ctx.area_short}", loc="left", fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    footer(fig, ctx, 1)
    return fig


def page_ranking(ctx: PackContext) -> Figure:
    """Page 2: every hotspot (up to 40) by name, ranked by the incidents (or harm) inside."""
    fig = new_page()
    fig.text(0.06, 0.955, f"Hotspots ranked by {ctx.ranked_by}", fontsize=14, fontweight="bold",
             va="top")
    n = len(ctx.table)
    intro = (f"{n} hotspot{'s' if n != 1 else ''}: the {ctx.analysis.threshold_label} by "
             f"kernel density ({ctx.bandwidth:g} m bandwidth, {ctx.cell_size:g} m cells), "
             f"outlined and ranked by the {ctx.ranked_by} inside. Hotspot 1 holds the most. "
             f"{fmt_int(int(ctx.table['incidents'].sum()) if n else 0)} of the "
             f"{fmt_int(ctx.incidents)} incidents "
             f"({fmt_float(ctx.table['share_pct'].sum() if n else 0, 1)}%) "
             f"fall inside a hotspot covering "
             f"{fmt_float(ctx.table['area_km2'].sum() if n else 0, 2)} km² "
             f"of {fmt_float(ctx.area.area / 1e6, 1)} km². "
             + ("Pages follow for the top "
                f"{len(ctx.top)}." if n else "No part of the area reaches the threshold."))
    fig.text(0.06, 0.925, wrap(intro, 110), fontsize=8.5, va="top", linespacing=1.4)
    rows = [[plain(r["name"]), fmt_int(r["incidents"]), f"{r['share_pct']:.1f}%",
             fmt_float(r["harm"], 0), fmt_float(r["area_km2"], 3), plain(r["persistence"]),
             plain(str(r["imd_deciles"]).replace("; ", ", "))]
            for r in ctx.table.head(40).to_dict("records")]
    ax = fig.add_axes([0.06, 0.06, 0.88, 0.79])
    draw_table(ax, ["Hotspot (busiest street)", "Incidents", "Share", HARM_LABEL,
                    "Area km²", "Persistence", "IMD deciles of LSOAs"], rows,
               widths=[0.31, 0.09, 0.08, 0.11, 0.09, 0.13, 0.19],
               align=["left", "right", "right", "right", "right", "left", "left"],
               row_height=0.022, empty="No hotspots.")
    if n > 40:
        fig.text(0.06, 0.05, f"{n - 40} smaller hotspots are in hotspots.csv.", fontsize=7,
                 color=MUTED)
    footer(fig, ctx, 2)
    return fig


def page_hotspot(ctx: PackContext, hotspot: int, page: int) -> Figure:
    """One hotspot's page: its facts, map, months, crime mix, streets and LSOAs."""
    p = ctx.profiles[hotspot]
    row = ctx.table.loc[ctx.table["hotspot_id"] == hotspot].iloc[0]
    fig = new_page()
    fig.text(0.06, 0.955, plain(ctx.name(hotspot)), fontsize=14, fontweight="bold",
             color=ACCENT, va="top")
    fig.text(0.94, 0.952, f"rank {hotspot} of {len(ctx.table)} by {ctx.ranked_by}", fontsize=9,
             color=MUTED, va="top", ha="right")
    persistence = p.persistence or "unknown"
    against = ("emerging categories of its cells"
               if ctx.persistence_note.startswith("Persistence is the emerging")
               else "hotspot cells against "
                    f"{period_label(ctx.analysis.previous_months)}")
    facts = [("Incidents", f"{fmt_int(p.incidents)} ({row.share_pct:.1f}% of the CSP's "
                           f"{fmt_int(ctx.incidents)})"),
             ("Harm", f"{fmt_float(p.harm, 0)} days of custody"),
             ("Area", f"{row.area_km2:.3f} km²"),
             ("Persistence", persistence + (f" ({against}: "
                                            f"{row.persistence_cells.replace(';', ',')})"
                                            if row.persistence_cells else ""))]
    for i, (label, value) in enumerate(facts):
        y = 0.915 - i * 0.019
        fig.text(0.06, y, label, fontsize=8.5, color=MUTED, va="top")
        fig.text(0.17, y, wrap(value, 95), fontsize=8.5, color=INK, va="top",
                 fontweight="bold" if i == 0 else "normal")
    _area_map(fig, [0.06, 0.525, 0.42, 0.305], [0.08, 0.505, 0.38, 0.006], ctx,
              focus=hotspot)

    ax = fig.add_axes([0.57, 0.665, 0.37, 0.135])
    values = p.monthly["incidents"].to_numpy(dtype=int)
    bars = ax.bar(range(len(values)), values, color="#d6604d", width=0.7)
    ax.set_xticks(range(len(values)))
    step = max(1, len(values) // 6)
    ax.set_xticklabels([m if i % step == 0 else "" for i, m in enumerate(p.monthly["month"])])
    if len(values) <= 12:
        ax.bar_label(bars, labels=[fmt_int(v) for v in values], fontsize=6.5, padding=1.5)
    ax.set_ylim(0, max(1, values.max(initial=0)) * 1.25)
    ax.set_title("Month by month", loc="left", fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)

    mix = [[t, fmt_int(c), f"{s:.1f}%"] for t, c, s in p.crime_mix.itertuples(index=False)]
    draw_table(fig.add_axes([0.57, 0.50, 0.37, 0.13]), ["Crime type", "Incidents", "Share"],
               mix[:6], widths=[0.62, 0.2, 0.18], align=["left", "right", "right"],
               title="Crime mix", row_height=0.13)

    streets = [[s, fmt_int(c)] for s, c in p.streets.itertuples(index=False)]
    draw_table(fig.add_axes([0.06, 0.20, 0.40, 0.27]), ["Street (police.uk map point)",
                                                        "Incidents"],
               streets, widths=[0.78, 0.22], align=["left", "right"],
               title=f"Top {len(streets)} streets" if streets else "Streets", row_height=0.075,
               empty="No locations recorded.")
    lsoa_rows = [[c, n, "–" if pd.isna(d) else str(int(d)), fmt_int(k)]
                 for c, n, d, k in p.lsoas.head(10).itertuples(index=False)]
    title = "LSOAs" + (f" (top 10 of {len(p.lsoas)})" if len(p.lsoas) > 10 else "")
    draw_table(fig.add_axes([0.52, 0.20, 0.42, 0.27]), ["LSOA", "Name", "IMD",
                                                        "Incidents"],
               lsoa_rows, widths=[0.21, 0.51, 0.09, 0.19], font_size=7.0,
               align=["left", "left", "right", "right"], title=title, row_height=0.075)

    if p.day_hour is not None:
        ax = fig.add_axes([0.14, 0.065, 0.80, 0.10])
        ax.imshow(p.day_hour.to_numpy(), aspect="auto", cmap="Reds", interpolation="nearest")
        ax.set_yticks(range(7), [d[:3] for d in p.day_hour.index])
        ax.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
        ax.set_title("Incidents by day and hour (incidents with a known time)", loc="left",
                     fontsize=9)
    else:
        note = ("Day and hour: not available. police.uk records the month only, with no date "
                "or time, so no day-of-week or time-of-day pattern can be shown.")
        fig.text(0.06, 0.15, wrap(note, 120), fontsize=7.5, color=MUTED, va="top")
    fig.text(0.06, 0.115, wrap("IMD decile: English Indices of Deprivation 2025, 1 = the most "
                               "deprived 10% of LSOAs in England. Harm: ONS Crime Severity "
                               "Score approximation per police.uk category. Counts below 5 are "
                               "too small to compare between months or places.", 125),
             fontsize=6.5, color=MUTED, va="top")
    footer(fig, ctx, page)
    return fig


def page_methods(ctx: PackContext, page: int) -> Figure:
    """Draw the last page: selection, methods, parameters, caveats, sources, licences."""
    fig = new_page()
    fig.text(0.06, 0.955, "Methods, parameters, caveats and sources", fontsize=14,
             fontweight="bold", va="top")
    sections = [
        ("Selection", [
            f"Area: {ctx.area_name} ({ctx.area_code}), the union of its "
            f"{len(ctx.lsoas)} 2021 LSOAs. Months: {', '.join(ctx.months)}"
            + (f" (requested but not stored: {month_span(ctx.missing_months)})"
               if ctx.missing_months else "") + ".",
            f"Crime group: {ctx.crime_group} = {', '.join(ctx.crime_types)}.",
            "Incidents are placed in the CSP and LSOA by the police-supplied LSOA code. "
            f"Rate = 1,000 × {fmt_int(ctx.incidents)} incidents / {fmt_int(ctx.population)} "
            "Census 2021 usual residents of those LSOAs, over the whole period (not per month). "
            f"Share = incidents / the {fmt_int(ctx.humber)} incidents of the same group and "
            "months in the four Humber CSPs.",
        ]),
        ("Hotspots", [
            f"Kernel density: Gaussian kernel, bandwidth {ctx.bandwidth:g} m (standard "
            f"deviation), {ctx.cell_size:g} m cells, British National Grid (EPSG:27700).",
            f"Threshold: {ctx.analysis.threshold_label} "
            f"({fmt_float(ctx.analysis.threshold, 1)} incidents per km² over the period). "
            "Outlines are contours of the density at the threshold; each is ranked by the "
            f"{ctx.ranked_by} inside it (boundary included)"
            + (", the density being of harm (each incident weighted as below)."
               if ctx.measure == "harm" else "."),
            ctx.persistence_note,
            f"Harm: per incident, the crime type's weight ({ctx.harm_source.rstrip('.')}) "
            "times the source's weight; a hotspot's harm is the sum over its incidents.",
        ]),
        ("Caveats", [
            "police.uk locations are snapped to anonymous map points (the nearest of a fixed "
            "set of points on or near a street), so hotspots are street-segment scale at best, "
            "and 'streets' are those map points' names.",
            "police.uk records months only: no dates, days or times.",
            "There is no domestic-abuse flag: domestic violence is included and cannot be "
            "separated out.",
            "Serious violence is a proxy: police.uk cannot separate homicide, GBH or knife "
            "crime from other violence and sexual offences.",
            "Counts below 5 (in a month, street, LSOA or small hotspot) are too small to read "
            "as a trend or a difference.",
            "Hotspots show where incidents were recorded, not where risk is highest per "
            "resident; they depend on the bandwidth and threshold above.",
            "The LSOA boundaries are generalised (about 200 m); the map is for orientation.",
            "North on the maps is grid north (British National Grid), within 1° of true north "
            "here.",
        ]),
        ("Sources and licences", [f"{name}: {text}" for name, text in SOURCE_ATTRIBUTIONS]
         + [f"Open Government Licence v3.0: {OGL_URL}"]),
    ]
    y = 0.915
    for heading, items in sections:
        fig.text(0.06, y, heading, fontsize=10, fontweight="bold", va="top")
        y -= 0.022
        for item in items:
            text = wrap(item, 112)
            lines = text.count("\n") + 1
            fig.text(0.075, y, "•", fontsize=8, va="top")
            fig.text(0.09, y, text, fontsize=8, va="top", linespacing=1.3)
            y -= 0.0155 * lines + 0.005
        y -= 0.012
    fig.text(0.06, max(y, 0.05), wrap(ATTRIBUTION, 125), fontsize=7, color=MUTED, va="top")
    footer(fig, ctx, page)
    return fig
