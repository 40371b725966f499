"""Streamlit caching wrappers around the data layer and the hotspot library.

Every wrapper takes hashable values that fully identify its result (area code, months,
crime group, parameters) and caches aggregated results, not copies of the raw frame.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import streamlit as st

from config import get_config
from config.harm import get_harm_weights
from geodata import aggregates as stored_aggregates
from geodata.ingest import open_store
from geodata.places import build_gazetteer, street_places
from geodata.places import find_places as search_places
from geodata.reference import load_lad_boundaries, load_lsoa_table, load_wards
from geodata.store import MANIFEST, IncidentStore
from hotspots import pipeline
from hotspots.backtest import choose_bandwidth
from hotspots.change import HotspotChange
from hotspots.disclosure import DisclosureRule, protect_surface, surface_incidents
from hotspots.getis_ord import gi_star_lsoas
from hotspots.harm import harm_weights
from hotspots.hotspot_profile import hotspot_profiles as profile_hotspots
from hotspots.need import lsoa_need_table, protect_need_table
from hotspots.pipeline import HotspotAnalysis
from hotspots.rates import area_rates, monthly_counts
from hotspots.risk import RiskSurface, risk_surface
from hotspots.summary import assign_to_polygons
from hotspots.tasking import (
    HotspotsWithChange,
    comparison_period,
    hotspots_with_change,
    named_hotspots,
)
from ui import compute_process, offload_tasks
from ui.memory import use_system_allocator

use_system_allocator()  # before the first selection is taken (see ui.memory)

#: What densities and rankings measure: incidents, or harm (ONS Crime Severity Score weights).
MEASURES = ("count", "harm")

#: Bandwidths the back-test chooses from (metres). They start at the default cell size: a
#: narrower kernel breaks the surface into single police.uk map points, which the
#: "predicted hotspot cells" layer (counts per cell, back-tested) already shows better.
BANDWIDTH_CANDIDATES = (100.0, 150.0, 200.0, 250.0, 300.0, 400.0)
MIN_INCIDENTS_FOR_BANDWIDTH = 20
#: Permutations of the Gi* layer: with 999 the smallest p (0.001) cannot survive the FDR
#: correction over hundreds of LSOAs; 9,999 takes a fraction of a second per CSP.
GI_PERMUTATIONS = 9_999

#: Columns the pages need; the store's provenance columns stay on the server.
INCIDENT_COLUMNS = ("month", "date", "crime_type", "location", "lsoa21cd", "lad_code", "x",
                    "y", "lon", "lat", "weight")


@st.cache_data(show_spinner="Loading LSOA boundaries, deprivation and population…")
def lsoa_table() -> gpd.GeoDataFrame:
    """2021 LSOAs (EPSG:27700) with IoD2025 and Census 2021 population."""
    return load_lsoa_table()


@st.cache_resource(show_spinner=False, max_entries=64)
def study_area(area_code: str | None) -> shapely.Geometry:
    """The union of the area's LSOAs (EPSG:27700; :func:`hotspots.pipeline.study_area`),
    made once per area and process and shared (a shapely geometry is immutable): every
    analysis of a page needs it, and the Humber's union takes 0.03 s each time."""
    return pipeline.study_area(lsoa_table(), area_code)


@st.cache_data(show_spinner=False)
def wards() -> gpd.GeoDataFrame:
    """Electoral wards (2024) dissolved from their LSOAs, EPSG:27700."""
    return load_wards(lsoa_table())


def gazetteer() -> gpd.GeoDataFrame:
    """Wards, LSOAs and police.uk streets for "find a place"."""
    return _gazetteer(store_version())


@st.cache_data(show_spinner="Indexing places…")
def _gazetteer(version: int) -> gpd.GeoDataFrame:
    if stored_aggregates.aggregates_enabled():
        streets = _streets(version)
    else:
        streets = street_places(store().query(columns=["location", "lad_code", "x", "y"]))
    return build_gazetteer(lsoa_table(), wards(), streets)


def map_point_names() -> pd.DataFrame:
    """Every police.uk map point stored inside the area, once, with its location text:
    ``location``, ``lad_code``, ``x``, ``y`` (EPSG:27700), ``lon``, ``lat``.

    What the street labels and "find a place" need of the incidents (names at points, never
    counts), from the per-ingest aggregates: a few tens of thousands of rows where the raw
    incidents are hundreds of thousands.
    """
    return _map_point_names(store_version())


@st.cache_data(show_spinner=False, max_entries=2)
def _map_point_names(version: int) -> pd.DataFrame:
    columns = ["location", "lad_code", "x", "y", "lon", "lat"]
    points = aggregates().map_points if stored_aggregates.aggregates_enabled() else \
        store().query(columns=columns)
    return points[columns].drop_duplicates(["location", "lad_code", "x", "y"]).reset_index(
        drop=True)


def _streets(version: int) -> gpd.GeoDataFrame:
    """The police.uk streets of "find a place", stored beside the store version once made
    (from the map points: one row per point, month and type, not per incident)."""
    directory = store().directory
    streets = stored_aggregates.read_derived_table(directory, version, "streets")
    if streets is None:
        streets = street_places(map_point_names())
        with contextlib.suppress(OSError):  # a read-only store: made again next start
            stored_aggregates.write_derived_table(directory, version, "streets", streets)
    return streets


