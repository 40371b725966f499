"""The map section shared by the overview and the CSP pages: map, legend and ranked tables."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable

import numpy as np
import pandas as pd
import pydeck as pdk
import shapely
import streamlit as st

from config import AppConfig
from config.harm import HARM_LABEL, HARM_UNIT
from geodata.crs import BNG
from geodata.reference import IOD_DOMAINS
from geodata.streets import street_labels
from hotspots import pipeline
from hotspots.disclosure import DisclosureRule, protect_table, shown_count
from hotspots.pipeline import area_lsoas
from hotspots.rates import annualise, month_span
from reports import static_map
from ui import background, cached, deck
from ui.access import record_export, viewer
from ui.disclosure import current_rule
from ui.profile_view import render_profile
from ui.widgets import Filters

TABLE_COLUMNS = {"incidents": "Incidents", "weight": HARM_LABEL,
                 "lsoa_names": "LSOAs covered",
                 "imd_deciles": "IMD deciles of those LSOAs", "crime_mix": "Crime mix",
                 "lsoas": "Number of LSOAs", "area_km2": "Area (km²)"}


def freshness_caption() -> None:
    """The data span, its freshness and its source, shown on every map page."""
    span = cached.data_span()
    if not span["months"]:
        st.warning("The incident store is empty: add police.uk files on the Data page.")
        return
    ingested = (f", last ingested {span['last_ingest'].replace('T', ' ')[:16]} UTC"
                if span["last_ingest"] else "")
    rule = current_rule()
    stored, outside = (f"{span['stored']:,}", f"{span['outside_area']:,}") if rule is None \
        else (shown_count(span["stored"], rule), shown_count(span["outside_area"], rule))
    st.caption(
        f"Data to {span['last_month']}{ingested}: police.uk street-level crime, "
        f"{len(span['months'])} month(s) from {span['first_month']} to {span['last_month']}; "
        f"{stored} incidents stored, {outside} of them outside the "
        f"Humber area. Locations are snapped to anonymous map points; months only, no times.")


ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0 "
    "(data.police.uk). Boundaries and population: Office for National Statistics, OGL v3.0; "
    "contains OS data © Crown copyright and database right 2024. English Indices of "
    "Deprivation 2025, MHCLG, OGL v3.0.")


def attribution() -> None:
    """The Open Government Licence attributions of the data shown."""
    st.caption(ATTRIBUTION)


def _lsoa_records(area_code: str | None, filters: Filters) -> list[dict]:
    lsoas = cached.boundary_records(
        "lsoa", area_lsoas(cached.lsoa_table(), area_code)["lsoa21cd"], "lsoa21cd")
    rates = cached.lsoa_rates(area_code, filters.months, filters.crime_group)
    rule = current_rule()
    threshold = None
    if rule is not None:  # rounded counts, rates from them, "<5" below the threshold
        rates = protect_table(rates, rule, counts=["incidents"],
                              rates={"rate_per_1000": "incidents"}, text=False)
        threshold = rule.threshold
    # per year, like every rate on the pages (from the rounded counts for partner/public)
    rates = annualise(rates, filters.months, ["rate_per_1000"]).set_index("lsoa21cd")
    domain = filters.imd_domain
    note = f"(annualised from {len(filters.months)} months: {month_span(filters.months)})"
    tips = dict(zip(rates.index, deck.lsoa_tooltips(
        rates.reset_index(), domain=domain, domain_label=IOD_DOMAINS[domain],
        threshold=threshold, rate_label="Rate per 1,000 residents per year", rate_note=note)))
    deciles = rates[f"{domain.lower()}_decile"]
    for record in lsoas:
        code = record["lsoa21cd"]
        record["tooltip"] = tips[code]
        record["fill"] = [*deck.DECILE_COLOURS[int(deciles[code]) - 1], 255]
    return lsoas


def _count_text(value, threshold: int | None) -> str:
    if value is None or value != value:  # NaN: below the disclosure threshold
        return f"<{threshold}" if threshold is not None else "n/a"
    return f"{int(value):,}"


def outline_names(outlines, *, id_name: str, title: str,
                  streets: bool = True) -> dict[int, str]:
    """Each outline's display name: its ``name`` column (the busiest street, from
    :mod:`hotspots.tasking`) when present and `streets` are allowed, else ``"Hotspot N"``."""
    if outlines is None or outlines.empty:
        return {}
    ids = [int(i) for i in outlines[id_name]]
    if streets and "name" in outlines.columns:
        names = [str(n) if isinstance(n, str) and n.strip() else f"{title} {i}"
                 for i, n in zip(ids, outlines["name"])]
    else:
        names = [f"{title} {i}" for i in ids]
    return dict(zip(ids, names))


def _outline_records(outlines, *, id_name: str, title: str, period: str,
                     names: dict[int, str] | None = None,
                     threshold: int | None = None) -> list[dict]:
    """Outline records with a plain-text tooltip: name, then the figures and their period."""
    if outlines.empty:
        return []
    columns = [id_name, "incidents", "weight", "crime_mix", "lsoa_names"]
    frame = outlines.copy()
    for column in columns:
        if column not in frame:
            frame[column] = np.nan if column in ("weight", "incidents") else ""
    records = deck.polygon_records(frame, columns)
    names = names or {}
    for record in records:
        number = int(record[id_name])
        harm = record["weight"]
        record["tooltip"] = deck.tooltip_text(names.get(number, f"{title} {number}"), [
            f"Incidents: {_count_text(record['incidents'], threshold)} ({period})",
            f"{HARM_LABEL}: {harm:,.0f}" if harm == harm else "",
            f"Crime mix: {record['crime_mix']}" if str(record["crime_mix"]) else "",
            f"LSOAs: {record['lsoa_names']}" if str(record["lsoa_names"]) else ""])
        for column in columns[1:]:
            record.pop(column, None)
    return records


def _point_records(area_code: str | None, filters: Filters) -> pd.DataFrame:
    incidents = cached.selected_incidents(area_code, filters.months, filters.crime_group)
    tips = [deck.tooltip_text(str(t), [str(loc), str(m)])
            for t, loc, m in zip(incidents["crime_type"], incidents["location"],
                                 incidents["month"])]
    return pd.DataFrame({"lon": incidents["lon"].round(6), "lat": incidents["lat"].round(6),
                         "tooltip": tips})


def _predicted_coverage(filters: Filters) -> float:
    """The predicted layer selects as much of the area as the hotspot threshold, or 2%."""
    return filters.threshold_value if filters.threshold_method == "top_percent" else 2.0


def _analysis_layers(area_code: str | None, filters: Filters, n_incidents: int,
                     rule: DisclosureRule | None) -> tuple[list, dict, list[str]]:
    """Density, risk, change, emerging and Gi* layers with their legend entries and notes
    (the predicted cells: :func:`_predicted_layer`)."""
    layers, legend, notes = [], {}, []
    harm = filters.measure == "harm"
    unit = HARM_UNIT if harm else "incidents"
    if "density" in filters.layers and n_incidents:
        image = _density_image(area_code, filters.months, filters.crime_group,
                               filters.bandwidth, filters.cell_size, filters.threshold_method,
                               filters.threshold_value, filters.measure, rule,
                               cached.store_version())
        layers.append(deck.density_layer(image))
        legend.update(density=image, density_title=f"{unit.capitalize()} per km² over the "
                                                   f"period")
    if "risk" in filters.layers and n_incidents:
        risk = cached.risk(area_code, filters.months, filters.crime_group,
                         bandwidth=filters.bandwidth, cell_size=filters.cell_size,
                         measure=filters.measure, population=filters.risk_population,
                         disclosure=rule)
        image = deck.density_image(risk.rate_per_1000, risk.grid.bounds, ramp=deck.RISK_RAMP)
        layers.append(deck.image_layer(image, layer_id="risk"))
        who = "residents aged 16–34" if filters.risk_population != "population" else "residents"
        legend.update(risk=image, risk_title=f"{unit.capitalize()} per 1,000 {who} over the "
                                             f"period (blank where few people live)")
    if "change" in filters.layers:
        change, before = cached.change(area_code, filters.months, filters.crime_group,
                                     bandwidth=filters.bandwidth, cell_size=filters.cell_size,
                                     threshold_method=filters.threshold_method,
                                     threshold_value=filters.threshold_value,
                                     measure=filters.measure, disclosure=rule)
        if change is None:
            notes.append(pipeline.comparable_previous_period(filters.months,
                                                             cached.available_months())[1])
        else:
            image = deck.category_image(change.classes, change.grid.bounds, deck.CHANGE_COLOURS)
            layers.append(deck.image_layer(image, layer_id="change", opacity=0.9))
            legend["change_label"] = (f"{_span(filters.months)} against {_span(before)}")
    if "emerging" in filters.layers:
        result = cached.emerging(area_code, filters.months, filters.crime_group, disclosure=rule)
        if not result.enough:
            notes.append(result.message + " The emerging hot spot layer is not drawn.")
        else:
            cells = result.cells()
            layers.append(deck.emerging_layer(deck.emerging_records(
                cells, result.grid.cell_size, exact=rule is None)))
            legend["emerging_label"] = (f"{_span(result.months)}, {result.grid.cell_size:g} m "
                                        f"cells, Gi* FDR 90%, Mann-Kendall trend")
            legend["emerging_present"] = tuple(sorted(set(cells["category"])))
    if "gi_star" in filters.layers and n_incidents:
        layers.append(deck.choropleth_layer(_gi_records(area_code, filters, exact=rule is None),
                                            layer_id="gi_star"))
    return layers, legend, notes


def _predicted_layer(area_code: str | None, filters: Filters,
                     rule: DisclosureRule | None) -> tuple[pdk.Layer, str]:
    """The predicted cells' layer and its legend entry."""
    coverage = _predicted_coverage(filters)
    cells, records = cached.predicted_with_records(area_code, filters.months,
                                                   filters.crime_group, coverage=coverage,
                                                   disclosure=rule)
    layer = deck.outline_layer(records, layer_id="predicted", colour=deck.PREDICTED_COLOUR,
                               pickable=False, width_px=1.0, fill_alpha=25)
    return layer, (f"the {coverage:g}% of {cells.cell_size:g} m cells ranked highest by "
                   f"{cells.label}")


