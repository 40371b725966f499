"""The responses store: what a tasking meeting did where, with every change kept (issue 10).

A *response* is a place plus what was done there: title, type (``config/response_types.toml``),
lead agency and partners, the CSP (LAD code), start month and optional end month, notes,
status (planned, active, ended), and the place: a polygon in EPSG:27700 with a description of
how it was defined (hotspot outlines with their ids and the analysis settings, LSOAs, wards,
or an uploaded GeoJSON polygon).

Storage: ``responses.sqlite`` in the incident store's folder (``HUMBER_DATA_DIR``). Why SQLite
rather than the incident store's lock and manifest swap: responses are small records edited
one at a time, often by several users, and every edit must land together with its history
row. One SQLite transaction (``BEGIN IMMEDIATE``: one writer at a time, in any process, the
others wait up to :data:`BUSY_TIMEOUT_S`) writes the response and its history row, or
neither; a killed process leaves the last committed state (write-ahead log, ``synchronous =
FULL``). Readers never wait for a writer (WAL). A plain JSON file replaced atomically would
need its own lock and would rewrite every response on each edit.

Every change is kept in ``response_history``: who, when (UTC), the action (``add``,
``update``) and, per changed field, the old and new values (the place's geometry as WKT).
Every change is also audited: :meth:`ResponseStore.add` and :meth:`ResponseStore.update` take
an ``audit`` callable, called inside the transaction before the commit, so a change whose
audit record cannot be written is rolled back. (This module does not import ``auth``: the
data layer stays below it; callers pass :func:`hotspots.responses.audit_recorder` of their
audit log, which records ``response_changed`` events without coordinates.)

Validation happens here, at the boundary: a bad value raises :class:`ResponseValidationError`
naming the field, what was expected and what was received.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import shapely
from shapely import wkt as shapely_wkt

from config.sqlite_tx import write_transaction

__all__ = ["BUSY_TIMEOUT_S", "FIELDS", "PLACE_KINDS", "Response", "ResponseConflict",
           "ResponseStore", "ResponseValidationError", "STATUSES", "default_responses_path",
           "validate_fields"]

#: File name of the store, inside the incident store's folder.
FILE_NAME = "responses.sqlite"
#: A writer waits this long for another writer to finish before giving up (seconds).
BUSY_TIMEOUT_S = 30.0
STATUSES = ("planned", "active", "ended")
PLACE_KINDS = ("hotspots", "lsoas", "wards", "geojson")
#: Fields a caller sets (``id``, timestamps and ``version`` are the store's).
FIELDS = ("title", "type", "lead_agency", "partners", "lad_code", "start_month", "end_month",
          "notes", "status", "geometry", "place")
REQUIRED = ("title", "type", "lead_agency", "lad_code", "start_month", "status", "geometry",
            "place")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_LAD = re.compile(r"^E0[6-9]\d{6}$")
MAX_TEXT = 200
MAX_NOTES = 5000
MAX_PARTNERS = 30
#: Great Britain in EPSG:27700 (metres): places outside are refused.
GB_BOUNDS = (0.0, 0.0, 700_000.0, 1_300_000.0)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    type TEXT NOT NULL,
    lead_agency TEXT NOT NULL,
    partners TEXT NOT NULL,          -- JSON list of str
    lad_code TEXT NOT NULL,
    start_month TEXT NOT NULL,
    end_month TEXT,
    notes TEXT NOT NULL,
    status TEXT NOT NULL,
    geometry TEXT NOT NULL,          -- WKT, EPSG:27700
    place TEXT NOT NULL,             -- JSON: kind, description, ids, names, settings
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS response_history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    response_id INTEGER NOT NULL REFERENCES responses(id),
    at TEXT NOT NULL,
    user TEXT NOT NULL,
    action TEXT NOT NULL,
    changes TEXT NOT NULL            -- JSON {field: [old, new]}
);
CREATE INDEX IF NOT EXISTS response_history_id ON response_history(response_id);
"""


class ResponseValidationError(ValueError):
    """A response field is not valid; ``field`` names it, the message says what was expected
    and what was received.
    """

    def __init__(self, field_name: str, expected: str, received):
        self.field = field_name
        shown = repr(received)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(f"{field_name}: expected {expected}; got {shown}.")


class ResponseConflict(RuntimeError):
    """The response changed since the caller read it (another user saved first)."""


def default_responses_path() -> Path:
    """``responses.sqlite`` in the incident store's folder (``HUMBER_DATA_DIR``)."""
    from geodata.ingest import default_store_dir  # lazy: geodata.ingest imports geopandas

    return default_store_dir() / FILE_NAME


