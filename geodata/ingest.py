"""Ingest incident files into the store: expand, read, validate, place, stage, commit.

One call is one atomic commit: every readable file of the call is stored, or (after a crash
or a kill) none is. Every row read is either stored or reported as rejected with its file,
row, column and reason; ``accepted + rejected == rows read`` is checked for every file.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import hashlib
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import geopandas as gpd
import pandas as pd

from config import get_config
from geodata import paths
from geodata.errors import DataValidationError
from geodata.incidents import (REJECT_COLUMNS, assign_lsoa21, read_points, read_table,
                               validate_incidents)
from geodata.reference import load_lsoa11_lookup, load_lsoa_boundaries
from geodata.sources import SourceSpec, get_source
from geodata.store import IncidentStore, StoreWriter

POINT_SUFFIXES = {".geojson", ".json", ".gpkg"}
TABLE_SUFFIXES = {".csv"}
#: police.uk downloads also hold outcomes and stop-and-search files, which are not incidents.
POLICE_UK_OTHER_FILES = ("-outcomes.csv", "-stop-and-search.csv")
SEED_USER = "seed (shipped police.uk months)"


@dataclass
class FileReport:
    """What happened to one input file."""

    file: str
    status: str                 # "ingested", "unchanged", "unreadable" or "skipped"
    rows_read: int = 0
    accepted: int = 0
    rejected: int = 0
    outside_area: int = 0
    replaced_months: list[str] = field(default_factory=list)
    message: str = ""


@dataclass
class IngestReport:
    """What one ingest call did, file by file, with every rejected row."""

    ingest_id: str | None
    version: int
    files: list[FileReport]
    rejected: pd.DataFrame
    rejects_path: Path | None

    @property
    def rows_read(self) -> int:
        """Data rows read from all readable files."""
        return sum(f.rows_read for f in self.files)

    @property
    def accepted(self) -> int:
        """Rows stored."""
        return sum(f.accepted for f in self.files)

    @property
    def rejected_count(self) -> int:
        """Rows rejected (listed in :attr:`rejected`)."""
        return sum(f.rejected for f in self.files)

    @property
    def outside_area(self) -> int:
        """Stored rows placed outside the Humber area."""
        return sum(f.outside_area for f in self.files)

    @property
    def replaced_months(self) -> list[str]:
        """police.uk months whose earlier version this ingest replaced."""
        return sorted({m for f in self.files for m in f.replaced_months})

    @property
    def unreadable(self) -> list[FileReport]:
        """Files that could not be read at all."""
        return [f for f in self.files if f.status == "unreadable"]

    def summary(self) -> str:
        """One line: ``accepted N, rejected M, outside-area K, replaced months [...]``."""
        months = ", ".join(self.replaced_months)
        return (f"accepted {self.accepted}, rejected {self.rejected_count}, "
                f"outside-area {self.outside_area}, replaced months [{months}]")


@dataclass(frozen=True)
class _Input:
    name: str        # what the user sees: a path, or "archive.zip/member.csv"
    path: Path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _wanted(name: str) -> bool:
    suffix = Path(name).suffix.lower()
    return suffix in TABLE_SUFFIXES | POINT_SUFFIXES


def expand_inputs(inputs: Iterable[str | Path], workdir: Path) -> tuple[list[_Input],
                                                                         list[FileReport]]:
    """Turn files, folders and zips into the list of files to read.

    Returns the files and reports for inputs that are not there or not incident files.
    """
    files, reports = [], []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and _wanted(p.name))
            if not found:
                reports.append(FileReport(str(path), "unreadable",
                                          message=f"{path}: the folder holds no CSV, GeoJSON or "
                                                  f"GeoPackage files."))
            files.extend(_Input(str(p), p) for p in found)
        elif path.suffix.lower() == ".zip" and path.is_file():
            try:
                with zipfile.ZipFile(path) as archive:
                    members = [m for m in archive.namelist()
                               if not m.endswith("/") and _wanted(m)]
                    target = workdir / path.stem
                    for member in members:
                        # Extract by our own name: never trust a member path ("../").
                        destination = target / f"{len(files):06d}-{Path(member).name}"
                        destination.parent.mkdir(parents=True, exist_ok=True)
                        destination.write_bytes(archive.read(member))
                        files.append(_Input(f"{path.name}/{member}", destination))
            except zipfile.BadZipFile:
                reports.append(FileReport(str(path), "unreadable",
                                          message=f"{path}: not a readable zip archive."))
        elif path.is_file():
            files.append(_Input(str(path), path))
        else:
            reports.append(FileReport(str(path), "unreadable",
                                      message=f"{path}: no such file or folder."))
    return files, reports


@dataclass
class _Context:
    spec: SourceSpec
    known_types: set[str]
    lsoas: gpd.GeoDataFrame
    lookup: pd.DataFrame
    today: dt.date
    stored_ids: set[str]


def _ingest_one(item: _Input, context: _Context, writer: StoreWriter, user: str,
                now: str) -> tuple[FileReport, pd.DataFrame]:
    spec = context.spec
    display = Path(item.name).name
    if spec.name == "police_uk" and item.name.endswith(POLICE_UK_OTHER_FILES):
        return FileReport(item.name, "skipped", message=f"{display}: a police.uk outcomes or "
                          f"stop-and-search file, not street-level crime."), pd.DataFrame()
    sha = _sha256(item.path)
    earlier = writer.is_known_file(sha)
    if earlier:
        report = FileReport(item.name, "unchanged",
                            message=f"{display}: already ingested (as {earlier}); nothing added.")
        writer.record(_record(report, writer, spec, user, now, sha))
        return report, pd.DataFrame()
    try:
        if item.path.suffix.lower() in POINT_SUFFIXES:
            raw = read_points(item.path, spec)
        else:
            raw = read_table(item.path, spec)
    except DataValidationError as error:
        message = str(error).replace(str(item.path), display)
        report = FileReport(item.name, "unreadable", message=message)
        writer.record(_record(report, writer, spec, user, now, sha))
        return report, pd.DataFrame()
    raw["source_file"] = display
    accepted, rejected = validate_incidents(raw, spec=spec, known_crime_types=context.known_types,
                                            today=context.today)
    if spec.unique_ids and spec.column("id"):
        again = accepted["crime_id"].isin(list(context.stored_ids)).to_numpy(dtype=bool,
                                                                             na_value=False)
        if again.any():
            extra = accepted.loc[again, ["source_file", "row"]].assign(
                column=spec.columns["id"], reason="duplicate id (already stored)")
            rejected = pd.concat([rejected, extra[REJECT_COLUMNS]], ignore_index=True)
            accepted = accepted.loc[~again].reset_index(drop=True)
        context.stored_ids.update(accepted["crime_id"].dropna())
    accepted = assign_lsoa21(accepted, lsoas=context.lsoas, lookup=context.lookup)
    if len(accepted) + len(rejected) != len(raw):
        raise RuntimeError(f"{display}: row accounting failed: read {len(raw)} rows but "
                           f"accepted {len(accepted)} and rejected {len(rejected)}.")
    accepted = accepted.assign(source=spec.name, ingest_id=writer.ingest_id,
                               ingested_at=pd.Timestamp(now).tz_localize(None))
    replaced = writer.stage(accepted, source=spec.name, replaces_months=spec.replaces_months)
    report = FileReport(item.name, "ingested", rows_read=len(raw), accepted=len(accepted),
                        rejected=len(rejected), outside_area=int((~accepted["in_area"]).sum()),
                        replaced_months=replaced)
    writer.record(_record(report, writer, spec, user, now, sha), sha256=sha, name=display)
    return report, rejected


def _record(report: FileReport, writer: StoreWriter, spec: SourceSpec, user: str, now: str,
            sha: str | None) -> dict:
    return {"ingest_id": writer.ingest_id, "file": Path(report.file).name, "source": spec.name,
            "status": report.status, "rows_read": report.rows_read,
            "accepted": report.accepted, "rejected": report.rejected,
            "outside_area": report.outside_area, "replaced_months": report.replaced_months,
            "user": user, "ingested_at": now, "sha256": sha, "rejects_file": None,
            "message": report.message}


def ingest_files(inputs: Iterable[str | Path], *, store: IncidentStore,
                 source: str = "police_uk", user: str | None = None,
                 today: dt.date | None = None,
                 rejects_path: str | Path | None = None,
                 only_if_empty: bool = False) -> IngestReport:
    """Validate and store incident files in one atomic commit.

    Parameters
    ----------
    inputs : iterable of str or Path
        Files (CSV, GeoJSON, GeoPackage), folders of them, or zips (such as a police.uk
        custom download).
    store : IncidentStore
        Where to store them.
    source : str, default "police_uk"
        Name of the source specification in ``config/sources/``.
    user : str, optional
        Who ingests (recorded in the ingests table); defaults to the login name.
    today : datetime.date, optional
        Reference date for "date in the future".
    rejects_path : str or Path, optional
        Where to write the rejected rows as CSV; defaults to
        ``<store>/rejects/<ingest id>-rejects.csv`` when there are any.
    only_if_empty : bool, default False
        Do nothing if the store already holds a commit (checked under the writer lock; used
        to seed a new store exactly once).

    Returns
    -------
    IngestReport
        Per-file outcomes and every rejected row. Unreadable files are reported, not raised.
    """
    spec = get_source(source)
    config = get_config()
    user = user or getpass.getuser()
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    lsoas = load_lsoa_boundaries()
    context = _Context(spec=spec, known_types={t for g in config.crime_groups for t in g.types},
                       lsoas=lsoas, lookup=load_lsoa11_lookup(), today=today or dt.date.today(),
                       stored_ids=store.existing_ids(spec.name) if spec.unique_ids else set())
    with tempfile.TemporaryDirectory(prefix="humber-ingest-") as workdir, \
            store.writing() as writer:
        if only_if_empty and writer.manifest["version"] > 0:
            return IngestReport(ingest_id=None, version=writer.manifest["version"], files=[],
                                rejected=pd.DataFrame(columns=REJECT_COLUMNS), rejects_path=None)
        files, reports = expand_inputs(inputs, Path(workdir))
        rejected_frames = []
        for item in files:
            report, rejected = _ingest_one(item, context, writer, user, now)
            reports.append(report)
            if not rejected.empty:
                rejected_frames.append(rejected)
        rejected = (pd.concat(rejected_frames, ignore_index=True) if rejected_frames
                    else pd.DataFrame(columns=REJECT_COLUMNS))
        written = None
        if not rejected.empty:
            written = Path(rejects_path) if rejects_path else (
                store.directory / "rejects" / f"{writer.ingest_id}-rejects.csv")
            written.parent.mkdir(parents=True, exist_ok=True)
            rejected.to_csv(written, index=False)
            for record in writer._records:
                if record["rejected"]:
                    record["rejects_file"] = str(written)
        version = writer.commit() if writer._records else store.version
    return IngestReport(ingest_id=writer.ingest_id if writer._records else None,
                        version=version, files=reports, rejected=rejected, rejects_path=written)


def default_store_dir() -> Path:
    """``HUMBER_DATA_DIR`` if set, else the ``data_dir`` setting (relative to the repo)."""
    configured = os.environ.get("HUMBER_DATA_DIR")
    if configured:
        return Path(configured).expanduser()
    setting = Path(str(get_config().setting("data_dir").default)).expanduser()
    return setting if setting.is_absolute() else paths.REPO_ROOT / setting


def open_store(directory: str | Path | None = None, *, seed: bool = True) -> IncidentStore:
    """Open the store (``HUMBER_DATA_DIR`` by default), seeding a new one.

    A store that has never been written is seeded with the shipped police.uk months, once:
    concurrent openers wait on the writer lock and find it seeded.
    """
    store = IncidentStore(directory if directory is not None else default_store_dir())
    if seed and store.version == 0:
        report = ingest_files(paths.shipped_crime_files(), store=store, user=SEED_USER,
                              only_if_empty=True)
        if report.unreadable:
            raise DataValidationError("; ".join(f.message for f in report.unreadable))
    return store
