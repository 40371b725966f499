"""Tasking pack for one CSP and period: a PDF, the hotspots as GeoJSON and as CSV.

``python -m reports.tasking_pack --area E06000010 --from 2024-01 --to 2024-03 --out DIR``
writes into ``DIR``:

- ``tasking_pack.pdf`` (A4 portrait): the headline figures, a static map (EPSG:27700, scale
  bar, north arrow) and the monthly trend; the ranked hotspots; one page per top hotspot with
  its profile (:mod:`hotspots.hotspot_profile`); the methods, parameters, caveats and attributions.
- ``hotspots.geojson`` (EPSG:4326): one feature per hotspot with its statistics.
- ``hotspots.csv``: the same statistics without geometry.

This module turns a request into files: it checks the request, reads the store, runs the one
analysis the map runs (:func:`hotspots.tasking.hotspots_with_change`, same bandwidth, cell,
threshold method and value, so the pack's outlines and names are the map's), and hands the
result to :mod:`reports.pack_files` (CSV, GeoJSON) and :mod:`reports.pack_pages` (the PDF's
pages). Every figure printed comes from the incidents selected here, so it can be traced back
to the police.uk rows. Incident points are never logged, printed or drawn.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from config import get_config
from config.harm import get_harm_weights
from geodata.csv_safety import write_csv
from geodata.errors import DataValidationError
from geodata.ingest import open_store
from geodata.reference import load_lsoa_table
from geodata.store import IncidentStore
from hotspots import pipeline
from hotspots._validation import check_float, check_int
from hotspots.harm import harm_weights
from hotspots.hotspot_profile import change_cells_by_outline, hotspot_profiles
from hotspots.pipeline import THRESHOLD_METHODS, calendar_months, period_label
from hotspots.rates import month_span
from hotspots.summary import assign_to_polygons
from hotspots.tasking import HotspotsWithChange, emerging_by_outline, hotspots_with_change
from reports.pack_files import HOTSPOT_COLUMNS, hotspot_table, write_geojson
from reports.pack_pages import (
    ATTRIBUTION,
    SOURCE_ATTRIBUTIONS,
    PackContext,
    footer,
    page_hotspot,
    page_methods,
    page_ranking,
    page_summary,
)
from reports.pdf import PLAIN_TEXT_RC, plain

__all__ = ["ATTRIBUTION", "HOTSPOT_COLUMNS", "SOURCE_ATTRIBUTIONS", "TaskingPack",
           "TaskingPackError", "build_tasking_pack", "main"]

#: Store columns the pack reads (no crime ids, outcomes or provenance: nothing it prints).
INCIDENT_COLUMNS = ("month", "date", "crime_type", "location", "lsoa21cd", "lad_code", "x", "y",
                    "weight", "source")

PDF_NAME, GEOJSON_NAME, CSV_NAME = "tasking_pack.pdf", "hotspots.geojson", "hotspots.csv"

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


# ------------------------------------------------------------------------------ the request
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
    return list(calendar_months(month_from, month_to))


def _threshold(method: str | None, value: float | None) -> tuple[str, float]:
    """Return the threshold method and value, the configured defaults where not given."""
    config = get_config()
    method = str(config.setting("hotspot_threshold_method").default) if method is None \
        else method
    if method not in THRESHOLD_METHODS:
        raise TaskingPackError(f"The 'threshold_method' parameter must be one of "
                               f"{sorted(THRESHOLD_METHODS)}. Got {method!r} instead.")
    setting = config.setting("hotspot_top_percent" if method == "top_percent"
                             else "hotspot_mean_multiple")
    value = float(setting.default) if value is None else value
    high = 100.0 if method == "top_percent" else float("inf")
    return method, check_float(value, "threshold_value", "build_tasking_pack", low=0.0,
                               high=high, high_open=method != "top_percent")


# ------------------------------------------------------------------------------ persistence
def _change_persistence(analysis: HotspotsWithChange) -> tuple[dict[int, str], str]:
    """Each hotspot's change cells as text, and the methods note, from the analysis."""
    if analysis.change is None or not len(analysis.outlines):
        reason = analysis.comparison.replace("no change is shown", "persistence is unknown")
        return {}, reason
    cells = change_cells_by_outline(analysis.change, analysis.outlines)
    detail = {}
    for outline_id, row in cells.iterrows():
        row = row[row > 0].sort_values(ascending=False, kind="stable")
        detail[int(outline_id)] = "; ".join(f"{name} {int(n)}" for name, n in row.items())
    before = analysis.previous_months
    note = (f"Persistence compares the period with the {len(before)} month(s) just before it "
            f"({period_label(before)}), both as incidents per km² per month, hotspot cells "
            f"being the {analysis.threshold_label} in each period; a hotspot takes the class "
            f"of most of its cells (new, persistent, intensifying or diminishing by more than "
            f"{analysis.change.change_pct:g}%, ceased).")
    return detail, note