@st.cache_data(show_spinner=False, max_entries=64)
def _density_image(area_code, months, crime_group, bandwidth, cell_size, threshold_method,
                   threshold_value, measure, rule, version) -> deck.DensityImage:
    """The density layer's PNG of the selection's analysis (encoding it took 0.1 s on every
    rerun of the Humber map)."""
    surface = cached.hotspot_analysis(area_code, months, crime_group, bandwidth=bandwidth,
                                      cell_size=cell_size, threshold_method=threshold_method,
                                      threshold_value=threshold_value, measure=measure,
                                      disclosure=rule).surface
    return deck.density_image(surface.density, surface.grid.bounds)


def _gi_records(area_code: str | None, filters: Filters, *, exact: bool = True) -> list[dict]:
    """Significant Gi* LSOAs, coloured by class, with an escaped tooltip.

    Without `exact` (aggregate-only roles) the tooltip gives the class only: z-scores of
    every LSOA with the known neighbour weights would let the suppressed counts be solved
    for."""
    gi = cached.gi_star(area_code, filters.months, filters.crime_group, measure=filters.measure)
    significant = gi[gi["gi_class"] != "not significant"]
    records = deck.polygon_records(significant, ["lsoa21nm", "gi_class", "z", "p_fdr"])
    for record in records:
        record["fill"] = deck.GI_COLOURS[record["gi_class"]]
        z, p = record.pop("z"), record.pop("p_fdr")
        record["tooltip"] = deck.tooltip_text(
            str(record.pop("lsoa21nm")),
            [f"Gi*: {record.pop('gi_class')}"
             + (f" (z = {z:.2f}, FDR-adjusted p = {p:.3f})" if exact else "")])
    return records


