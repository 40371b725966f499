"""Profiles of hotspots for tasking: what, when, where and how persistent.

:func:`hotspot_profiles` turns the incidents of each hotspot (the ids from
:func:`hotspots.summary.assign_to_polygons`) into a :class:`HotspotProfile`: its
incident count and harm, crime mix, month-by-month counts, busiest streets, the
LSOAs it covers with their deprivation, a day-of-week by hour grid when the data
have times, and its change class against the previous period
(:func:`persistence_by_outline`, from a :class:`hotspots.change.HotspotChange`).

Everything spatial is in EPSG:27700 metres. No Streamlit, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots._validation import as_id_array, check_frame, check_int
from hotspots.change import CHANGE_CLASSES, HotspotChange
from hotspots.summary import assign_to_polygons

__all__ = ["DAYS", "HotspotProfile", "change_cells_by_outline", "hotspot_profiles",
           "persistence_by_outline", "street_name"]

#: Row labels of :attr:`HotspotProfile.day_hour` (``Timestamp.day_of_week`` 0..6).
DAYS: tuple[str, ...] = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                         "Sunday")

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

#: Columns :func:`hotspot_profiles` needs (besides the harm column).
REQUIRED_COLUMNS: tuple[str, ...] = ("crime_type", "month", "location", "lsoa21cd")


@dataclass(frozen=True)
class HotspotProfile:
    """Everything a tasking meeting needs to know about one hotspot.

    Parameters
    ----------
    hotspot_id : int
        Id (rank) of the hotspot.
    incidents : int
        Incidents inside it.
    harm : float
        Sum of the incidents' harm (CSS points); NaN when no harm column was given.
    crime_mix : pandas.DataFrame
        ``crime_type``, ``incidents``, ``share_pct`` (per cent of the hotspot's incidents),
        by incidents descending, then crime type.
    monthly : pandas.DataFrame
        ``month`` (``YYYY-MM``), ``incidents``: every month asked for, in that order, zeros
        included.
    streets : pandas.DataFrame
        ``street`` (police.uk ``"On or near X"`` becomes ``"X"``), ``incidents``: the busiest
        streets, by incidents descending, then name. Incidents without a location are left out.
    lsoas : pandas.DataFrame
        ``lsoa21cd``, ``lsoa21nm``, ``imd_decile`` (nullable int; 1 = most deprived 10 % of
        England), ``incidents``, by incidents descending, then code. Codes missing from the
        LSOA table keep a missing name and decile.
    persistence : str or None
        Change class against the previous period (``"new"``, ``"persistent"``,
        ``"intensifying"``, ``"diminishing"``, ``"ceased"``), or None when unknown.
    day_hour : pandas.DataFrame or None
        Incidents by day of week (rows ``Monday`` .. ``Sunday``) and hour (columns 0..23)
        when the incidents have times, else None (police.uk gives months only).
    """

    hotspot_id: int
    incidents: int
    harm: float
    crime_mix: pd.DataFrame
    monthly: pd.DataFrame
    streets: pd.DataFrame
    lsoas: pd.DataFrame
    persistence: str | None
    day_hour: pd.DataFrame | None


def street_name(location) -> str | None:
    """The street of a police.uk location (``"On or near X"`` -> ``"X"``), None if empty.

    See :func:`geodata.places.street_name`, which the gazetteer uses too (imported here on
    first use, so importing this module loads nothing of :mod:`geodata`).
    """
    from geodata.places import street_name as parse

    return parse(location) or None


def _streets(locations: pd.Series) -> pd.Series:
    """:func:`street_name` of each location, parsing each distinct location once."""
    codes, distinct = pd.factorize(locations, use_na_sentinel=True)
    parsed = np.array([street_name(v) for v in distinct] + [None], dtype=object)
    return pd.Series(parsed[codes], index=locations.index, dtype=object)


def _check_months(months, func: str) -> list[str]:
    if isinstance(months, (str, bytes)) or not isinstance(months, Sequence):
        raise TypeError(f"The 'months' parameter of {func} must be a sequence of 'YYYY-MM' "
                        f"strings. Got an object of type {type(months).__name__} instead.")
    months = list(months)
    bad = [m for m in months if not isinstance(m, str) or not _MONTH.match(m)]
    if bad:
        raise ValueError(f"The 'months' parameter of {func} must hold 'YYYY-MM' strings. "
                         f"Got {bad[:5]!r} instead.")
    if len(set(months)) != len(months):
        raise ValueError(f"The 'months' parameter of {func} must not repeat a month. "
                         f"Got {months!r} instead.")
    return months


def _check_ids(ids, n: int, func: str) -> np.ndarray:
    msg = (f"The 'ids' parameter of {func} must be a 1-D array of integer hotspot ids with one "
           f"value per incident ({n}), -1 for none.")
    arr = as_id_array(ids, n, msg=msg)
    arr = np.where(np.isfinite(arr), arr, -1.0)
    if not np.all(arr == np.round(arr)):
        raise ValueError(f"{msg} Got fractional values.")
    return arr.astype(np.int64)


def _timed_rows(incidents: pd.DataFrame, func: str) -> np.ndarray | None:
    """Which rows have a usable time of day, or None when the data have no times.

    A source has times when at least one of its dated incidents is not at midnight (police.uk
    has no dates at all; a date-only partner extract has midnight everywhere). With a
    ``source`` column this is decided per source, so a date-only source mixed with a timed
    one does not pile its incidents up at midnight.
    """
    if "date" not in incidents.columns:
        return None
    try:
        dates = pd.to_datetime(incidents["date"], errors="raise")
    except (TypeError, ValueError) as error:
        raise ValueError(f"The 'date' column of the 'incidents' parameter of {func} must hold "
                         f"timestamps (or be missing). Got values that are not: {error}") from None
    dated = dates.notna().to_numpy(dtype=bool)
    if not dated.any():
        return None
    not_midnight = (dated & (dates != dates.dt.normalize()).to_numpy(dtype=bool, na_value=False))
    if not not_midnight.any():
        return None
    if "source" in incidents.columns:
        source = incidents["source"].astype(object)
        timed_sources = set(source[not_midnight])
        return dated & source.isin(timed_sources).to_numpy(dtype=bool)
    return dated


def _counts(values: pd.Series, name: str) -> pd.DataFrame:
    """Counts of non-missing values: `name`, ``incidents``; by count descending, then value."""
    values = values.dropna().astype(str)
    counts = values.value_counts(sort=False)
    frame = pd.DataFrame({name: counts.index.astype(str).to_numpy(dtype=object),
                          "incidents": counts.to_numpy(dtype=np.int64)})
    if frame.empty:
        return pd.DataFrame({name: pd.Series([], dtype="str"),
                             "incidents": pd.Series([], dtype="int64")})
    frame = frame.sort_values(["incidents", name], ascending=[False, True], kind="stable")
    frame[name] = frame[name].astype("str")
    return frame.reset_index(drop=True)


def hotspot_profiles(incidents: pd.DataFrame, ids, *, lsoas: pd.DataFrame,
                     months: Sequence[str], harm_column: str | None = "harm",
                     persistence: Mapping[int, str] | None = None, top_streets: int = 10,
                     hotspot_ids: Iterable[int] | None = None) -> dict[int, HotspotProfile]:
    """One :class:`HotspotProfile` per hotspot from its incidents.

    Parameters
    ----------
    incidents : pandas.DataFrame
        The selected incidents: ``crime_type``, ``month`` (``YYYY-MM``), ``location``
        (police.uk ``"On or near X"`` or free text; may be missing), ``lsoa21cd``, the
        `harm_column` unless it is None, and optionally ``date`` (timestamps; NaT when
        unknown) and ``source``. Not modified.
    ids : array-like of int, shape (n,)
        Hotspot id of each incident row (positional), -1 (or NaN) when it is in none, as from
        :func:`hotspots.summary.assign_to_polygons` with the outlines (EPSG:27700).
    lsoas : pandas.DataFrame
        ``lsoa21cd``, ``lsoa21nm``, ``imd_decile``, one row per LSOA.
    months : sequence of str
        The period's ``YYYY-MM`` months, in display order; every incident's month must be
        one of them.
    harm_column : str or None, default "harm"
        Column of per-incident harm (CSS points); None gives ``harm = nan``.
    persistence : mapping of int to str, optional
        Change class per hotspot id (from :func:`persistence_by_outline`); ids it lacks get
        None.
    top_streets : int, default 10
        Number of streets kept, >= 1.
    hotspot_ids : iterable of int, optional
        The hotspots to profile (for example every outline's id, so a hotspot that holds no
        incident still gets an all-zero profile). Default: every id >= 0 found in `ids`.

    Returns
    -------
    dict of int to HotspotProfile
        In ascending id order.

    Raises
    ------
    TypeError, ValueError
        For a wrong type or value; the message names the parameter.

    Notes
    -----
    ``day_hour`` is built only when the data have times (see ``_timed_rows``): a source has
    times when some of its dated incidents are not at midnight. Its rows count only the
    incidents with a known time, so their total can be below ``incidents``.
    """
    func = "hotspot_profiles"
    columns = list(REQUIRED_COLUMNS) + ([harm_column] if harm_column is not None else [])
    if harm_column is not None and not isinstance(harm_column, str):
        raise TypeError(f"The 'harm_column' parameter of {func} must be a str or None. "
                        f"Got {harm_column!r} instead.")
    check_frame(incidents, "incidents", func, columns)
    check_frame(lsoas, "lsoas", func, ("lsoa21cd", "lsoa21nm", "imd_decile"))
    if lsoas["lsoa21cd"].duplicated().any():
        raise ValueError(f"The 'lsoas' parameter of {func} must have one row per lsoa21cd. "
                         "Got duplicated codes.")
    months = _check_months(months, func)
    top_streets = check_int(top_streets, "top_streets", func, low=1)
    if persistence is not None and not isinstance(persistence, Mapping):
        raise TypeError(f"The 'persistence' parameter of {func} must be a mapping of hotspot "
                        f"id to change class, or None. Got an object of type "
                        f"{type(persistence).__name__} instead.")
    area_ids = _check_ids(ids, len(incidents), func)
    incident_months = incidents["month"]
    outside = sorted({str(m) for m in incident_months.dropna().unique()} - set(months))
    if incident_months.isna().any() or outside:
        raise ValueError(f"The 'incidents' parameter of {func} has months that are not in "
                         f"'months' ({months!r}): {outside or ['<missing>']}.")
    harm = (incidents[harm_column].to_numpy(dtype=np.float64, na_value=np.nan)
            if harm_column is not None else np.full(len(incidents), np.nan))
    if harm_column is not None and not np.all(np.isfinite(harm)):
        raise ValueError(f"The {harm_column!r} column of the 'incidents' parameter of {func} "
                         "must hold finite numbers.")

    if hotspot_ids is None:
        wanted = sorted(set(area_ids[area_ids >= 0].tolist()))
    else:
        wanted = sorted({check_int(i, "hotspot_ids", func, low=0) for i in hotspot_ids})

    timed = _timed_rows(incidents, func)
    dates = pd.to_datetime(incidents["date"]) if timed is not None else None
    names = dict(zip(lsoas["lsoa21cd"].astype(object), lsoas["lsoa21nm"].astype(object)))
    deciles = dict(zip(lsoas["lsoa21cd"].astype(object), lsoas["imd_decile"]))
    persistence = dict(persistence or {})

    profiles: dict[int, HotspotProfile] = {}
    for hotspot in wanted:
        rows = area_ids == hotspot
        group = incidents.loc[rows]
        n = int(rows.sum())

        mix = _counts(group["crime_type"], "crime_type")
        mix["share_pct"] = 100.0 * mix["incidents"] / n if n else 0.0

        per_month = group["month"].astype(object).value_counts()
        monthly = pd.DataFrame({
            "month": pd.Series(months, dtype="str"),
            "incidents": np.array([int(per_month.get(m, 0)) for m in months], dtype=np.int64)})

        streets = _counts(_streets(group["location"]), "street")
        streets = streets.head(top_streets).reset_index(drop=True)

        lsoa = _counts(group["lsoa21cd"].astype(object), "lsoa21cd")
        lsoa.insert(1, "lsoa21nm", pd.Series(
            [names.get(c) for c in lsoa["lsoa21cd"]], dtype="str"))
        lsoa.insert(2, "imd_decile", pd.array(
            [None if pd.isna(deciles.get(c, np.nan)) else int(deciles[c])
             for c in lsoa["lsoa21cd"]], dtype="Int64"))

        day_hour = None
        if timed is not None:
            when = dates[rows & timed]
            day_hour = (pd.crosstab(when.dt.day_of_week, when.dt.hour)
                        .reindex(index=range(7), columns=range(24), fill_value=0)
                        .astype("int64"))
            day_hour.index = pd.Index(DAYS, name="day")
            day_hour.columns = pd.Index(range(24), name="hour")

        label = persistence.get(hotspot)
        profiles[hotspot] = HotspotProfile(
            hotspot_id=int(hotspot), incidents=n, harm=float(harm[rows].sum()) if
            harm_column is not None else float("nan"), crime_mix=mix, monthly=monthly,
            streets=streets, lsoas=lsoa, persistence=None if label is None else str(label),
            day_hour=day_hour)
    return profiles


def _check_change_and_outlines(change, outlines, func: str) -> None:
    if not isinstance(change, HotspotChange):
        raise TypeError(f"The 'change' parameter of {func} must be a HotspotChange. "
                        f"Got an object of type {type(change).__name__} instead.")
    if not isinstance(outlines, gpd.GeoDataFrame):
        raise TypeError(f"The 'outlines' parameter of {func} must be a GeoDataFrame. "
                        f"Got an object of type {type(outlines).__name__} instead.")


def change_cells_by_outline(change: HotspotChange, outlines: gpd.GeoDataFrame, *,
                            id_name: str = "hotspot_id") -> pd.DataFrame:
    """Number of hotspot cells of each change class inside each outline.

    Parameters
    ----------
    change : HotspotChange
        From :func:`hotspots.change.hotspot_change` (EPSG:27700 grid).
    outlines : geopandas.GeoDataFrame
        Hotspot polygons, EPSG:27700 (another CRS is reprojected, none is taken as
        EPSG:27700), with the integer column `id_name`.
    id_name : str, default "hotspot_id"
        The id column of `outlines`.

    Returns
    -------
    pandas.DataFrame
        Index `id_name` (every outline, in the outlines' order), one int64 column per class of
        :data:`hotspots.change.CHANGE_CLASSES` except ``"none"``: the cells of that class whose
        centre lies in the outline (boundary included; where outlines overlap the earlier row
        wins).
    """
    _check_change_and_outlines(change, outlines, "change_cells_by_outline")
    names = [c for c in CHANGE_CLASSES if c != "none"]
    if outlines.empty:
        return pd.DataFrame({c: pd.Series([], dtype="int64") for c in names},
                            index=pd.Index([], dtype="int64", name=id_name))
    grid = change.grid
    rows, cols = np.nonzero(change.classes != CHANGE_CLASSES.index("none"))
    cx = grid.x0 + (cols + 0.5) * grid.cell_size
    cy = grid.y0 + (rows + 0.5) * grid.cell_size
    owner = assign_to_polygons(cx, cy, outlines, id_name)
    classes = change.classes[rows, cols].astype(np.int64)
    outline_ids = outlines[id_name].to_numpy(dtype=np.int64)
    counts = np.zeros((len(outline_ids), len(CHANGE_CLASSES)), dtype=np.int64)
    for k, outline_id in enumerate(outline_ids):
        counts[k] = np.bincount(classes[owner == outline_id], minlength=len(CHANGE_CLASSES))
    return pd.DataFrame(counts[:, 1:], columns=names,
                        index=pd.Index(outline_ids, name=id_name))


def persistence_by_outline(change: HotspotChange, outlines: gpd.GeoDataFrame, *,
                           id_name: str = "hotspot_id") -> dict[int, str]:
    """The majority change class of the hotspot cells inside each outline.

    Parameters
    ----------
    change : HotspotChange
        From :func:`hotspots.change.hotspot_change` (EPSG:27700 grid); compute it with the
        same bandwidth, cell size and threshold as the outlines, on surfaces divided by
        their number of months when the periods differ in length.
    outlines : geopandas.GeoDataFrame
        Hotspot polygons with the integer column `id_name`, as for
        :func:`change_cells_by_outline`.
    id_name : str, default "hotspot_id"
        The id column of `outlines`.

    Returns
    -------
    dict of int to str
        Outline id -> the most frequent class (a name of
        :data:`hotspots.change.CHANGE_CLASSES` other than ``"none"``) among the cells whose
        centre lies in the outline (boundary included) and whose class is not ``"none"``.
        Ties go to the class listed first in ``CHANGE_CLASSES`` (new, persistent,
        intensifying, diminishing, ceased). Outlines holding no such cell centre are left out.

    Notes
    -----
    The most frequent class is a plurality, not necessarily more than half: a hotspot whose
    core persisted and which grew can be "new" by 33 cells to 28 persistent and 24
    intensifying. Show :func:`change_cells_by_outline` beside it.
    """
    _check_change_and_outlines(change, outlines, "persistence_by_outline")
    cells = change_cells_by_outline(change, outlines, id_name=id_name)
    result: dict[int, str] = {}
    for outline_id, row in zip(cells.index, cells.to_numpy()):
        if row.sum() == 0:
            continue
        result[int(outline_id)] = cells.columns[int(np.argmax(row))]
    return result
