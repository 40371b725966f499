"""The append-only audit log: logins, failed logins, logouts, ingests, exports, refusals.

One JSON object per line, ``{"at": ISO 8601 UTC, "event", "user", "role", "what", "rows",
...details}``. Each record is one ``write`` to a descriptor opened with ``O_APPEND`` (so
concurrent writers never interleave within a line), then flushed and fsynced. The file is never
rewritten or truncated. Incident coordinates are refused, so the log holds no locations.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import threading
import warnings
from pathlib import Path

EVENTS = ("login", "login_failed", "logout", "ingest", "export", "access_denied")
_RESERVED = {"at", "event", "user", "role", "what", "rows"}
COORDINATE_KEYS = frozenset({"lon", "lat", "x", "y", "longitude", "latitude", "location",
                             "lng", "easting", "northing", "coordinates", "geometry"})
_SCALARS = (str, int, float, bool, type(None))


def default_audit_path() -> Path:
    """``audit.jsonl`` in the incident store's folder (``geodata.ingest.default_store_dir``)."""
    from geodata.ingest import default_store_dir  # lazy: geodata.ingest imports geopandas

    return default_store_dir() / "audit.jsonl"


class AuditLog:
    """Append-only JSON-lines audit log.

    Parameters
    ----------
    path : str or Path
        The log file; it and its folder are created on the first record (file mode 0600).
    """

    _locks: dict[Path, threading.Lock] = {}
    _locks_guard = threading.Lock()

    def __init__(self, path: str | Path):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"The 'path' of AuditLog must be a str or Path. Got "
                            f"{type(path).__name__} instead.")
        self.path = Path(path).expanduser()
        with AuditLog._locks_guard:
            self._lock = AuditLog._locks.setdefault(self.path.resolve(), threading.Lock())

    def record(self, event: str, *, user: str, role: str | None = None, what: str = "",
               rows: int | None = None, **details) -> None:
        """Append one record.

        Parameters
        ----------
        event : str
            One of ``"login"``, ``"login_failed"``, ``"logout"``, ``"ingest"``, ``"export"``,
            ``"access_denied"``.
        user : str
            The user name as given (also for failed logins).
        role : str, optional
            The viewer's role label (``"analyst"``, ``"csp:E06000010"`` ...).
        what : str
            What was done or refused (a file name, an export name, a reason).
        rows : int, optional
            Rows ingested or exported.
        **details
            Further str, int, float (finite) or bool values or None. Keys naming coordinates
            (``lon``, ``lat``, ``x``, ``y``, ``longitude``, ``latitude``, ``location`` ...) are
            refused: the log never stores locations.

        Raises
        ------
        ValueError
            For an unknown event, a coordinate key or a detail value of another type.
        TypeError
            For `user`, `role`, `what` or `rows` of the wrong type.
        """
        if event not in EVENTS:
            raise ValueError(f"The 'event' of an audit record must be one of {list(EVENTS)}. "
                             f"Got {event!r} instead.")
        if not isinstance(user, str):
            raise TypeError(f"The 'user' of an audit record must be a str. Got "
                            f"{type(user).__name__} instead.")
        if role is not None and not isinstance(role, str):
            raise TypeError(f"The 'role' of an audit record must be a str or None. Got "
                            f"{type(role).__name__} instead.")
        if not isinstance(what, str):
            raise TypeError(f"The 'what' of an audit record must be a str. Got "
                            f"{type(what).__name__} instead.")
        if rows is not None and (isinstance(rows, bool) or not isinstance(rows, int)):
            raise TypeError(f"The 'rows' of an audit record must be an int or None. Got "
                            f"{rows!r} instead.")
        for key, value in details.items():
            if key.lower() in COORDINATE_KEYS:
                raise ValueError(f"The audit log never stores coordinates: detail {key!r} is "
                                 f"refused (refused keys: {', '.join(sorted(COORDINATE_KEYS))}).")
            if key in _RESERVED:
                raise ValueError(f"Detail {key!r} clashes with a field of every audit record.")
            if not isinstance(value, _SCALARS):
                raise ValueError(f"Audit detail {key!r} must be a str, int, float, bool or None. "
                                 f"Got {type(value).__name__} instead.")
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"Audit detail {key!r} must be a finite number. Got {value!r}.")
        entry = {"at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
                 "event": event, "user": user, "role": role, "what": what, "rows": rows,
                 **details}
        line = (json.dumps(entry, ensure_ascii=True) + "\n").encode("ascii")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                written = os.write(descriptor, line)
                while written < len(line):  # rare short write: finish the same line
                    written += os.write(descriptor, line[written:])
                os.fsync(descriptor)
            finally:
                os.close(descriptor)

    def read(self) -> list[dict]:
        """All records, oldest first (newest last); [] when the log does not exist yet.

        A line that is not valid JSON (a write cut short by a crash) is skipped with a warning.
        """
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        records = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                warnings.warn(f"Skipped unreadable line {number} of the audit log {self.path}.",
                              stacklevel=2)
        return records