def find_places(text: str, *, lad_code: str | None) -> gpd.GeoDataFrame:
    """Gazetteer entries matching `text` (see :func:`geodata.places.find_places`)."""
    return search_places(gazetteer(), text, lad_code=lad_code)


@st.cache_data(show_spinner=False)
def lad_boundaries() -> gpd.GeoDataFrame:
    """CSP (local authority) outlines in EPSG:27700."""
    return load_lad_boundaries()


@st.cache_resource(show_spinner=False, max_entries=4)
def boundary_rings(kind: str) -> dict[str, list]:
    """The map rings (lon/lat, :func:`ui.deck.polygon_records`) of every LSOA, ward or CSP,
    by code, made once per process and shared: read them, never change them.

    Parameters
    ----------
    kind : {"lsoa", "ward", "lad"}
        LSOAs (by ``lsoa21cd``), wards (``ward_code``) or CSPs (``lad_code``).

    Returns
    -------
    dict of str to list
        Code -> the rings of each of its polygons, in the table's order.
    """
    from ui.deck import polygon_records

    tables = {"lsoa": (lsoa_table, "lsoa21cd"), "ward": (wards, "ward_code"),
              "lad": (lad_boundaries, "lad_code")}
    if kind not in tables:
        raise ValueError(f"'kind' should be one of {sorted(tables)}; got {kind!r}.")
    table, code = tables[kind]
    rings: dict[str, list] = {}
    for record in polygon_records(table(), [code]):
        rings.setdefault(record[code], []).append(record["polygon"])
    return rings


def boundary_records(kind: str, codes, column: str) -> list[dict]:
    """Map records ``{column: code, "polygon": rings}`` of the given codes' polygons, in
    their order, from :func:`boundary_rings` (new dicts; the rings are shared)."""
    rings = boundary_rings(kind)
    return [{column: code, "polygon": polygon} for code in codes
            for polygon in rings.get(code, ())]


@st.cache_resource(show_spinner="Opening the incident store…")
def store() -> IncidentStore:
    """The incident store (``HUMBER_DATA_DIR``), seeded with the shipped months if new."""
    return open_store()