def _span(months) -> str:
    months = sorted(months)
    return months[0] if len(months) == 1 else f"{months[0]} to {months[-1]}"


def _ward_records(area_code: str | None) -> list[dict]:
    wards = cached.wards()
    if area_code is not None:
        lad = area_lsoas(cached.lsoa_table(), area_code)["lad_code"].iloc[0]
        wards = wards[wards["lad_code"] == lad]
    records = cached.boundary_records("ward", wards["ward_code"], "ward_code")
    names = dict(zip(wards["ward_code"], wards["ward_name"]))
    counts = dict(zip(wards["ward_code"], wards["lsoas"]))
    for record in records:
        code = record.pop("ward_code")
        record["tooltip"] = deck.tooltip_text(f"{names[code]} ward ({code})",
                                              [f"{int(counts[code])} LSOAs"])
    return records


def focus_bounds(place: dict) -> tuple[float, float, float, float]:
    """BNG bounds around a found place, padded so its surroundings show."""
    xmin, ymin, xmax, ymax = place["geometry"].bounds
    pad = max(250.0, 0.25 * max(xmax - xmin, ymax - ymin))
    return (xmin - pad, ymin - pad, xmax + pad, ymax + pad)


def focus_records(place: dict) -> list[dict]:
    """The found place's outline as PolygonLayer records."""
    import geopandas as gpd

    frame = gpd.GeoDataFrame({"name": [place["name"]]}, geometry=[place["geometry"]],
                             crs=BNG)
    return [{"polygon": r["polygon"]} for r in deck.polygon_records(frame, ["name"])]


#: The map fills the first screen below Streamlit's header: the viewport's height less the
#: header and the page's top padding (both reduced on map pages, see :func:`_page_css`).
MAP_HEIGHT_CSS = "calc(100vh - 6.5rem)"
#: In presentation mode only the step buttons sit above the map.
PRESENT_HEIGHT_CSS = "calc(100vh - 5.2rem)"


def _page_css(key: str, *, present: bool) -> str:
    """Style of a map page: the keyed map container filling the first screen, the title and
    legend overlay inside the map (also in Streamlit's full-screen view) and tooltips that
    are not clipped at the map's edge."""
    box = f".st-key-{key}"
    height = PRESENT_HEIGHT_CSS if present else MAP_HEIGHT_CSS
    padding = "" if present else ".block-container { padding-top: 3.2rem !important; }"
    return f"""<style>
{padding}
[data-testid="stLayoutWrapper"]:has(> {box}) {{ height: {height} !important; flex: none; }}
{box} {{ position: relative; height: {height} !important; min-height: 420px; flex: none; }}
{box} [data-testid="stElementContainer"]:has([data-testid="stDeckGlJsonChart"]),
{box} [data-testid="stFullScreenFrame"], {box} [data-testid="stDeckGlJsonChart"],
{box} [data-testid="stDeckGlJsonChart"] > div {{ height: {height} !important; }}
{box} > [data-testid="stElementContainer"]:not(:has([data-testid="stDeckGlJsonChart"])):not(
  :has(.map-overlay)) {{ position: absolute; width: 0 !important; height: 0 !important;
  overflow: hidden; }}
{box} [data-testid="stElementContainer"]:has(.map-overlay) {{
  position: absolute; left: {deck.OVERLAY_MARGIN_PX}px; top: {deck.OVERLAY_MARGIN_PX}px;
  z-index: 3; width: {deck.OVERLAY_WIDTH_PX}px !important;
  max-height: calc(100% - {2 * deck.OVERLAY_MARGIN_PX}px); }}
{box} [data-testid="stDeckGlJsonChart"] > div, {box} .deck-widgets-root,
{box} .deck-widgets-root > div {{ overflow: visible !important; }}
{box} [data-testid="stDeckGlJsonChart"] {{ overflow: visible !important; }}
.map-overlay {{ background: rgba(255,255,255,0.93); padding: 6px 9px 4px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.25); color: #222; font-size: 11.5px; line-height: 1.4;
  max-height: calc({height} - {2 * deck.OVERLAY_MARGIN_PX}px); overflow: auto; }}
.map-overlay > div > div {{ font-size: 11.5px !important; line-height: 1.4 !important; }}
.map-overlay .map-title {{ font-size: 15px; font-weight: 700; line-height: 1.25; }}
.map-overlay .map-period {{ font-size: 12px; color: #333; margin: 2px 0 4px; }}
/* Streamlit's full screen fixes the chart's frame over the page (its toolbar button then
   reads "Close fullscreen"): the chart fills the window and the overlay follows it. */
{box}:has(button[aria-label^="Close fullscreen"]) [data-testid="stFullScreenFrame"] {{
  height: 100vh !important; }}
{box}:has(button[aria-label^="Close fullscreen"]) [data-testid="stDeckGlJsonChart"],
{box}:has(button[aria-label^="Close fullscreen"]) [data-testid="stDeckGlJsonChart"] > div {{
  height: calc(100vh - 34px) !important; }}
{box}:has(button[aria-label^="Close fullscreen"])
  [data-testid="stElementContainer"]:has(.map-overlay) {{
  position: fixed; z-index: 1000060; left: {12 + deck.OVERLAY_MARGIN_PX}px;
  top: {17 + deck.OVERLAY_MARGIN_PX}px; }}
{box}:has(button[aria-label^="Close fullscreen"]) .map-overlay {{
  max-height: calc(100vh - 60px); }}
</style>"""


