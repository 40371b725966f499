"""A persistent incident store: Parquet partitions, a JSON manifest, DuckDB queries.

Layout of the store folder (``HUMBER_DATA_DIR``, else the ``data_dir`` setting)::

    manifest.json        the committed state: version, partitions, ingests, file hashes
    partitions/          Parquet files of each police.uk (source, force, month), or of each
                         ingest for other sources (a large file is stored in several
                         parts); a file is never modified once written
    rejects/             the rejected rows of each ingest, as CSV
    aggregates/          counts per LSOA-month and per map point of each commit, named by
                         the manifest (:mod:`geodata.aggregates`)
    .lock                taken by writers, so ingests run one at a time

Why this shape:

- **Atomic.** A writer writes new partition files under new names, then replaces
  ``manifest.json`` in one ``os.replace``. A crash or kill before that leaves the previous
  manifest, and so the previous store, exactly as it was; files it left behind are never
  referenced and are removed by a later ingest.
- **Concurrent.** Readers load the manifest once and read only the files it names, so the
  dashboard keeps serving while an ingest runs (DuckDB's own database file would lock readers
  out of a writing process). New data appears when a reader sees a new ``version``.
- **Idempotent.** The manifest remembers the SHA-256 of every ingested file: the same file
  twice adds nothing. A re-issued police.uk month replaces that force's month.
- **Serialised.** A writer holds an exclusive ``fcntl.flock`` on ``.lock`` from before it
  reads the manifest (and the stored ids it checks duplicates against) until after the
  manifest swap, so two ingests started at once, in any processes, behave as if run one
  after the other. Readers take no lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from geodata import aggregates
from geodata.errors import DataValidationError

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
#: Partition files no longer named by the manifest are deleted once older than this.
ORPHAN_GRACE_SECONDS = 3600

#: Columns of every stored incident, in order, with their DuckDB types.
STORED_COLUMNS: dict[str, str] = {
    "crime_id": "VARCHAR", "month": "VARCHAR", "date": "TIMESTAMP", "crime_type": "VARCHAR",
    "location": "VARCHAR", "lsoa_code": "VARCHAR", "lsoa_name": "VARCHAR", "outcome": "VARCHAR",
    "force": "VARCHAR", "weight": "DOUBLE", "age_band": "VARCHAR", "lon": "DOUBLE",
    "lat": "DOUBLE", "x": "DOUBLE", "y": "DOUBLE", "lsoa21cd": "VARCHAR", "lad_code": "VARCHAR",
    "in_area": "BOOLEAN", "assignment": "VARCHAR", "source": "VARCHAR",
    "source_file": "VARCHAR", "row": "BIGINT", "ingest_id": "VARCHAR",
    "ingested_at": "TIMESTAMP",
}

_ARROW_TYPES = {"VARCHAR": pa.string(), "DOUBLE": pa.float64(), "BIGINT": pa.int64(),
                "BOOLEAN": pa.bool_(), "TIMESTAMP": pa.timestamp("us")}
ARROW_SCHEMA = pa.schema([(name, _ARROW_TYPES[kind]) for name, kind in STORED_COLUMNS.items()])


@dataclass(frozen=True)
class Partition:
    """One Parquet file of the store."""

    path: str            # relative to the store folder
    source: str
    key: str             # "force|month" for month-replacing sources, else the ingest id
    months: tuple[str, ...]
    rows: int
    ingest_id: str


def _empty_manifest() -> dict:
    return {"format": FORMAT_VERSION, "version": 0, "updated_at": None, "partitions": [],
            "ingests": [], "file_hashes": {}}


class IncidentStore:
    """Incidents persisted in a folder; see the module docstring for the design.

    Parameters
    ----------
    directory : str or Path
        The store folder; created if missing.
    """

    def __init__(self, directory: str | Path):
        self.directory = Path(directory).expanduser().resolve()
        try:
            (self.directory / "partitions").mkdir(parents=True, exist_ok=True)
            (self.directory / "rejects").mkdir(exist_ok=True)
        except OSError as error:
            raise DataValidationError(f"Cannot create the incident store at {self.directory} "
                                      f"({error.strerror}); set HUMBER_DATA_DIR to a writable "
                                      f"folder.") from None

    # ----------------------------------------------------------------------------- reading
    def manifest(self) -> dict:
        """The committed state (a fresh dict on every call)."""
        path = self.directory / MANIFEST
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return _empty_manifest()
        except json.JSONDecodeError as error:
            raise DataValidationError(f"{path}: the store manifest is corrupt ({error}); "
                                      f"restore it from a backup or start a new store.") from None

    @property
    def version(self) -> int:
        """Increases by one with every committed ingest; 0 for an empty store."""
        return int(self.manifest()["version"])

    def partitions(self, manifest: dict | None = None) -> list[Partition]:
        """The partition files of a manifest (the current one by default)."""
        manifest = manifest or self.manifest()
        return [Partition(path=p["path"], source=p["source"], key=p["key"],
                          months=tuple(p["months"]), rows=p["rows"], ingest_id=p["ingest_id"])
                for p in manifest["partitions"]]

    def months(self) -> list[str]:
        """Every month that has stored incidents, oldest first."""
        return sorted({m for p in self.partitions() for m in p.months})

    def row_count(self) -> int:
        """Number of stored incidents."""
        return sum(p.rows for p in self.partitions())

    def ingests(self) -> pd.DataFrame:
        """Every ingest: file, source, rows read/accepted/rejected, outside area, who, when."""
        columns = ["ingest_id", "file", "source", "status", "rows_read", "accepted", "rejected",
                   "outside_area", "replaced_months", "user", "ingested_at", "sha256",
                   "rejects_file", "message"]
        records = self.manifest()["ingests"]
        frame = pd.DataFrame.from_records(records, columns=columns)
        frame["replaced_months"] = frame["replaced_months"].map(
            lambda m: ", ".join(m) if isinstance(m, list) else (m or ""))
        return frame.iloc[::-1].reset_index(drop=True)

    def is_known_file(self, sha256: str) -> str | None:
        """The name of an already ingested file with this content, or None."""
        return self.manifest()["file_hashes"].get(sha256)

    def _files(self, manifest: dict, months: Iterable[str] | None,
               sources: Iterable[str] | None,
               forces: Iterable[str] | None = None) -> list[str]:
        wanted_months = set(months) if months is not None else None
        wanted_sources = set(sources) if sources is not None else None
        wanted_forces = set(forces) if forces is not None else None
        files = []
        for partition in self.partitions(manifest):
            if wanted_sources is not None and partition.source not in wanted_sources:
                continue
            if wanted_months is not None and not wanted_months & set(partition.months):
                continue
            if wanted_forces is not None and "|" in partition.key and \
                    partition.key.rsplit("|", 1)[0] not in wanted_forces:
                continue  # a police.uk partition ("force|month") of another force
            files.append(str(self.directory / partition.path))
        return files

    def query(self, *, area_code: str | None = None, months: Iterable[str] | None = None,
              crime_types: Iterable[str] | None = None, in_area: bool | None = True,
              sources: Iterable[str] | None = None,
              columns: Iterable[str] | None = None,
              forces: Iterable[str] | None = None) -> pd.DataFrame:
        """Stored incidents matching the filters, as a DataFrame.

        Parameters
        ----------
        area_code : str, optional
            LAD code of one CSP; None for all.
        months : iterable of str, optional
            ``YYYY-MM`` months; None for all.
        crime_types : iterable of str, optional
            police.uk crime types; None for all.
        in_area : bool or None, default True
            True: only incidents inside the Humber area; False: only those outside; None: both.
        sources : iterable of str, optional
            Source names; None for all.
        columns : iterable of str, optional
            Columns to return (default all of :data:`STORED_COLUMNS`).
        forces : iterable of str, optional
            Forces as stored (police.uk's "Falls within", e.g. ``"Humberside Police"``);
            None for all. police.uk partitions of other forces are not read at all.
        """
        columns = list(columns) if columns is not None else list(STORED_COLUMNS)
        unknown = [c for c in columns if c not in STORED_COLUMNS]
        if unknown:
            raise ValueError(f"Unknown store columns {unknown}; known: {list(STORED_COLUMNS)}.")
        months = list(months) if months is not None else None
        if isinstance(forces, str):
            raise TypeError(f"forces must be an iterable of force names, not one string; "
                            f"got {forces!r} (write [{forces!r}]).")
        forces = list(forces) if forces is not None else None
        files = self._files(self.manifest(), months, sources, forces)
        if not files:
            return self._empty_frame(columns)
        where, params = [], []
        for name, values in (("month", months), ("crime_type", crime_types),
                             ("force", forces)):
            if values is not None:
                values = list(values)
                if not values:
                    return self._empty_frame(columns)
                where.append(f"{name} IN ({', '.join('?' for _ in values)})")
                params.extend(values)
        if area_code is not None:
            where.append("lad_code = ?")
            params.append(area_code)
        if in_area is not None:
            where.append("in_area" if in_area else "NOT in_area")
        select = ", ".join(f'"{c}"' for c in columns)
        sql = (f"SELECT {select} FROM read_parquet(?, union_by_name = true)"
               + (f" WHERE {' AND '.join(where)}" if where else "")
               + " ORDER BY ingest_id, source_file, \"row\"")
        with duckdb.connect() as connection:
            frame = connection.execute(sql, [files, *params]).df()
        return self._normalise(frame)

    def existing_ids(self, source: str, manifest: dict | None = None) -> set[str]:
        """Incident ids stored for `source` (for duplicate-id checks).

        Parameters
        ----------
        source : str
            Source name.
        manifest : dict, optional
            The state to read (a writer passes the manifest it holds under the lock);
            defaults to the current one.
        """
        files = self._files(manifest if manifest is not None else self.manifest(), None,
                            [source])
        if not files:
            return set()
        with duckdb.connect() as connection:
            rows = connection.execute(
                "SELECT DISTINCT crime_id FROM read_parquet(?, union_by_name = true) "
                "WHERE crime_id IS NOT NULL", [files]).fetchall()
        return {r[0] for r in rows}

    @staticmethod
    def _empty_frame(columns: list[str]) -> pd.DataFrame:
        kinds = {"VARCHAR": "string", "DOUBLE": "float64", "BIGINT": "int64",
                 "BOOLEAN": "bool", "TIMESTAMP": "datetime64[us]"}
        return pd.DataFrame({c: pd.Series(dtype=kinds[STORED_COLUMNS[c]]) for c in columns})

    @staticmethod
    def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
        for column in frame.columns:
            if STORED_COLUMNS.get(column) == "VARCHAR":
                frame[column] = frame[column].astype("string")
        return frame

    # ----------------------------------------------------------------------------- writing
    @contextlib.contextmanager
    def writing(self) -> Iterator["StoreWriter"]:
        """Hold the writer lock; commit with :meth:`StoreWriter.commit` inside the block.

        The lock is an exclusive ``fcntl.flock`` on ``<store>/.lock``: it serialises writers
        in all processes, is released when the block ends (or the process dies), and is never
        taken by readers. The writer reads the manifest after the lock is taken.
        """
        with (self.directory / ".lock").open("a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield StoreWriter(self)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


class StoreWriter:
    """Stages partitions and ingest records, then commits them in one manifest swap."""

    def __init__(self, store: IncidentStore):
        self.store = store
        self.manifest = store.manifest()
        self.ingest_id = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S") + \
            "-" + uuid.uuid4().hex[:8]
        self._new_partitions: list[dict] = []
        self._replaced_keys: set[tuple[str, str]] = set()
        self._records: list[dict] = []
        self._hashes: dict[str, str] = {}
        self._written = 0

    def is_known_file(self, sha256: str) -> str | None:
        """An already ingested (or staged) file with this content, or None."""
        return self.manifest["file_hashes"].get(sha256) or self._hashes.get(sha256)

    def stage(self, incidents: pd.DataFrame, *, source: str, replaces_months: bool) -> list[str]:
        """Write `incidents` to new partition files; return the months they replace.

        For month-replacing sources (police.uk) the rows are split by (force, month), and the
        stored partitions with the same key are dropped at commit: that month is re-issued.
        Rows of one key staged in several calls (two files, or the chunks of a large file, of
        one ingest) are written as several files of that key.
        """
        if incidents.empty:
            return []
        frame = incidents.reindex(columns=list(STORED_COLUMNS))
        existing = {(p["source"], p["key"]) for p in self.manifest["partitions"]}
        replaced = []
        if replaces_months:
            force = frame["force"].fillna("unknown force")
            groups = frame.groupby([force, frame["month"]], sort=True)
            for (force_name, month), part in groups:
                key = f"{force_name}|{month}"
                if (source, key) in existing and (source, key) not in self._replaced_keys:
                    replaced.append(month)
                    self._replaced_keys.add((source, key))
                self._write(part, source=source, key=key, months=[month])
        else:
            self._write(frame, source=source, key=f"{self.ingest_id}-{self._written + 1:04d}",
                        months=sorted(frame["month"].dropna().unique()))
        return sorted(set(replaced))

    def _write(self, frame: pd.DataFrame, *, source: str, key: str, months: list[str]) -> None:
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in key)[:80]
        self._written += 1  # unique within the ingest, even for the same key
        relative = (Path("partitions") / source /
                    f"{safe}-{self.ingest_id}-{self._written:04d}.parquet")
        target = self.store.directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        columns = {}
        for name, kind in STORED_COLUMNS.items():
            values = frame[name]
            if kind == "TIMESTAMP":
                values = pd.to_datetime(values).astype("datetime64[us]")
            elif kind == "VARCHAR":
                values = values.astype("string")
            elif kind == "BOOLEAN":
                values = values.fillna(False).astype(bool)
            columns[name] = values
        table = pa.Table.from_pandas(pd.DataFrame(columns), schema=ARROW_SCHEMA,
                                     preserve_index=False, safe=False)
        pq.write_table(table, target, compression="snappy")
        self._new_partitions.append({"path": str(relative), "source": source, "key": key,
                                     "months": list(months), "rows": int(len(frame)),
                                     "ingest_id": self.ingest_id})

    def checkpoint(self) -> tuple[int, frozenset]:
        """A mark to return to with :meth:`rollback` (before staging one file)."""
        return len(self._new_partitions), frozenset(self._replaced_keys)

    def rollback(self, mark: tuple[int, frozenset]) -> None:
        """Forget (and delete) the partitions staged since `mark` was taken."""
        count, replaced = mark
        for partition in self._new_partitions[count:]:
            (self.store.directory / partition["path"]).unlink(missing_ok=True)
        del self._new_partitions[count:]
        self._replaced_keys = set(replaced)

    def record(self, record: dict, *, sha256: str | None = None, name: str | None = None) -> None:
        """Add one file's ingest record (and remember its content hash when ingested)."""
        self._records.append(record)
        if sha256 and name:
            self._hashes[sha256] = name

    def commit(self) -> int:
        """Swap in the new manifest; returns the new store version."""
        pause = float(os.environ.get("HUMBER_INGEST_PAUSE_BEFORE_COMMIT", "0") or 0)
        if pause:  # used by the kill test: the process is killed while paused here
            print("ingest staged; pausing before commit", flush=True)
            time.sleep(pause)
        manifest = self.manifest
        kept = [p for p in manifest["partitions"]
                if (p["source"], p["key"]) not in self._replaced_keys]
        manifest["partitions"] = kept + self._new_partitions
        manifest["ingests"] = manifest["ingests"] + self._records
        manifest["file_hashes"] = {**manifest["file_hashes"], **self._hashes}
        manifest["version"] = int(manifest["version"]) + 1
        manifest["updated_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        # Counts of this version, written before the swap that makes them visible with it.
        manifest[aggregates.MANIFEST_KEY] = aggregates.write_aggregates(
            self.store.directory, manifest, tag=self.ingest_id)
        path = self.store.directory / MANIFEST
        temporary = path.with_suffix(f".{self.ingest_id}.tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            json.dump(manifest, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        self._remove_orphans(manifest)
        return manifest["version"]

    def _remove_orphans(self, manifest: dict) -> None:
        referenced = {str(self.store.directory / p["path"]) for p in manifest["partitions"]}
        cutoff = time.time() - ORPHAN_GRACE_SECONDS
        for path in (self.store.directory / "partitions").rglob("*.parquet"):
            if str(path) not in referenced and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
        for path in self.store.directory.glob(f"{MANIFEST}.*.tmp"):
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
        aggregates.remove_old(self.store.directory, manifest)
