"""Reference data on 2021 LSOAs: boundaries, deprivation (IoD2025), population (Census 2021).

All geometries are returned in British National Grid (EPSG:27700); they are reprojected once,
here, at load.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from geodata import paths
from geodata.crs import BNG
from geodata.errors import DataValidationError

#: IoD2025 domains as named in the source columns, with their display names.
IOD_DOMAINS: dict[str, str] = {
    "IMD": "Index of Multiple Deprivation",
    "Income": "Income",
    "Employment": "Employment",
    "Education": "Education, Skills and Training",
    "Health": "Health Deprivation and Disability",
    "Crime": "Crime",
    "Housing_and_Services": "Barriers to Housing and Services",
    "Environment": "Living Environment",
}


def _require_columns(frame: pd.DataFrame, columns: list[str], path: Path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataValidationError(f"{path}: expected columns {missing} but found "
                                  f"{list(frame.columns)}.")


def load_lsoa_boundaries(path: str | Path = paths.LSOA_BOUNDARIES) -> gpd.GeoDataFrame:
    """Load 2021 LSOA polygons in EPSG:27700.

    Parameters
    ----------
    path : str or Path
        GeoJSON/GeoPackage with columns ``LSOA21CD``, ``LSOA21NM``, ``LAD24CD``, ``LAD24NM``.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``lsoa21cd``, ``lsoa21nm``, ``lad_code``, ``lad_name``, ``geometry`` (EPSG:27700).
    """
    path = Path(path)
    frame = gpd.read_file(path)
    _require_columns(frame, ["LSOA21CD", "LSOA21NM", "LAD24CD", "LAD24NM"], path)
    frame = frame.rename(columns={"LSOA21CD": "lsoa21cd", "LSOA21NM": "lsoa21nm",
                                  "LAD24CD": "lad_code", "LAD24NM": "lad_name"})
    if frame["lsoa21cd"].duplicated().any():
        raise DataValidationError(f"{path}: LSOA21CD must be unique; duplicated "
                                  f"{sorted(frame.loc[frame.lsoa21cd.duplicated(), 'lsoa21cd'])[:5]}.")
    frame = frame[["lsoa21cd", "lsoa21nm", "lad_code", "lad_name", "geometry"]]
    return frame.to_crs(BNG).sort_values("lsoa21cd", ignore_index=True)


def load_lad_boundaries(path: str | Path = paths.LAD_BOUNDARIES) -> gpd.GeoDataFrame:
    """Load local-authority (CSP) polygons in EPSG:27700 with columns ``lad_code``, ``lad_name``."""
    path = Path(path)
    frame = gpd.read_file(path)
    _require_columns(frame, ["LAD24CD", "LAD24NM"], path)
    frame = frame.rename(columns={"LAD24CD": "lad_code", "LAD24NM": "lad_name"})
    return frame[["lad_code", "lad_name", "geometry"]].to_crs(BNG)


def load_deprivation(path: str | Path = paths.IMD_2025) -> pd.DataFrame:
    """Load IoD2025 deciles, ranks and scores for the IMD and its seven domains.

    Returns
    -------
    pandas.DataFrame
        ``lsoa21cd`` plus ``<domain>_decile``, ``<domain>_rank`` and ``<domain>_score`` for each
        key of :data:`IOD_DOMAINS` (lower-cased, e.g. ``imd_decile``, ``income_rank``).
        Decile 1 and rank 1 are the most deprived in England.
    """
    path = Path(path)
    frame = pd.read_csv(path)
    wanted = [f"{d}_{m}" for d in IOD_DOMAINS for m in ("decile", "rank", "score")]
    _require_columns(frame, ["LSOA21CD", *wanted], path)
    frame = frame[["LSOA21CD", *wanted]]
    frame.columns = ["lsoa21cd", *[c.lower() for c in wanted]]
    return frame


def load_population(path: str | Path = paths.POPULATION_2021) -> pd.DataFrame:
    """Load Census 2021 usual residents by age band on 2021 LSOAs.

    Returns
    -------
    pandas.DataFrame
        ``lsoa21cd``, ``population`` (all ages), ``population_16_34`` (16–34, the Census bands
        closest to the VPP's "up to 35" focus) and ``population_0_34``.
    """
    path = Path(path)
    frame = pd.read_csv(path)
    _require_columns(frame, ["LSOA21CD", "total", "age_16_24", "age_25_34", "age_0_34"], path)
    return pd.DataFrame({
        "lsoa21cd": frame["LSOA21CD"],
        "population": frame["total"].astype("int64"),
        "population_16_34": (frame["age_16_24"] + frame["age_25_34"]).astype("int64"),
        "population_0_34": frame["age_0_34"].astype("int64"),
    })


def load_lsoa11_lookup(path: str | Path = paths.LSOA11_TO_LSOA21) -> pd.DataFrame:
    """Load the ONS 2011 → 2021 LSOA lookup (columns ``lsoa11cd``, ``lsoa21cd``, ``change``)."""
    path = Path(path)
    frame = pd.read_csv(path, dtype=str)
    _require_columns(frame, ["LSOA11CD", "LSOA21CD", "CHGIND"], path)
    return frame.rename(columns={"LSOA11CD": "lsoa11cd", "LSOA21CD": "lsoa21cd",
                                 "CHGIND": "change"})[["lsoa11cd", "lsoa21cd", "change"]]


def load_ward_lookup(path: str | Path = paths.LSOA21_TO_WARD24) -> pd.DataFrame:
    """Load the ONS LSOA 2021 → electoral ward 2024 best-fit lookup.

    Returns
    -------
    pandas.DataFrame
        ``lsoa21cd``, ``ward_code`` and ``ward_name``, one row per LSOA.
    """
    path = Path(path)
    frame = pd.read_csv(path, dtype=str)
    _require_columns(frame, ["LSOA21CD", "WD24CD", "WD24NM"], path)
    return frame.rename(columns={"LSOA21CD": "lsoa21cd", "WD24CD": "ward_code",
                                 "WD24NM": "ward_name"})[["lsoa21cd", "ward_code", "ward_name"]]


def load_wards(lsoas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Electoral wards (2024) as the union of their LSOAs (best fit), EPSG:27700.

    Parameters
    ----------
    lsoas : geopandas.GeoDataFrame
        LSOAs with ``ward_code``, ``ward_name``, ``lad_code`` (from :func:`load_lsoa_table`).

    Returns
    -------
    geopandas.GeoDataFrame
        ``ward_code``, ``ward_name``, ``lad_code``, ``lsoas`` (count), ``geometry``.
    """
    wards = lsoas.dissolve(by="ward_code", aggfunc={"ward_name": "first", "lad_code": "first",
                                                    "lsoa21cd": "count"})
    wards = wards.rename(columns={"lsoa21cd": "lsoas"}).reset_index()
    return wards[["ward_code", "ward_name", "lad_code", "lsoas", "geometry"]]


def load_lsoa_table() -> gpd.GeoDataFrame:
    """Join boundaries, IoD2025 and Census 2021 population on the 2021 LSOA code.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per 2021 LSOA (EPSG:27700) with names, CSP code and name, electoral ward
        (2024, best fit), every IoD2025 decile, rank and score, population columns and
        ``area_km2``.

    Raises
    ------
    DataValidationError
        If an LSOA lacks deprivation, population or ward data.
    """
    lsoas = load_lsoa_boundaries()
    for other, path in ((load_deprivation(), paths.IMD_2025),
                        (load_population(), paths.POPULATION_2021),
                        (load_ward_lookup(), paths.LSOA21_TO_WARD24)):
        missing = sorted(set(lsoas["lsoa21cd"]) - set(other["lsoa21cd"]))
        if missing:
            raise DataValidationError(f"{path}: no row for LSOAs {missing[:5]} "
                                      f"({len(missing)} in all) of the boundary file.")
        lsoas = lsoas.merge(other, on="lsoa21cd", how="left", validate="one_to_one")
    lsoas["area_km2"] = lsoas.geometry.area / 1e6
    return lsoas