def _overlay_html(title: str, period: str, legend: str) -> str:
    """The title, period and legend shown inside the map (all text escaped)."""
    return (f'<div class="map-overlay" data-testid="map-overlay">'
            f'<div class="map-title">{html.escape(title)}</div>'
            f'<div class="map-period">{html.escape(period)}</div>{legend}</div>')


def map_period(filters: Filters, *, measure_unit: str) -> str:
    """What the map shows and over which months: "2024-01 to 2024-03 (3 months); counts
    of incidents", so every figure on it says its period and unit."""
    months = sorted(filters.months)
    n = len(months)
    return (f"{_span(months)} ({n} month{'s' if n != 1 else ''} of police.uk data); "
            f"{measure_unit}")


@st.cache_data(show_spinner="Placing street names…", max_entries=4)
def _street_labels(version: int) -> pd.DataFrame:
    # the distinct named map points of the per-ingest aggregates, not every incident
    return street_labels(cached.map_point_names()[["location", "x", "y"]])


def _street_records(area_code: str | None) -> deck.SharedRecords:
    """Street labels inside the area (a CSP role's page never carries another CSP's), from
    every stored incident, as layer records made once per store version and area (shared:
    read only)."""
    return _area_street_records(cached.store_version(), area_code)


@st.cache_resource(show_spinner=False, max_entries=16)
def _area_street_records(version: int, area_code: str | None) -> deck.SharedRecords:
    labels = _street_labels(version)
    if labels.empty:
        return deck.SharedRecords()
    inside = shapely.contains_xy(cached.study_area(area_code),
                                 labels["x"].to_numpy(), labels["y"].to_numpy())
    return deck.SharedRecords(deck.street_label_records(labels[inside]))


_SIZE_JS = """
export default function (component) {
  const { data, setStateValue } = component;
  const selector = `.st-key-${data.box} [data-testid="stDeckGlJsonChart"]`;
  let timer = null, observer = null, watcher = null, stopped = false;
  const known = data.known || { w: 0, h: 0 };
  const measure = () => {
    const element = document.querySelector(selector);
    if (!element) return;
    const box = element.getBoundingClientRect();
    const w = Math.round(box.width), h = Math.round(box.height);
    if (w < 100 || h < 100) return;
    const full = !!document.querySelector(
      `.st-key-${data.box} button[aria-label^="Close fullscreen"]`);
    if (Math.abs(w - known.w) < 8 && Math.abs(h - known.h) < 8 && full === !!known.full) return;
    const entering = full && !known.full;
    known.w = w; known.h = h; known.full = full;
    setStateValue("size", { w: w, h: h, full: full });
    // Entering full screen, Streamlit can keep the view deck.gl held before, over the view
    // fitted to the new size: report once more when the map has settled, to send it again.
    if (entering) setTimeout(() => {
      if (!stopped && known.full) setStateValue("size", { w: known.w, h: known.h, full: true,
                                                            again: 1 });
    }, 2500);
  };
  const schedule = () => { clearTimeout(timer); timer = setTimeout(measure, 300); };
  // deck.gl puts its tooltip right of and below the pointer: near the window's right or
  // bottom edge, put it left of or above the pointer instead (CSS `translate` adds to the
  // `transform` deck.gl sets, so its own positioning is untouched).
  const keepInside = (tip) => {
    if (tip.style.display === "none") return;
    const [tx, ty] = (tip.style.translate || "0px 0px").split(" ").map(parseFloat);
    const box = tip.getBoundingClientRect();
    const left = box.left - (tx || 0), top = box.top - (ty || 0);
    const x = left + box.width > window.innerWidth - 6 ? -(box.width + 16) : 0;
    const y = top + box.height > window.innerHeight - 6 ? -(box.height + 16) : 0;
    const wanted = `${x}px ${y}px`;
    if (tip.style.translate !== wanted) tip.style.translate = wanted;
  };
  // Streamlit may draw the map afresh (a new element): follow the current chart and tooltip.
  let chart = null, tooltip = null;
  observer = new ResizeObserver(schedule);
  watcher = new MutationObserver(() => { if (tooltip) keepInside(tooltip); });
  const follow = () => {
    if (stopped) return;
    const element = document.querySelector(selector);
    if (element && element !== chart) {
      if (chart) observer.unobserve(chart);
      chart = element;
      observer.observe(chart);
      schedule();
    }
    const tip = chart && chart.querySelector(".deck-tooltip");
    if (tip && tip !== tooltip) {
      watcher.disconnect();
      tooltip = tip;
      watcher.observe(tooltip, { attributes: true, attributeFilter: ["style"] });
    }
  };
  follow();
  const poll = setInterval(follow, 700);
  return () => {
    stopped = true; clearTimeout(timer); clearInterval(poll);
    observer.disconnect(); watcher.disconnect();
  };
}
"""
_size_component = None


