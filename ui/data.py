"""Streamlit caching wrappers around the data layer and the hotspot library.

Every wrapper takes hashable values that fully identify its result (area code, months,
crime group, parameters) and caches aggregated results, not copies of the raw frame.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import streamlit as st

from config import get_config
from geodata.incidents import IncidentLoad, load_incidents
from geodata.paths import shipped_crime_files
from geodata.reference import load_lad_boundaries, load_lsoa11_lookup, load_lsoa_table
from hotspots import pipeline
from hotspots.rates import area_rates, monthly_counts


@st.cache_data(show_spinner="Loading LSOA boundaries, deprivation and population…")
def lsoa_table() -> gpd.GeoDataFrame:
    """2021 LSOAs (EPSG:27700) with IoD2025 and Census 2021 population."""
    return load_lsoa_table()


@st.cache_data(show_spinner=False)
def lad_boundaries() -> gpd.GeoDataFrame:
    """CSP (local authority) outlines in EPSG:27700."""
    return load_lad_boundaries()


@st.cache_data(show_spinner="Loading police.uk incidents…")
def incident_load() -> IncidentLoad:
    """The shipped police.uk months, validated and placed on 2021 LSOAs."""
    config = get_config()
    known = {t for group in config.crime_groups for t in group.types}
    return load_incidents(shipped_crime_files(), lsoas=lsoa_table(),
                          lookup=load_lsoa11_lookup(), known_crime_types=known)


def available_months() -> list[str]:
    """Months present in the incident data, oldest first."""
    return sorted(incident_load().accepted["month"].dropna().unique().tolist())


@st.cache_data(show_spinner=False)
def data_span() -> dict:
    """What the data covers, for the freshness line on every page."""
    load = incident_load()
    months = available_months()
    files = sorted(load.accepted["source_file"].unique().tolist())
    return {"first_month": months[0] if months else None,
            "last_month": months[-1] if months else None, "months": months,
            "accepted": len(load.accepted), "rejected": len(load.rejected),
            "outside_area": load.outside_area, "files": files}


@st.cache_data(show_spinner=False)
def selected_incidents(area_code: str | None, months: tuple[str, ...],
                       crime_group: str) -> pd.DataFrame:
    """Incidents in one CSP (or the whole Humber area) for the months and crime group."""
    group = get_config().crime_group(crime_group)
    return pipeline.select_incidents(incident_load().accepted, area_code=area_code,
                                     months=months, crime_types=group.types)


@st.cache_data(show_spinner=False)
def lsoa_rates(area_code: str | None, months: tuple[str, ...],
               crime_group: str) -> pd.DataFrame:
    """Per-LSOA incidents and rate per 1,000 residents, with names and deprivation."""
    lsoas = pipeline.area_lsoas(lsoa_table(), area_code)
    incidents = selected_incidents(area_code, months, crime_group)
    rates = area_rates(incidents, lsoas[["lsoa21cd", "population"]], key="lsoa21cd")
    return pd.DataFrame(lsoas.drop(columns="geometry")).merge(
        rates.drop(columns="population"), on="lsoa21cd", how="left")


@st.cache_data(show_spinner=False)
def csp_summary(months: tuple[str, ...], crime_group: str) -> pd.DataFrame:
    """The four CSPs side by side: incidents, rate per 1,000 residents and share."""
    config = get_config()
    incidents = selected_incidents(None, months, crime_group)
    populations = (lsoa_table().groupby("lad_code", as_index=False)["population"].sum())
    populations = populations[populations["lad_code"].isin(config.area_codes)]
    table = area_rates(incidents, populations, key="lad_code")
    names = {a.code: a.short_name for a in config.areas}
    table.insert(0, "CSP", table["lad_code"].map(names))
    return table


@st.cache_data(show_spinner=False)
def csp_trend(months: tuple[str, ...], crime_group: str) -> pd.DataFrame:
    """Incidents per month (rows) and CSP (columns, short names)."""
    config = get_config()
    incidents = selected_incidents(None, months, crime_group)
    table = monthly_counts(incidents, key="lad_code", months=list(months))
    table = table.reindex(columns=list(config.area_codes), fill_value=0)
    return table.rename(columns={a.code: a.short_name for a in config.areas})


@st.cache_data(show_spinner="Computing the density surface and hotspots…")
def hotspots(area_code: str | None, months: tuple[str, ...], crime_group: str, *,
             bandwidth: float, cell_size: float, threshold_method: str,
             threshold_value: float) -> pipeline.HotspotAnalysis:
    """Kernel density surface, hotspot outlines and their ranked table."""
    return pipeline.hotspot_analysis(
        selected_incidents(area_code, months, crime_group),
        study_area=pipeline.study_area(lsoa_table(), area_code),
        lsoas=lsoa_table(), bandwidth=bandwidth, cell_size=cell_size,
        threshold_method=threshold_method, threshold_value=threshold_value)


@st.cache_data(show_spinner="Clustering incidents (DBSCAN)…")
def clusters(area_code: str | None, months: tuple[str, ...], crime_group: str, *,
             eps: float | None, min_samples: int | None,
             max_memory_mb: float) -> pipeline.ClusterAnalysis:
    """DBSCAN clusters, their outlines and their ranked table."""
    return pipeline.cluster_analysis(
        selected_incidents(area_code, months, crime_group), lsoas=lsoa_table(), eps=eps,
        min_samples=min_samples, max_memory_mb=max_memory_mb)
