"""The tasking pack's data files: the hotspot table of ``hotspots.csv`` and ``hotspots.geojson``.

One row per hotspot of the analysis (:func:`hotspots.tasking.hotspots_with_change`), named as
the map names it. Writing the CSV safely (no spreadsheet formulas) is
:func:`geodata.csv_safety.write_csv`'s job; this module shapes the rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots.hotspot_profile import HotspotProfile
from reports.pdf import plain

__all__ = ["HOTSPOT_COLUMNS", "hotspot_table", "write_geojson"]

#: Columns of ``hotspots.csv`` (and properties of each GeoJSON feature), in order.
HOTSPOT_COLUMNS = ("hotspot_id", "name", "incidents", "share_pct", "harm", "crime_mix", "lsoas",
                   "lsoa_names", "imd_deciles", "persistence", "persistence_cells", "area_km2",
                   "top_streets", "centre_lon", "centre_lat")


def _streets_text(profile: HotspotProfile, n: int = 3) -> str:
    return "; ".join(f"{s} ({c})" for s, c in profile.streets.head(n).itertuples(index=False))


def hotspot_table(outlines: gpd.GeoDataFrame, profiles: dict[int, HotspotProfile],
                  total: int, cells: dict[int, str]) -> pd.DataFrame:
    """One row per hotspot with the statistics of the CSV and GeoJSON (no geometry).

    Parameters
    ----------
    outlines : geopandas.GeoDataFrame
        The analysis's named outlines (EPSG:27700), ``hotspot_id`` and ``name`` columns.
    profiles : dict of int to HotspotProfile
        One profile per hotspot id.
    total : int
        Incidents of the CSP over the period (for ``share_pct``).
    cells : dict of int to str
        Hotspot id -> its cells per persistence class, as text.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`HOTSPOT_COLUMNS`, in the outlines' order.
    """
    centres = gpd.GeoSeries(outlines.geometry.representative_point(),
                            crs=outlines.crs).to_crs("EPSG:4326")
    records = []
    for (_, row), centre in zip(outlines.iterrows(), centres):
        p = profiles[int(row["hotspot_id"])]
        mix = "; ".join(f"{t} {c} ({s:.0f}%)" for t, c, s in p.crime_mix.itertuples(index=False))
        deciles = ["" if pd.isna(d) else str(int(d)) for d in p.lsoas["imd_decile"]]
        records.append({
            "hotspot_id": p.hotspot_id,
            "name": row["name"],
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


def write_geojson(path: Path, outlines: gpd.GeoDataFrame, table: pd.DataFrame, *,
                  meta: dict) -> None:
    """Write the hotspots as a GeoJSON FeatureCollection (EPSG:4326, 7 decimals).

    One feature per row of `table` (same order as `outlines`), `meta` as its ``metadata``.
    """
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