def map_size(box: str, *, key: str) -> tuple[int, int, bool, bool]:
    """The map's size in the browser (CSS pixels), whether it is in full screen, and whether
    this is full screen's second report (below), reported
    by a small script, so that the first view fits the area to the map actually drawn, and
    fits again when the window or Streamlit's full-screen view changes its size.

    Before the browser has reported (AppTest, the first run) it is
    (:data:`ui.deck.FIT_WIDTH_PX`, :data:`ui.deck.FIT_HEIGHT_PX`, False, False), the smallest
    map the pages draw. On entering full screen the script reports the size a second time,
    2.5 s later, marked ``again``: the map's view is then sent once more under a new name,
    because Streamlit can keep the view deck.gl held before over the first one.
    """
    global _size_component
    if _size_component is None:
        import streamlit.components.v2 as components

        _size_component = components.component("humber_map_size", js=_SIZE_JS)
    known = st.session_state.get(f"{key}_known")
    result = _size_component(key=key, data={"box": box, "known": known},
                             on_size_change=lambda: None)
    size = getattr(result, "size", None) if result is not None else None
    if isinstance(size, dict) and {"w", "h"} <= set(size):
        try:
            width, height = int(size["w"]), int(size["h"])
        except (TypeError, ValueError):
            width = height = 0
        if 300 <= width <= 10_000 and 300 <= height <= 10_000:
            full = bool(size.get("full"))
            st.session_state[f"{key}_known"] = {"w": width, "h": height, "full": full}
            return width, height, full, full and bool(size.get("again"))
    return deck.FIT_WIDTH_PX, deck.FIT_HEIGHT_PX, False, False


def _chart_key(map_key: str, width: int, height: int, full: bool) -> str:
    """The map's widget key: new for each size outside full screen, so a newly measured map
    is drawn afresh with its fitted view (Streamlit keeps a drawn map's view when only its
    initial view changes); kept in full screen, which a new element would leave (there the
    view's new name, see :func:`ui.deck.build_deck`, makes Streamlit apply the new view)."""
    remembered = f"{map_key}_chart_key"
    if full and remembered in st.session_state:
        return st.session_state[remembered]
    chart_key = map_key if (width, height) == (deck.FIT_WIDTH_PX, deck.FIT_HEIGHT_PX) \
        else f"{map_key}_{width}x{height}"
    st.session_state[remembered] = chart_key
    return chart_key


def precompute_map(area_code: str | None, filters: Filters) -> None:
    """Compute, into the process's caches, what an analyst's map of `filters` draws.

    The same cached calls, with the same arguments, as :func:`render_map_section` makes for
    an analyst (no disclosure rule) with `filters`: the selection's incidents and analysis,
    clusters, the density image and predicted cells (when those layers are on) and the
    profile of the hotspot shown first. The server's warm-up (:mod:`ui.warmup`) runs it for
    every area's default view of each crime group, so switching the group finds it ready.
    """
    n_incidents = len(cached.selected_incidents(area_code, filters.months,
                                                filters.crime_group))
    analysis = cached.hotspot_analysis(area_code, filters.months, filters.crime_group,
                                       bandwidth=filters.bandwidth,
                                       cell_size=filters.cell_size,
                                       threshold_method=filters.threshold_method,
                                       threshold_value=filters.threshold_value,
                                       measure=filters.measure, disclosure=None)
    cached.clusters(area_code, filters.months, filters.crime_group, eps=filters.eps,
                    min_samples=filters.min_samples, max_memory_mb=filters.max_memory_mb,
                    measure=filters.measure, disclosure=None)
    if "density" in filters.layers and n_incidents:
        _density_image(area_code, filters.months, filters.crime_group, filters.bandwidth,
                       filters.cell_size, filters.threshold_method, filters.threshold_value,
                       filters.measure, None, cached.store_version())
    if "predicted" in filters.layers:
        cached.predicted(area_code, filters.months, filters.crime_group,
                         coverage=_predicted_coverage(filters), disclosure=None)
    if "hotspots" in filters.layers and len(analysis.outlines):
        _profile(area_code, filters, _profiled_ids(analysis.outlines)[0])