def _emerging(store: IncidentStore, area_code: str, requested: list[str], types, *, area,
              analysis: HotspotsWithChange) -> tuple[dict[int, str], dict[int, str], str] | None:
    """Emerging hot spot category per hotspot, its cells per category, and how.

    None when the stored months give too short a cube (the pack then keeps the two-period
    persistence).

    The cube covers the latest uninterrupted run of stored months in the requested range
    (:func:`hotspots.emerging.cube_months`), ``emerging_cell_size`` cells.
    """
    from hotspots.emerging import cube_months, emerging_hotspots

    config = get_config()
    min_months = int(config.setting("emerging_min_months").default)
    cell_size = float(config.setting("emerging_cell_size").default)
    stored = store.months()
    run, _, _ = cube_months(requested, stored, min_months=min_months)
    if not run or len(analysis.outlines) == 0:
        return None
    incidents = store.query(area_code=area_code, months=list(run), crime_types=types,
                            columns=["x", "y", "month"])
    result = emerging_hotspots(incidents, area, months=list(run), stored_months=stored,
                               cell_size=cell_size, min_months=min_months)
    if not result.enough:
        return None
    classes, detail = emerging_by_outline(result, analysis.outlines)
    note = (f"Persistence is the emerging hot spot category (space-time Gi* per {cell_size:g} m "
            f"cell and month over the cell, its 8 neighbours and the months before and after, "
            f"FDR-corrected at 90%, Mann-Kendall trend; ArcGIS Pro's rules, see "
            f"docs/methods.md) of the cells covering most of each hotspot's area, over "
            f"{period_label(run)}. {result.message}")
    return classes, detail, note


# ------------------------------------------------------------------------------ extra sections
def _extra_pages(ctx: PackContext, store: IncidentStore) -> list[Figure]:
    """Pages between the hotspot pages and the methods page: the responses under way.

    Each section is a list of A4 figures drawn from `ctx` (the same analysis as every other
    page) without a footer; :func:`build_tasking_pack` numbers them after the hotspot pages
    and adds the footer. The responses section (``reports.pack_responses``) evaluates the
    responses of the CSP recorded in the responses store beside the incident store, with the
    pack's own hotspot outlines as the control's comparable hotspots; a store without a
    responses file adds no page.
    """
    from geodata.responses import FILE_NAME, ResponseStore
    from reports.pack_responses import responses_section

    path = store.directory / FILE_NAME
    if not path.exists():
        return []
    figures, _table = responses_section(
        ctx.area_code, ctx.months[-1], incident_store=store,
        response_store=ResponseStore(path), hotspot_outlines=ctx.analysis.outlines,
        crime_group=ctx.crime_group,
        settings_text=f"the pack's hotspot outlines ({ctx.analysis.threshold_label})")
    return figures


