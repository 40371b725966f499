"""Ingest incident files into the store: expand, read, validate, place, stage, commit.

One call is one atomic commit: every readable file of the call is stored, or (after a crash
or a kill) none is. Every row read is either stored or reported as rejected with its file,
row, column and reason; ``accepted + rejected == rows read`` is checked for every file.

Safety against hostile input:

- **Zip bombs.** Before anything is extracted, a zip's directory is checked against the
  ``ingest_max_expanded_mb`` and ``ingest_max_compression_ratio`` settings; members are then
  streamed to disk in blocks, and the limits are enforced again on the bytes actually
  produced (a forged header cannot make a member expand further). A zip over the limits
  raises :class:`~geodata.errors.ArchiveRefused` and nothing is stored.
- **Bounded memory.** CSVs are read, validated and staged in chunks of
  :data:`geodata.incidents.CHUNK_ROWS` rows.
- **Concurrent ingests.** The stored ids and file hashes that duplicates are checked
  against are read under the store's writer lock, which is held until the manifest swap.
- **Spreadsheet formulas.** The rejects CSV is written through
  :func:`geodata.csv_safety.write_csv`.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import math
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import geopandas as gpd
import pandas as pd

from config import get_config
from config.storage import default_store_dir  # re-exported: callers import it from here
from geodata import incidents, paths
from geodata.csv_safety import write_csv
from geodata.errors import ArchiveRefused, DataValidationError
from geodata.incidents import (
    REJECT_COLUMNS,
    assign_lsoa21,
    iter_table,
    read_points,
    validate_incidents,
)
from geodata.reference import load_lsoa11_lookup, load_lsoa_boundaries
from geodata.sources import SourceSpec, get_source
from geodata.store import IncidentStore, StoreWriter

POINT_SUFFIXES = {".geojson", ".json", ".gpkg"}
TABLE_SUFFIXES = {".csv"}
#: police.uk downloads also hold outcomes and stop-and-search files, which are not incidents.
POLICE_UK_OTHER_FILES = ("-outcomes.csv", "-stop-and-search.csv")
SEED_USER = "seed (shipped police.uk months)"
#: Members of a zip expanding to less than this are not held to the compression-ratio limit
#: (a small, very regular file compresses well and can do no harm).
RATIO_EXEMPT_BYTES = 1 << 20
_MB = 1 << 20
_COPY_BLOCK = 1 << 20


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


@dataclass(frozen=True)
class ArchiveLimits:
    """How far a zip may expand before it is refused (see :func:`archive_limits`)."""

    max_expanded_bytes: int
    max_ratio: float

    def describe(self) -> str:
        """The limits in words, with the settings that set them."""
        return (f"{self.max_expanded_bytes / _MB:,.0f} MB expanded (setting "
                f"ingest_max_expanded_mb) and {self.max_ratio:,g} times compressed size "
                f"(setting ingest_max_compression_ratio)")


def _positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number; got {value!r}.")
    return float(value)


def archive_limits(max_expanded_mb: float | None = None,
                   max_compression_ratio: float | None = None) -> ArchiveLimits:
    """The zip limits: the arguments given, else the settings.

    Parameters
    ----------
    max_expanded_mb : float, optional
        Largest total expanded size of the incident files read from one zip, in MB
        (2^20 bytes); default the ``ingest_max_expanded_mb`` setting.
    max_compression_ratio : float, optional
        Largest expanded/compressed ratio of one member (members under 1 MB are exempt);
        default the ``ingest_max_compression_ratio`` setting.

    Returns
    -------
    ArchiveLimits

    Raises
    ------
    ValueError
        If a limit is not a positive number.
    """
    config = get_config()
    if max_expanded_mb is None:
        max_expanded_mb = config.setting("ingest_max_expanded_mb").default
    if max_compression_ratio is None:
        max_compression_ratio = config.setting("ingest_max_compression_ratio").default
    mb = _positive("max_expanded_mb", max_expanded_mb)
    ratio = _positive("max_compression_ratio", max_compression_ratio)
    return ArchiveLimits(max_expanded_bytes=int(mb * _MB), max_ratio=ratio)


_SIZE_SETTING, _RATIO_SETTING = "ingest_max_expanded_mb", "ingest_max_compression_ratio"


def _refuse(path: Path, limits: ArchiveLimits, *, expanded: int, compressed: int,
            detail: str, setting: str, while_reading: bool = False) -> ArchiveRefused:
    ratio = expanded / max(compressed, 1)
    size = (f"expand to at least {expanded / _MB:,.1f} MB" if while_reading
            else f"would expand to {expanded / _MB:,.1f} MB")
    return ArchiveRefused(
        f"{path.name}: zip refused: {detail}. Its incident files {size}, {ratio:,.0f} times "
        f"their compressed size; the limits are {limits.describe()}. Nothing was stored. "
        f"If the archive is trusted, raise the {setting} setting in config/settings.toml, "
        f"or unzip it and ingest the files.")


def _check_directory(path: Path, members: list[zipfile.ZipInfo], limits: ArchiveLimits) -> None:
    """Refuse a zip whose directory declares too much, before extracting anything."""
    expanded = sum(m.file_size for m in members)
    compressed = sum(m.compress_size for m in members)
    if expanded > limits.max_expanded_bytes:
        raise _refuse(path, limits, expanded=expanded, compressed=compressed,
                      setting=_SIZE_SETTING,
                      detail=f"its directory declares {expanded:,} bytes of incident files")
    for member in members:
        if member.file_size > RATIO_EXEMPT_BYTES and \
                member.file_size > limits.max_ratio * max(member.compress_size, 1):
            raise _refuse(path, limits, expanded=expanded, compressed=compressed,
                          setting=_RATIO_SETTING,
                          detail=f"member {member.filename!r} declares {member.file_size:,} "
                                 f"bytes from {member.compress_size:,} compressed "
                                 f"(ratio {member.file_size / max(member.compress_size, 1):,.0f})")


def _copy_member(archive: zipfile.ZipFile, path: Path, member: zipfile.ZipInfo,
                 destination: Path, limits: ArchiveLimits, written_before: int,
                 declared_total: int) -> int:
    """Stream one member to disk, enforcing the limits on the bytes it really yields."""
    ratio_cap = max(RATIO_EXEMPT_BYTES, limits.max_ratio * max(member.compress_size, 1))
    written = 0
    with archive.open(member) as source, destination.open("wb") as sink:
        while True:
            block = source.read(_COPY_BLOCK)
            if not block:
                break
            written += len(block)
            detail, setting = None, _RATIO_SETTING
            if written > member.file_size:
                detail = (f"member {member.filename!r} expands beyond the {member.file_size:,} "
                          f"bytes its header declares (a forged header)")
            elif written_before + written > limits.max_expanded_bytes:
                detail = "its members expand beyond the limit while being read"
                setting = _SIZE_SETTING
            elif written > ratio_cap:
                detail = (f"member {member.filename!r} expands more than "
                          f"{limits.max_ratio:,g} times its compressed size while being read")
            if detail:
                raise _refuse(path, limits, compressed=member.compress_size, detail=detail,
                              setting=setting, while_reading=True,
                              expanded=max(declared_total, written_before + written))
            sink.write(block)
    return written


def _expand_zip(path: Path, workdir: Path, limits: ArchiveLimits, skip: tuple[str, ...],
                first_index: int) -> tuple[list[_Input], list[FileReport]]:
    files: list[_Input] = []
    reports: list[FileReport] = []
    with zipfile.ZipFile(path) as archive:
        members = [m for m in archive.infolist() if not m.is_dir() and _wanted(m.filename)]
        to_read = []
        for member in members:
            if skip and member.filename.endswith(skip):  # never extracted
                reports.append(_skipped(f"{path.name}/{member.filename}"))
            else:
                to_read.append(member)
        _check_directory(path, to_read, limits)
        declared = sum(m.file_size for m in to_read)
        target = workdir / path.stem
        written = 0
        for member in to_read:
            # Extract by our own name: never trust a member path ("../", or 300 characters).
            suffix = Path(member.filename).suffix.lower()
            destination = target / f"{first_index + len(files):06d}{suffix}"
            destination.parent.mkdir(parents=True, exist_ok=True)
            written += _copy_member(archive, path, member, destination, limits, written,
                                    declared)
            files.append(_Input(f"{path.name}/{member.filename}", destination))
    return files, reports


def _skipped(name: str) -> FileReport:
    return FileReport(name, "skipped", message=f"{Path(name).name}: a police.uk outcomes or "
                      f"stop-and-search file, not street-level crime.")


def expand_inputs(inputs: Iterable[str | Path], workdir: Path, *,
                  limits: ArchiveLimits | None = None,
                  skip_suffixes: tuple[str, ...] = ()) -> tuple[list[_Input], list[FileReport]]:
    """Turn files, folders and zips into the list of files to read.

    Parameters
    ----------
    inputs : iterable of str or Path
        Files, folders (read recursively) and zips.
    workdir : Path
        A private folder the incident files of zips are extracted to.
    limits : ArchiveLimits, optional
        How far a zip may expand (default: :func:`archive_limits` from the settings).
    skip_suffixes : tuple of str, optional
        Members of a zip whose names end so are reported as skipped and never extracted.

    Returns
    -------
    files : list
        The files to read.
    reports : list of FileReport
        Inputs that are not there, not readable zips, or skipped zip members.

    Raises
    ------
    ArchiveRefused
        If a zip would expand beyond `limits` (checked before extraction and while
        extracting); the message names the zip, its size and ratio and the setting.
    """
    limits = limits or archive_limits()
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
                extracted, skipped = _expand_zip(path, workdir, limits, skip_suffixes,
                                                 len(files))
            except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError,
                    zlib.error, OSError) as error:
                if isinstance(error, OSError) and not isinstance(error, zipfile.BadZipFile) \
                        and error.errno is not None:
                    raise  # the disk, not the zip (no space left, permissions)
                detail = str(error).splitlines()[0] if str(error) else type(error).__name__
                reports.append(FileReport(str(path), "unreadable",
                                          message=f"{path}: not a readable zip archive "
                                                  f"({detail})."))
            else:
                files.extend(extracted)
                reports.extend(skipped)
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
        return _skipped(item.name), pd.DataFrame()
    sha = _sha256(item.path)
    earlier = writer.is_known_file(sha)
    if earlier:
        report = FileReport(item.name, "unchanged",
                            message=f"{display}: already ingested (as {earlier}); nothing added.")
        writer.record(_record(report, writer, spec, user, now, sha))
        return report, pd.DataFrame()
    checks_ids = spec.unique_ids and spec.column("id") is not None
    mark = writer.checkpoint()
    report = FileReport(item.name, "ingested")
    rejected_parts: list[pd.DataFrame] = []
    file_ids: set[str] = set()  # every id read so far from this file
    replaced: set[str] = set()
    try:
        if item.path.suffix.lower() in POINT_SUFFIXES:
            chunks = iter([read_points(item.path, spec)])
        else:
            chunks = iter_table(item.path, spec, chunk_rows=incidents.CHUNK_ROWS)
        for raw in chunks:  # a large CSV is read, checked and staged a chunk at a time
            raw["source_file"] = display
            accepted, rejected = validate_incidents(
                raw, spec=spec, known_crime_types=context.known_types, today=context.today,
                seen_ids=file_ids)
            if checks_ids:
                file_ids.update(raw[spec.columns["id"]].dropna().astype(str).str.strip())
                again = accepted["crime_id"].isin(list(context.stored_ids)).to_numpy(
                    dtype=bool, na_value=False)
                if again.any():
                    extra = accepted.loc[again, ["source_file", "row"]].assign(
                        column=spec.columns["id"], reason="duplicate id (already stored)")
                    rejected = pd.concat([rejected, extra[REJECT_COLUMNS]], ignore_index=True)
                    accepted = accepted.loc[~again].reset_index(drop=True)
            accepted = assign_lsoa21(accepted, lsoas=context.lsoas, lookup=context.lookup)
            if len(accepted) + len(rejected) != len(raw):
                raise RuntimeError(f"{display}: row accounting failed: read {len(raw)} rows but "
                                   f"accepted {len(accepted)} and rejected {len(rejected)}.")
            accepted = accepted.assign(source=spec.name, ingest_id=writer.ingest_id,
                                       ingested_at=pd.Timestamp(now).tz_localize(None))
            replaced.update(writer.stage(accepted, source=spec.name,
                                         replaces_months=spec.replaces_months))
            report.rows_read += len(raw)
            report.accepted += len(accepted)
            report.rejected += len(rejected)
            report.outside_area += int((~accepted["in_area"]).sum())
            if not rejected.empty:
                rejected_parts.append(rejected)
            del raw, accepted, rejected
    except DataValidationError as error:
        writer.rollback(mark)  # nothing of a file that cannot be read is stored
        message = str(error).replace(str(item.path), display)
        report = FileReport(item.name, "unreadable", message=message)
        writer.record(_record(report, writer, spec, user, now, sha))
        return report, pd.DataFrame()
    if checks_ids:
        context.stored_ids.update(file_ids)
    report.replaced_months = sorted(replaced)
    writer.record(_record(report, writer, spec, user, now, sha), sha256=sha, name=display)
    rejected = (pd.concat(rejected_parts, ignore_index=True) if rejected_parts
                else pd.DataFrame(columns=REJECT_COLUMNS))
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
                 only_if_empty: bool = False,
                 max_expanded_mb: float | None = None,
                 max_compression_ratio: float | None = None,
                 require_all_readable: bool = False) -> IngestReport:
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
    max_expanded_mb : float, optional
        Largest expanded size of one zip's incident files, in MB; default the
        ``ingest_max_expanded_mb`` setting.
    max_compression_ratio : float, optional
        Largest expanded/compressed ratio of a zip member over 1 MB; default the
        ``ingest_max_compression_ratio`` setting.
    require_all_readable : bool, default False
        Store nothing at all when any file cannot be read (used by ``python -m geodata
        fetch``, whose files are one set); by default the readable files are stored and
        the unreadable ones reported.

    Returns
    -------
    IngestReport
        Per-file outcomes and every rejected row. Unreadable files are reported, not raised.
        With `require_all_readable` and an unreadable file, ``ingest_id`` is None and the
        store's version is unchanged.

    Raises
    ------
    ArchiveRefused
        If a zip would expand beyond the limits; nothing of the call is stored.

    Notes
    -----
    The whole call (reading the stored ids and file hashes, checking, staging, writing the
    rejects and swapping the manifest) runs under the store's exclusive writer lock, so
    ingests started at once in several processes see each other's ids: a source with unique
    ids stores each id once, and the later ingest rejects the repeats as duplicates.
    Readers are never blocked.
    """
    spec = get_source(source)
    limits = archive_limits(max_expanded_mb, max_compression_ratio)
    config = get_config()
    user = user or getpass.getuser()
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    lsoas = load_lsoa_boundaries()
    skip = POLICE_UK_OTHER_FILES if spec.name == "police_uk" else ()
    with tempfile.TemporaryDirectory(prefix="humber-ingest-") as workdir, \
            store.writing() as writer:
        if only_if_empty and writer.manifest["version"] > 0:
            return IngestReport(ingest_id=None, version=writer.manifest["version"], files=[],
                                rejected=pd.DataFrame(columns=REJECT_COLUMNS), rejects_path=None)
        # Read under the lock, from the manifest this writer commits on top of.
        stored_ids = (store.existing_ids(spec.name, writer.manifest) if spec.unique_ids
                      else set())
        context = _Context(spec=spec,
                           known_types={t for g in config.crime_groups for t in g.types},
                           lsoas=lsoas, lookup=load_lsoa11_lookup(),
                           today=today or dt.date.today(), stored_ids=stored_ids)
        files, reports = expand_inputs(inputs, Path(workdir), limits=limits,
                                       skip_suffixes=skip)
        rejected_frames = []
        for item in files:
            report, rejected = _ingest_one(item, context, writer, user, now)
            reports.append(report)
            if not rejected.empty:
                rejected_frames.append(rejected)
        rejected = (pd.concat(rejected_frames, ignore_index=True) if rejected_frames
                    else pd.DataFrame(columns=REJECT_COLUMNS))
        if require_all_readable and any(r.status == "unreadable" for r in reports):
            writer.rollback((0, frozenset()))  # all or nothing: forget every staged file
            return IngestReport(ingest_id=None, version=writer.manifest["version"],
                                files=reports, rejected=rejected, rejects_path=None)
        written = None
        if not rejected.empty:
            written = Path(rejects_path) if rejects_path else (
                store.directory / "rejects" / f"{writer.ingest_id}-rejects.csv")
            write_csv(rejected, written)  # file names and reasons come from the input
            for record in writer._records:
                if record["rejected"]:
                    record["rejects_file"] = str(written)
        version = writer.commit() if writer._records else store.version
    return IngestReport(ingest_id=writer.ingest_id if writer._records else None,
                        version=version, files=reports, rejected=rejected, rejects_path=written)


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