@dataclass(frozen=True)
class Response:
    """One stored response.

    Attributes
    ----------
    id : int
    title, type, lead_agency : str
    partners : tuple of str
    lad_code : str
        The CSP (LAD code) the response belongs to.
    start_month : str
        ``YYYY-MM``, the first month of the response.
    end_month : str or None
    notes, status : str
    geometry : shapely Polygon or MultiPolygon
        The place, EPSG:27700.
    place : dict
        How the place was defined: ``kind`` (one of :data:`PLACE_KINDS`), ``description``,
        and optionally ``ids``, ``names``, ``settings``.
    created_at, created_by, updated_at, updated_by : str
    version : int
        1 when added, +1 on every update.
    """

    id: int
    title: str
    type: str
    lead_agency: str
    partners: tuple[str, ...]
    lad_code: str
    start_month: str
    end_month: str | None
    notes: str
    status: str
    geometry: shapely.Geometry
    place: dict = field(hash=False)
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str
    version: int

    def record(self) -> dict:
        """A JSON-ready dict (geometry as its area in km², not coordinates)."""
        return {"id": self.id, "title": self.title, "type": self.type,
                "lead_agency": self.lead_agency, "partners": list(self.partners),
                "lad_code": self.lad_code, "start_month": self.start_month,
                "end_month": self.end_month, "notes": self.notes, "status": self.status,
                "place_kind": self.place.get("kind"),
                "place": self.place.get("description", ""),
                "area_km2": round(self.geometry.area / 1e6, 4),
                "created_at": self.created_at, "created_by": self.created_by,
                "updated_at": self.updated_at, "updated_by": self.updated_by,
                "version": self.version}


# ---------------------------------------------------------------------------------- validation
def _text(value, name: str, *, limit: int = MAX_TEXT, required: bool = True) -> str:
    if not isinstance(value, str):
        raise ResponseValidationError(name, f"text of at most {limit} characters", value)
    value = value.strip()
    if required and not value:
        raise ResponseValidationError(name, f"non-empty text of at most {limit} characters",
                                      value)
    if len(value) > limit:
        raise ResponseValidationError(name, f"text of at most {limit} characters",
                                      f"{len(value)} characters")
    return value


def _month(value, name: str) -> str:
    if not isinstance(value, str) or not _MONTH.match(value.strip()):
        raise ResponseValidationError(name, "a month 'YYYY-MM'", value)
    return value.strip()


def _geometry(value) -> shapely.Geometry:
    if isinstance(value, str):
        try:
            value = shapely_wkt.loads(value)
        except shapely.errors.GEOSException:
            raise ResponseValidationError("geometry", "a polygon (shapely or WKT) in EPSG:27700",
                                          value) from None
    if not isinstance(value, (shapely.Polygon, shapely.MultiPolygon)):
        raise ResponseValidationError("geometry", "a Polygon or MultiPolygon in EPSG:27700",
                                      getattr(value, "geom_type", type(value).__name__))
    if value.is_empty:
        raise ResponseValidationError("geometry", "a polygon with an area > 0",
                                      "an empty polygon")
    if not value.is_valid:
        raise ResponseValidationError("geometry", "a valid polygon (edges not crossing)",
                                      shapely.is_valid_reason(value))
    if value.area <= 0:
        raise ResponseValidationError("geometry", "a polygon with an area > 0",
                                      "a polygon of area 0")
    x0, y0, x1, y1 = value.bounds
    if x0 < GB_BOUNDS[0] or y0 < GB_BOUNDS[1] or x1 > GB_BOUNDS[2] or y1 > GB_BOUNDS[3]:
        raise ResponseValidationError(
            "geometry", "British National Grid metres inside Great Britain (0-700,000 E, "
                        "0-1,300,000 N); reproject longitude/latitude first",
            f"bounds ({x0:g}, {y0:g}, {x1:g}, {y1:g})")
    return value


