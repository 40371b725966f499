"""Ranked summary table of hotspots / clusters, shown beside the map.

Also :func:`assign_to_polygons`, which gives every incident the id of the
hotspot or cluster polygon containing it.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.crs import BNG
from hotspots._batches import batches, concatenated_ranges
from hotspots._validation import as_coordinates, as_id_array, as_weights, check_frame, check_int

__all__ = ["SUMMARY_COLUMNS", "assign_to_polygons", "summarise_areas"]

#: Columns of :func:`summarise_areas` after the id column (``weight`` only
#: when the incidents carry a ``weight`` column).
SUMMARY_COLUMNS: tuple[str, ...] = (
    "incidents",
    "crime_mix",
    "lsoas",
    "lsoa_names",
    "imd_deciles",
    "most_deprived_decile",
)

#: Number of LSOA names listed before "+N more".
MAX_LSOA_NAMES: int = 5


def assign_to_polygons(x, y, polygons_gdf: gpd.GeoDataFrame, id_column: str) -> np.ndarray:
    """Id of the polygon containing each point.

    Parameters
    ----------
    x, y : array-like of shape (n,)
        Point eastings and northings, metres (EPSG:27700).
    polygons_gdf : geopandas.GeoDataFrame
        Polygons (e.g. from :func:`hotspots.outlines.hotspot_outlines` or
        :func:`hotspots.clusters.cluster_outlines`).  Its CRS should be
        EPSG:27700; another CRS is reprojected to it, no CRS is taken as
        EPSG:27700.
    id_column : str
        Integer column of ``polygons_gdf`` holding the ids (ids >= 0).

    Returns
    -------
    numpy.ndarray of int64, shape (n,)
        Id of the polygon covering each point (boundary included), -1 when
        none.  Where polygons overlap the earliest row wins.
    """
    func = "assign_to_polygons"
    xa, ya = as_coordinates(x, y, func)
    if not isinstance(polygons_gdf, gpd.GeoDataFrame):
        raise TypeError(
            f"The 'polygons_gdf' parameter of {func} must be a GeoDataFrame. "
            f"Got an object of type {type(polygons_gdf).__name__} instead."
        )
    if not isinstance(id_column, str):
        raise TypeError(
            f"The 'id_column' parameter of {func} must be a str. Got {id_column!r} instead."
        )
    if id_column not in polygons_gdf.columns:
        raise ValueError(
            f"The 'id_column' parameter of {func} must name a column of polygons_gdf "
            f"({', '.join(map(str, polygons_gdf.columns))}). Got {id_column!r} instead."
        )
    ids = polygons_gdf[id_column]
    if not pd.api.types.is_integer_dtype(ids.dtype) or pd.api.types.is_bool_dtype(ids.dtype):
        raise TypeError(
            f"The {id_column!r} column of polygons_gdf passed to {func} must hold integers. "
            f"Got dtype {ids.dtype} instead."
        )
    out = np.full(xa.size, -1, dtype=np.int64)
    if xa.size == 0 or len(polygons_gdf) == 0:
        return out
    geoms = polygons_gdf.geometry
    if geoms.crs is not None and not geoms.crs.equals(BNG):
        geoms = geoms.to_crs(BNG)
    # Points sorted by x: each polygon tests only the points in its bounding box (a binary
    # search on x, then y), with GEOS's prepared point-in-polygon on coordinates, so no point
    # objects are made (an STRtree of points cost 0.03-0.05 s per call on 60,000 incidents).
    polygons = np.asarray(geoms.values, dtype=object)
    shapely.prepare(polygons)
    by_x = np.argsort(xa, kind="stable")
    xs, ys = xa[by_x], ya[by_x]
    bounds = shapely.bounds(polygons)            # NaN for a missing or empty polygon
    id_values = ids.to_numpy(dtype=np.int64)
    usable = np.flatnonzero(~np.isnan(bounds[:, 0]))
    lo = np.searchsorted(xs, bounds[usable, 0], side="left")
    width = np.searchsorted(xs, bounds[usable, 2], side="right") - lo
    # Every (polygon, point in its x band) pair of a batch of polygons at once: one
    # vectorised test instead of a Python loop over the polygons (2,000 NumPy calls per
    # Humber map run); batches bound the memory
    owners, points = [], []
    for batch in batches(width, BAND_PAIRS):
        owner = np.repeat(usable[batch], width[batch])
        point = concatenated_ranges(lo[batch], width[batch])
        near = (ys[point] >= bounds[owner, 1]) & (ys[point] <= bounds[owner, 3])
        owner, point = owner[near], point[near]
        inside = shapely.intersects_xy(polygons[owner], xs[point], ys[point])
        owners.append(owner[inside])
        points.append(point[inside])
    if not owners:
        return out
    # where polygons overlap the earliest row wins: pairs are in row order, and each point
    # takes its first pair
    point, first = np.unique(np.concatenate(points), return_index=True)
    out[by_x[point]] = id_values[np.concatenate(owners)[first]]
    return out


#: (Polygon, candidate point) pairs :func:`assign_to_polygons` tests at once (16 bytes
#: each; a polygon with more candidates is tested alone).
BAND_PAIRS = 4_000_000


def _area_ids(area_ids, n: int, func: str) -> np.ndarray:
    """Per-incident ids as float64 (NaN and -1 mean "no area")."""
    return as_id_array(area_ids, n, msg=(
        f"The 'area_ids' parameter of {func} must be a 1-D array of numeric ids with one "
        f"value per incident ({n})."))


def _empty_summary(id_name: str, weighted: bool) -> pd.DataFrame:
    cols = {id_name: pd.Series([], dtype="int64"), "incidents": pd.Series([], dtype="int64")}
    if weighted:
        cols["weight"] = pd.Series([], dtype="float64")
    cols.update(
        crime_mix=pd.Series([], dtype="str"),
        lsoas=pd.Series([], dtype="int64"),
        lsoa_names=pd.Series([], dtype="str"),
        imd_deciles=pd.Series([], dtype="str"),
        most_deprived_decile=pd.Series([], dtype="Int64"),
    )
    return pd.DataFrame(cols)


def summarise_areas(
    incidents: pd.DataFrame,
    area_ids,
    *,
    lsoa_table: pd.DataFrame,
    id_name: str = "hotspot_id",
    top_types: int = 3,
) -> pd.DataFrame:
    """One summary row per hotspot / cluster, ranked by incident count.

    Parameters
    ----------
    incidents : pandas.DataFrame
        Columns ``x``, ``y`` (EPSG:27700 metres), ``crime_type`` (str),
        ``lsoa21cd`` (str) and optionally ``weight`` (non-negative).  Not
        modified.
    area_ids : array-like or pandas.Series of shape (n,)
        Hotspot / cluster id per incident row (positional, not aligned on
        the index); -1 or NaN for incidents outside every area.
    lsoa_table : pandas.DataFrame
        Columns ``lsoa21cd``, ``lsoa21nm`` and ``imd_decile`` (1 = most
        deprived 10 % of England), one row per LSOA.
    id_name : str, default "hotspot_id"
        Name of the id column of the result (e.g. ``"cluster_id"``).
    top_types : int, default 3
        Number of crime types listed in ``crime_mix``, >= 1.

    Returns
    -------
    pandas.DataFrame
        Sorted by ``incidents`` descending (ties by id), columns: ``id_name``
        (int), ``incidents`` (int), ``weight`` (float, sum of weights; only
        when ``incidents`` has a ``weight`` column), ``crime_mix`` (e.g.
        ``"Violence and sexual offences 63%, Public order 20%, Robbery 5%"``;
        shares of the area's incidents, or of its weight when weighted),
        ``lsoas`` (distinct LSOAs), ``lsoa_names`` (up to 5 names by
        incident count, then ``"+N more"``; unknown codes shown as the
        code), ``imd_deciles`` (deciles of those LSOAs ascending, e.g.
        ``"1, 1, 2, 4"``), ``most_deprived_decile`` (nullable int, the
        lowest decile).
    """
    func = "summarise_areas"
    check_frame(incidents, "incidents", func, ("x", "y", "crime_type", "lsoa21cd"))
    check_frame(lsoa_table, "lsoa_table", func, ("lsoa21cd", "lsoa21nm", "imd_decile"))
    if not isinstance(id_name, str):
        raise TypeError(
            f"The 'id_name' parameter of {func} must be a str. Got {id_name!r} instead."
        )
    reserved = set(SUMMARY_COLUMNS) | {"weight"}
    if id_name in reserved:
        raise ValueError(
            f"The 'id_name' parameter of {func} must not clash with the result columns. "
            f"Got {id_name!r} instead."
        )
    top_types = check_int(top_types, "top_types", func, low=1)
    ids = _area_ids(area_ids, len(incidents), func)
    if lsoa_table["lsoa21cd"].duplicated().any():
        raise ValueError(
            f"The 'lsoa_table' parameter of {func} must have one row per lsoa21cd. "
            "Got duplicated codes."
        )

    weighted = "weight" in incidents.columns
    keep = np.isfinite(ids) & (ids != -1)
    if not keep.any():
        return _empty_summary(id_name, weighted)
    kept_ids = ids[keep]
    if not np.all(kept_ids == np.round(kept_ids)):
        raise ValueError(
            f"The 'area_ids' parameter of {func} must hold whole-number ids. "
            "Got fractional values."
        )

    frame = pd.DataFrame(
        {
            "area": kept_ids.astype(np.int64),
            "crime_type": incidents["crime_type"].to_numpy()[keep],
            "lsoa21cd": incidents["lsoa21cd"].to_numpy()[keep],
            "w": as_weights(incidents["weight"] if weighted else None, len(incidents), func)[keep],
        }
    )
    names = dict(zip(lsoa_table["lsoa21cd"], lsoa_table["lsoa21nm"]))
    deciles = dict(zip(lsoa_table["lsoa21cd"], lsoa_table["imd_decile"]))

    # One group-by per column over all areas, then each area reads its own slice (a
    # group-by per area and column cost 0.1-0.2 s per map for the Humber's hotspots).
    totals = frame.groupby("area", sort=True)["w"].agg(["size", "sum"])
    mix = frame.groupby(["area", "crime_type"], sort=False)["w"].sum().reset_index()
    mix_names = mix["crime_type"].to_numpy(dtype=object).astype(str)
    mix_order = np.lexsort((mix_names, -mix["w"].to_numpy(), mix["area"].to_numpy()))
    mix_area, mix_names = mix["area"].to_numpy()[mix_order], mix_names[mix_order]
    mix_w = mix["w"].to_numpy()[mix_order]
    lsoa = frame.groupby(["area", "lsoa21cd"], sort=False).size().reset_index(name="n")
    lsoa_codes = lsoa["lsoa21cd"].to_numpy(dtype=object).astype(str)
    lsoa_order = np.lexsort((lsoa_codes, -lsoa["n"].to_numpy(), lsoa["area"].to_numpy()))
    lsoa_area, lsoa_codes = lsoa["area"].to_numpy()[lsoa_order], lsoa_codes[lsoa_order]

    records = []
    for area, n, total_w in zip(totals.index.tolist(), totals["size"].tolist(),
                                totals["sum"].tolist()):
        lo, hi = np.searchsorted(mix_area, [area, area + 1])
        hi = min(hi, lo + top_types)
        denom = total_w if total_w > 0 else 1.0
        crime_mix = ", ".join(f"{t} {round(100 * v / denom):.0f}%"
                              for t, v in zip(mix_names[lo:hi], mix_w[lo:hi]))
        lo, hi = np.searchsorted(lsoa_area, [area, area + 1])
        ranked = lsoa_codes[lo:hi].tolist()
        shown = [str(names.get(c, c)) for c in ranked[:MAX_LSOA_NAMES]]
        lsoa_names = ", ".join(shown)
        if len(ranked) > MAX_LSOA_NAMES:
            lsoa_names += f", +{len(ranked) - MAX_LSOA_NAMES} more"
        decs = sorted(int(deciles[c]) for c in ranked if c in deciles and pd.notna(deciles[c]))
        record = {id_name: int(area), "incidents": int(n)}
        if weighted:
            record["weight"] = float(total_w)
        record.update(
            crime_mix=crime_mix,
            lsoas=len(ranked),
            lsoa_names=lsoa_names,
            imd_deciles=", ".join(str(d) for d in decs),
            most_deprived_decile=decs[0] if decs else pd.NA,
        )
        records.append(record)

    out = pd.DataFrame.from_records(records)
    out = out.sort_values(["incidents", id_name], ascending=[False, True], kind="stable")
    out = out.reset_index(drop=True)
    out[id_name] = out[id_name].astype("int64")
    out["incidents"] = out["incidents"].astype("int64")
    out["lsoas"] = out["lsoas"].astype("int64")
    out["most_deprived_decile"] = out["most_deprived_decile"].astype("Int64")
    for col in ("crime_mix", "lsoa_names", "imd_deciles"):
        out[col] = out[col].astype("str")
    return out
