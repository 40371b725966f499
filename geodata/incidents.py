"""police.uk street-level incidents: read, validate, place on 2021 LSOAs and CSPs.

Reading (:func:`read_police_uk_csv`) does the I/O; validation (:func:`validate_police_uk`) and
assignment (:func:`assign_lsoa21`) are pure functions on frames. Nothing is dropped silently:
every row read ends up in the accepted frame or in the rejected frame with its file, row,
column and reason, and :func:`load_incidents` checks ``accepted + rejected == rows read``.
Rows placed outside the four Humber authorities are accepted and flagged ``in_area = False``.
"""

from __future__ import annotations

import codecs
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely

from geodata.crs import (
    BNG,
    BNG_X_RANGE,
    BNG_Y_RANGE,
    GB_LAT_RANGE,
    GB_LON_RANGE,
    bng_to_lonlat,
    lonlat_to_bng,
)
from geodata.errors import DataValidationError
from geodata.sources import SourceSpec, get_source

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


def _check_utf8(path: Path) -> None:
    """Decode the whole file in 1 MB blocks; name the first byte that is not UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as error:
                raise DataValidationError(
                    f"{path}: expected UTF-8 text but found a byte that is not (at byte "
                    f"{offset + error.start}); save the file as UTF-8 CSV.") from None
            offset += len(block)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise DataValidationError(f"{path}: expected UTF-8 text but the file ends in the "
                                      f"middle of a character; save it as UTF-8 CSV.") from None


#: Rows handed on at a time when a CSV is read in chunks (about 25 MB of text for a
#: police.uk file), so an ingest's memory does not grow with the size of the file.
CHUNK_ROWS = 100_000
_BLOCK_BYTES = 1 << 20  # pyarrow parses this much text at a time (it reads ahead ~20 blocks)


def _check_csv_file(path: Path, expected: list[str]) -> None:
    """Refuse a missing, empty, binary or non-UTF-8 file whole, with one clear message."""
    if not path.is_file():
        raise DataValidationError(f"{path}: no such file.")
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError as error:
        raise DataValidationError(f"{path}: cannot be read ({error.strerror}).") from None
    if not head.strip():
        raise DataValidationError(f"{path}: the file is empty; expected a CSV with columns "
                                  f"{expected}.")
    if b"\x00" in head or head[:2] in (b"PK", b"\x1f\x8b"):
        raise DataValidationError(f"{path}: expected a UTF-8 CSV text file but found binary "
                                  f"content (a zip, a spreadsheet or an image?).")
    _check_utf8(path)


def _column_names(names: list[str]) -> list[str]:
    """Header names stripped; blanks named ``Unnamed: i`` and repeats ``name.1`` (as pandas)."""
    result: list[str] = []
    for position, name in enumerate(names):
        name = str(name).strip() or f"Unnamed: {position}"
        candidate, count = name, 0
        while candidate in result:
            count += 1
            candidate = f"{name}.{count}"
        result.append(candidate)
    return result


def _unreadable(path: Path, error: Exception) -> DataValidationError:
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    return DataValidationError(f"{path}: not a readable CSV file ({message}).")


def _iter_csv(path: Path, expected: list[str], what: str,
              chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Read a CSV as strings, `chunk_rows` rows at a time (see :func:`iter_table`)."""
    _check_csv_file(path, expected)
    options = dict(
        read_options=pacsv.ReadOptions(block_size=_BLOCK_BYTES, use_threads=False),
        convert_options=pacsv.ConvertOptions(default_column_type=pa.large_string(),
                                             null_values=[""], strings_can_be_null=True))
    try:
        reader = pacsv.open_csv(path, **options)
    except (pa.ArrowException, ValueError) as error:
        raise _unreadable(path, error) from None
    with reader:
        names = _column_names(reader.schema.names)
        missing = [c for c in expected if c not in names]
        if missing:
            raise DataValidationError(f"{path}: expected the {what} columns {expected} but "
                                      f"{missing} are missing; found {names}.")
        to_string = {pa.large_string(): pd.StringDtype(), pa.string(): pd.StringDtype()}.get
        pending: pa.Table | None = None  # parsed rows not yet handed on
        first_row = 2  # the header is row 1
        finished = False
        while not finished:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                finished = True
            except (pa.ArrowException, ValueError) as error:
                raise _unreadable(path, error) from None
            else:
                table = pa.Table.from_batches([batch])
                pending = table if pending is None else pa.concat_tables([pending, table])
            while pending is not None and pending.num_rows and (
                    finished or pending.num_rows >= chunk_rows):
                frame = pending.slice(0, chunk_rows).to_pandas(types_mapper=to_string)
                pending = pending.slice(chunk_rows)
                frame.columns = names
                frame["source_file"] = path.name
                frame["row"] = np.arange(first_row, first_row + len(frame))
                first_row += len(frame)
                yield frame
    if first_row == 2:
        raise DataValidationError(f"{path}: the file has a header but no rows; expected at "
                                  f"least one incident.")