def _place(value) -> dict:
    if not isinstance(value, Mapping):
        raise ResponseValidationError("place", "a dict with 'kind' and 'description'", value)
    kind = value.get("kind")
    if kind not in PLACE_KINDS:
        raise ResponseValidationError("place.kind", f"one of {list(PLACE_KINDS)}", kind)
    out = {"kind": kind, "description": _text(value.get("description"), "place.description",
                                               limit=1000)}
    for key in ("ids", "names"):
        items = value.get(key)
        if items is None:
            continue
        if isinstance(items, str) or not isinstance(items, Iterable):
            raise ResponseValidationError(f"place.{key}", "a list of ids or names", items)
        out[key] = [item if isinstance(item, int) and not isinstance(item, bool) else str(item)
                    for item in items]
    settings = value.get("settings")
    if settings is not None:
        if not isinstance(settings, Mapping) or not all(
                isinstance(v, (str, int, float, bool, type(None), list))
                for v in settings.values()):
            raise ResponseValidationError("place.settings", "a dict of plain values", settings)
        out["settings"] = dict(settings)
    try:
        json.dumps(out)
    except (TypeError, ValueError):
        raise ResponseValidationError("place", "JSON-serialisable values", value) from None
    return out


def validate_fields(values: Mapping, *, types: Iterable[str], lad_codes: Iterable[str],
                    partial: bool = False) -> dict:
    """Check and normalise response fields.

    Parameters
    ----------
    values : Mapping
        Field name -> value, names from :data:`FIELDS`.
    types : iterable of str
        Known response type keys (``config/response_types.toml``).
    lad_codes : iterable of str
        Known CSP (LAD) codes (``config/areas.toml``).
    partial : bool, default False
        For an update: only the fields given are checked; otherwise every field of
        :data:`REQUIRED` must be present.

    Returns
    -------
    dict
        The normalised values (text stripped, partners a list, geometry a shapely polygon).

    Raises
    ------
    ResponseValidationError
        The first field that is unknown, missing or invalid: its name, what was expected and
        what was received.
    """
    if not isinstance(values, Mapping):
        raise ResponseValidationError("response", "a mapping of field names to values", values)
    unknown = [k for k in values if k not in FIELDS]
    if unknown:
        raise ResponseValidationError(unknown[0], f"one of the fields {list(FIELDS)}",
                                      unknown[0])
    if not partial:
        missing = [k for k in REQUIRED if values.get(k) is None]
        if missing:
            raise ResponseValidationError(missing[0], "a value (required)", None)
    types, lad_codes = list(types), list(lad_codes)
    out: dict = {}
    for name, value in values.items():
        if name in ("title", "lead_agency"):
            out[name] = _text(value, name)
        elif name == "notes":
            out[name] = _text("" if value is None else value, name, limit=MAX_NOTES,
                              required=False)
        elif name == "type":
            if value not in types:
                raise ResponseValidationError(name, f"one of {types} "
                                                    f"(config/response_types.toml)", value)
            out[name] = value
        elif name == "lad_code":
            if value not in lad_codes:
                raise ResponseValidationError(name, f"one of the CSP codes {lad_codes}", value)
            out[name] = value
        elif name == "status":
            if value not in STATUSES:
                raise ResponseValidationError(name, f"one of {list(STATUSES)}", value)
            out[name] = value
        elif name == "start_month":
            out[name] = _month(value, name)
        elif name == "end_month":
            out[name] = None if value in (None, "") else _month(value, name)
        elif name == "partners":
            items = [] if value is None else value
            if isinstance(items, str):
                items = [p for p in items.split(",")]
            if not isinstance(items, Iterable):
                raise ResponseValidationError(name, "a list of agency names", value)
            items = [_text(p, "partners", required=False) for p in items]
            items = [p for p in items if p]
            if len(items) > MAX_PARTNERS:
                raise ResponseValidationError(name, f"at most {MAX_PARTNERS} partners",
                                              f"{len(items)} partners")
            out[name] = items
        elif name == "geometry":
            out[name] = _geometry(value)
        elif name == "place":
            out[name] = _place(value)
    return out


def _check_months(start: str, end: str | None) -> None:
    if end is not None and end < start:
        raise ResponseValidationError("end_month", f"a month on or after the start month "
                                                   f"{start}", end)


# ---------------------------------------------------------------------------------- the store
def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _stored(name: str, value):
    """A field as stored in SQLite."""
    if name == "geometry":
        return shapely.to_wkt(value, rounding_precision=2, trim=True)
    if name in ("partners", "place"):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def _history_value(name: str, value):
    """A field as recorded in the history (JSON-ready)."""
    if name == "geometry":
        return _stored(name, value)
    if name == "partners":
        return list(value)
    return value


AuditCallable = Callable[[dict], None]


