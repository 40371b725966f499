"""Aggregates computed once per ingest and stored beside the incidents.

The dashboard's tables (incidents and rates per LSOA and per CSP, the monthly trend, the
freshness line) and its "find a place" streets need counts, not incidents. Counting them
from the raw incidents on every page view costs a query over every stored row; at three years
of Humberside (~300,000 incidents) that is most of a page's first render. So every commit
(:meth:`geodata.store.StoreWriter.commit`) also writes, beside the partitions::

    aggregates/<ingest id>-lsoa-month.parquet    incidents and weight per month, crime type,
                                                 source, CSP (lad_code), LSOA and in_area
    aggregates/<ingest id>-map-points.parquet    incidents and weight per month, crime type,
                                                 CSP, LSOA, police.uk location text and map
                                                 point (x, y, lon, lat), inside the area only

and names them in the manifest it swaps in (``manifest["aggregates"]``), so they appear and
disappear atomically with the incidents they count: a reader that holds a manifest reads the
aggregates of exactly that version. A store written before aggregates existed (no
``aggregates`` entry) is counted from its partitions on read, with the same query.

Values that take a back-test to compute (the default KDE bandwidth of an area and crime
group) are stored by whoever computes them first in ``aggregates/derived-v<version>.json``
(:func:`read_derived`, :func:`write_derived`), and derived tables (the street outlines of
"find a place") in ``aggregates/<name>-v<version>.parquet`` (:func:`read_derived_table`,
:func:`write_derived_table`), so a restart or a second server process reads them instead of
recomputing; a new version starts new files.

``HUMBER_AGGREGATES=0`` makes :func:`aggregates_enabled` false: the dashboard then computes
everything from the raw incidents, as before (the baseline of ``python -m ui.bench``).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

AGGREGATES_DIR = "aggregates"
#: Manifest key naming the aggregate files of a commit.
MANIFEST_KEY = "aggregates"
ENV_SWITCH = "HUMBER_AGGREGATES"
#: Old aggregate files are deleted once unreferenced and older than this (as partitions).
GRACE_SECONDS = 3600

#: Grouping columns of the LSOA-month table; ``incidents`` and ``weight`` are the measures.
LSOA_KEYS = ("month", "crime_type", "source", "lad_code", "lsoa21cd", "in_area")
#: Grouping columns of the map-point table (incidents inside the Humber area only).
POINT_KEYS = ("month", "crime_type", "lad_code", "lsoa21cd", "location", "x", "y", "lon",
              "lat")
TABLES = {"lsoa_month": LSOA_KEYS, "map_points": POINT_KEYS}


def aggregates_enabled() -> bool:
    """False when ``HUMBER_AGGREGATES`` is ``0`` (or ``false``/``no``/``off``)."""
    return os.environ.get(ENV_SWITCH, "1").strip().lower() not in {"0", "false", "no", "off"}


def _sql(table: str) -> str:
    keys = TABLES[table]
    select = ", ".join(f'"{k}"' for k in keys)
    where = " WHERE in_area" if table == "map_points" else ""
    return (f"SELECT {select}, COUNT(*)::BIGINT AS incidents, "
            f"SUM(COALESCE(weight, 1.0))::DOUBLE AS weight "
            f"FROM read_parquet(?, union_by_name = true){where} GROUP BY ALL "
            f"ORDER BY {select}")


def _files(directory: Path, manifest: dict) -> list[str]:
    return [str(directory / p["path"]) for p in manifest["partitions"]]


def count_tables(directory: str | Path, manifest: dict) -> dict[str, pd.DataFrame]:
    """The aggregate tables of the incidents a manifest names, counted from its partitions.

    Parameters
    ----------
    directory : str or Path
        The store folder.
    manifest : dict
        The store manifest (``partitions`` with paths relative to `directory`).

    Returns
    -------
    dict of str to pandas.DataFrame
        ``"lsoa_month"`` (columns :data:`LSOA_KEYS`, ``incidents``, ``weight``) and
        ``"map_points"`` (:data:`POINT_KEYS`, ``incidents``, ``weight``); ``weight`` sums the
        stored per-incident weight (1 where missing).
    """
    if not isinstance(manifest, dict) or "partitions" not in manifest:
        raise TypeError(f"'manifest' should be a store manifest (a dict with 'partitions'), "
                        f"got {type(manifest).__name__}.")
    files = _files(Path(directory), manifest)
    tables = {}
    for name, keys in TABLES.items():
        if not files:
            tables[name] = _empty(keys)
            continue
        with duckdb.connect() as connection:
            frame = connection.execute(_sql(name), [files]).df()
        tables[name] = _normalise(frame)
    return tables


def _empty(keys) -> pd.DataFrame:
    kinds = {"x": "float64", "y": "float64", "lon": "float64", "lat": "float64",
             "in_area": "bool"}
    columns = {k: pd.Series(dtype=kinds.get(k, "string")) for k in keys}
    columns.update(incidents=pd.Series(dtype="int64"), weight=pd.Series(dtype="float64"))
    return pd.DataFrame(columns)


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    for column in ("month", "crime_type", "source", "lad_code", "lsoa21cd", "location"):
        if column in frame:
            frame[column] = frame[column].astype("string")
    frame["incidents"] = frame["incidents"].astype("int64")
    return frame


def write_aggregates(directory: str | Path, manifest: dict, *, tag: str) -> dict:
    """Count the manifest's incidents and write the tables; return the manifest entry.

    Called by the store's writer just before it swaps in `manifest`, so the files exist
    before any reader can see the version that names them.

    Parameters
    ----------
    directory : str or Path
        The store folder.
    manifest : dict
        The manifest about to be committed.
    tag : str
        Unique name part of the files (the ingest id).

    Returns
    -------
    dict
        ``{"version": ..., "files": {"lsoa_month": path, "map_points": path}}`` with paths
        relative to the store folder.
    """
    directory = Path(directory)
    (directory / AGGREGATES_DIR).mkdir(exist_ok=True)
    files = {}
    for name, frame in count_tables(directory, manifest).items():
        relative = Path(AGGREGATES_DIR) / f"{tag}-{name.replace('_', '-')}.parquet"
        temporary = directory / relative.with_suffix(".parquet.tmp")
        frame.to_parquet(temporary, index=False)
        os.replace(temporary, directory / relative)
        files[name] = str(relative)
    return {"version": int(manifest["version"]), "files": files}


def remove_old(directory: str | Path, manifest: dict) -> None:
    """Delete aggregate files `manifest` no longer names, once older than the grace period
    (a reader may still hold the previous manifest)."""
    directory = Path(directory)
    entry = manifest.get(MANIFEST_KEY) or {}
    keep = {str(directory / p) for p in entry.get("files", {}).values()}
    current = f"-v{int(manifest['version'])}."  # derived values and tables of this version
    cutoff = time.time() - GRACE_SECONDS
    for path in (directory / AGGREGATES_DIR).glob("*"):
        if str(path) not in keep and current not in path.name and \
                path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Aggregates:
    """The aggregate tables of one store version (see the module docstring)."""

    version: int
    lsoa_month: pd.DataFrame
    map_points: pd.DataFrame
    stored: bool  # True: read from the files of the commit; False: counted on read


def load_aggregates(directory: str | Path, manifest: dict) -> Aggregates:
    """The aggregate tables of `manifest`'s version.

    Parameters
    ----------
    directory : str or Path
        The store folder.
    manifest : dict
        A manifest read once by the caller (so tables and version agree).

    Returns
    -------
    Aggregates
        Read from the files the manifest names, or counted from its partitions when it names
        none (a store committed before aggregates existed) or they are missing.
    """
    directory = Path(directory)
    entry = manifest.get(MANIFEST_KEY)
    version = int(manifest["version"])
    if entry and entry.get("version") == version:
        try:
            tables = {name: _normalise(pd.read_parquet(directory / path))
                      for name, path in entry["files"].items()}
            return Aggregates(version=version, lsoa_month=tables["lsoa_month"],
                              map_points=tables["map_points"], stored=True)
        except (OSError, KeyError):
            pass  # files deleted by hand: count them again below
    tables = count_tables(directory, manifest)
    return Aggregates(version=version, lsoa_month=tables["lsoa_month"],
                      map_points=tables["map_points"], stored=False)


def _derived_path(directory: Path, version: int) -> Path:
    return directory / AGGREGATES_DIR / f"derived-v{int(version)}.json"


def read_derived(directory: str | Path, version: int) -> dict:
    """Values derived from store version `version` by a back-test (empty if none yet).

    Parameters
    ----------
    directory : str or Path
        The store folder; the values are in its aggregates folder, one JSON file a version.
    version : int
        The store version the values were computed from.

    Returns
    -------
    dict
        Key to value, as :func:`write_derived` stored them; empty if the file is missing or
        unreadable.
    """
    path = _derived_path(Path(directory), version)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def write_derived(directory: str | Path, version: int, key: str, value) -> None:
    """Store one derived value of store version `version` under `key` (JSON-serialisable).

    The file is replaced atomically; two processes writing at once can at worst lose the
    other's value, which is then computed again, never a torn file.
    """
    if not isinstance(key, str) or not key:
        raise TypeError(f"'key' should be a non-empty string, got {key!r}.")
    directory = Path(directory)
    (directory / AGGREGATES_DIR).mkdir(exist_ok=True)
    values = read_derived(directory, version)
    values[key] = value
    path = _derived_path(directory, version)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(values, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)


def _table_path(directory: Path, version: int, name: str) -> Path:
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"'name' should be an identifier such as 'streets', got {name!r}.")
    return directory / AGGREGATES_DIR / f"{name}-v{int(version)}.parquet"


def read_derived_table(directory: str | Path, version: int, name: str):
    """A derived GeoDataFrame of store version `version`, or None if not stored yet.

    Parameters
    ----------
    directory : str or Path
        The store folder.
    version : int
        The store version it was derived from.
    name : str
        Its name (an identifier, e.g. ``"streets"``).
    """
    import geopandas as gpd

    path = _table_path(Path(directory), version, name)
    try:
        return gpd.read_parquet(path)
    except (FileNotFoundError, ValueError):
        return None


def write_derived_table(directory: str | Path, version: int, name: str, frame) -> None:
    """Store a GeoDataFrame derived from store version `version` (GeoParquet, replaced
    atomically)."""
    directory = Path(directory)
    path = _table_path(directory, version, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    frame.to_parquet(temporary, index=False)
    os.replace(temporary, path)
