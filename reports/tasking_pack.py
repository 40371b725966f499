"""Tasking pack for one CSP and period: a PDF, the hotspots as GeoJSON and as CSV.

``python -m reports.tasking_pack --area E06000010 --from 2024-01 --to 2024-03 --out DIR``
writes into ``DIR``:

- ``tasking_pack.pdf`` (A4 portrait): the headline figures, a static map (EPSG:27700, scale
  bar, north arrow) and the monthly trend; the ranked hotspots; one page per top hotspot with
  its profile (:mod:`hotspots.profile`); the methods, parameters, caveats and attributions.
- ``hotspots.geojson`` (EPSG:4326): one feature per hotspot with its statistics.
- ``hotspots.csv``: the same statistics without geometry.

The analysis is the dashboard's (:func:`hotspots.pipeline.hotspot_analysis`, in EPSG:27700
metres), on the same incident store. Every figure printed comes from the incidents selected
here, so it can be traced back to the police.uk rows. Incident points are never logged, printed
or drawn.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
import shapely
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from config import get_config
from config.harm import get_harm_weights
from geodata.csv_safety import write_csv
from geodata.errors import DataValidationError
from geodata.ingest import open_store
from geodata.reference import load_lsoa_table
from geodata.store import IncidentStore
from hotspots import pipeline
from hotspots._validation import check_float, check_int
from hotspots.change import hotspot_change
from hotspots.harm import harm_weights
from hotspots.kde import DensitySurface, kernel_density
from hotspots.profile import (HotspotProfile, change_cells_by_outline, hotspot_profiles,
                              persistence_by_outline)
from hotspots.summary import assign_to_polygons
from reports import static_map
from reports.pdf import (ACCENT, INK, MUTED, PLAIN_TEXT_RC, draw_table, fmt_float, fmt_int,
                         new_page, plain, wrap)

__all__ = ["ATTRIBUTION", "TaskingPack", "TaskingPackError", "build_tasking_pack", "main"]

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

#: Store columns the pack reads (no crime ids, outcomes or provenance: nothing it prints).
INCIDENT_COLUMNS = ("month", "date", "crime_type", "location", "lsoa21cd", "lad_code", "x", "y",
                    "weight", "source")

PDF_NAME, GEOJSON_NAME, CSV_NAME = "tasking_pack.pdf", "hotspots.geojson", "hotspots.csv"

#: Columns of ``hotspots.csv`` (and properties of each GeoJSON feature), in order.
HOTSPOT_COLUMNS = ("hotspot_id", "incidents", "share_pct", "harm", "crime_mix", "lsoas",
                   "lsoa_names", "imd_deciles", "persistence", "persistence_cells", "area_km2", "top_streets",
                   "centre_lon", "centre_lat")

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class TaskingPackError(ValueError):
    """A request the pack cannot be built for (unknown area or group, bad or empty months)."""


@dataclass(frozen=True)
class TaskingPack:
    """The files written and the headline figures they show.

    Parameters
    ----------
    pdf, geojson, csv : pathlib.Path
        ``tasking_pack.pdf``, ``hotspots.geojson`` (EPSG:4326) and ``hotspots.csv``.
    page1_png : pathlib.Path or None
        A PNG rendering of the first page, when asked for.
    area_code, area_name, crime_group : str
        The CSP and the crime-type group.
    months : tuple of str
        The stored months of the period that were analysed.
    missing_months : tuple of str
        Months of the requested range with no stored data (not analysed).
    incidents : int
        Incidents in the CSP over the months.
    population : int
        Census 2021 residents of the CSP's LSOAs.
    rate_per_1000 : float
        ``1000 * incidents / population`` over the whole period.
    humber_incidents : int
        Incidents in the four CSPs over the months.
    share_pct : float
        ``100 * incidents / humber_incidents``.
    hotspots : int
        Number of hotspot outlines (all are in the GeoJSON and CSV).
    profiled : int
        Hotspots with a page of their own (the top `top_n`).
    pages : int
        Pages of the PDF.
    """

    pdf: Path
    geojson: Path
    csv: Path
    page1_png: Path | None
    area_code: str
    area_name: str
    crime_group: str
    months: tuple[str, ...]
    missing_months: tuple[str, ...]
    incidents: int
    population: int
    rate_per_1000: float
    humber_incidents: int
    share_pct: float
    hotspots: int
    profiled: int
    pages: int


# ------------------------------------------------------------------------------ validation
def _month_range(first: str, last: str) -> list[str]:
    """Every calendar month from `first` to `last` inclusive (``YYYY-MM``)."""
    y, m = int(first[:4]), int(first[5:])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _span(months: Sequence[str]) -> str:
    months = sorted(months)
    if not months:
        return "none"
    return months[0] if len(months) == 1 else f"{months[0]} to {months[-1]}"


def _compact(months: Sequence[str]) -> str:
    """``2022-02..2023-12, 2024-05`` for a list of months (runs collapsed)."""
    months = sorted(months)
    runs: list[list[str]] = []
    for month in months:
        if runs and _month_range(runs[-1][-1], month)[1:] == [month]:
            runs[-1].append(month)
        else:
            runs.append([month])
    return ", ".join(r[0] if len(r) == 1 else f"{r[0]}..{r[-1]}" for r in runs)


def _resolve_area(area: str):
    config = get_config()
    if not isinstance(area, str):
        raise TypeError(f"The 'area_code' parameter of build_tasking_pack must be a str. "
                        f"Got an object of type {type(area).__name__} instead.")
    for candidate in config.areas:
        if area.strip().lower() in (candidate.code.lower(), candidate.slug.lower()):
            return candidate
    known = "; ".join(f"{a.code} ({a.short_name}, '{a.slug}')" for a in config.areas)
    raise TaskingPackError(f"Unknown area {area!r}: expected a CSP's LAD code or slug, one "
                           f"of {known}.")


def _resolve_group(name: str | None):
    config = get_config()
    name = config.default_crime_group if name is None else name
    for group in config.crime_groups:
        if group.name.lower() == str(name).strip().lower():
            return group
    known = "; ".join(repr(g.name) for g in config.crime_groups)
    raise TaskingPackError(f"Unknown crime group {name!r}; known groups: {known}.")


def _check_months(month_from: str, month_to: str) -> list[str]:
    for name, value in (("month_from", month_from), ("month_to", month_to)):
        if not isinstance(value, str) or not _MONTH.match(value):
            raise TaskingPackError(f"The {name!r} parameter must be a month as YYYY-MM (for "
                                   f"example 2024-01). Got {value!r} instead.")
    if month_from > month_to:
        raise TaskingPackError(f"The first month ({month_from}) is after the last month "
                               f"({month_to}).")
    return _month_range(month_from, month_to)


# ------------------------------------------------------------------------------ analysis
def _per_month(surface: DensitySurface, n_months: int) -> DensitySurface:
    return DensitySurface(grid=surface.grid, density=np.asarray(surface.density) / n_months,
                          bandwidth=surface.bandwidth, kernel=surface.kernel,
                          total_weight=surface.total_weight / n_months)


def _persistence(store: IncidentStore, area_code: str, months: list[str], types, *,
                 area, analysis, bandwidth: float, cell_size: float,
                 threshold_value: float) -> tuple[dict[int, str], dict[int, str], str]:
    """Change class per hotspot against the previous period, its cell counts, and how."""
    previous, reason = pipeline.comparable_previous_period(months, store.months())
    before = list(previous)
    if not before:
        return {}, {}, reason.replace("no change is shown", "persistence is unknown")
    previous = store.query(area_code=area_code, months=before, crime_types=types,
                           columns=["x", "y"])
    if len(previous) == 0 or len(analysis.outlines) == 0:
        return {}, {}, (f"No incidents in the previous period ({_span(before)}), so persistence "
                    "is unknown.")
    before_surface = kernel_density(previous["x"].to_numpy(float), previous["y"].to_numpy(float),
                                    bandwidth=bandwidth, cell_size=cell_size,
                                    bounds=tuple(area.bounds))
    change = hotspot_change(_per_month(before_surface, len(before)),
                            _per_month(analysis.surface, len(months)),
                            threshold_method="top_percent", threshold_value=threshold_value,
                            mask_geometry=area)
    classes = persistence_by_outline(change, analysis.outlines)
    cells = change_cells_by_outline(change, analysis.outlines)
    detail = {}
    for outline_id, row in cells.iterrows():
        row = row[row > 0].sort_values(ascending=False, kind="stable")
        detail[int(outline_id)] = "; ".join(f"{name} {int(n)}" for name, n in row.items())
    gap = _month_range(before[-1], months[0])[1:-1]
    note = (f"Persistence compares the period with the {len(before)} stored month(s) before "
            f"it ({_span(before)}), both as incidents per km² per month, hotspot cells being "
            f"the densest {threshold_value:g}% of the area in each period; a hotspot takes the "
            f"class of most of its cells (new, persistent, intensifying or diminishing by more "
            f"than {change.change_pct:g}%, ceased).")
    if gap:
        note += (f" The previous period is not adjacent: {_compact(gap)} are not stored, so "
                 "read the classes with care.")
    return classes, detail, note


def _emerging_by_hotspot(store: IncidentStore, area_code: str, requested: list[str], types, *,
                         area, outlines: gpd.GeoDataFrame,
                         ) -> tuple[dict[int, str], dict[int, str], str] | None:
    """Emerging hot spot category per hotspot, its cells per category, and how; None when the
    stored months give too short a cube (the pack then keeps the two-period persistence).

    The cube covers the latest uninterrupted run of stored months in the requested range
    (:func:`hotspots.emerging.cube_months`), ``emerging_cell_size`` cells; a hotspot takes the
    category of the cells covering most of its area ("no pattern" included)."""
    from hotspots.emerging import cube_months, emerging_hotspots

    config = get_config()
    min_months = int(config.setting("emerging_min_months").default)
    cell_size = float(config.setting("emerging_cell_size").default)
    stored = store.months()
    run, _, _ = cube_months(requested, stored, min_months=min_months)
    if not run or len(outlines) == 0:
        return None
    incidents = store.query(area_code=area_code, months=list(run), crime_types=types,
                            columns=["x", "y", "month"])
    result = emerging_hotspots(incidents, area, months=list(run), stored_months=stored,
                               cell_size=cell_size, min_months=min_months)
    if not result.enough:
        return None
    cells = result.cells(include_no_pattern=True)
    half = cell_size / 2
    boxes = shapely.box(cells["x"] - half, cells["y"] - half, cells["x"] + half,
                        cells["y"] + half)
    classes, detail = {}, {}
    for outline_id, geom in zip(outlines["hotspot_id"], outlines.geometry):
        overlap = shapely.area(shapely.intersection(boxes, geom))
        under = overlap > 0
        if not under.any():
            continue
        by_area = pd.Series(overlap[under]).groupby(cells["category"].to_numpy()[under]).sum()
        classes[int(outline_id)] = str(by_area.sort_values(ascending=False, kind="stable")
                                       .index[0])
        n = cells["category"][under].value_counts()
        n = n.iloc[np.lexsort((n.index.astype(str), -n.to_numpy()))]
        detail[int(outline_id)] = "; ".join(f"{name} {int(k)}" for name, k in n.items())
    note = (f"Persistence is the emerging hot spot category (space-time Gi* per {cell_size:g} m "
            f"cell and month over the cell, its 8 neighbours and the months before and after, "
            f"FDR-corrected at 90%, Mann-Kendall trend; ArcGIS Pro's rules, see "
            f"docs/methods.md) of the cells covering most of each hotspot's area, over "
            f"{_span(run)}. {result.message}")
    return classes, detail, note


def _streets_text(profile: HotspotProfile, n: int = 3) -> str:
    return "; ".join(f"{s} ({c})" for s, c in profile.streets.head(n).itertuples(index=False))


def _hotspot_table(outlines: gpd.GeoDataFrame, profiles: dict[int, HotspotProfile],
                   total: int, cells: dict[int, str]) -> pd.DataFrame:
    """One row per hotspot with the statistics of the CSV and GeoJSON (no geometry)."""
    centres = gpd.GeoSeries(outlines.geometry.representative_point(),
                            crs=outlines.crs).to_crs("EPSG:4326")
    records = []
    for (_, row), centre in zip(outlines.iterrows(), centres):
        p = profiles[int(row["hotspot_id"])]
        mix = "; ".join(f"{t} {c} ({s:.0f}%)" for t, c, s in p.crime_mix.itertuples(index=False))
        deciles = ["" if pd.isna(d) else str(int(d)) for d in p.lsoas["imd_decile"]]
        records.append({
            "hotspot_id": p.hotspot_id,
            "incidents": p.incidents,
            "share_pct": round(100.0 * p.incidents / total, 1) if total else 0.0,
            "harm": round(p.harm, 1),
            "crime_mix": mix,
            "lsoas": "; ".join(p.lsoas["lsoa21cd"].astype(str)),
            "lsoa_names": "; ".join(plain(n) for n in p.lsoas["lsoa21nm"]),
            "imd_deciles": "; ".join(deciles),
            "persistence": p.persistence,
            "persistence_cells": cells.get(p.hotspot_id, ""),
            "area_km2": round(float(row.geometry.area) / 1e6, 3),
            "top_streets": _streets_text(p),
            "centre_lon": round(centre.x, 6),
            "centre_lat": round(centre.y, 6),
        })
    return pd.DataFrame.from_records(records, columns=list(HOTSPOT_COLUMNS))


def _write_geojson(path: Path, outlines: gpd.GeoDataFrame, table: pd.DataFrame, *,
                   meta: dict) -> None:
    wgs84 = outlines.geometry.to_crs("EPSG:4326")
    features = []
    for geom, record in zip(wgs84, table.to_dict("records")):
        geom = shapely.transform(geom, lambda c: np.round(c, 7))
        properties = {k: (None if isinstance(v, float) and np.isnan(v) else
                          v.item() if isinstance(v, np.generic) else v)
                      for k, v in record.items()}
        features.append({"type": "Feature", "id": int(record["hotspot_id"]),
                         "properties": properties,
                         "geometry": json.loads(shapely.to_geojson(geom))})
    collection = {"type": "FeatureCollection", "name": "hotspots", "metadata": meta,
                  "features": features}
    path.write_text(json.dumps(collection, ensure_ascii=False, indent=1), encoding="utf-8")


# ------------------------------------------------------------------------------ pages
@dataclass(frozen=True)
class _Context:
    """Everything the pages draw (assembled once by :func:`build_tasking_pack`)."""

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
    analysis: pipeline.HotspotAnalysis
    area: object
    lsoas: gpd.GeoDataFrame
    all_lsoas: gpd.GeoDataFrame
    profiles: dict[int, HotspotProfile]
    table: pd.DataFrame
    top: list[int]
    bandwidth: float
    cell_size: float
    threshold_value: float
    persistence_note: str
    before: str
    harm_source: str
    pages: int


def _footer(fig: Figure, ctx: _Context, page: int) -> None:
    fig.text(0.06, 0.022, plain(f"{ctx.area_short} · {ctx.crime_group} · {_span(ctx.months)}"),
             fontsize=6.5, color=MUTED)
    fig.text(0.94, 0.022, f"Page {page} of {ctx.pages}", fontsize=6.5, color=MUTED,
             ha="right")
    fig.text(0.06, 0.008, "Contains public sector information licensed under the Open "
             "Government Licence v3.0; full attributions on the last page.", fontsize=5.5,
             color=MUTED)


def _area_map(fig: Figure, rect, cbar_rect, ctx: _Context, *, focus: int | None = None) -> None:
    """The CSP map (focus None) or a zoom on one hotspot, in EPSG:27700 metres."""
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
        bar.set_label("Incidents per km² over the period (Gaussian kernel density)", fontsize=6.5)
        bar.ax.tick_params(labelsize=6)


def _headline(fig: Figure, x: float, y: float, value: str, label: str, note: str) -> None:
    fig.text(x, y, value, fontsize=17, fontweight="bold", color=INK, va="top")
    fig.text(x, y - 0.027, label, fontsize=8, color=INK, va="top")
    fig.text(x, y - 0.043, note, fontsize=6.5, color=MUTED, va="top")


def _page_summary(ctx: _Context) -> Figure:
    fig = new_page()
    fig.text(0.06, 0.965, "Violence hotspot tasking pack", fontsize=9, color=MUTED, va="top")
    fig.text(0.06, 0.948, plain(ctx.area_name), fontsize=17, fontweight="bold", color=INK,
             va="top")
    fig.text(0.06, 0.927, plain(f"Community Safety Partnership ({ctx.area_code}), Humber "
                                "Violence Prevention Partnership"), fontsize=8.5, color=MUTED,
             va="top")
    months = (f"{_span(ctx.months)} ({len(ctx.months)} month{'s' if len(ctx.months) > 1 else ''}"
              + (f"; no data stored for {_compact(ctx.missing_months)}"
                 if ctx.missing_months else "") + ")")
    fig.text(0.06, 0.906, plain(f"{ctx.crime_group}  ·  {months}"), fontsize=9.5,
             color=INK, va="top")
    fig.text(0.06, 0.889, plain(f"{ctx.data_line}  ·  generated {ctx.generated}"),
             fontsize=7.5, color=MUTED, va="top")
    _headline(fig, 0.06, 0.866, fmt_int(ctx.incidents), "incidents",
              f"{ctx.crime_group}, {_span(ctx.months)}")
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
    _footer(fig, ctx, 1)
    return fig


def _page_ranking(ctx: _Context) -> Figure:
    fig = new_page()
    fig.text(0.06, 0.955, "Hotspots ranked by incidents", fontsize=14, fontweight="bold",
             va="top")
    n = len(ctx.table)
    intro = (f"{n} hotspot{'s' if n != 1 else ''}: the {ctx.analysis.threshold_label} by "
             f"kernel density ({ctx.bandwidth:g} m bandwidth, {ctx.cell_size:g} m cells), "
             f"outlined and ranked by the incidents inside. Hotspot 1 holds the most. "
             f"{fmt_int(int(ctx.table['incidents'].sum()) if n else 0)} of the "
             f"{fmt_int(ctx.incidents)} incidents ({fmt_float(ctx.table['share_pct'].sum() if n else 0, 1)}%) "
             f"fall inside a hotspot covering "
             f"{fmt_float(ctx.table['area_km2'].sum() if n else 0, 2)} km² "
             f"of {fmt_float(ctx.area.area / 1e6, 1)} km². "
             + ("Pages follow for the top "
                f"{len(ctx.top)}." if n else "No part of the area reaches the threshold."))
    fig.text(0.06, 0.925, wrap(intro, 110), fontsize=8.5, va="top", linespacing=1.4)
    rows = [[f"Hotspot {r.hotspot_id}", fmt_int(r.incidents), f"{r.share_pct:.1f}%",
             fmt_float(r.harm, 0), fmt_float(r.area_km2, 3), plain(r.persistence),
             plain(r.top_streets.split(" (")[0] if r.top_streets else None),
             plain(r.imd_deciles.replace("; ", ", "))]
            for r in ctx.table.head(40).itertuples()]
    ax = fig.add_axes([0.06, 0.06, 0.88, 0.79])
    draw_table(ax, ["Rank", "Incidents", "Share", "Harm (CSS)", "Area km²", "Persistence",
                    "Busiest street", "IMD deciles of LSOAs"], rows,
               widths=[0.10, 0.09, 0.08, 0.10, 0.09, 0.12, 0.24, 0.18],
               align=["left", "right", "right", "right", "right", "left", "left", "left"],
               row_height=0.022, empty="No hotspots.")
    if n > 40:
        fig.text(0.06, 0.05, f"{n - 40} smaller hotspots are in hotspots.csv.", fontsize=7,
                 color=MUTED)
    _footer(fig, ctx, 2)
    return fig


def _page_hotspot(ctx: _Context, hotspot: int, page: int) -> Figure:
    p = ctx.profiles[hotspot]
    row = ctx.table.loc[ctx.table["hotspot_id"] == hotspot].iloc[0]
    fig = new_page()
    fig.text(0.06, 0.955, f"Hotspot {hotspot}", fontsize=16, fontweight="bold", color=ACCENT,
             va="top")
    fig.text(0.30, 0.95, f"rank {hotspot} of {len(ctx.table)} by incidents", fontsize=9,
             color=MUTED, va="top")
    persistence = p.persistence or "unknown"
    against = ("emerging categories of its cells"
               if ctx.persistence_note.startswith("Persistence is the emerging")
               else f"hotspot cells against {ctx.before}")
    facts = [("Incidents", f"{fmt_int(p.incidents)} ({row.share_pct:.1f}% of the CSP's "
                           f"{fmt_int(ctx.incidents)})"),
             ("Harm", f"{fmt_float(p.harm, 0)} CSS points"),
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
    _footer(fig, ctx, page)
    return fig


def _page_methods(ctx: _Context, page: int) -> Figure:
    fig = new_page()
    fig.text(0.06, 0.955, "Methods, parameters, caveats and sources", fontsize=14,
             fontweight="bold", va="top")
    sections = [
        ("Selection", [
            f"Area: {ctx.area_name} ({ctx.area_code}), the union of its "
            f"{len(ctx.lsoas)} 2021 LSOAs. Months: {', '.join(ctx.months)}"
            + (f" (requested but not stored: {_compact(ctx.missing_months)})"
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
            "incidents inside it (boundary included).",
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
    _footer(fig, ctx, page)
    return fig


# ------------------------------------------------------------------------------ public API
def build_tasking_pack(area_code: str, month_from: str, month_to: str, out_dir: str | Path, *,
                       store: IncidentStore | None = None, crime_group: str | None = None,
                       bandwidth: float | None = None, cell_size: float = 100.0,
                       threshold_value: float = 2.0, top_n: int = 10,
                       page1_png: str | Path | None = None,
                       generated_at: dt.datetime | None = None) -> TaskingPack:
    """Write the tasking pack of one CSP and period into `out_dir`.

    Parameters
    ----------
    area_code : str
        LAD code of the CSP (``config/areas.toml``), or its slug (``"hull"``).
    month_from, month_to : str
        First and last month, ``YYYY-MM``, inclusive. Months of the range with no stored data
        are listed in the pack and left out; a range with none stored is refused.
    out_dir : str or pathlib.Path
        Folder for ``tasking_pack.pdf``, ``hotspots.geojson`` and ``hotspots.csv`` (created;
        existing files of those names are replaced).
    store : IncidentStore, optional
        The incident store; default :func:`geodata.ingest.open_store` (``HUMBER_DATA_DIR``).
    crime_group : str, optional
        Crime-type group name (``config/crime_groups.toml``); default the configured default.
    bandwidth : float, optional
        Gaussian kernel standard deviation, metres (> 0); default the ``kde_bandwidth``
        setting (250 m).
    cell_size : float, default 100.0
        Grid cell side, metres (> 0).
    threshold_value : float, default 2.0
        Hotspots are the densest `threshold_value` % of the area's cells, in (0, 100].
    top_n : int, default 10
        Hotspots given a page of their own (>= 1); every hotspot is in the GeoJSON and CSV.
    page1_png : str or pathlib.Path, optional
        Also render the first page to this PNG (for a quick look).
    generated_at : datetime, optional
        Time stamped on the pack (default now, UTC).

    Returns
    -------
    TaskingPack

    Raises
    ------
    TaskingPackError
        For an unknown area or crime group, a malformed month, a first month after the last,
        or a range with no stored data.
    TypeError, ValueError
        For parameters of the wrong type or out of range (the message names them).
    """
    func = "build_tasking_pack"
    config = get_config()
    area_cfg = _resolve_area(area_code)
    group = _resolve_group(crime_group)
    requested = _check_months(month_from, month_to)
    bandwidth = check_float(float(config.setting("kde_bandwidth").default)
                            if bandwidth is None else bandwidth, "bandwidth", func, low=0.0)
    cell_size = check_float(cell_size, "cell_size", func, low=0.0)
    threshold_value = check_float(threshold_value, "threshold_value", func, low=0.0,
                                  high=100.0, high_open=False)
    top_n = check_int(top_n, "top_n", func, low=1)
    out_dir = Path(out_dir)
    generated = (generated_at or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)

    store = store if store is not None else open_store()
    stored = store.months()
    months = [m for m in requested if m in stored]
    if not months:
        raise TaskingPackError(
            f"No stored data for {_span(requested)}; the store holds "
            f"{_compact(stored) if stored else 'no months'}. Ingest the months first "
            "(python -m geodata ingest FILE).")
    missing = [m for m in requested if m not in stored]

    lsoa_table = load_lsoa_table()
    lsoas = pipeline.area_lsoas(lsoa_table, area_cfg.code)
    area = pipeline.study_area(lsoa_table, area_cfg.code)
    incidents = store.query(area_code=area_cfg.code, months=months, crime_types=group.types,
                            columns=INCIDENT_COLUMNS)
    incidents["harm"] = (harm_weights(incidents["crime_type"], get_harm_weights().weights)
                         * incidents["weight"].to_numpy(dtype=float))
    humber = len(store.query(area_code=None, months=months, crime_types=group.types,
                             columns=["lad_code"]))
    population = int(lsoas["population"].sum())
    n = len(incidents)
    rate = 1000.0 * n / population if population else float("nan")
    share = 100.0 * n / humber if humber else 0.0

    analysis = pipeline.hotspot_analysis(
        incidents, study_area=area, lsoas=lsoa_table, bandwidth=bandwidth, cell_size=cell_size,
        threshold_method="top_percent", threshold_value=threshold_value)
    outlines = analysis.outlines
    persistence, persistence_cells, persistence_note = _persistence(
        store, area_cfg.code, months, group.types, area=area, analysis=analysis,
        bandwidth=bandwidth, cell_size=cell_size, threshold_value=threshold_value)
    emerging = _emerging_by_hotspot(store, area_cfg.code, requested, group.types, area=area,
                                    outlines=outlines)
    if emerging is not None:  # enough contiguous months: it replaces the two-period change
        persistence, persistence_cells, persistence_note = emerging
    ids = assign_to_polygons(incidents["x"].to_numpy(float), incidents["y"].to_numpy(float),
                             outlines, "hotspot_id")
    profiles = hotspot_profiles(
        incidents, ids, lsoas=lsoa_table[["lsoa21cd", "lsoa21nm", "imd_decile"]],
        months=months, harm_column="harm", persistence=persistence,
        hotspot_ids=outlines["hotspot_id"].tolist() if len(outlines) else [])
    table = _hotspot_table(outlines, profiles, n, persistence_cells)
    top = table["hotspot_id"].head(top_n).astype(int).tolist()

    manifest = store.manifest()
    updated = manifest.get("updated_at")
    updated_text = (f", store updated {str(updated).replace('T', ' ')[:16]} UTC"
                    if updated else "")
    data_line = f"Data to {stored[-1]}{updated_text}"
    monthly = incidents["month"].astype(object).value_counts().reindex(months, fill_value=0)

    out_dir.mkdir(parents=True, exist_ok=True)
    pdf_path, geojson_path, csv_path = (out_dir / PDF_NAME, out_dir / GEOJSON_NAME,
                                        out_dir / CSV_NAME)
    meta = {"area_code": area_cfg.code, "area_name": area_cfg.name, "crime_group": group.name,
            "months": months, "bandwidth_m": bandwidth, "cell_size_m": cell_size,
            "threshold": analysis.threshold_label, "crs": "EPSG:4326",
            "generated_at": generated.isoformat(timespec="seconds"),
            "attribution": ATTRIBUTION}
    _write_geojson(geojson_path, outlines, table, meta=meta)
    # Street names, LSOA names and crime types come from the data: a cell such as
    # '=HYPERLINK(...)' must not become a formula in a spreadsheet.
    write_csv(table, csv_path)

    ctx = _Context(
        area_name=area_cfg.name, area_short=area_cfg.short_name, area_code=area_cfg.code,
        crime_group=group.name, crime_types=tuple(group.types), months=tuple(months),
        missing_months=tuple(missing), data_line=data_line,
        generated=generated.strftime("%Y-%m-%d %H:%M UTC"), incidents=n, population=population,
        rate=rate, humber=humber, share=share, monthly=monthly, analysis=analysis, area=area,
        lsoas=lsoas, all_lsoas=lsoa_table, profiles=profiles, table=table, top=top,
        bandwidth=bandwidth, cell_size=cell_size, threshold_value=threshold_value,
        persistence_note=persistence_note,
        before=_span(pipeline.previous_period(months, stored)), harm_source=plain(get_harm_weights().source),
        pages=3 + len(top))

    png_path = Path(page1_png) if page1_png is not None else None
    with mpl.rc_context(PLAIN_TEXT_RC):
        with PdfPages(pdf_path, metadata={"Title": f"Tasking pack: {area_cfg.name}, "
                                                   f"{_span(months)}",
                                          "Subject": group.name,
                                          "Creator": "Humber hotspot dashboard (reports)"}) as pdf:
            first = _page_summary(ctx)
            pdf.savefig(first)
            if png_path is not None:
                png_path.parent.mkdir(parents=True, exist_ok=True)
                first.savefig(png_path, dpi=110, facecolor="white")
            pdf.savefig(_page_ranking(ctx))
            for page, hotspot in enumerate(top, start=3):
                pdf.savefig(_page_hotspot(ctx, hotspot, page))
            pdf.savefig(_page_methods(ctx, ctx.pages))

    return TaskingPack(pdf=pdf_path, geojson=geojson_path, csv=csv_path, page1_png=png_path,
                       area_code=area_cfg.code, area_name=area_cfg.name, crime_group=group.name,
                       months=tuple(months), missing_months=tuple(missing), incidents=n,
                       population=population, rate_per_1000=rate, humber_incidents=humber,
                       share_pct=share, hotspots=len(outlines), profiled=len(top),
                       pages=ctx.pages)


# ------------------------------------------------------------------------------ command line
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m reports.tasking_pack",
        description="Write a CSP's tasking pack: tasking_pack.pdf, hotspots.geojson and "
                    "hotspots.csv.")
    parser.add_argument("--area", required=True, help="LAD code (E06000010) or slug (hull).")
    parser.add_argument("--from", dest="month_from", required=True, metavar="YYYY-MM",
                        help="First month.")
    parser.add_argument("--to", dest="month_to", required=True, metavar="YYYY-MM",
                        help="Last month (inclusive).")
    parser.add_argument("--out", required=True, metavar="DIR", help="Output folder.")
    parser.add_argument("--crime-group", default=None, metavar="NAME",
                        help="Crime-type group (default: the configured default group).")
    parser.add_argument("--store", default=None, metavar="DIR",
                        help="Incident store folder (default HUMBER_DATA_DIR or store/).")
    parser.add_argument("--top", type=int, default=10, metavar="N",
                        help="Hotspots given a page of their own (default 10).")
    parser.add_argument("--bandwidth", type=float, default=None, metavar="METRES",
                        help="Kernel bandwidth (default the kde_bandwidth setting).")
    parser.add_argument("--threshold", type=float, default=2.0, metavar="PERCENT",
                        help="Hotspots are the densest PERCENT %% of the area (default 2).")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (0 done, 2 bad request)."""
    args = _parser().parse_args(argv)
    try:
        store = open_store(args.store) if args.store else None
        pack = build_tasking_pack(args.area, args.month_from, args.month_to, args.out,
                                  store=store, crime_group=args.crime_group,
                                  bandwidth=args.bandwidth, threshold_value=args.threshold,
                                  top_n=args.top)
    except (TaskingPackError, DataValidationError, TypeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{pack.area_name}, {pack.crime_group}, {_span(pack.months)}: "
          f"{pack.incidents:,} incidents, {pack.hotspots} hotspot(s), {pack.pages} pages.")
    if pack.missing_months:
        print(f"No stored data for {_compact(pack.missing_months)} (left out).")
    for path in (pack.pdf, pack.geojson, pack.csv):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
