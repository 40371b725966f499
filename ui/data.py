"""Streamlit caching wrappers around the data layer and the hotspot library.

Every wrapper takes hashable values that fully identify its result (area code, months,
crime group, parameters) and caches aggregated results, not copies of the raw frame.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import streamlit as st

from config import get_config
from geodata.ingest import open_store
from geodata.reference import load_lad_boundaries, load_lsoa_table
from geodata.store import IncidentStore
from hotspots import pipeline
from hotspots.rates import area_rates, monthly_counts

#: Columns the pages need; the store's provenance columns stay on the server.
INCIDENT_COLUMNS = ("month", "crime_type", "location", "lsoa21cd", "lad_code", "x", "y", "lon",
                    "lat", "weight")


@st.cache_data(show_spinner="Loading LSOA boundaries, deprivation and population…")
def lsoa_table() -> gpd.GeoDataFrame:
    """2021 LSOAs (EPSG:27700) with IoD2025 and Census 2021 population."""
    return load_lsoa_table()


@st.cache_data(show_spinner=False)
def lad_boundaries() -> gpd.GeoDataFrame:
    """CSP (local authority) outlines in EPSG:27700."""
    return load_lad_boundaries()


@st.cache_resource(show_spinner="Opening the incident store…")
def store() -> IncidentStore:
    """The incident store (``HUMBER_DATA_DIR``), seeded with the shipped months if new."""
    return open_store()


def store_version() -> int:
    """The store's committed version, read afresh on every call.

    Every cached wrapper below takes it as an argument, so data ingested while the dashboard
    runs (from the Data page or ``python -m geodata ingest``) shows on the next interaction.
    """
    return store().version


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
    outside = incidents.query(in_area=False, columns=["month"])
    return {"first_month": months[0] if months else None,
            "last_month": months[-1] if months else None, "months": months,
            "stored": incidents.row_count(), "outside_area": len(outside),
            "last_ingest": done["ingested_at"].iloc[0] if len(done) else None,
            "version": version}


def selected_incidents(area_code: str | None, months: tuple[str, ...],
                       crime_group: str) -> pd.DataFrame:
    """Incidents in one CSP (or the whole Humber area) for the months and crime group."""
    return _selected_incidents(area_code, months, crime_group, store_version())


@st.cache_data(show_spinner="Reading incidents from the store…", max_entries=64)
def _selected_incidents(area_code: str | None, months: tuple[str, ...], crime_group: str,
                        version: int) -> pd.DataFrame:
    group = get_config().crime_group(crime_group)
    return store().query(area_code=area_code, months=months, crime_types=group.types,
                         columns=INCIDENT_COLUMNS)


def lsoa_rates(area_code: str | None, months: tuple[str, ...],
               crime_group: str) -> pd.DataFrame:
    """Per-LSOA incidents and rate per 1,000 residents, with names and deprivation."""
    return _lsoa_rates(area_code, months, crime_group, store_version())


@st.cache_data(show_spinner=False)
def _lsoa_rates(area_code: str | None, months: tuple[str, ...], crime_group: str,
                version: int) -> pd.DataFrame:
    lsoas = pipeline.area_lsoas(lsoa_table(), area_code)
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
    incidents = selected_incidents(None, months, crime_group)
    populations = lsoa_table().groupby("lad_code", as_index=False)["population"].sum()
    populations = populations[populations["lad_code"].isin(config.area_codes)]
    table = area_rates(incidents, populations, key="lad_code")
    names = {a.code: a.short_name for a in config.areas}
    table.insert(0, "CSP", table["lad_code"].map(names))
    return table


def csp_trend(months: tuple[str, ...], crime_group: str) -> pd.DataFrame:
    """Incidents per month (rows) and CSP (columns, short names)."""
    return _csp_trend(months, crime_group, store_version())


@st.cache_data(show_spinner=False)
def _csp_trend(months: tuple[str, ...], crime_group: str, version: int) -> pd.DataFrame:
    config = get_config()
    incidents = selected_incidents(None, months, crime_group)
    table = monthly_counts(incidents, key="lad_code", months=list(months))
    table = table.reindex(columns=list(config.area_codes), fill_value=0)
    return table.rename(columns={a.code: a.short_name for a in config.areas})


def hotspots(area_code: str | None, months: tuple[str, ...], crime_group: str, *,
             bandwidth: float, cell_size: float, threshold_method: str,
             threshold_value: float) -> pipeline.HotspotAnalysis:
    """Kernel density surface, hotspot outlines and their ranked table."""
    return _hotspots(area_code, months, crime_group, bandwidth, cell_size, threshold_method,
                     threshold_value, store_version())


@st.cache_data(show_spinner="Computing the density surface and hotspots…", max_entries=32)
def _hotspots(area_code, months, crime_group, bandwidth, cell_size, threshold_method,
              threshold_value, version) -> pipeline.HotspotAnalysis:
    return pipeline.hotspot_analysis(
        selected_incidents(area_code, months, crime_group),
        study_area=pipeline.study_area(lsoa_table(), area_code),
        lsoas=lsoa_table(), bandwidth=bandwidth, cell_size=cell_size,
        threshold_method=threshold_method, threshold_value=threshold_value)


def clusters(area_code: str | None, months: tuple[str, ...], crime_group: str, *,
             eps: float | None, min_samples: int | None,
             max_memory_mb: float) -> pipeline.ClusterAnalysis:
    """DBSCAN clusters, their outlines and their ranked table."""
    return _clusters(area_code, months, crime_group, eps, min_samples, max_memory_mb,
                     store_version())


@st.cache_data(show_spinner="Clustering incidents (DBSCAN)…", max_entries=32)
def _clusters(area_code, months, crime_group, eps, min_samples, max_memory_mb,
              version) -> pipeline.ClusterAnalysis:
    return pipeline.cluster_analysis(
        selected_incidents(area_code, months, crime_group), lsoas=lsoa_table(), eps=eps,
        min_samples=min_samples, max_memory_mb=max_memory_mb)