def render_map_section(area_code: str | None, filters: Filters, config: AppConfig, *,
                       title: str, focus: dict | None = None, present: bool = False,
                       details: bool = True, meanwhile: Callable[[], object] | None = None):
    """The map first, filling the screen and fitted to the area, with its title, period and
    legend on it; then the PNG download and, with `details`, the ranked tables and profile.

    Parameters
    ----------
    area_code : str or None
        A CSP (LAD) code, a ward code, or None for the whole Humber area.
    filters : Filters
        The sidebar's selection.
    config : AppConfig
        Settings (basemap, points limit).
    title : str
        What the map is of ("Kingston upon Hull: violence against the person"), shown on it.
    focus : dict, optional
        A place from "find a place" to zoom to and outline.
    present : bool, default False
        Presentation mode: map only, a little taller.
    details : bool, default True
        Draw the ranked tables and the hotspot profile right below the map.
    meanwhile : callable, optional
        Computes (into the caches) what the page shows below the map, called while the
        other core finishes the clusters and predicted cells, before the page waits for
        them; the hotspot profile below the map is computed there too.

    Returns
    -------
    callable
        Draws the ranked tables and the profile where the page calls it (once; not needed
        when `details` drew them already).
    """
    rule = current_rule()
    map_key = f"map_{area_code or 'humber'}"
    aggregate_only = rule is not None
    if aggregate_only:  # partner / public: the server enforces the floors, counts only
        filters = dataclasses.replace(filters, bandwidth=rule.bandwidth(filters.bandwidth),
                                      cell_size=rule.cell_size(filters.cell_size),
                                      measure="count")
    threshold = rule.threshold if aggregate_only else None
    # The clusters and the predicted cells do not need the hotspots: computed on the other
    # core meanwhile (the calls below then wait for them or find them cached). Computing
    # the previous period's hotspots there too was slower: the page then waits for them.
    background.start_ahead(cached.clusters, area_code, filters.months, filters.crime_group,
                           eps=filters.eps, min_samples=filters.min_samples,
                           max_memory_mb=filters.max_memory_mb, measure=filters.measure,
                           disclosure=rule)
    if "predicted" in filters.layers:
        background.start_ahead(cached.predicted, area_code, filters.months,
                               filters.crime_group, coverage=_predicted_coverage(filters),
                               disclosure=rule)
    n_incidents = len(cached.selected_incidents(area_code, filters.months, filters.crime_group))
    analysis = cached.hotspot_analysis(area_code, filters.months, filters.crime_group,
                             bandwidth=filters.bandwidth, cell_size=filters.cell_size,
                             threshold_method=filters.threshold_method,
                             threshold_value=filters.threshold_value, measure=filters.measure,
                             disclosure=rule)
    harm = filters.measure == "harm"
    period = _span(filters.months)
    sees_streets = not aggregate_only and viewer().sees_points
    hotspot_names = outline_names(analysis.outlines, id_name="hotspot_id", title="Hotspot",
                                  streets=sees_streets)

    layers = []
    if "choropleth" in filters.layers:
        layers.append(deck.choropleth_layer(_lsoa_records(area_code, filters)))
    extra, legend, notes = _analysis_layers(area_code, filters, n_incidents, rule)
    layers += [layer for layer in extra
               if layer.id in ("density", "risk", "change", "emerging", "gi_star")]
    if "lsoa_boundaries" in filters.layers:
        records = (_lsoa_records(area_code, filters) if "choropleth" not in filters.layers
                   else [{"polygon": r["polygon"]} for r in layers[0].data])
        layers.append(deck.boundary_layer(records, layer_id="lsoa_boundaries",
                                          colour=[90, 90, 90, 200], width_px=0.6,
                                          pickable="choropleth" not in filters.layers))
    lads = cached.lad_boundaries()
    if area_code is not None:
        lads = lads[lads["lad_code"].isin(area_lsoas(cached.lsoa_table(), area_code)["lad_code"])]
    if "wards" in filters.layers:
        layers.append(deck.boundary_layer(_ward_records(area_code), layer_id="wards",
                                          colour=[*deck.WARD_COLOUR, 230], width_px=1.6,
                                          pickable=True))
    layers.append(deck.boundary_layer(cached.boundary_records("lad", lads["lad_code"],
                                                              "lad_code"),
                                      layer_id="csp_boundaries", colour=deck.LAD_COLOUR,
                                      width_px=2.0))
    predicted_at = len(layers)  # drawn here; asked for last (see below)
    if "hotspots" in filters.layers:
        layers.append(deck.outline_layer(
            _outline_records(analysis.outlines, id_name="hotspot_id", title="Hotspot",
                             period=period, names=hotspot_names, threshold=threshold),
            layer_id="hotspots", colour=deck.HOTSPOT_COLOUR))
    # The clusters and the predicted cells, computed meanwhile on the other core, are asked
    # for as late as possible: the page waits for them only if they are not ready yet. What
    # the page shows further down is computed first, while they may still be running.
    if not present:
        _profile_ahead(area_code, filters, analysis, aggregate_only=aggregate_only,
                       key=map_key)
        if meanwhile is not None:
            meanwhile()
    clusters = cached.clusters(area_code, filters.months, filters.crime_group, eps=filters.eps,
                               min_samples=filters.min_samples,
                               max_memory_mb=filters.max_memory_mb, measure=filters.measure,
                               disclosure=rule)
    if "clusters" in filters.layers:
        layers.append(deck.outline_layer(
            _outline_records(clusters.outlines, id_name="cluster_id", title="Cluster",
                             period=period, threshold=threshold),
            layer_id="clusters", colour=deck.CLUSTER_COLOUR))
    max_points = int(config.setting("max_points_shown").default)
    if "points" in filters.layers and not aggregate_only:  # never for partner or public
        if n_incidents <= max_points:
            layers.append(deck.points_layer(_point_records(area_code, filters)))
        else:
            notes.append(f"Incident points are drawn only for selections of at most "
                         f"{max_points:,} incidents (this one has {n_incidents:,}); narrow the "
                         f"months or crime group, or open a CSP page.")
    if "streets" in filters.layers and sees_streets:  # never for partner or public
        streets = _street_records(area_code)
        if len(streets):
            layers.append(deck.street_label_layer(streets))
    if "predicted" in filters.layers:
        layer, legend["predicted_label"] = _predicted_layer(area_code, filters, rule)
        layers.insert(predicted_at, layer)
    if aggregate_only:
        notes.append(
            f"Disclosure control: counts are rounded to multiples of {rule.rounding} and those "
            f"below {rule.threshold} shown as \"<{rule.threshold}\"; rates come from the rounded "
            f"counts; surfaces use a bandwidth of at least {rule.min_bandwidth_m:,.0f} m, leave "
            f"out incidents with fewer than {rule.threshold} within {rule.radius_m:,.0f} m, and "
            f"are drawn only where at least {rule.threshold} incidents lie within "
            f"{rule.support_radius_m:,.0f} m; areas of fewer than {rule.threshold} incidents "
            f"are not drawn.")

    bounds = tuple(area_lsoas(cached.lsoa_table(), area_code).total_bounds)
    if focus is not None:
        layers.append(deck.focus_layer(focus_records(focus)))
        bounds = focus_bounds(focus)
    unit = (f"{HARM_UNIT}, ONS Crime Severity Score" if harm else "counts of incidents")
    legend_block = deck.legend_html(layers=list(filters.layers),
                                    domain_label=IOD_DOMAINS[filters.imd_domain],
                                    threshold_label=analysis.threshold_label,
                                    rank_label="harm" if harm else "incident count", **legend)
    if sees_streets and "streets" in filters.layers:
        legend_block += ('<div style="font-size:11px;color:#555">Street names (zoom in): '
                         'police.uk map point names, from every stored month.</div>')
    box = f"{map_key}_box"
    st.html(_page_css(box, present=present))
    with st.container(key=box):
        width_px, height_px, full, again = map_size(box, key=f"{map_key}_size")
        chart = deck.build_deck(layers, deck.fit_view(bounds, width_px=width_px,
                                                      height_px=height_px),
                                basemap_style=str(config.setting("basemap_style").default),
                                view_id=f"map-{width_px}x{height_px}"
                                        + ("-again" if again else ""))
        event = st.pydeck_chart(chart, height="stretch", on_select="rerun",
                                key=_chart_key(map_key, width_px, height_px, full),
                                selection_mode="single-object",
                                alt=f"Map: {title}, {period}")
        st.html(_overlay_html(title, map_period(filters, measure_unit=unit), legend_block))
    caption, download = st.columns([3, 1], vertical_alignment="center")
    with caption:
        if focus is not None:
            st.caption(f"Outlined in amber: {focus['kind']} {focus['name']}.")
        st.caption("Drag to pan, scroll to zoom; street names show when you zoom in. "
                   "Full screen: the expand button at the map's top right.")
    with download:
        _png_button(area_code, filters, title=title, unit=unit, analysis=analysis,
                    clusters=clusters, bounds=bounds, key=map_key)
    for note in notes:
        st.info(note)

    def draw_details() -> None:
        _details(area_code, filters, analysis=analysis, clusters=clusters, event=event,
                 names=hotspot_names, n_incidents=n_incidents, rule=rule, key=map_key)

    if details:
        draw_details()
    return draw_details


