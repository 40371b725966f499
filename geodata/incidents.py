"""police.uk street-level incidents: read, validate, place on 2021 LSOAs and CSPs.

Reading (:func:`read_police_uk_csv`) does the I/O; validation (:func:`validate_police_uk`) and
assignment (:func:`assign_lsoa21`) are pure functions on frames. Nothing is dropped silently:
every row read ends up in the accepted frame or in the rejected frame with its file, row,
column and reason, and :func:`load_incidents` checks ``accepted + rejected == rows read``.
Rows placed outside the four Humber authorities are accepted and flagged ``in_area = False``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.crs import GB_LAT_RANGE, GB_LON_RANGE, lonlat_to_bng
from geodata.errors import DataValidationError

POLICE_UK_COLUMNS = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude",
                     "Location", "LSOA code", "LSOA name", "Crime type", "Last outcome category",
                     "Context"]
REQUIRED_COLUMNS = ["Month", "Longitude", "Latitude", "LSOA code", "Crime type"]

REJECT_COLUMNS = ["source_file", "row", "column", "reason"]

#: How each accepted incident was placed on a 2021 LSOA.
ASSIGNED_2021 = "2021 LSOA code"
ASSIGNED_2011 = "2011 LSOA code via ONS lookup"
ASSIGNED_2011_SPLIT = "2011 LSOA code split in 2021: point in candidate polygons"
ASSIGNED_POINT = "no LSOA code: point in polygon"
OUTSIDE = "outside the Humber area"


@dataclass(frozen=True)
class IncidentLoad:
    """The outcome of loading incident files.

    Attributes
    ----------
    accepted : pandas.DataFrame
        Valid incidents, with BNG coordinates ``x``/``y`` (metres, EPSG:27700), ``lsoa21cd``,
        ``lad_code`` and ``in_area`` (False for rows outside the four authorities).
    rejected : pandas.DataFrame
        Rows that could not be used: ``source_file``, ``row``, ``column``, ``reason``.
    rows_read : int
        Data rows read from all files.
    """

    accepted: pd.DataFrame
    rejected: pd.DataFrame
    rows_read: int

    @property
    def outside_area(self) -> int:
        """Number of accepted incidents placed outside the Humber area."""
        return int((~self.accepted["in_area"]).sum())


def read_police_uk_csv(path: str | Path) -> pd.DataFrame:
    """Read one police.uk street-level CSV exactly as data.police.uk publishes it.

    Parameters
    ----------
    path : str or Path
        The CSV file.

    Returns
    -------
    pandas.DataFrame
        All columns as strings (empty cells as ``<NA>``), plus ``source_file`` (the file name)
        and ``row`` (the row's line number in the file; the header is row 1).

    Raises
    ------
    DataValidationError
        If the file is missing, empty, not UTF-8 text, not a CSV or lacks a required column;
        the message names the file and what was expected versus found.
    """
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"{path}: no such file.")
    try:
        frame = pd.read_csv(path, dtype="string", keep_default_na=False, na_values=[""],
                            encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise DataValidationError(f"{path}: the file is empty; expected a police.uk CSV with "
                                  f"columns {REQUIRED_COLUMNS}.") from None
    except UnicodeDecodeError as error:
        raise DataValidationError(f"{path}: expected UTF-8 text but found bytes that are not "
                                  f"(at byte {error.start}); is this a CSV file?") from None
    except pd.errors.ParserError as error:
        raise DataValidationError(f"{path}: not a readable CSV file ({error}).") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise DataValidationError(f"{path}: expected the police.uk columns {REQUIRED_COLUMNS} "
                                  f"but {missing} are missing; found {list(frame.columns)}.")
    for column in POLICE_UK_COLUMNS:
        if column not in frame.columns:
            frame[column] = pd.Series(pd.NA, index=frame.index, dtype="string")
    frame["source_file"] = path.name
    frame["row"] = np.arange(2, len(frame) + 2)
    return frame


def _reject(problems: list[pd.DataFrame], frame: pd.DataFrame, mask, column: str,
            reason: str) -> None:
    if mask.any():
        problems.append(pd.DataFrame({"index": frame.index[mask], "column": column,
                                      "reason": reason}))


def validate_police_uk(raw: pd.DataFrame, *, known_crime_types: Iterable[str],
                       today: dt.date | None = None,
                       unique_ids: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check police.uk rows and convert their coordinates to British National Grid.

    Every problem of every row is found at once. A row with any problem is rejected; its
    reasons and columns are joined with "; ".

    Parameters
    ----------
    raw : pandas.DataFrame
        Rows from :func:`read_police_uk_csv` (one or several files).
    known_crime_types : iterable of str
        The police.uk ``Crime type`` values the configuration knows.
    today : datetime.date, optional
        Months after this date's month are rejected as "in the future". Defaults to today.
    unique_ids : bool, default False
        Reject rows whose ``Crime ID`` repeats an earlier row's. Off for police.uk files:
        police.uk publishes distinct records under one ID (325 of the 7,718 rows of
        2024-01 share an ID with a row at another location), so a repeated ID is not a
        duplicate there.

    Returns
    -------
    accepted : pandas.DataFrame
        Valid rows with ``crime_id``, ``month`` (``YYYY-MM``), ``crime_type``, ``location``,
        ``lsoa_code``, ``lsoa_name``, ``outcome``, ``lon``, ``lat`` (degrees, WGS84), ``x``,
        ``y`` (metres, EPSG:27700), ``source_file`` and ``row``.
    rejected : pandas.DataFrame
        ``source_file``, ``row``, ``column``, ``reason`` for every rejected row.
    """
    today = today or dt.date.today()
    problems: list[pd.DataFrame] = []

    lon = pd.to_numeric(raw["Longitude"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    lat = pd.to_numeric(raw["Latitude"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    lon_missing = raw["Longitude"].isna().to_numpy()
    lat_missing = raw["Latitude"].isna().to_numpy()
    _reject(problems, raw, lon_missing | lat_missing, "Longitude, Latitude",
            "missing coordinates")
    bad_number = (np.isnan(lon) & ~lon_missing) | (np.isnan(lat) & ~lat_missing)
    _reject(problems, raw, bad_number, "Longitude, Latitude", "unparseable coordinates")
    finite = np.isfinite(lon) & np.isfinite(lat)
    in_gb = (finite & (lon >= GB_LON_RANGE[0]) & (lon <= GB_LON_RANGE[1])
             & (lat >= GB_LAT_RANGE[0]) & (lat <= GB_LAT_RANGE[1]))
    swapped = (finite & ~in_gb & (lat >= GB_LON_RANGE[0]) & (lat <= GB_LON_RANGE[1])
               & (lon >= GB_LAT_RANGE[0]) & (lon <= GB_LAT_RANGE[1]))
    _reject(problems, raw, swapped, "Longitude, Latitude", "latitude and longitude swapped")
    _reject(problems, raw, finite & ~in_gb & ~swapped, "Longitude, Latitude",
            "coordinates outside Great Britain")

    month = pd.to_datetime(raw["Month"], format="%Y-%m", errors="coerce")
    _reject(problems, raw, month.isna().to_numpy(), "Month",
            "unparseable month (expected YYYY-MM)")
    this_month = pd.Timestamp(today.year, today.month, 1)
    _reject(problems, raw, (month > this_month).to_numpy(), "Month", "date in the future")

    crime_type = raw["Crime type"]
    unknown = ~crime_type.isin(list(known_crime_types)).to_numpy(dtype=bool, na_value=False)
    _reject(problems, raw, unknown, "Crime type", "unknown crime type")

    if unique_ids:
        crime_id = raw["Crime ID"]
        duplicate = (crime_id.notna() & crime_id.duplicated(keep="first")).to_numpy(dtype=bool)
        _reject(problems, raw, duplicate, "Crime ID", "duplicate Crime ID")

    if problems:
        found = pd.concat(problems).groupby("index", sort=True).agg(
            column=("column", "; ".join), reason=("reason", "; ".join))
    else:
        found = pd.DataFrame({"column": [], "reason": []}, index=pd.Index([], name="index"))
    bad = raw.index.isin(found.index)
    rejected = raw.loc[bad, ["source_file", "row"]].join(found)[REJECT_COLUMNS]

    good = ~bad
    x, y = lonlat_to_bng(lon[good], lat[good])
    kept = raw.loc[good]
    accepted = pd.DataFrame({
        "crime_id": kept["Crime ID"],
        "month": month[good].dt.strftime("%Y-%m").astype("string"),
        "crime_type": kept["Crime type"],
        "location": kept["Location"],
        "lsoa_code": kept["LSOA code"],
        "lsoa_name": kept["LSOA name"],
        "outcome": kept["Last outcome category"],
        "lon": lon[good], "lat": lat[good], "x": x, "y": y,
        "source_file": kept["source_file"], "row": kept["row"],
    })
    return accepted.reset_index(drop=True), rejected.reset_index(drop=True)


def assign_lsoa21(incidents: pd.DataFrame, *, lsoas: gpd.GeoDataFrame,
                  lookup: pd.DataFrame) -> pd.DataFrame:
    """Place incidents on 2021 LSOAs and their CSPs from the police-supplied LSOA code.

    The code decides, not the point: the shipped boundaries are super-generalised and disagree
    with police.uk's own assignment for about 15% of points. A 2021 code is used as it is; a
    2011 code goes through the ONS lookup; a 2011 LSOA split in 2021 goes to the candidate
    polygon holding the point (or the nearest candidate). Only rows without a code are placed
    by point in polygon. Rows whose code lies outside the Humber area are kept and flagged.

    Parameters
    ----------
    incidents : pandas.DataFrame
        Output of :func:`validate_police_uk` (``lsoa_code``, ``x``, ``y`` in EPSG:27700).
    lsoas : geopandas.GeoDataFrame
        2021 LSOAs in EPSG:27700 with ``lsoa21cd`` and ``lad_code``.
    lookup : pandas.DataFrame
        ``lsoa11cd`` → ``lsoa21cd`` (from :func:`geodata.reference.load_lsoa11_lookup`).

    Returns
    -------
    pandas.DataFrame
        A copy with ``lsoa21cd``, ``lad_code`` (``<NA>`` outside the area), ``in_area`` and
        ``assignment`` (how the LSOA was found).
    """
    result = incidents.copy()
    code = result["lsoa_code"].astype("string")
    lsoa_codes = set(lsoas["lsoa21cd"])
    lad_of = dict(zip(lsoas["lsoa21cd"], lsoas["lad_code"]))
    targets = lookup.groupby("lsoa11cd")["lsoa21cd"].agg(list)
    one_to_one = {k: v[0] for k, v in targets.items() if len(v) == 1}
    split = {k: v for k, v in targets.items() if len(v) > 1}

    lsoa21 = pd.Series(pd.NA, index=result.index, dtype="string")
    assignment = pd.Series(OUTSIDE, index=result.index, dtype="string")

    is_2021 = code.isin(lsoa_codes).to_numpy(dtype=bool, na_value=False)
    lsoa21[is_2021] = code[is_2021]
    assignment[is_2021] = ASSIGNED_2021

    is_2011 = ~is_2021 & code.isin(list(one_to_one)).to_numpy(dtype=bool, na_value=False)
    lsoa21[is_2011] = code[is_2011].map(one_to_one)
    assignment[is_2011] = ASSIGNED_2011

    geometry_of = lsoas.set_index("lsoa21cd").geometry
    is_split = ~is_2021 & code.isin(list(split)).to_numpy(dtype=bool, na_value=False)
    for index in result.index[is_split]:
        point = shapely.Point(result.at[index, "x"], result.at[index, "y"])
        candidates = geometry_of.loc[split[code[index]]]
        distances = candidates.distance(point)
        lsoa21[index] = distances.idxmin()
        assignment[index] = ASSIGNED_2011_SPLIT

    no_code = code.isna().to_numpy()
    if no_code.any():
        points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(result.loc[no_code, "x"],
                                                              result.loc[no_code, "y"]),
                                  index=result.index[no_code], crs=lsoas.crs)
        joined = gpd.sjoin(points, lsoas[["lsoa21cd", "geometry"]], how="left",
                           predicate="within")
        joined = joined[~joined.index.duplicated()]
        found = joined["lsoa21cd"].notna()
        lsoa21[found.index[found]] = joined.loc[found, "lsoa21cd"]
        assignment[found.index[found]] = ASSIGNED_POINT

    result["lsoa21cd"] = lsoa21
    result["lad_code"] = lsoa21.map(lad_of).astype("string")
    result["in_area"] = lsoa21.notna().to_numpy()
    result["assignment"] = assignment
    return result


def load_incidents(files: Iterable[str | Path], *, lsoas: gpd.GeoDataFrame,
                   lookup: pd.DataFrame, known_crime_types: Iterable[str],
                   today: dt.date | None = None) -> IncidentLoad:
    """Read, validate and place police.uk files on 2021 LSOAs.

    Parameters
    ----------
    files : iterable of str or Path
        police.uk street-level CSV files.
    lsoas : geopandas.GeoDataFrame
        2021 LSOAs in EPSG:27700 (``lsoa21cd``, ``lad_code``, ``geometry``).
    lookup : pandas.DataFrame
        The ONS 2011 → 2021 LSOA lookup.
    known_crime_types : iterable of str
        Crime types the configuration knows; others are rejected.
    today : datetime.date, optional
        Reference date for "date in the future".

    Returns
    -------
    IncidentLoad
        Accepted and rejected rows; ``len(accepted) + len(rejected) == rows_read``.

    Raises
    ------
    DataValidationError
        If a file cannot be read at all (see :func:`read_police_uk_csv`), or no file is given.
    """
    frames = [read_police_uk_csv(path) for path in files]
    if not frames:
        raise DataValidationError("No incident files given; expected at least one police.uk CSV.")
    raw = pd.concat(frames, ignore_index=True)
    accepted, rejected = validate_police_uk(raw, known_crime_types=known_crime_types, today=today)
    accepted = assign_lsoa21(accepted, lsoas=lsoas, lookup=lookup)
    if len(accepted) + len(rejected) != len(raw):
        raise RuntimeError(f"Row accounting failed: read {len(raw)} rows but accepted "
                           f"{len(accepted)} and rejected {len(rejected)}.")
    return IncidentLoad(accepted=accepted, rejected=rejected, rows_read=len(raw))
