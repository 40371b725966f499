"""The last tasking meeting of each CSP, remembered beside the incident store.

``meetings.json`` in the store folder (``HUMBER_DATA_DIR``)::

    {"version": 1,
     "meetings": {"E06000010": {"month": "2024-03", "saved_at": "2026-11-30T10:00:00+00:00",
                                "by": "analyst"}}}

Written as the store writes its manifest: a new file beside it, then one ``os.replace``, so a
reader never sees half a file; writers take ``meetings.json.lock`` (``fcntl.flock``), re-read
and update, so two CSPs saved at once both keep their month.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
import tempfile
from pathlib import Path

__all__ = ["FILE_NAME", "last_meeting", "meetings_path", "remember_meeting"]

FILE_NAME = "meetings.json"
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_CODE = re.compile(r"^[EWSN]\d{8}$")


def meetings_path(directory: str | Path | None = None) -> Path:
    """Return the file's path in `directory` (default: the store folder)."""
    if directory is None:
        from geodata.ingest import default_store_dir

        directory = default_store_dir()
    return Path(directory) / FILE_NAME


def _read(path: Path) -> dict:
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {}  # an unreadable file forgets the dates; it never stops the page
    meetings = content.get("meetings") if isinstance(content, dict) else None
    return meetings if isinstance(meetings, dict) else {}


def _check(area_code, month=None) -> None:
    if not isinstance(area_code, str) or not _CODE.match(area_code):
        raise ValueError(f"The 'area_code' of a meeting must be a LAD code such as "
                         f"'E06000010'. Got {area_code!r} instead.")
    if month is not None and (not isinstance(month, str) or not _MONTH.match(month)):
        raise ValueError(f"The 'month' of a meeting must be YYYY-MM (e.g. '2024-03'). Got "
                         f"{month!r} instead.")


def last_meeting(area_code: str, *, directory: str | Path | None = None) -> str | None:
    """Return the month of `area_code`'s last meeting, ``YYYY-MM``, or None if none is saved.

    Parameters
    ----------
    area_code : str
        The CSP's LAD code.
    directory : str or pathlib.Path, optional
        The store folder (default ``HUMBER_DATA_DIR``).
    """
    _check(area_code)
    entry = _read(meetings_path(directory)).get(area_code)
    month = entry.get("month") if isinstance(entry, dict) else None
    return month if isinstance(month, str) and _MONTH.match(month) else None


def remember_meeting(area_code: str, month: str, *, by: str = "",
                     directory: str | Path | None = None) -> None:
    """Save `month` as `area_code`'s last meeting (atomically, other CSPs kept).

    Parameters
    ----------
    area_code : str
        The CSP's LAD code.
    month : str
        ``YYYY-MM``.
    by : str, optional
        Who saved it (a user name), kept beside the month.
    directory : str or pathlib.Path, optional
        The store folder (default ``HUMBER_DATA_DIR``).
    """
    _check(area_code, month)
    path = meetings_path(directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(FILE_NAME + ".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        meetings = _read(path)
        meetings[area_code] = {"month": month, "by": str(by),
                               "saved_at": dt.datetime.now(dt.timezone.utc)
                               .isoformat(timespec="seconds")}
        handle, temporary = tempfile.mkstemp(prefix=".meetings-", suffix=".json",
                                             dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump({"version": 1, "meetings": meetings}, out, indent=1, sort_keys=True)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