def _details(area_code: str | None, filters: Filters, *, analysis, clusters, event,
             names: dict[int, str], n_incidents: int, rule: DisclosureRule | None,
             key: str) -> None:
    """The ranked hotspot and cluster tables and the hotspot profile, below the map."""
    aggregate_only = rule is not None
    harm = filters.measure == "harm"
    period = _span(filters.months)
    hotspot_names = names
    map_key = key
    hotspot_tab, cluster_tab = st.tabs(["Hotspots (density)", "Clusters (DBSCAN)"])
    with hotspot_tab:
        st.caption(f"Outlines where the kernel density of {'harm' if harm else 'incidents'}"
                   f" (bandwidth {filters.bandwidth:g} m, cells {filters.cell_size:g} m) "
                   f"reaches {analysis.threshold:,.1f} per km² over {period}: "
                   f"{analysis.threshold_label}. Ranked by "
                   f"{'harm' if harm else 'incidents'} inside.")
        _ranked_table(analysis.table, "hotspot_id", "Hotspot", names=hotspot_names)
    with cluster_tab:
        if clusters.message:
            st.warning(clusters.message)
        if clusters.result is not None and aggregate_only:
            st.caption(f"DBSCAN clusters of at least {rule.threshold} incidents, outlined "
                       f"{rule.radius_m / 2:,.0f} m around them; counts rounded to "
                       f"multiples of {rule.rounding}.")
        elif clusters.result is not None:
            result = clusters.result
            st.caption(f"DBSCAN with eps {result.eps:,.0f} m and min_samples "
                       f"{result.min_samples}: {result.n_clusters} clusters, "
                       f"{result.n_noise:,} of {n_incidents:,} incidents not in a cluster "
                       f"({result.n_unique_locations:,} distinct map points).")
        _ranked_table(clusters.table, "cluster_id", "Cluster")
    if "hotspots" in filters.layers and len(analysis.outlines) and not aggregate_only:
        st.subheader("Hotspot profile")
        chosen = pick_hotspot(event, _profiled_ids(analysis.outlines), names=hotspot_names,
                              key=map_key)
        if chosen is not None:
            render_profile(_profile(area_code, filters, chosen), respond=(area_code, filters))
    attribution()


def _profile_ahead(area_code: str | None, filters: Filters, analysis, *,
                   aggregate_only: bool, key: str) -> None:
    """Compute the profile :func:`pick_hotspot` will most likely show (the one picked
    before, else the one in the URL, else the first), while the other core is busy: a map
    click that picks another is computed when drawn, as before."""
    if "hotspots" not in filters.layers or aggregate_only or not len(analysis.outlines):
        return
    _profile(area_code, filters,
             _listed_hotspot(f"{key}_hotspot", _profiled_ids(analysis.outlines)))


def _profile(area_code: str | None, filters: Filters, hotspot_id: int):
    """The (cached) profile of one hotspot of the map of `filters`."""
    return cached.hotspot_profile(area_code, filters.months, filters.crime_group, hotspot_id,
                                  bandwidth=filters.bandwidth, cell_size=filters.cell_size,
                                  threshold_method=filters.threshold_method,
                                  threshold_value=filters.threshold_value,
                                  measure=filters.measure)