# ------------------------------------------------------------------------------ public API
def build_tasking_pack(area_code: str, month_from: str, month_to: str, out_dir: str | Path, *,
                       store: IncidentStore | None = None, crime_group: str | None = None,
                       bandwidth: float | None = None, cell_size: float = 100.0,
                       threshold_method: str | None = None,
                       threshold_value: float | None = None, measure: str = "count",
                       top_n: int = 10,
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
    threshold_method : {"top_percent", "mean_multiple"}, optional
        How hotspots are thresholded, as on the map; default the
        ``hotspot_threshold_method`` setting.
    threshold_value : float, optional
        The densest `threshold_value` % of the area's cells (in (0, 100]), or cells of at
        least `threshold_value` times the area's mean density (> 0); default the
        ``hotspot_top_percent`` or ``hotspot_mean_multiple`` setting.
    measure : {"count", "harm"}, default "count"
        What the density is of and hotspots are ranked by, as on the map: incidents, or
        their harm (ONS Crime Severity Score weights).
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
        For an unknown area, crime group or threshold method, a malformed month, a first
        month after the last, or a range with no stored data.
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
    threshold_method, threshold_value = _threshold(threshold_method, threshold_value)
    top_n = check_int(top_n, "top_n", func, low=1)
    if measure not in ("count", "harm"):
        raise TaskingPackError(f"The 'measure' parameter must be 'count' or 'harm'. Got "
                               f"{measure!r} instead.")
    out_dir = Path(out_dir)
    generated = (generated_at or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)

    store = store if store is not None else open_store()
    stored = store.months()
    months = [m for m in requested if m in stored]
    if not months:
        raise TaskingPackError(
            f"No stored data for {period_label(requested)}; the store holds "
            f"{month_span(stored) if stored else 'no months'}. Ingest the months first "
            "(python -m geodata ingest FILE).")
    missing = [m for m in requested if m not in stored]

    lsoa_table = load_lsoa_table()
    lsoas = pipeline.area_lsoas(lsoa_table, area_cfg.code)
    area = pipeline.study_area(lsoa_table, area_cfg.code)
    harm_table = get_harm_weights().weights

    def load(period: tuple[str, ...]) -> pd.DataFrame:
        frame = store.query(area_code=area_cfg.code, months=list(period),
                            crime_types=group.types, columns=INCIDENT_COLUMNS)
        frame["harm"] = (harm_weights(frame["crime_type"], harm_table)
                         * frame["weight"].to_numpy(dtype=float))
        return frame

    incidents = load(tuple(months))
    humber = len(store.query(area_code=None, months=months, crime_types=group.types,
                             columns=["lad_code"]))
    population = int(lsoas["population"].sum())
    n = len(incidents)
    rate = 1000.0 * n / population if population else float("nan")
    share = 100.0 * n / humber if humber else 0.0

    analysis = hotspots_with_change(
        lambda period: incidents if tuple(period) == tuple(months) else load(period),
        months=months, stored_months=stored, study_area=area, lsoas=lsoa_table,
        bandwidth=bandwidth, cell_size=cell_size, threshold_method=threshold_method,
        threshold_value=threshold_value, weight="harm" if measure == "harm" else None)
    outlines = analysis.outlines
    persistence = analysis.persistence
    persistence_cells, persistence_note = _change_persistence(analysis)
    emerging = _emerging(store, area_cfg.code, requested, group.types, area=area,
                         analysis=analysis)
    if emerging is not None:  # enough contiguous months: it replaces the two-period change
        persistence, persistence_cells, persistence_note = emerging
    ids = assign_to_polygons(incidents["x"].to_numpy(float), incidents["y"].to_numpy(float),
                             outlines, "hotspot_id")
    profiles = hotspot_profiles(
        incidents, ids, lsoas=lsoa_table[["lsoa21cd", "lsoa21nm", "imd_decile"]],
        months=months, harm_column="harm", persistence=persistence,
        hotspot_ids=outlines["hotspot_id"].tolist() if len(outlines) else [])
    table = hotspot_table(outlines, profiles, n, persistence_cells)
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
            "threshold": analysis.threshold_label, "measure": measure, "crs": "EPSG:4326",
            "generated_at": generated.isoformat(timespec="seconds"),
            "attribution": ATTRIBUTION}
    write_geojson(geojson_path, outlines, table, meta=meta)
    # Street names, LSOA names and crime types come from the data: a cell such as
    # '=HYPERLINK(...)' must not become a formula in a spreadsheet.
    write_csv(table, csv_path)

    ctx = PackContext(
        area_name=area_cfg.name, area_short=area_cfg.short_name, area_code=area_cfg.code,
        crime_group=group.name, crime_types=tuple(group.types), months=tuple(months),
        missing_months=tuple(missing), data_line=data_line,
        generated=generated.strftime("%Y-%m-%d %H:%M UTC"), incidents=n, population=population,
        rate=rate, humber=humber, share=share, monthly=monthly, analysis=analysis, area=area,
        lsoas=lsoas, all_lsoas=lsoa_table, profiles=profiles, table=table, top=top,
        bandwidth=bandwidth, cell_size=cell_size, persistence_note=persistence_note,
        harm_source=plain(get_harm_weights().source), pages=3 + len(top), measure=measure)
    extra = _extra_pages(ctx, store)
    if extra:
        ctx = dataclasses.replace(ctx, pages=ctx.pages + len(extra))

    png_path = Path(page1_png) if page1_png is not None else None
    with mpl.rc_context(PLAIN_TEXT_RC):
        with PdfPages(pdf_path, metadata={"Title": f"Tasking pack: {area_cfg.name}, "
                                                   f"{period_label(months)}",
                                          "Subject": group.name,
                                          "Creator": "Humber hotspot dashboard (reports)"}) as pdf:
            first = page_summary(ctx)
            pdf.savefig(first)
            if png_path is not None:
                png_path.parent.mkdir(parents=True, exist_ok=True)
                first.savefig(png_path, dpi=110, facecolor="white")
            pdf.savefig(page_ranking(ctx))
            for page, hotspot in enumerate(top, start=3):
                pdf.savefig(page_hotspot(ctx, hotspot, page))
            for page, figure in enumerate(extra, start=3 + len(top)):
                footer(figure, ctx, page)
                pdf.savefig(figure)
            pdf.savefig(page_methods(ctx, ctx.pages))

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
    parser.add_argument("--cell-size", type=float, default=100.0, metavar="METRES",
                        help="Grid cell side (default 100).")
    parser.add_argument("--threshold-method", default=None, choices=sorted(THRESHOLD_METHODS),
                        help="top_percent: the densest PERCENT %% of the area; mean_multiple: "
                             "cells of at least VALUE times the area's mean density (default "
                             "the hotspot_threshold_method setting, top_percent).")
    parser.add_argument("--threshold", type=float, default=None, metavar="PERCENT|VALUE",
                        help="Hotspots are the densest PERCENT %% of the area (default 2), or "
                             "with --threshold-method mean_multiple the multiple of the mean "
                             "(default 5).")
    parser.add_argument("--measure", default="count", choices=["count", "harm"],
                        help="Density of, and hotspots ranked by, incidents (count, the "
                             "default) or their harm (Crime Severity Score weights).")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (0 done, 2 bad request)."""
    args = _parser().parse_args(argv)
    try:
        store = open_store(args.store) if args.store else None
        pack = build_tasking_pack(args.area, args.month_from, args.month_to, args.out,
                                  store=store, crime_group=args.crime_group,
                                  bandwidth=args.bandwidth, cell_size=args.cell_size,
                                  threshold_method=args.threshold_method,
                                  threshold_value=args.threshold, measure=args.measure,
                                  top_n=args.top)
    except (TaskingPackError, DataValidationError, TypeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{pack.area_name}, {pack.crime_group}, {period_label(pack.months)}: "
          f"{pack.incidents:,} incidents, {pack.hotspots} hotspot(s), {pack.pages} pages.")
    if pack.missing_months:
        print(f"No stored data for {month_span(pack.missing_months)} (left out).")
    for path in (pack.pdf, pack.geojson, pack.csv):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