def _finish_raw(frame: pd.DataFrame, path: Path, expected: list[str], what: str) -> pd.DataFrame:
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise DataValidationError(f"{path}: expected the {what} columns {expected} but "
                                  f"{missing} are missing; found {list(frame.columns)}.")
    if frame.empty:
        raise DataValidationError(f"{path}: the file has a header but no rows; expected at "
                                  f"least one incident.")
    frame["source_file"] = path.name
    frame["row"] = np.arange(2, len(frame) + 2)
    return frame


def iter_table(path: str | Path, spec: SourceSpec, *,
               chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Read a CSV of source `spec` in chunks of at most `chunk_rows` rows.

    The file-level checks (present, not empty, not binary, UTF-8 throughout, the required
    columns in the header) run before the first chunk is yielded; a file that turns out not
    to be a CSV further down raises when that chunk is read, so a caller that stores chunks
    as they come must be ready to undo them.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    spec : SourceSpec
        The source whose required columns the header must have.
    chunk_rows : int, default CHUNK_ROWS
        Most rows per chunk (a chunk may be smaller, never empty).

    Yields
    ------
    pandas.DataFrame
        The file's columns as strings (empty cells ``<NA>``), plus ``source_file`` and
        ``row`` (the row's line number, counted across chunks; the header is row 1).

    Raises
    ------
    DataValidationError
        If the file is missing, empty, binary, not UTF-8, not a CSV, lacks a required column
        or has no rows; the message names the file and what was expected versus found.
    """
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise ValueError(f"chunk_rows must be a positive integer; got {chunk_rows!r}.")
    path = Path(path)
    return _iter_csv(path, spec.required_columns, f"{spec.name!r} source", chunk_rows)


def read_table(path: str | Path, spec: SourceSpec) -> pd.DataFrame:
    """Read a CSV of source `spec` (police.uk or a configured partner extract).

    Returns
    -------
    pandas.DataFrame
        The file's columns as strings (empty cells ``<NA>``), plus ``source_file`` and
        ``row`` (the row's line number; the header is row 1).

    Raises
    ------
    DataValidationError
        If the file is missing, empty, binary, not UTF-8, not a CSV or lacks a required
        column; the message names the file and what was expected versus found.
    """
    chunks = list(iter_table(path, spec, chunk_rows=1 << 62))
    return chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)


def read_points(path: str | Path, spec: SourceSpec) -> pd.DataFrame:
    """Read GeoJSON or GeoPackage points in any defined CRS, projected to EPSG:27700.

    The point geometry gives the coordinates (columns ``x``/``y``, metres); the attribute
    columns named by `spec` give the date, type and the rest. Rows without a point geometry
    get NaN coordinates and are rejected by validation.
    """
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"{path}: no such file.")
    try:
        frame = gpd.read_file(path)
    except Exception as error:  # pyogrio raises several types for unreadable files
        raise DataValidationError(f"{path}: not a readable GeoJSON/GeoPackage file "
                                  f"({str(error).splitlines()[0]}).") from None
    if frame.crs is None:
        raise DataValidationError(f"{path}: the layer has no coordinate reference system; "
                                  f"expected one (e.g. EPSG:4326 or EPSG:27700).")
    geometry = frame.geometry.to_crs(BNG)
    is_point = (geometry.geom_type == "Point").to_numpy() & ~geometry.is_empty.to_numpy()
    x = np.full(len(frame), np.nan)
    y = np.full(len(frame), np.nan)
    x[is_point] = geometry[is_point].x.to_numpy()
    y[is_point] = geometry[is_point].y.to_numpy()
    attributes = pd.DataFrame(frame.drop(columns=frame.geometry.name)).astype("string")
    attributes["__x"] = x
    attributes["__y"] = y
    expected = [spec.columns[k] for k in ("date", "type")]
    return _finish_raw(attributes.reset_index(drop=True), path, expected,
                       f"{spec.name!r} source")


def read_police_uk_csv(path: str | Path) -> pd.DataFrame:
    """Read one police.uk street-level CSV exactly as data.police.uk publishes it.

    See :func:`read_table`; absent optional police.uk columns are added empty.
    """
    frame = read_table(path, police_uk_spec())
    for column in POLICE_UK_COLUMNS:
        if column not in frame.columns:
            frame[column] = pd.Series(pd.NA, index=frame.index, dtype="string")
    return frame


def police_uk_spec() -> SourceSpec:
    """The built-in police.uk source (``config/sources/police_uk.toml``)."""
    return get_source("police_uk")


def _reject(problems: list[pd.DataFrame], frame: pd.DataFrame, mask, column: str,
            reason: str) -> None:
    if mask.any():
        problems.append(pd.DataFrame({"index": frame.index[mask], "column": column,
                                      "reason": reason}))


def _text(raw: pd.DataFrame, spec: SourceSpec, key: str) -> pd.Series:
    column = spec.column(key)
    if column is None or column not in raw.columns:
        return pd.Series(pd.NA, index=raw.index, dtype="string")
    return raw[column].astype("string").str.strip().replace("", pd.NA)


def _numbers(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _check_coordinates(raw: pd.DataFrame, spec: SourceSpec, problems: list) -> tuple:
    """Validate coordinates; return BNG x, y and WGS84 lon, lat arrays (NaN where bad)."""
    if "__x" in raw.columns:  # points read from a GeoJSON/GeoPackage geometry
        x, y = raw["__x"].to_numpy(dtype=float), raw["__y"].to_numpy(dtype=float)
        _reject(problems, raw, np.isnan(x) | np.isnan(y), "geometry",
                "missing coordinates (no point geometry)")
        finite = np.isfinite(x) & np.isfinite(y)
        in_gb = finite & (x >= BNG_X_RANGE[0]) & (x <= BNG_X_RANGE[1]) & \
            (y >= BNG_Y_RANGE[0]) & (y <= BNG_Y_RANGE[1])
        _reject(problems, raw, finite & ~in_gb, "geometry", "coordinates outside Great Britain")
        lon, lat = bng_to_lonlat(x, y)
        return x, y, lon, lat
    first, second = (("longitude", "latitude") if spec.coordinates == "lonlat"
                     else ("easting", "northing"))
    names = f"{spec.columns[first]}, {spec.columns[second]}"
    text_a, text_b = _text(raw, spec, first), _text(raw, spec, second)
    a, b = _numbers(text_a), _numbers(text_b)
    missing = (text_a.isna() | text_b.isna()).to_numpy()
    _reject(problems, raw, missing, names, "missing coordinates")
    _reject(problems, raw, ~missing & ~(np.isfinite(a) & np.isfinite(b)), names,
            "unparseable coordinates")
    finite = np.isfinite(a) & np.isfinite(b)
    if spec.coordinates == "lonlat":
        low_a, high_a, low_b, high_b = *GB_LON_RANGE, *GB_LAT_RANGE
        swap_reason = "latitude and longitude swapped"
    else:
        low_a, high_a, low_b, high_b = *BNG_X_RANGE, *BNG_Y_RANGE
        swap_reason = "easting and northing swapped"
    in_gb = finite & (a >= low_a) & (a <= high_a) & (b >= low_b) & (b <= high_b)
    swapped = finite & ~in_gb & (b >= low_a) & (b <= high_a) & (a >= low_b) & (a <= high_b)
    if spec.coordinates == "bng":  # most BNG values fit both ranges: only flag clear cases
        swapped &= (a > BNG_X_RANGE[1]) | (b < 0)
    _reject(problems, raw, swapped, names, swap_reason)
    _reject(problems, raw, finite & ~in_gb & ~swapped, names, "coordinates outside Great Britain")
    if spec.coordinates == "lonlat":
        x, y = lonlat_to_bng(np.where(in_gb, a, np.nan), np.where(in_gb, b, np.nan))
        # The lon/lat box is generous: a point in it may still fall off the national grid.
        off_grid = in_gb & ~((x >= BNG_X_RANGE[0]) & (x <= BNG_X_RANGE[1])
                             & (y >= BNG_Y_RANGE[0]) & (y <= BNG_Y_RANGE[1]))
        _reject(problems, raw, off_grid, names, "coordinates outside Great Britain")
        return x, y, a, b
    lon, lat = bng_to_lonlat(np.where(in_gb, a, np.nan), np.where(in_gb, b, np.nan))
    return a, b, lon, lat


def _check_dates(raw: pd.DataFrame, spec: SourceSpec, today: dt.date,
                 problems: list) -> tuple[pd.Series, pd.Series]:
    """Validate the date column; return the month (``YYYY-MM``) and the day (or NaT)."""
    column = spec.columns["date"]
    text = _text(raw, spec, "date")
    if spec.date_format:
        parsed = pd.to_datetime(text, format=spec.date_format, errors="coerce")
        expected = f"a date like {dt.date(2024, 3, 17).strftime(spec.date_format)}"
    else:
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
        expected = "an ISO 8601 date such as 2024-03-17"
    missing = text.isna().to_numpy()
    _reject(problems, raw, missing, column, "missing date")
    _reject(problems, raw, ~missing & parsed.isna().to_numpy(), column,
            f"unparseable date (expected {expected})")
    if parsed.dt.tz is not None:
        parsed = parsed.dt.tz_convert("Europe/London").dt.tz_localize(None)
    month_only = spec.date_format is not None and "%d" not in spec.date_format
    future = (parsed > pd.Timestamp(today) + pd.Timedelta(days=1)) if not month_only else \
        (parsed > pd.Timestamp(today.year, today.month, 1))
    _reject(problems, raw, future.to_numpy(dtype=bool, na_value=False), column,
            "date in the future")
    if spec.date_format == "%Y-%m":  # police.uk: a valid text is already the month
        month = text.where(parsed.notna()).astype("string")
    else:
        month = parsed.dt.to_period("M").astype("string")
    day = parsed if not month_only else pd.Series(pd.NaT, index=raw.index)
    return month, day


def validate_incidents(raw: pd.DataFrame, *, spec: SourceSpec,
                       known_crime_types: Iterable[str],
                       today: dt.date | None = None,
                       seen_ids: Iterable[str] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check rows of source `spec` and convert their coordinates to British National Grid.

    Every problem of every row is found at once. A row with any problem is rejected; its
    reasons and columns are joined with "; ". Reasons: missing, unparseable or swapped
    coordinates, coordinates outside Great Britain, missing or unparseable date, date in the
    future, unknown crime type (not in the source's ``[types]`` mapping, or not a configured
    police.uk type), unparseable or negative weight, duplicate id (when ``unique_ids``).

    Parameters
    ----------
    raw : pandas.DataFrame
        Rows from :func:`read_table` or :func:`read_points` (one or several files).
    spec : SourceSpec
        The source's column mapping.
    known_crime_types : iterable of str
        The police.uk crime types the configuration knows.
    today : datetime.date, optional
        Dates after today (months after this month for month-only sources) are rejected as
        "in the future". Defaults to today.
    seen_ids : iterable of str, optional
        Ids of rows read before these (the earlier chunks of the same file): for sources
        with ``unique_ids``, a row repeating one is a "duplicate id" too.

    Returns
    -------
    accepted : pandas.DataFrame
        Valid rows with ``crime_id``, ``month`` (``YYYY-MM``), ``date`` (as given, or NaT for
        month-only sources), ``crime_type``, ``location``, ``lsoa_code``, ``lsoa_name``,
        ``outcome``, ``force``, ``weight``, ``age_band``, ``lon``, ``lat`` (degrees, WGS84),
        ``x``, ``y`` (metres, EPSG:27700), ``source_file`` and ``row``.
    rejected : pandas.DataFrame
        ``source_file``, ``row``, ``column``, ``reason`` for every rejected row.
    """
    today = today or dt.date.today()
    problems: list[pd.DataFrame] = []
    x, y, lon, lat = _check_coordinates(raw, spec, problems)
    month, day = _check_dates(raw, spec, today, problems)

    raw_type = _text(raw, spec, "type")
    known = set(known_crime_types)
    if spec.types:
        crime_type = raw_type.map(spec.types).astype("string")
        unknown = crime_type.isna() | ~crime_type.isin(list(known))
    else:
        crime_type = raw_type
        unknown = ~raw_type.isin(list(known)).fillna(False)
    _reject(problems, raw, unknown.to_numpy(dtype=bool, na_value=True), spec.columns["type"],
            "unknown crime type")

    weight_text = _text(raw, spec, "weight")
    weight = _numbers(weight_text)
    bad_weight = weight_text.notna().to_numpy() & ~(weight >= 0)
    if bad_weight.any():
        _reject(problems, raw, bad_weight, spec.columns["weight"],
                "unparseable or negative weight")
    weight = np.where(np.isnan(weight), 1.0, weight)

    crime_id = _text(raw, spec, "id")
    if spec.unique_ids and spec.column("id"):
        repeated = crime_id.duplicated(keep="first")
        seen_ids = seen_ids if isinstance(seen_ids, (set, frozenset)) else set(seen_ids)
        if seen_ids:
            repeated |= crime_id.isin(list(seen_ids)).fillna(False)
        duplicate = (crime_id.notna() & repeated).to_numpy(dtype=bool, na_value=False)
        _reject(problems, raw, duplicate, spec.columns["id"], "duplicate id")

    if problems:
        found = pd.concat(problems).groupby("index", sort=True).agg(
            column=("column", "; ".join), reason=("reason", "; ".join))
    else:
        found = pd.DataFrame({"column": pd.Series([], dtype="string"),
                              "reason": pd.Series([], dtype="string")},
                             index=pd.Index([], name="index"))
    bad = raw.index.isin(found.index)
    rejected = raw.loc[bad, ["source_file", "row"]].join(found)[REJECT_COLUMNS]

    good = ~bad
    kept = raw.loc[good]
    accepted = pd.DataFrame({
        "crime_id": crime_id[good],
        "month": month[good],
        "date": day[good],
        "crime_type": crime_type[good].astype("string"),
        "location": _text(kept, spec, "location"),
        "lsoa_code": _text(kept, spec, "lsoa_code"),
        "lsoa_name": _text(kept, spec, "lsoa_name"),
        "outcome": _text(kept, spec, "outcome"),
        "force": _text(kept, spec, "force"),
        "weight": weight[good],
        "age_band": _text(kept, spec, "age_band"),
        "lon": np.asarray(lon, dtype=float)[good], "lat": np.asarray(lat, dtype=float)[good],
        "x": np.asarray(x, dtype=float)[good], "y": np.asarray(y, dtype=float)[good],
        "source_file": kept["source_file"].astype("string"), "row": kept["row"],
    })
    return accepted.reset_index(drop=True), rejected.reset_index(drop=True)


def validate_police_uk(raw: pd.DataFrame, *, known_crime_types: Iterable[str],
                       today: dt.date | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate police.uk rows (see :func:`validate_incidents`).

    A repeated ``Crime ID`` is not a duplicate here: police.uk publishes distinct records
    under one ID (325 of the 7,718 rows of 2024-01 share an ID with a row elsewhere).
    """
    return validate_incidents(raw, spec=police_uk_spec(), known_crime_types=known_crime_types,
                              today=today)


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

    is_split = ~is_2021 & code.isin(list(split)).to_numpy(dtype=bool, na_value=False)
    if is_split.any():
        pairs = pd.DataFrame({"index": result.index[is_split],
                              "candidate": code[is_split].map(split)}).explode("candidate")
        geometry_of = lsoas.set_index("lsoa21cd").geometry
        points = shapely.points(result.loc[pairs["index"], "x"].to_numpy(),
                                result.loc[pairs["index"], "y"].to_numpy())
        pairs["distance"] = shapely.distance(
            points, geometry_of.loc[pairs["candidate"]].to_numpy())
        nearest = pairs.sort_values("distance", kind="stable").drop_duplicates("index")
        lsoa21[nearest["index"].to_numpy()] = nearest["candidate"].to_numpy()
        assignment[nearest["index"].to_numpy()] = ASSIGNED_2011_SPLIT

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