def _profiled_ids(outlines) -> list[int]:
    """The hotspots that can be profiled, in the picker's order."""
    return sorted(int(i) for i in outlines["hotspot_id"])


def _listed_hotspot(picker: str, ids: list[int]) -> int:
    """The hotspot the picker lists without a new map click: the one picked before (kept in
    ``st.session_state[picker]``), else the one in the URL (``?hotspot=N``), else the
    first."""
    chosen = st.session_state.get(picker)
    if chosen in ids:
        return chosen
    requested = st.query_params.get("hotspot")
    return int(requested) if requested and requested.isdigit() and int(requested) in ids \
        else ids[0]


def _clicked(event, layer: str, id_name: str) -> int | None:
    """The id of the object clicked on `layer`, from a ``st.pydeck_chart`` selection."""
    objects = (getattr(event, "selection", None) or {}).get("objects", {}) if event else {}
    clicked = None
    for obj in objects.get(layer, []) or []:
        if obj.get(id_name) is not None:
            clicked = int(obj[id_name])
    return clicked


def pick_hotspot(event, ids: list[int], *, names: dict[int, str], key: str) -> int | None:
    """The hotspot whose profile is shown: a map click selects it once, the list after that.

    Streamlit keeps a map selection across reruns, so a click is applied only when it differs
    from the last click handled (kept in ``st.session_state``); picking another hotspot in the
    list afterwards then sticks instead of snapping back. The choice is mirrored in the URL
    (``?hotspot=N``).

    Parameters
    ----------
    event : PydeckState or None
        What ``st.pydeck_chart(..., on_select="rerun")`` returned.
    ids : list of int
        The hotspots that can be profiled (those holding incidents).
    names : dict
        Hotspot id -> display name (:func:`outline_names`).
    key : str
        The map's widget key; the picker's is ``f"{key}_hotspot"``.
    """
    if not ids:
        return None
    clicked = _clicked(event, "hotspots", "hotspot_id")
    picker, handled = f"{key}_hotspot", f"{key}_hotspot_click"
    if clicked is None:
        st.session_state.pop(handled, None)
    elif st.session_state.get(handled) != clicked and clicked in ids:
        st.session_state[handled] = clicked
        st.session_state[picker] = clicked
    if st.session_state.get(picker) not in ids:
        st.session_state[picker] = _listed_hotspot(picker, ids)
    chosen = st.selectbox("Hotspot profile", ids, key=picker,
                          format_func=lambda i: names.get(i, f"Hotspot {i}"),
                          help="Click a hotspot outline on the map, or pick it here.")
    st.query_params["hotspot"] = str(chosen)
    return chosen


def _png_button(area_code: str | None, filters: Filters, *, title: str, unit: str, analysis,
                clusters, bounds, key: str) -> None:
    """"Download this map as PNG": the server-side renderer of the tasking pack, drawing the
    same (for partner and public, the same protected) layers; built when clicked."""
    lsoas = area_lsoas(cached.lsoa_table(), area_code)
    area = cached.study_area(area_code)
    layers = set(filters.layers)
    rule = current_rule()
    coverage = _predicted_coverage(filters)
    months = tuple(filters.months)

    def render() -> bytes:
        predicted = None
        if "predicted" in layers:
            predicted = cached.predicted(area_code, months, filters.crime_group,
                                       coverage=coverage, disclosure=rule).outlines
        return static_map.map_png(
            title=title,
            subtitle=(f"{map_period(filters, measure_unit=unit)}. Density: Gaussian kernel, "
                      f"bandwidth {filters.bandwidth:g} m, {filters.cell_size:g} m cells; "
                      f"hotspots: {analysis.threshold_label}."),
            area=area, bounds=bounds, lsoas=list(lsoas.geometry),
            surface=analysis.surface if "density" in layers else None,
            density_label=f"{'Harm' if filters.measure == 'harm' else 'Incidents'} per km² "
                          f"over {_span(months)}",
            hotspots=analysis.outlines if "hotspots" in layers else None,
            hotspot_label=f"Hotspot: {analysis.threshold_label}",
            clusters=clusters.outlines if "clusters" in layers else None,
            predicted=predicted, predicted_label=f"Predicted hotspot cells ({coverage:g}%)",
            attribution=ATTRIBUTION)

    slug = "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-")
    st.download_button("Download this map as PNG", render,
                       file_name=f"{slug[:60]}-{months[0]}-{months[-1]}.png",
                       mime="image/png", key=f"{key}_png", on_click=record_export,
                       args=(f"map PNG ({area_code or 'Humber'})", 0),
                       help="The map as drawn on the server for print (the tasking pack's "
                            "renderer): the same layers and months; no incident points.")


def _ranked_table(table: pd.DataFrame, id_name: str, label: str, *,
                  names: dict[int, str] | None = None) -> None:
    if table.empty:
        st.info(f"No {label.lower()}s for this selection.")
        return
    if names:
        table = table.assign(**{id_name: [names.get(int(i), f"{label} {int(i)}")
                                           for i in table[id_name]]})
    shown = table.rename(columns={id_name: label, **TABLE_COLUMNS})
    columns = [label] + [TABLE_COLUMNS[c] for c in TABLE_COLUMNS if c in table.columns]
    st.dataframe(shown[columns], hide_index=True,
                 height=min(560, 38 + 35 * len(shown)))