def store_version() -> int:
    """The store's committed version, checked afresh on every call.

    Every cached wrapper below takes it as an argument, so data ingested while the dashboard
    runs (from the Data page or ``python -m geodata ingest``) shows on the next interaction.
    The manifest is re-read only when its file changed (a commit replaces it with a new file,
    so its inode, size or modification time changes): a page calls this dozens of times.
    """
    incidents = store()
    try:
        stat = os.stat(incidents.directory / MANIFEST)
    except FileNotFoundError:
        return incidents.version
    signature = (str(incidents.directory), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    known = _VERSIONS.get(signature)
    if known is None:
        known = incidents.version
        _VERSIONS.clear()
        _VERSIONS[signature] = known
    return known


_VERSIONS: dict[tuple, int] = {}


def aggregates() -> stored_aggregates.Aggregates:
    """The current store version's per-ingest aggregates (:mod:`geodata.aggregates`)."""
    return _aggregates(store_version())


@st.cache_resource(show_spinner=False, max_entries=2)
def _aggregates(version: int) -> stored_aggregates.Aggregates:
    # A shared, read-only object (callers derive new frames from it, never modify it):
    # cache_resource hands out the same frames instead of a copy per call.
    incidents = store()
    return stored_aggregates.load_aggregates(incidents.directory, incidents.manifest())


def _counts(area_code: str | None, months: tuple[str, ...], crime_group: str) -> pd.DataFrame:
    """Incidents per month, CSP and LSOA of a selection, from the aggregates: the rows
    :func:`selected_incidents` would return, counted (``incidents``)."""
    table = aggregates().lsoa_month
    keep = (table["in_area"].to_numpy(bool) & table["month"].isin(months).to_numpy(bool)
            & table["crime_type"].isin(get_config().crime_group(crime_group).types)
            .to_numpy(bool))
    if area_code is not None:
        lad = pipeline.area_lsoas(lsoa_table(), area_code)["lad_code"].iloc[0] \
            if pipeline.is_ward_code(area_code) else area_code
        keep &= (table["lad_code"] == lad).fillna(False).to_numpy(bool)
    frame = table.loc[keep, ["month", "lad_code", "lsoa21cd", "incidents"]]
    if pipeline.is_ward_code(area_code):
        ward = pipeline.area_lsoas(lsoa_table(), area_code)
        frame = frame[frame["lsoa21cd"].isin(ward["lsoa21cd"]).fillna(False).to_numpy(bool)]
    return frame.reset_index(drop=True)


def _counted_rates(counts: pd.DataFrame, populations: pd.DataFrame, *,
                   key: str) -> pd.DataFrame:
    """:func:`hotspots.rates.area_rates` of aggregated counts: the same table as from the
    incidents (counts summed as weights, then integers again)."""
    table = area_rates(counts, populations, key=key, weight="incidents")
    table["incidents"] = table["incidents"].round().astype("int64")
    return table


def available_months() -> list[str]:
    """Months present in the store, oldest first."""
    return _months(store_version())


@st.cache_data(show_spinner=False)
def _months(version: int) -> list[str]:
    return store().months()


def data_span() -> dict:
    """What the data covers, for the freshness line on every page."""
    return _data_span(store_version())


@st.cache_data(show_spinner=False)
def _data_span(version: int) -> dict:
    incidents = store()
    months = incidents.months()
    ingests = incidents.ingests()
    done = ingests[ingests["status"] == "ingested"]
    if stored_aggregates.aggregates_enabled():
        table = aggregates().lsoa_month
        outside_area = int(table.loc[~table["in_area"].to_numpy(bool), "incidents"].sum())
    else:
        outside_area = len(incidents.query(in_area=False, columns=["month"]))
    return {"first_month": months[0] if months else None,
            "last_month": months[-1] if months else None, "months": months,
            "stored": incidents.row_count(), "outside_area": outside_area,
            "last_ingest": done["ingested_at"].iloc[0] if len(done) else None,
            "version": version}


#: A store of at most this many incidents is read into memory once per version, and the
#: pages' selections are taken from that copy (a DuckDB query over the Parquet partitions
#: took 40-60 ms a selection; three per selection). Larger stores are queried each time.
IN_MEMORY_ROWS = 2_000_000


@st.cache_resource(show_spinner="Reading the incident store…", max_entries=1)
def _incident_table(version: int) -> pd.DataFrame | None:
    """Every stored incident inside the area (:data:`INCIDENT_COLUMNS`), in the store's
    order; None for a store of more than :data:`IN_MEMORY_ROWS` incidents."""
    if store().row_count() > IN_MEMORY_ROWS:
        return None
    return store().query(columns=INCIDENT_COLUMNS)


def incident_table() -> pd.DataFrame | None:
    """The in-memory copy of the current store version's inside-area incidents (None for a
    store too large to hold, see :data:`IN_MEMORY_ROWS`, or with the per-ingest aggregates
    switched off: ``HUMBER_AGGREGATES=0``, the bench's baseline)."""
    if not stored_aggregates.aggregates_enabled():
        return None
    return _incident_table(store_version())


def _query(area_code: str | None, months, crime_types, columns) -> pd.DataFrame:
    """``store().query(area_code=, months=, crime_types=, columns=)`` of inside-area
    incidents, from the in-memory copy when there is one (the same rows, order and types)."""
    table = incident_table()
    if table is None or not set(columns) <= set(table.columns):
        return store().query(area_code=area_code, months=months, crime_types=crime_types,
                             columns=columns)
    codes = _incident_codes(store_version())
    keep = codes.isin("month", months) & codes.isin("crime_type", crime_types)
    if area_code is not None:
        keep &= codes.isin("lad_code", [area_code])
    return table.loc[keep, list(columns)].reset_index(drop=True)


@dataclasses.dataclass(frozen=True)
class _Codes:
    """The in-memory table's month, crime type and CSP columns as integer codes, so that a
    selection is a lookup per row instead of string comparisons (6 ms -> 1 ms a selection
    of the 300,000-incident store)."""

    codes: dict[str, np.ndarray]     # column -> code per row (-1: missing)
    values: dict[str, pd.Index]      # column -> the distinct values, by code

    def isin(self, column: str, wanted) -> np.ndarray:
        """Rows whose `column` is one of `wanted` (a missing value never is)."""
        chosen = np.append(self.values[column].isin(list(wanted)), False)
        return chosen[self.codes[column]]   # code -1 picks the appended False


@st.cache_resource(show_spinner=False, max_entries=1)
def _incident_codes(version: int) -> _Codes:
    table = _incident_table(version)
    codes, values = {}, {}
    for column in ("month", "crime_type", "lad_code"):
        codes[column], distinct = pd.factorize(table[column], use_na_sentinel=True)
        values[column] = pd.Index(distinct, dtype=object)
    return _Codes(codes=codes, values=values)


def selected_incidents(area_code: str | None, months: tuple[str, ...],
                       crime_group: str) -> pd.DataFrame:
    """Incidents in one CSP (or the whole Humber area) for the months and crime group.

    Each caller gets its own shallow copy of one shared frame: with pandas' copy-on-write,
    a caller adding or changing a column changes only its copy (tested), and no call
    pickles or unpickles the frame (a cache miss of the Humber's cost 15 ms to pickle)."""
    return _selected_incidents(area_code, months, crime_group,
                               store_version()).copy(deep=False)


@st.cache_resource(show_spinner="Reading incidents from the store…", max_entries=128)
def _selected_incidents(area_code: str | None, months: tuple[str, ...], crime_group: str,
                        version: int) -> pd.DataFrame:
    group = get_config().crime_group(crime_group)
    if pipeline.is_ward_code(area_code):  # a ward: its CSP's incidents in the ward's LSOAs
        ward = pipeline.area_lsoas(lsoa_table(), area_code)
        frame = _query(ward["lad_code"].iloc[0], months, group.types, INCIDENT_COLUMNS)
        frame = frame[frame["lsoa21cd"].isin(ward["lsoa21cd"])].reset_index(drop=True)
    else:
        frame = _query(area_code, months, group.types, INCIDENT_COLUMNS)
    return _add_harm(frame)


def _add_harm(frame: pd.DataFrame) -> pd.DataFrame:
    """Add ``harm``: the crime type's harm weight times the source's own weight."""
    frame["harm"] = harm_weights(frame["crime_type"], get_harm_weights().weights) * \
        frame["weight"].to_numpy(dtype=float)
    return frame


def context_incidents(area_code: str | None, months: tuple[str, ...],
                      crime_group: str) -> pd.DataFrame:
    """The other crime types' incidents in the same area and months (precursors, context).

    A shallow copy of one shared frame, as :func:`selected_incidents` gives (unpickling a
    copy of the Humber's took 5-15 ms of the page's interpreter lock per call)."""
    return _context_incidents(area_code, months, crime_group,
                              store_version()).copy(deep=False)


@st.cache_resource(show_spinner=False, max_entries=16)
def _context_incidents(area_code, months, crime_group, version) -> pd.DataFrame:
    config = get_config()
    chosen = set(config.crime_group(crime_group).types)
    every = {t for g in config.crime_groups for t in g.types}
    lsoas = pipeline.area_lsoas(lsoa_table(), area_code)
    lad = lsoas["lad_code"].iloc[0] if pipeline.is_ward_code(area_code) else area_code
    frame = _query(lad, months, sorted(every - chosen), ["x", "y", "crime_type", "month",
                                                          "lsoa21cd"])
    if pipeline.is_ward_code(area_code):
        frame = frame[frame["lsoa21cd"].isin(lsoas["lsoa21cd"])].reset_index(drop=True)
    return frame


def lsoa_rates(area_code: str | None, months: tuple[str, ...],
               crime_group: str) -> pd.DataFrame:
    """Per-LSOA incidents and rate per 1,000 residents, with names and deprivation."""
    return _lsoa_rates(area_code, months, crime_group, store_version())


@st.cache_data(show_spinner=False)
def _lsoa_rates(area_code: str | None, months: tuple[str, ...], crime_group: str,
                version: int) -> pd.DataFrame:
    lsoas = pipeline.area_lsoas(lsoa_table(), area_code)
    if stored_aggregates.aggregates_enabled():
        rates = _counted_rates(_counts(area_code, months, crime_group),
                               lsoas[["lsoa21cd", "population"]], key="lsoa21cd")
    else:
        incidents = selected_incidents(area_code, months, crime_group)
        rates = area_rates(incidents, lsoas[["lsoa21cd", "population"]], key="lsoa21cd")
    return pd.DataFrame(lsoas.drop(columns="geometry")).merge(
        rates.drop(columns="population"), on="lsoa21cd", how="left")


def csp_summary(months: tuple[str, ...], crime_group: str) -> pd.DataFrame:
    """The four CSPs side by side: incidents, rate per 1,000 residents and share."""
    return _csp_summary(months, crime_group, store_version())


@st.cache_data(show_spinner=False)
def _csp_summary(months: tuple[str, ...], crime_group: str, version: int) -> pd.DataFrame:
    config = get_config()
    populations = lsoa_table().groupby("lad_code", as_index=False)["population"].sum()
    populations = populations[populations["lad_code"].isin(config.area_codes)]
    if stored_aggregates.aggregates_enabled():
        table = _counted_rates(_counts(None, months, crime_group), populations, key="lad_code")
    else:
        table = area_rates(selected_incidents(None, months, crime_group), populations,
                           key="lad_code")
    names = {a.code: a.short_name for a in config.areas}
    table.insert(0, "CSP", table["lad_code"].map(names))
    table.attrs["months"] = tuple(months)  # rates are over these: the cards annualise them
    return table


def csp_trend(months: tuple[str, ...], crime_group: str) -> pd.DataFrame:
    """Incidents per month (rows) and CSP (columns, short names)."""
    return _csp_trend(months, crime_group, store_version())


@st.cache_data(show_spinner=False)
def _csp_trend(months: tuple[str, ...], crime_group: str, version: int) -> pd.DataFrame:
    config = get_config()
    if stored_aggregates.aggregates_enabled():
        table = monthly_counts(_counts(None, months, crime_group), key="lad_code",
                               months=list(months), weight="incidents").round().astype("int64")
    else:
        table = monthly_counts(selected_incidents(None, months, crime_group), key="lad_code",
                               months=list(months))
    table = table.reindex(columns=list(config.area_codes), fill_value=0)
    return table.rename(columns={a.code: a.short_name for a in config.areas})


def _weight(measure: str) -> str | None:
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {list(MEASURES)}; got {measure!r}.")
    return "harm" if measure == "harm" else None


def hotspot_analysis(area_code: str | None, months: tuple[str, ...], crime_group: str, *,
             bandwidth: float, cell_size: float, threshold_method: str,
             threshold_value: float, measure: str = "count",
             disclosure: DisclosureRule | None = None,
             earlier_hotspots: bool = False) -> HotspotsWithChange:
    """The selection's one analysis: surface, named hotspots, ranked table and their change.

    :func:`hotspots.tasking.hotspots_with_change`, as the tasking pack and the meeting page
    compute it: the table's ``name`` column (``"Hotspot 2 — Newland Avenue"``) is the name
    to show everywhere; ``persistence`` and ``incidents_before`` compare with the comparable
    previous period (``comparison`` says which, or why there is none). With `disclosure`
    (partner and public roles) both periods are protected
    (:func:`hotspots.pipeline.hotspot_analysis`); counts only. The previous period's own
    hotspots (``previous``: what ceased, the places that moved) only with
    `earlier_hotspots`, as the meeting page asks: a map needs only its surface."""
    return _hotspots(area_code, tuple(months), crime_group, bandwidth, cell_size,
                     threshold_method, threshold_value, measure, disclosure,
                     bool(earlier_hotspots), store_version())


# A resource, not data: every page reads the selection's analysis three or four times a
# rerun, and unpickling a copy (surfaces of 2.9M cells, outlines as WKB) cost 60 ms each
# time for the Humber. Callers share one object, so its arrays are made read-only.
@st.cache_resource(show_spinner="Computing the density surface and hotspots…",
                   max_entries=64)
def _hotspots(area_code, months, crime_group, bandwidth, cell_size, threshold_method,
              threshold_value, measure, disclosure, earlier_hotspots,
              version) -> HotspotsWithChange:
    return _read_only(hotspots_with_change(
        lambda period: selected_incidents(area_code, tuple(period), crime_group),
        months=months, stored_months=available_months(),
        study_area=study_area(area_code),
        lsoas=lsoa_table(), bandwidth=bandwidth, cell_size=cell_size,
        threshold_method=threshold_method, threshold_value=threshold_value,
        weight=None if disclosure is not None else _weight(measure), disclosure=disclosure,
        analyse=lambda period, prefix: period_hotspots(
            area_code, period, crime_group, bandwidth=bandwidth, cell_size=cell_size,
            threshold_method=threshold_method, threshold_value=threshold_value,
            measure=measure, disclosure=disclosure, prefix=prefix),
        earlier_hotspots=earlier_hotspots))


def period_hotspots(area_code: str | None, months: tuple[str, ...], crime_group: str, *,
                    bandwidth: float, cell_size: float, threshold_method: str,
                    threshold_value: float, measure: str = "count",
                    disclosure: DisclosureRule | None = None,
                    prefix: str = "Hotspot") -> HotspotAnalysis:
    """One period's named hotspots (:func:`hotspots.tasking.named_hotspots`), without a
    comparison: the part of :func:`hotspot_analysis` done once per period, shared by the
    selections that meet the period (as their own or as their previous one) and by the Need
    table."""
    return _period_hotspots(area_code, tuple(months), crime_group, bandwidth, cell_size,
                            threshold_method, threshold_value, measure, disclosure, prefix,
                            store_version())


@st.cache_resource(show_spinner=False, max_entries=64)
def _period_hotspots(area_code, months, crime_group, bandwidth, cell_size, threshold_method,
                     threshold_value, measure, disclosure, prefix, version) -> HotspotAnalysis:
    return _read_only(named_hotspots(
        selected_incidents(area_code, months, crime_group), prefix=prefix,
        study_area=study_area(area_code), lsoas=lsoa_table(), bandwidth=bandwidth,
        cell_size=cell_size, threshold_method=threshold_method,
        threshold_value=threshold_value,
        weight=None if disclosure is not None else _weight(measure), disclosure=disclosure))


def _read_only(value, _seen=None):
    """`value` with every NumPy array inside its dataclasses made read-only (in place), so a
    caller changing a shared cached result fails loudly instead of changing it for all."""
    seen = set() if _seen is None else _seen
    if id(value) in seen:
        return value
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            _read_only(getattr(value, field.name), seen)
    return value


def clusters(area_code: str | None, months: tuple[str, ...], crime_group: str, *,
             eps: float | None, min_samples: int | None, max_memory_mb: float,
             measure: str = "count",
             disclosure: DisclosureRule | None = None) -> pipeline.ClusterAnalysis:
    """DBSCAN clusters, their outlines and their ranked table (by count or harm)."""
    return _clusters(area_code, months, crime_group, eps, min_samples, max_memory_mb,
                     measure, disclosure, store_version())


@st.cache_data(show_spinner="Clustering incidents (DBSCAN)…", max_entries=64)
def _clusters(area_code, months, crime_group, eps, min_samples, max_memory_mb, measure,
              disclosure, version) -> pipeline.ClusterAnalysis:
    weight = None if disclosure is not None else _weight(measure)
    return compute_process.run(
        pipeline.cluster_analysis,
        _only(selected_incidents(area_code, months, crime_group), CLUSTER_COLUMNS, weight),
        lsoas=lsoa_table(), eps=eps, min_samples=min_samples, max_memory_mb=max_memory_mb,
        weight=weight, disclosure=disclosure)


#: The incident columns :func:`hotspots.pipeline.cluster_analysis` reads (with the weight
#: column, if any) and those :func:`hotspots.pipeline.predicted_cells` reads: only these
#: are pickled to the compute process (all of them took 20 ms more for the Humber).
CLUSTER_COLUMNS = ("x", "y", "crime_type", "lsoa21cd")
PREDICTED_COLUMNS = ("x", "y")


def _only(incidents: pd.DataFrame, columns: tuple[str, ...],
          weight: str | None = None) -> pd.DataFrame:
    return incidents[[*columns, *([weight] if weight else [])]]


def risk(area_code: str | None, months: tuple[str, ...], crime_group: str, *,
         bandwidth: float, cell_size: float, measure: str = "count",
         population: str = "population",
         disclosure: DisclosureRule | None = None) -> RiskSurface:
    """Incidents (or harm) per 1,000 residents around each cell: the dual KDE.

    With `disclosure`: counts only, the rule's bandwidth and cell floors, isolated incidents
    left out and cells with too few incidents around them withheld (NaN)."""
    return _risk(area_code, months, crime_group, bandwidth, cell_size, measure, population,
                 disclosure, store_version())


@st.cache_data(show_spinner="Computing the risk surface…", max_entries=16)
def _risk(area_code, months, crime_group, bandwidth, cell_size, measure, population,
          disclosure, version) -> RiskSurface:
    incidents = selected_incidents(area_code, months, crime_group)
    x, y = incidents["x"].to_numpy(float), incidents["y"].to_numpy(float)
    weight = None if disclosure is not None else _weight(measure)
    if disclosure is not None:
        keep = surface_incidents(x, y, disclosure)
        x, y = x[keep], y[keep]
        bandwidth, cell_size = disclosure.bandwidth(bandwidth), disclosure.cell_size(cell_size)
    surface = risk_surface(x, y, pipeline.area_lsoas(lsoa_table(), area_code),
                           bandwidth=bandwidth, cell_size=cell_size,
                           population_column=population,
                           weights=None if weight is None else incidents[weight].to_numpy())
    if disclosure is None:
        return surface
    return dataclasses.replace(surface, rate_per_1000=protect_surface(
        surface.rate_per_1000, surface.grid, x, y, disclosure))


def change(area_code: str | None, months: tuple[str, ...], crime_group: str, *,
           bandwidth: float, cell_size: float, threshold_method: str, threshold_value: float,
           measure: str = "count",
           disclosure: DisclosureRule | None = None,
           ) -> tuple[HotspotChange | None, tuple[str, ...]]:
    """Hotspot change from the comparable previous period to the chosen one, and that
    period's months (None and ``()`` when there is none): the change of :func:`hotspots`.

    With `disclosure`, both periods' surfaces are protected as the density map is
    (:func:`hotspots.pipeline.protected_density`)."""
    analysis = hotspot_analysis(area_code, months, crime_group, bandwidth=bandwidth,
                        cell_size=cell_size, threshold_method=threshold_method,
                        threshold_value=threshold_value, measure=measure,
                        disclosure=disclosure)
    return analysis.change, analysis.previous_months


def predicted(area_code: str | None, months: tuple[str, ...], crime_group: str, *,
              coverage: float,
              disclosure: DisclosureRule | None = None) -> pipeline.PredictedCells:
    """Cells the back-tested default method selects for the next period."""
    return _predicted(area_code, months, crime_group, coverage, disclosure,
                      store_version())[0]


def predicted_with_records(area_code: str | None, months: tuple[str, ...],
                           crime_group: str, *, coverage: float,
                           disclosure: DisclosureRule | None = None
                           ) -> tuple[pipeline.PredictedCells, list[dict]]:
    """:func:`predicted` and its outlines as map records (:func:`ui.deck.polygon_records`,
    with ``cells``), made with them in the compute process. Shared: do not change them."""
    return _predicted(area_code, months, crime_group, coverage, disclosure, store_version())


# A resource: the records of the Humber's cells (thousands of polygons) are read, never
# changed, and unpickling a copy on each rerun would cost what making them did.
@st.cache_resource(show_spinner="Scoring cells with the default method…", max_entries=64)
def _predicted(area_code, months, crime_group, coverage, disclosure,
               version) -> tuple[pipeline.PredictedCells, list[dict]]:
    return compute_process.run(
        offload_tasks.predicted_with_records,
        _only(selected_incidents(area_code, months, crime_group), PREDICTED_COLUMNS),
        _only(context_incidents(area_code, months, crime_group), PREDICTED_COLUMNS),
        study_area=study_area(area_code), coverage=coverage,
        disclosure=disclosure)


def default_bandwidth(area_code: str | None, crime_group: str) -> float:
    """The map's default KDE bandwidth: the back-tested one, else the configured default."""
    chosen = backtested_bandwidth(area_code, crime_group)
    return chosen if chosen is not None else float(get_config().setting("kde_bandwidth").default)


def backtested_bandwidth(area_code: str | None, crime_group: str) -> float | None:
    """The bandwidth of :data:`BANDWIDTH_CANDIDATES` that best predicted the latest stored
    month from the earlier ones (mean hit rate at 1% and 5% coverage), or None when the
    store has fewer than two months or fewer than :data:`MIN_INCIDENTS_FOR_BANDWIDTH`
    incidents of the group."""
    return _backtested_bandwidth(area_code, crime_group, store_version())


@st.cache_data(show_spinner="Back-testing bandwidths on the stored data…", max_entries=32)
def _backtested_bandwidth(area_code, crime_group, version) -> float | None:
    if not stored_aggregates.aggregates_enabled():
        return _backtest(area_code, crime_group)
    # Stored beside the incidents of this version by whichever process computed it first.
    key = _bandwidth_key(area_code, crime_group)
    derived = stored_aggregates.read_derived(store().directory, version)
    if key in derived:
        return derived[key]
    chosen = _backtest(area_code, crime_group)
    with contextlib.suppress(OSError):  # a read-only store: computed again after a restart
        stored_aggregates.write_derived(store().directory, version, key, chosen)
    return chosen


def _bandwidth_key(area_code: str | None, crime_group: str) -> str:
    return (f"bandwidth|{area_code or 'humber'}|{crime_group}|"
            + ",".join(f"{b:g}" for b in BANDWIDTH_CANDIDATES))


def precompute_defaults(area_codes=None) -> int:
    """Back-test and store default bandwidths beside the current store version.

    Parameters
    ----------
    area_codes : iterable of (str or None), optional
        Areas to do (None is the whole Humber); default the Humber and every CSP. Every
        crime group is done for each. Ward pages compute theirs on first view.

    Returns
    -------
    int
        How many values were computed (those already stored are kept).

    Notes
    -----
    Stored with :func:`geodata.aggregates.write_derived`, so no page view, in this process or
    another, pays for them again until the next ingest. The streets of "find a place" are
    stored too. Run it after an ingest (``python -m ui.bench`` does).
    """
    incidents = store()
    version = incidents.version
    done = stored_aggregates.read_derived(incidents.directory, version)
    computed = 0
    areas = (None, *get_config().area_codes) if area_codes is None else tuple(area_codes)
    unknown = [a for a in areas if a is not None and a not in get_config().area_codes]
    if unknown:
        raise ValueError(f"'area_codes' should be CSP codes {list(get_config().area_codes)} "
                         f"or None (the Humber); got {unknown}.")
    _streets(version)
    for area_code in areas:
        for group in get_config().crime_groups:
            key = _bandwidth_key(area_code, group.name)
            if key not in done:
                with contextlib.suppress(OSError):  # a read-only store: computed on view
                    stored_aggregates.write_derived(incidents.directory, version, key,
                                                    _backtest(area_code, group.name))
                computed += 1
    return computed


def _backtest(area_code, crime_group) -> float | None:
    months = tuple(available_months())
    if len(months) < 2:
        return None
    incidents = selected_incidents(area_code, months, crime_group)
    if len(incidents) < MIN_INCIDENTS_FOR_BANDWIDTH or incidents["month"].nunique() < 2:
        return None
    return choose_bandwidth(incidents, study_area=study_area(area_code),
                            crime_types=get_config().crime_group(crime_group).types,
                            candidates=BANDWIDTH_CANDIDATES)


def need_table(area_code: str | None, months: tuple[str, ...], crime_group: str, *,
               bandwidth: float, cell_size: float, threshold_method: str,
               threshold_value: float, measure: str = "count",
               disclosure: DisclosureRule | None = None) -> pd.DataFrame:
    """Per-LSOA need: incidents (or harm), rates, deprivation, hotspot flag and change.

    With `disclosure` the hotspot flag comes from the protected hotspots (counts are
    protected where they are shown, :func:`hotspots.disclosure.protect_table`)."""
    return _need_table(area_code, months, crime_group, bandwidth, cell_size, threshold_method,
                       threshold_value, measure, disclosure, store_version())


@st.cache_data(show_spinner="Building the need table…", max_entries=64)
def _need_table(area_code, months, crime_group, bandwidth, cell_size, threshold_method,
                threshold_value, measure, disclosure, version) -> pd.DataFrame:
    incidents = selected_incidents(area_code, months, crime_group)
    # This period's hotspots only (shared with the map's analysis of the same selection):
    # the table compares LSOA counts, not hotspots, with the previous period.
    analysis = period_hotspots(area_code, months, crime_group, bandwidth=bandwidth,
                               cell_size=cell_size, threshold_method=threshold_method,
                               threshold_value=threshold_value, disclosure=disclosure)
    before_months, comparison = comparison_period(
        months, available_months(),
        lambda period: selected_incidents(area_code, tuple(period), crime_group))
    previous = selected_incidents(area_code, before_months, crime_group) if before_months \
        else None
    inside = assign_to_polygons(incidents["x"].to_numpy(), incidents["y"].to_numpy(),
                                analysis.outlines, "hotspot_id") >= 0
    table = lsoa_need_table(pipeline.area_lsoas(lsoa_table(), area_code), incidents, previous,
                            hotspot_lsoas=set(incidents.loc[inside, "lsoa21cd"]),
                            harm=None if disclosure is not None else _weight(measure))
    if disclosure is not None:
        table = protect_need_table(table, disclosure)
    table.attrs["previous_months"] = before_months
    table.attrs["comparison"] = comparison
    return table


def hotspot_profile(area_code: str | None, months: tuple[str, ...], crime_group: str,
                    hotspot_id: int, *, bandwidth: float, cell_size: float,
                    threshold_method: str, threshold_value: float, measure: str = "count"):
    """The profile of one hotspot on the map (see :mod:`hotspots.hotspot_profile`).

    Only the hotspot the user opens is profiled: profiling every hotspot of the Humber on
    each selection was a third of the overview's first render (issue #12)."""
    return _hotspot_profile(area_code, months, crime_group, int(hotspot_id), bandwidth,
                            cell_size, threshold_method, threshold_value, measure,
                            store_version())


@st.cache_data(show_spinner="Profiling the hotspot…", max_entries=96)
def _hotspot_profile(area_code, months, crime_group, hotspot_id, bandwidth, cell_size,
                     threshold_method, threshold_value, measure, version):
    incidents = selected_incidents(area_code, months, crime_group)
    analysis = hotspot_analysis(area_code, months, crime_group, bandwidth=bandwidth,
                                cell_size=cell_size, threshold_method=threshold_method,
                                threshold_value=threshold_value, measure=measure)
    ids = _hotspot_ids(area_code, months, crime_group, bandwidth, cell_size, threshold_method,
                       threshold_value, measure, version)
    return profile_hotspots(incidents, ids, lsoas=lsoa_table(), months=list(months),
                            persistence=analysis.persistence or None,
                            hotspot_ids=[hotspot_id])[hotspot_id]


@st.cache_data(show_spinner=False, max_entries=64)
def _hotspot_ids(area_code, months, crime_group, bandwidth, cell_size, threshold_method,
                 threshold_value, measure, version) -> np.ndarray:
    """The hotspot holding each selected incident (-1 for none), as profiles need."""
    incidents = selected_incidents(area_code, months, crime_group)
    analysis = hotspot_analysis(area_code, months, crime_group, bandwidth=bandwidth,
                                cell_size=cell_size, threshold_method=threshold_method,
                                threshold_value=threshold_value, measure=measure)
    return assign_to_polygons(incidents["x"].to_numpy(), incidents["y"].to_numpy(),
                              analysis.outlines, "hotspot_id")


def gi_star(area_code: str | None, months: tuple[str, ...], crime_group: str, *,
            measure: str = "count") -> gpd.GeoDataFrame:
    """Getis-Ord Gi* of the area's LSOAs (9,999 permutations, FDR-adjusted, seed 0)."""
    return _gi_star(area_code, months, crime_group, measure, store_version())


@st.cache_data(show_spinner="Testing LSOAs for hot and cold spots (Gi*)…", max_entries=16)
def _gi_star(area_code, months, crime_group, measure, version) -> gpd.GeoDataFrame:
    return gi_star_lsoas(selected_incidents(area_code, months, crime_group),
                         pipeline.area_lsoas(lsoa_table(), area_code), weight=_weight(measure),
                         permutations=GI_PERMUTATIONS, seed=0)


def concentration(area_code: str | None, months: tuple[str, ...], crime_group: str, *,
                  replicates: int = 200) -> list:
    """Lorenz curves, Gini and generalised Gini over map points, 100 m cells and LSOAs, for
    counts and harm (:func:`hotspots.concentration.concentration_table`).

    The universe of map points is every police.uk map point stored in the area (all months
    and crime types)."""
    return _concentration(area_code, months, crime_group, replicates, store_version())


@st.cache_data(show_spinner="Measuring how concentrated incidents are…", max_entries=16)
def _concentration(area_code, months, crime_group, replicates, version) -> list:
    from hotspots.concentration import concentration_table

    lsoas = pipeline.area_lsoas(lsoa_table(), area_code)
    incidents = selected_incidents(area_code, months, crime_group)
    lad = lsoas["lad_code"].iloc[0] if pipeline.is_ward_code(area_code) else area_code
    if stored_aggregates.aggregates_enabled():  # the area's map points, each stored once
        points = aggregates().map_points
        universe = points.loc[(points["lad_code"] == lad).fillna(False).to_numpy(bool)
                              if lad is not None else slice(None), ["x", "y", "lsoa21cd"]]
    else:
        universe = store().query(area_code=lad, columns=["x", "y", "lsoa21cd"])
    if pipeline.is_ward_code(area_code):
        universe = universe[universe["lsoa21cd"].isin(lsoas["lsoa21cd"])]
    return concentration_table(incidents, study_area=study_area(area_code),
                               lsoa_codes=lsoas["lsoa21cd"], universe=universe,
                               replicates=replicates)


def emerging_months(months: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
    """The months of the emerging hot spot cube for a selection (empty when too few), and
    the plain-language account (:func:`hotspots.emerging.cube_months`)."""
    from hotspots.emerging import cube_months

    minimum = int(get_config().setting("emerging_min_months").default)
    run, _, message = cube_months(months, available_months(), min_months=minimum)
    return run, message


def emerging(area_code: str | None, months: tuple[str, ...], crime_group: str, *,
             disclosure: DisclosureRule | None = None):
    """Emerging hot spots of the selection (:func:`hotspots.emerging.emerging_hotspots`).

    With `disclosure`, only cells with at least ``rule.threshold`` incidents over the cube and
    ``rule.threshold`` incidents within ``rule.support_radius_m`` of their centre keep their
    category, and no z, p, trend or count is kept
    (:func:`hotspots.emerging.protect_emerging`)."""
    return _emerging(area_code, months, crime_group, disclosure, store_version())


@st.cache_data(show_spinner="Building the space-time cube (emerging hot spots)…", max_entries=16)
def _emerging(area_code, months, crime_group, disclosure, version):
    from hotspots.emerging import emerging_hotspots, protect_emerging

    config = get_config()
    incidents = selected_incidents(area_code, months, crime_group)
    result = emerging_hotspots(
        incidents, study_area(area_code), months=months,
        stored_months=available_months(),
        cell_size=float(config.setting("emerging_cell_size").default),
        min_months=int(config.setting("emerging_min_months").default))
    if disclosure is None or not result.enough:
        return result
    inside = incidents["month"].astype(str).isin(result.months).to_numpy()
    return protect_emerging(result, incidents["x"].to_numpy(float)[inside],
                            incidents["y"].to_numpy(float)[inside],
                            threshold=disclosure.threshold,
                            support_radius_m=disclosure.support_radius_m)