class ResponseStore:
    """Responses in a SQLite file; see the module docstring for the design.

    Parameters
    ----------
    path : str or Path
        The SQLite file (created with its tables if missing). Default:
        :func:`default_responses_path`.
    types, lad_codes : iterable of str, optional
        Known response types and CSP codes. Default: ``config/response_types.toml`` and
        ``config/areas.toml``.
    """

    def __init__(self, path: str | Path | None = None, *, types: Iterable[str] | None = None,
                 lad_codes: Iterable[str] | None = None):
        if path is None:
            path = default_responses_path()
        if not isinstance(path, (str, Path)):
            raise TypeError(f"The 'path' of ResponseStore must be a str or Path. Got "
                            f"{type(path).__name__} instead.")
        self.path = Path(path).expanduser()
        if types is None:
            from config.response_types import get_response_types
            types = get_response_types()
        if lad_codes is None:
            from config import get_config
            lad_codes = get_config().area_codes
        self.types = tuple(types)
        self.lad_codes = tuple(lad_codes)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(_SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            connection.execute("PRAGMA synchronous=FULL")
            connection.row_factory = sqlite3.Row
            yield connection
        finally:
            connection.close()

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed when the block ends, rolled back on any error."""
        with self._connect() as connection, write_transaction(connection):
            yield connection

    # ------------------------------------------------------------------------------- reading
    @staticmethod
    def _response(row: sqlite3.Row) -> Response:
        return Response(id=row["id"], title=row["title"], type=row["type"],
                        lead_agency=row["lead_agency"],
                        partners=tuple(json.loads(row["partners"])), lad_code=row["lad_code"],
                        start_month=row["start_month"], end_month=row["end_month"],
                        notes=row["notes"], status=row["status"],
                        geometry=shapely_wkt.loads(row["geometry"]),
                        place=json.loads(row["place"]), created_at=row["created_at"],
                        created_by=row["created_by"], updated_at=row["updated_at"],
                        updated_by=row["updated_by"], version=row["version"])

    def get(self, response_id: int) -> Response:
        """One response by id.

        Raises
        ------
        KeyError
            If there is no response with that id.
        """
        response_id = _id(response_id)
        with self._connect() as connection:
            row = connection.execute("SELECT * FROM responses WHERE id = ?",
                                     (response_id,)).fetchone()
        if row is None:
            raise KeyError(f"No response with id {response_id} in {self.path}.")
        return self._response(row)

    def list(self, *, lad_codes: Iterable[str] | None = None, status: str | None = None,
             type: str | None = None) -> list[Response]:
        """Responses, newest start first, optionally filtered.

        Parameters
        ----------
        lad_codes : iterable of str, optional
            Only these CSPs (a viewer's areas). Default: all.
        status : str, optional
            One of :data:`STATUSES`.
        type : str, optional
            A response type key.
        """
        sql, params = "SELECT * FROM responses WHERE 1 = 1", []
        if lad_codes is not None:
            codes = list(lad_codes)
            sql += f" AND lad_code IN ({', '.join('?' * len(codes))})" if codes else " AND 0"
            params += codes
        if status is not None:
            if status not in STATUSES:
                raise ResponseValidationError("status", f"one of {list(STATUSES)}", status)
            sql += " AND status = ?"
            params.append(status)
        if type is not None:
            sql += " AND type = ?"
            params.append(type)
        with self._connect() as connection:
            rows = connection.execute(sql + " ORDER BY start_month DESC, id DESC",
                                      params).fetchall()
        return [self._response(row) for row in rows]

    def history(self, response_id: int) -> list[dict]:
        """Every change of one response, oldest first: ``at``, ``user``, ``action``,
        ``changes`` (field -> [old, new]).
        """
        response_id = _id(response_id)
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT at, user, action, changes FROM response_history WHERE response_id = ? "
                "ORDER BY seq", (response_id,)).fetchall()
        return [{"at": r["at"], "user": r["user"], "action": r["action"],
                 "changes": json.loads(r["changes"])} for r in rows]

    # ------------------------------------------------------------------------------- writing
    def add(self, values: Mapping, *, user: str, audit: AuditCallable) -> Response:
        """Store a new response, its history row and its audit record, all or nothing.

        Parameters
        ----------
        values : Mapping
            Every field of :data:`REQUIRED`, optionally ``partners``, ``end_month``, ``notes``.
        user : str
            Who adds it (recorded in the history and passed to `audit`).
        audit : callable
            Called with ``{"action": "add", "response_id", "lad_code", "title", "fields",
            "user"}`` inside the transaction; if it raises, nothing is stored.

        Returns
        -------
        Response

        Raises
        ------
        ResponseValidationError
            For a missing or invalid field.
        """
        user = _user(user)
        _check_audit(audit)
        clean = validate_fields(values, types=self.types, lad_codes=self.lad_codes)
        clean.setdefault("partners", [])
        clean.setdefault("notes", "")
        clean.setdefault("end_month", None)
        _check_months(clean["start_month"], clean["end_month"])
        now = _now()
        names = [n for n in FIELDS]
        with self._writing() as connection:
            cursor = connection.execute(
                f"INSERT INTO responses ({', '.join(names)}, created_at, created_by, "
                f"updated_at, updated_by, version) VALUES "
                f"({', '.join('?' * (len(names) + 5))})",
                [_stored(n, clean[n]) for n in names] + [now, user, now, user, 1])
            response_id = cursor.lastrowid
            changes = {n: [None, _history_value(n, clean[n])] for n in names}
            connection.execute(
                "INSERT INTO response_history (response_id, at, user, action, changes) "
                "VALUES (?, ?, ?, ?, ?)",
                (response_id, now, user, "add", json.dumps(changes, ensure_ascii=False)))
            audit({"action": "add", "response_id": response_id, "lad_code": clean["lad_code"],
                   "title": clean["title"], "fields": ",".join(names), "user": user})
            row = connection.execute("SELECT * FROM responses WHERE id = ?",
                                     (response_id,)).fetchone()
        return self._response(row)

    def update(self, response_id: int, changes: Mapping, *, user: str, audit: AuditCallable,
               expected_version: int | None = None) -> Response:
        """Change fields of a response; the history keeps old and new values.

        Parameters
        ----------
        response_id : int
        changes : Mapping
            Fields to change (any of :data:`FIELDS`); unchanged values are ignored.
        user : str
        audit : callable
            Called with ``{"action": "update", "response_id", "lad_code", "title", "fields",
            "user"}`` inside the transaction (only when something changed); if it raises,
            nothing is changed.
        expected_version : int, optional
            The version the caller read; if the stored one differs (someone saved in
            between), :class:`ResponseConflict` is raised and nothing is changed.

        Returns
        -------
        Response
            As stored after the change.

        Raises
        ------
        KeyError
            No such response.
        ResponseValidationError
            An invalid field.
        ResponseConflict
            The stored version is not `expected_version`.
        """
        response_id = _id(response_id)
        user = _user(user)
        _check_audit(audit)
        clean = validate_fields(changes, types=self.types, lad_codes=self.lad_codes,
                                partial=True)
        with self._writing() as connection:
            row = connection.execute("SELECT * FROM responses WHERE id = ?",
                                     (response_id,)).fetchone()
            if row is None:
                raise KeyError(f"No response with id {response_id} in {self.path}.")
            current = self._response(row)
            if expected_version is not None and current.version != expected_version:
                raise ResponseConflict(
                    f"Response {response_id} was changed by {current.updated_by} at "
                    f"{current.updated_at} (version {current.version}) after you opened it "
                    f"(version {expected_version}); reload it and apply your change again.")
            diff = {}
            for name, new in clean.items():
                old = getattr(current, name)
                if name == "partners":
                    old = list(old)
                if name == "geometry":
                    same = shapely.equals_exact(old, new, tolerance=0.01)
                else:
                    same = old == new
                if not same:
                    diff[name] = [_history_value(name, old), _history_value(name, new)]
            start = clean.get("start_month", current.start_month)
            end = clean.get("end_month", current.end_month)
            _check_months(start, end)
            if not diff:
                return current
            now = _now()
            assignments = ", ".join(f"{n} = ?" for n in diff)
            connection.execute(
                f"UPDATE responses SET {assignments}, updated_at = ?, updated_by = ?, "
                f"version = version + 1 WHERE id = ?",
                [_stored(n, clean[n]) for n in diff] + [now, user, response_id])
            connection.execute(
                "INSERT INTO response_history (response_id, at, user, action, changes) "
                "VALUES (?, ?, ?, ?, ?)",
                (response_id, now, user, "update", json.dumps(diff, ensure_ascii=False)))
            audit({"action": "update", "response_id": response_id,
                   "lad_code": clean.get("lad_code", current.lad_code),
                   "title": clean.get("title", current.title), "fields": ",".join(diff),
                   "user": user})
            row = connection.execute("SELECT * FROM responses WHERE id = ?",
                                     (response_id,)).fetchone()
        return self._response(row)


def _id(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ResponseValidationError("id", "a response id (an int >= 1)", value)
    return value


def _user(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ResponseValidationError("user", "the name of who makes the change", value)
    return value.strip()


def _check_audit(audit) -> None:
    if not callable(audit):
        raise TypeError(f"The 'audit' parameter must be a callable taking the change record "
                        f"(every change is audited). Got {type(audit).__name__} instead.")
