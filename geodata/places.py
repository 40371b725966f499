"""A gazetteer for "find a place": wards, LSOAs (by name or code) and police.uk streets.

Street names come from the police.uk ``Location`` text ("On or near Hessle Road"); a street's
place is the set of anonymous map points recorded under that name in one CSP, outlined with a
small buffer. Everything is in EPSG:27700.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.crs import BNG

PLACE_COLUMNS = ["kind", "name", "code", "lad_code", "geometry"]
_PREFIX = re.compile(r"^\s*on or near\s+", flags=re.IGNORECASE)
#: police.uk uses these for points that are not on a named street.
_NOT_STREETS = {"", "parking area", "supermarket", "petrol station", "shopping area",
                "nightclub", "sports/recreation area", "further/higher educational building",
                "conference/exhibition centre", "theatre/concert hall", "police station",
                "hospital", "pedestrian subway", "bus/coach station", "park/open space",
                "prison", "airport/airfield", "hotel/motel", "theme/adventure park"}


def is_street(name: str) -> bool:
    """Whether a police.uk map point name is a street, not a kind of place ("Nightclub",
    "Supermarket", "Parking Area"), which would name nothing a reader could find."""
    return str(name).strip().lower() not in _NOT_STREETS


def street_name(location: str | None) -> str:
    """``"On or near Hessle Road"`` → ``"Hessle Road"``; empty for missing text."""
    if location is None or (not isinstance(location, str) and pd.isna(location)):
        return ""
    return _PREFIX.sub("", str(location)).strip()


def street_places(incidents: pd.DataFrame, *, buffer_m: float = 30.0) -> gpd.GeoDataFrame:
    """One place per (street name, CSP): the buffered hull of its map points.

    Parameters
    ----------
    incidents : pandas.DataFrame
        ``location``, ``lad_code``, ``x``, ``y`` (EPSG:27700 metres).
    buffer_m : float, default 30
        Buffer around the street's points, metres.
    """
    frame = pd.DataFrame({"name": incidents["location"].map(street_name),
                          "lad_code": incidents["lad_code"].astype("string"),
                          "x": incidents["x"].to_numpy(float),
                          "y": incidents["y"].to_numpy(float)})
    frame = frame[~frame["name"].str.lower().isin(_NOT_STREETS) & frame["lad_code"].notna()]
    frame = frame.drop_duplicates(["name", "lad_code", "x", "y"])
    rows = []
    for (name, lad), group in frame.groupby(["name", "lad_code"], sort=True):
        points = shapely.multipoints(group[["x", "y"]].to_numpy())
        rows.append({"kind": "street", "name": name, "code": "", "lad_code": lad,
                     "geometry": shapely.convex_hull(points).buffer(buffer_m)})
    if not rows:
        return gpd.GeoDataFrame({c: [] for c in PLACE_COLUMNS[:-1]},
                                geometry=gpd.GeoSeries([], crs=BNG))
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=BNG)


def build_gazetteer(lsoas: gpd.GeoDataFrame, wards: gpd.GeoDataFrame,
                    streets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Wards, LSOAs and streets in one searchable frame (``kind``, ``name``, ``code``,
    ``lad_code``, ``geometry`` in EPSG:27700)."""
    parts = [
        gpd.GeoDataFrame({"kind": "ward", "name": wards["ward_name"], "code": wards["ward_code"],
                          "lad_code": wards["lad_code"]}, geometry=wards.geometry.values,
                         crs=BNG),
        gpd.GeoDataFrame({"kind": "LSOA", "name": lsoas["lsoa21nm"], "code": lsoas["lsoa21cd"],
                          "lad_code": lsoas["lad_code"]}, geometry=lsoas.geometry.values,
                         crs=BNG),
        streets[PLACE_COLUMNS].to_crs(BNG) if len(streets) else None,
    ]
    frame = pd.concat([p for p in parts if p is not None], ignore_index=True)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=BNG)


def find_places(gazetteer: gpd.GeoDataFrame, text: str, *, lad_code: str | None = None,
                limit: int = 20) -> gpd.GeoDataFrame:
    """Places whose name or code contains `text` (case-insensitive), best matches first.

    Exact matches come first, then names starting with the text, then the rest; wards before
    LSOAs before streets. `lad_code` limits the search to one CSP.
    """
    query = text.strip().lower()
    if not query:
        return gazetteer.iloc[0:0]
    names = gazetteer["name"].astype("string").str.lower()
    codes = gazetteer["code"].astype("string").str.lower()
    hit = (names.str.contains(query, regex=False) | (codes == query)).fillna(False)
    if lad_code is not None:
        hit &= (gazetteer["lad_code"] == lad_code).fillna(False)
    found = gazetteer[hit.to_numpy(bool)].copy()
    found_names = names[hit.to_numpy(bool)]
    found["_rank"] = np.select([(found_names == query) | (codes[hit.to_numpy(bool)] == query),
                                found_names.str.startswith(query)], [0, 1], 2)
    found["_kind"] = found["kind"].map({"ward": 0, "LSOA": 1, "street": 2})
    found = found.sort_values(["_rank", "_kind", "name"]).head(limit)
    return found.drop(columns=["_rank", "_kind"])
