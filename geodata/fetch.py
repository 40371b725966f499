"""Keep the incident store current from police.uk, unattended.

``python -m geodata fetch`` (and ``refresh``, which adds a lock and the audit record) brings the
store up to date with police.uk street-level crime for one force:

1. **What is newest.** ``{base}/api/crime-last-updated`` answers ``{"date": "2026-09-01"}``:
   the newest archive is ``{base}/data/archive/2026-09.zip``. It holds every force's files
   for the last ~36 months, well over a gigabyte.
2. **Only the directory.** The archive is read with HTTP range requests: its tail (the End Of
   Central Directory record, and the ZIP64 records of an archive over 4 GB), then its central
   directory, one request each. :class:`zipfile.ZipFile` parses them from a sparse view of the
   archive that holds only the byte ranges fetched (:class:`SparseArchive`).
3. **Only what changed.** The force's members (``YYYY-MM/YYYY-MM-<force>-street.csv``) are
   compared, by CRC-32 and sizes, with what was last fetched (``police_uk_fetch.json`` in the
   store folder). Months missing or changed (police.uk republishes earlier months) are
   fetched: each member's local header and compressed bytes with one range request, written to
   a part file in ``<store>/.fetch/``; a dropped connection is resumed with
   ``Range: bytes=N-`` (``If-Range`` guards against the archive changing meanwhile), a killed
   run resumes its part files on the next run.
4. **Checked, then stored in one commit.** Each member is decompressed through
   :mod:`zipfile`, which checks its CRC-32, under the ingest's archive limits; only when every
   member is good are the CSVs ingested, in one :func:`geodata.ingest.ingest_files` call that
   stores all or nothing. The ingest validates every row, replaces a re-issued month and
   reports it ("replaced months"). The fetch record is then replaced atomically.

A server that refuses ranges (it answers ``200`` to a range request) gets the whole archive
streamed to ``<store>/.fetch/`` instead, and the run says so. ``--from-zip FILE`` reads an
archive someone downloaded elsewhere, with the same member selection and no network.

Network: :mod:`requests`, so the standard ``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY`` and
``NO_PROXY`` variables are honoured; timeouts on every request; retries with exponential
backoff (capped) on connection errors, timeouts, 429 and 5xx; a ``User-Agent`` naming the
project; no credentials. This module never imports Streamlit.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import shutil
import struct
import time
import tomllib
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, Iterator
from urllib.parse import urlparse

import requests
import urllib3

from config import get_config
from geodata import paths
from geodata.errors import FetchError, RefreshBusy
from geodata.ingest import (
    IngestReport,
    _check_directory,
    _copy_member,
    archive_limits,
    ingest_files,
)
from geodata.store import IncidentStore

DEFAULT_BASE_URL = "https://data.police.uk"
LAST_UPDATED_PATH = "/api/crime-last-updated"
ARCHIVE_PATH = "/data/archive/{month}.zip"
STATE_FILE = "police_uk_fetch.json"
STATE_FORMAT = 1
WORK_DIR = ".fetch"
#: Bytes read from the end of an archive first: the End Of Central Directory record (22 bytes
#: plus a comment of at most 65,535) and the ZIP64 locator (20) and record (56).
TAIL_BYTES = 22 + 65_535 + 20 + 56
#: How many archives one fetch may read the directory of (each holds ~36 months).
MAX_ARCHIVES = 10
RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}
MEMBER_PATTERN = re.compile(r"^(\d{4}-\d{2})/\1-([a-z0-9][a-z0-9-]*)-street\.csv$")
FORCE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
MONTH_PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
#: Bytes read (and written through to the part file) at a time: what a kill can lose.
_BLOCK = 1 << 14

#: ``progress(fraction, message)``: fraction in [0, 1], message in words.
Progress = Callable[[float, str], None]


def _version() -> str:
    try:
        with (paths.REPO_ROOT / "pyproject.toml").open("rb") as handle:
            return str(tomllib.load(handle)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


USER_AGENT = (f"humber-hotspots/{_version()} (+Humber Violence Prevention Partnership hotspot "
              f"dashboard; see README.md, 'Live data')")


# ------------------------------------------------------------------------------ validation
def check_month(value: str | None, name: str) -> str | None:
    """`value` if it is a ``YYYY-MM`` month (or None); else a ValueError naming `name`."""
    if value is None:
        return None
    if not isinstance(value, str) or not MONTH_PATTERN.match(value):
        raise ValueError(f"{name} must be a month written YYYY-MM (e.g. 2024-06); "
                         f"got {value!r}.")
    return value


def check_force(value: str) -> str:
    """`value` if it is a police.uk force name as in its file names (``humberside``)."""
    if not isinstance(value, str) or not FORCE_PATTERN.match(value):
        raise ValueError(f"The force must be named as in police.uk's file names: lower-case "
                         f"letters, digits and hyphens (e.g. humberside, "
                         f"avon-and-somerset); got {value!r}.")
    return value


def check_base_url(value: str) -> str:
    """`value` without a trailing slash if it is an http(s) URL with a host."""
    parsed = urlparse(value) if isinstance(value, str) else None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"The base URL must be an http:// or https:// URL such as "
                         f"{DEFAULT_BASE_URL}; got {value!r}.")
    if parsed.username or parsed.password:
        raise ValueError("The base URL must not hold credentials: police.uk needs none.")
    return value.rstrip("/")


def default_force() -> str:
    """The ``police_uk_force`` setting (``humberside``)."""
    return check_force(str(get_config().setting("police_uk_force").default))


def default_base_url() -> str:
    """The ``police_uk_base_url`` setting (``https://data.police.uk``)."""
    return check_base_url(str(get_config().setting("police_uk_base_url").default))


def _month_add(month: str, delta: int) -> str:
    year, number = int(month[:4]), int(month[5:7])
    index = year * 12 + number - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _months_between(first: str, last: str) -> list[str]:
    months, month = [], first
    while month <= last:
        months.append(month)
        month = _month_add(month, 1)
    return months


# ------------------------------------------------------------------------------- HTTP client
class _Transient(Exception):
    """A failure worth retrying (a dropped connection, a short body, a 5xx)."""


class RangesRefused(Exception):
    """The server answered a range request with the whole resource."""


class HttpClient:
    """HTTP GETs with timeouts, retries, exponential backoff, resumption and byte counts.

    Parameters
    ----------
    timeout : float, default 30
        Seconds to wait to connect and between bytes received.
    retries : int, default 5
        Further attempts after a network error, timeout, 429 or 5xx (per request; the count
        restarts when an attempt made progress).
    backoff : float, default 1
        Seconds before the first retry; doubled for each further one.
    backoff_cap : float, default 60
        Longest wait between attempts, in seconds.
    sleep : callable, default time.sleep
        How to wait (tests pass a no-op).

    Notes
    -----
    Proxies come from the standard environment variables (``HTTP_PROXY``, ``HTTPS_PROXY``,
    ``ALL_PROXY``, ``NO_PROXY``), as :mod:`requests` reads them. Responses are requested
    without content encoding, so :attr:`bytes_received` counts the bytes of the resource.
    """

    def __init__(self, *, timeout: float = 30.0, retries: int = 5, backoff: float = 1.0,
                 backoff_cap: float = 60.0, sleep: Callable[[float], None] = time.sleep):
        for name, value in (("timeout", timeout), ("backoff", backoff),
                            ("backoff_cap", backoff_cap)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name} must be a number of seconds >= 0; got {value!r}.")
        if timeout <= 0:
            raise ValueError(f"timeout must be more than 0 seconds; got {timeout!r}.")
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ValueError(f"retries must be a whole number >= 0; got {retries!r}.")
        self.timeout, self.retries = float(timeout), retries
        self.backoff, self.backoff_cap, self.sleep = float(backoff), float(backoff_cap), sleep
        self.session = requests.Session()  # trust_env: proxies from the environment
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
        self.bytes_received = 0
        self.requests = 0
        self.notes: list[str] = []          # retries and fall-backs, in words

    def _wait(self, attempt: int, what: str, error: object) -> None:
        if attempt > self.retries:
            raise FetchError(f"could not reach {what}: {error} (gave up after "
                             f"{self.retries} retries). Nothing was stored.")
        delay = min(self.backoff_cap, self.backoff * 2 ** (attempt - 1))
        self.notes.append(f"{what}: {error}; retry {attempt} of {self.retries} in "
                          f"{delay:g} s")
        self.sleep(delay)

    def _get(self, url: str, headers: dict | None = None) -> requests.Response:
        self.requests += 1
        return self.session.get(url, headers=headers or {}, stream=True,
                                timeout=(self.timeout, self.timeout))

    def get_json(self, url: str) -> object:
        """GET `url` and decode its JSON body (retrying network errors)."""
        attempt = 0
        while True:
            try:
                with self._get(url, {"Accept": "application/json"}) as response:
                    body = response.content
                    self.bytes_received += len(body)
                    if response.status_code in RETRY_STATUS:
                        raise _Transient(f"HTTP {response.status_code}")
                    if response.status_code != 200:
                        raise FetchError(f"{url}: HTTP {response.status_code}; expected 200 "
                                         f"with JSON. Nothing was stored.")
                try:
                    return json.loads(body)
                except ValueError:
                    raise FetchError(f"{url}: the answer is not JSON (it starts "
                                     f"{body[:60]!r}). Nothing was stored.") from None
            except (requests.RequestException, urllib3.exceptions.HTTPError,
                    _Transient) as error:
                attempt += 1
                self._wait(attempt, url, _describe(error))

    def get_range(self, url: str, start: int, end: int, sink: BinaryIO, *,
                  validator: str | None = None,
                  on_bytes: Callable[[int], None] | None = None) -> None:
        """Write bytes ``[start, end)`` of `url` to `sink`, resuming after dropped connections.

        Raises
        ------
        RangesRefused
            If the server answers with the whole resource (``200``), or (with `validator`,
            sent as ``If-Range``) the resource changed since the validator was taken.
        FetchError
            After `retries` failed attempts without progress, or for an answer that is not
            the range asked for.
        """
        if not 0 <= start <= end:
            raise ValueError(f"A byte range needs 0 <= start <= end; got {start}, {end}.")
        got, attempt = 0, 0
        while start + got < end:
            headers = {"Range": f"bytes={start + got}-{end - 1}"}
            if validator:
                headers["If-Range"] = validator
            before = got
            try:
                with self._get(url, headers) as response:
                    status = response.status_code
                    if status == 200:
                        raise RangesRefused(url)
                    if status in RETRY_STATUS:
                        raise _Transient(f"HTTP {status}")
                    if status != 206:
                        raise FetchError(f"{url}: HTTP {status} for bytes {start + got}-"
                                         f"{end - 1}; expected 206 Partial Content. Nothing "
                                         f"was stored.")
                    first = _content_range(response, url)[0]
                    if first != start + got:
                        raise FetchError(f"{url}: asked for bytes from {start + got}, the "
                                         f"server sent bytes from {first}. Nothing was stored.")
                    for block in response.iter_content(_BLOCK):
                        self.bytes_received += len(block)
                        take = block[:end - start - got]
                        sink.write(take)
                        sink.flush()  # on disk (in the page cache) before it is counted
                        got += len(take)
                        if on_bytes:
                            on_bytes(len(take))
                        if start + got >= end:
                            break
                    if start + got < end:
                        raise _Transient(f"the connection closed after {got - before:,} of "
                                         f"{end - start - before:,} bytes")
            except (requests.RequestException, urllib3.exceptions.HTTPError,
                    _Transient) as error:
                attempt = 1 if got > before else attempt + 1
                self._wait(attempt, url, f"{_describe(error)}; resuming at byte "
                                         f"{start + got:,}")
        sink.flush()

    def open_archive(self, url: str, tail_bytes: int, spill: Path,
                     on_bytes: Callable[[int], None] | None = None) -> "_Opened":
        """Fetch the last `tail_bytes` bytes of `url`; if ranges are refused, all of it.

        Returns the archive's size, its validator (ETag or Last-Modified) and either the
        tail's bytes or (when the server answered ``200``) the path of the whole archive,
        streamed to `spill`.
        """
        attempt = 0
        while True:
            try:
                with self._get(url, {"Range": f"bytes=-{tail_bytes}"}) as response:
                    status = response.status_code
                    if status == 404:
                        raise FetchError(f"{url}: not found (HTTP 404): the source has no "
                                         f"archive for that month. Nothing was stored.")
                    if status in RETRY_STATUS:
                        raise _Transient(f"HTTP {status}")
                    validator = _validator(response)
                    if status == 206:
                        first, last, total = _content_range(response, url)
                        body = bytearray()
                        for block in response.iter_content(_BLOCK):
                            body += block
                            self.bytes_received += len(block)
                        if len(body) != last - first + 1:
                            raise _Transient(f"the connection closed after {len(body):,} of "
                                             f"{last - first + 1:,} bytes")
                        return _Opened(size=total, validator=validator, tail=bytes(body),
                                       tail_start=first, path=None)
                    if status != 200:
                        raise FetchError(f"{url}: HTTP {status}; expected 206 Partial "
                                         f"Content (or 200). Nothing was stored.")
                    expected = response.headers.get("Content-Length")
                    size = 0
                    with spill.open("wb") as sink:
                        for block in response.iter_content(1 << 20):
                            sink.write(block)
                            size += len(block)
                            self.bytes_received += len(block)
                            if on_bytes:
                                on_bytes(len(block))
                    if expected is not None and size != int(expected):
                        raise _Transient(f"the connection closed after {size:,} of "
                                         f"{int(expected):,} bytes")
                    self.notes.append(f"{url}: the server refused range requests; the whole "
                                      f"archive was downloaded ({size / 2**20:,.1f} MB)")
                    return _Opened(size=size, validator=validator, tail=None, tail_start=0,
                                   path=spill)
            except (requests.RequestException, urllib3.exceptions.HTTPError,
                    _Transient) as error:
                attempt += 1
                self._wait(attempt, url, _describe(error))


@dataclass
class _Opened:
    size: int
    validator: str | None
    tail: bytes | None
    tail_start: int
    path: Path | None


def _describe(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:300]


def _validator(response: requests.Response) -> str | None:
    etag = response.headers.get("ETag")
    if etag and not etag.startswith("W/"):
        return etag
    return response.headers.get("Last-Modified")


_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


def _content_range(response: requests.Response, url: str) -> tuple[int, int, int]:
    header = response.headers.get("Content-Range", "")
    match = _CONTENT_RANGE.match(header.strip())
    if not match:
        raise FetchError(f"{url}: a 206 answer without a usable Content-Range (got "
                         f"{header!r}; expected 'bytes FIRST-LAST/SIZE'). Nothing was stored.")
    return int(match[1]), int(match[2]), int(match[3])


# ------------------------------------------------------------------------ the sparse archive
class SparseArchive:
    """A read-only, seekable view of a remote archive holding only the byte ranges fetched.

    :class:`zipfile.ZipFile` reads it like a file: the tail and the central directory first,
    then a member's local header and data once its range has been added. Reading a byte that
    was not fetched is a programming error (``RuntimeError``).

    Parameters
    ----------
    size : int
        The archive's size in bytes.
    name : str
        What messages call it.
    """

    def __init__(self, size: int, name: str):
        self.size, self.name = size, name
        self._pos = 0
        self._segments: list[tuple[int, int, bytes | Path]] = []

    def add(self, start: int, content: bytes | Path, length: int | None = None) -> None:
        """Make bytes ``[start, start + length)`` readable, from memory or from a file."""
        if isinstance(content, (bytes, bytearray)):
            length = len(content)
        elif length is None:
            length = content.stat().st_size
        self._segments.append((start, start + length, content))
        self._segments.sort(key=lambda s: s[0])

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self.size}[whence]
        if base + offset < 0:
            raise OSError(f"{self.name}: seek before the start of the archive")
        self._pos = base + offset
        return self._pos

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0:
            n = self.size - self._pos
        out = bytearray()
        while n > 0 and self._pos < self.size:
            segment = next((s for s in self._segments if s[0] <= self._pos < s[1]), None)
            if segment is None:
                raise RuntimeError(f"{self.name}: byte {self._pos:,} was not fetched")
            start, end, content = segment
            take = min(n, end - self._pos)
            if isinstance(content, (bytes, bytearray)):
                out += content[self._pos - start:self._pos - start + take]
            else:
                with content.open("rb") as handle:
                    handle.seek(self._pos - start)
                    out += handle.read(take)
            self._pos += take
            n -= take
        return bytes(out)

    def close(self) -> None:
        pass


_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_RECORD = struct.Struct("<4sQ2H2L4Q")


def locate_directory(tail: bytes, tail_start: int, url: str) -> int:
    """Where the central directory starts, from the archive's tail (ZIP64 included).

    Parameters
    ----------
    tail : bytes
        The last bytes of the archive (at least the End Of Central Directory record, and the
        ZIP64 locator and record before it for an archive that needs them).
    tail_start : int
        Offset of `tail` in the archive.
    url : str
        Named in messages.

    Returns
    -------
    int
        The offset of the central directory's first byte, as :mod:`zipfile` computes it.

    Raises
    ------
    FetchError
        If the tail holds no End Of Central Directory record (not a zip, or truncated).
    """
    position = tail.rfind(b"PK\x05\x06")
    while position >= 0:
        if len(tail) - position >= _EOCD.size:
            fields = _EOCD.unpack_from(tail, position)
            if position + _EOCD.size + fields[7] == len(tail):
                break
        position = tail.rfind(b"PK\x05\x06", 0, position)
    else:
        raise FetchError(f"{url}: not a zip archive (no End Of Central Directory record in "
                         f"its last {len(tail):,} bytes). Nothing was stored.")
    _, _, _, _, entries, cd_size, cd_offset, _ = fields
    record_at = position
    locator = position - _ZIP64_LOCATOR.size
    has_locator = locator >= 0 and tail[locator:locator + 4] == b"PK\x06\x07"
    if has_locator:  # a ZIP64 archive (zipfile believes the ZIP64 record when it is there)
        record_at = locator - _ZIP64_RECORD.size
        if record_at < 0 or tail[record_at:record_at + 4] != b"PK\x06\x06":
            raise FetchError(f"{url}: a ZIP64 archive whose ZIP64 end record is not where "
                             f"expected. Nothing was stored.")
        cd_size = _ZIP64_RECORD.unpack_from(tail, record_at)[8]
    elif cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF or entries == 0xFFFF:
        raise FetchError(f"{url}: a ZIP64 archive without its ZIP64 locator. Nothing was "
                         f"stored.")
    return tail_start + record_at - cd_size


# ---------------------------------------------------------------------------- fetch record
def state_path(store: IncidentStore) -> Path:
    """The fetch record: ``<store>/police_uk_fetch.json``."""
    return store.directory / STATE_FILE


def load_state(store: IncidentStore) -> dict:
    """What was last fetched: per force and month, the member's CRC-32, sizes and archive.

    Returns an empty record for a store never fetched into. A corrupt record is a
    :class:`FetchError` naming the file (delete it: the next fetch re-fetches and the ingest
    recognises identical files).
    """
    path = state_path(store)
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"format": STATE_FORMAT, "forces": {}, "source": {}}
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise FetchError(f"{path}: the fetch record is corrupt ({error}); delete it and fetch "
                         f"again (months already stored are recognised, not added twice).")
    if not isinstance(state, dict) or not isinstance(state.get("forces"), dict):
        raise FetchError(f"{path}: the fetch record is not in the expected shape "
                         f"({{'forces': {{...}}}}); delete it and fetch again.")
    state.setdefault("source", {})
    return state


def save_state(store: IncidentStore, state: dict) -> None:
    """Replace the fetch record atomically (write, fsync, rename)."""
    path = state_path(store)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=1, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


# ------------------------------------------------------------------------------- the result
@dataclass(frozen=True)
class MemberFetch:
    """One member chosen for fetching: its month, why, and its directory entry."""

    archive: str
    month: str
    reason: str          # "missing" or "changed"
    info: zipfile.ZipInfo

    @property
    def name(self) -> str:
        """The member's name in the archive."""
        return self.info.filename


@dataclass
class FetchResult:
    """What one fetch did."""

    force: str
    source: str                           # the base URL, or the zip given
    newest_at_source: str | None
    archives: list[str] = field(default_factory=list)
    members: list[MemberFetch] = field(default_factory=list)
    months_available: list[str] = field(default_factory=list)
    report: IngestReport | None = None
    bytes_transferred: int = 0
    directory_bytes: int = 0
    requests: int = 0
    whole_archive: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def up_to_date_before(self) -> bool:
        """True when nothing needed fetching."""
        return not self.members

    @property
    def rows_read(self) -> int:
        """Rows read by the ingest (0 when nothing was fetched)."""
        return self.report.rows_read if self.report else 0

    def summary(self) -> str:
        """The ingest's words: ``accepted N, rejected M, outside-area K, replaced months [...]``."""
        if self.report is not None:
            return self.report.summary()
        return "accepted 0, rejected 0, outside-area 0, replaced months []"

    def transfer(self) -> str:
        """Bytes and requests, in words."""
        text = (f"transferred {self.bytes_transferred / 2**20:,.2f} MB in {self.requests} "
                f"request(s) (directory {self.directory_bytes / 2**20:,.2f} MB)")
        return text + (", whole archive: the server refused ranges" if self.whole_archive
                       else "")


# ---------------------------------------------------------------------------------- fetching
def newest_month(client: HttpClient, base_url: str) -> str:
    """The newest month police.uk has published (``date`` of ``/api/crime-last-updated``)."""
    url = base_url + LAST_UPDATED_PATH
    answer = client.get_json(url)
    date = answer.get("date") if isinstance(answer, dict) else None
    if not isinstance(date, str) or not re.match(r"^\d{4}-(0[1-9]|1[0-2])(-\d{2})?", date):
        raise FetchError(f"{url}: expected JSON {{\"date\": \"YYYY-MM-DD\"}}; got "
                         f"{str(answer)[:100]!r}. Nothing was stored.")
    return date[:7]


def _force_members(archive: zipfile.ZipFile, force: str) -> dict[str, zipfile.ZipInfo]:
    found = {}
    for info in archive.infolist():
        match = MEMBER_PATTERN.match(info.filename)
        if match and match[2] == force:
            found[match[1]] = info
    return found


def _forces_in(archive: zipfile.ZipFile) -> list[str]:
    return sorted({m[2] for m in (MEMBER_PATTERN.match(i.filename) for i in archive.infolist())
                   if m})


def _archive_months(archive: zipfile.ZipFile) -> list[str]:
    return sorted({m[1] for m in (MEMBER_PATTERN.match(i.filename) for i in archive.infolist())
                   if m})


class _Archive:
    """One archive being read: remote (ranges), remote streamed whole, or a local file."""

    def __init__(self, label: str, zip_file: zipfile.ZipFile, *, url: str | None = None,
                 sparse: SparseArchive | None = None, validator: str | None = None,
                 local: Path | None = None):
        self.label, self.zip, self.url = label, zip_file, url
        self.sparse, self.validator, self.local = sparse, validator, local
        offsets = sorted(i.header_offset for i in zip_file.infolist())
        self._next = dict(zip(offsets, offsets[1:] + [zip_file.start_dir]))

    def extent(self, info: zipfile.ZipInfo) -> tuple[int, int]:
        """Bytes of a member: its local header, name, extra field, data (and descriptor)."""
        return info.header_offset, self._next[info.header_offset]


def _open_remote(client: HttpClient, base_url: str, month: str, workdir: Path,
                 progress: Callable[[str], None]) -> _Archive:
    url = base_url + ARCHIVE_PATH.format(month=month)
    label = f"{month}.zip"
    progress(f"reading the directory of {url}")
    opened = client.open_archive(url, TAIL_BYTES, workdir / f"{month}.zip.part")
    if opened.path is not None:  # the server refused ranges: the whole archive is here
        whole = opened.path.with_name(f"{month}.zip")
        os.replace(opened.path, whole)
        return _Archive(label, _open_zip(whole, url), url=url, local=whole)
    sparse = SparseArchive(opened.size, url)
    start = locate_directory(opened.tail, opened.tail_start, url)
    if start < 0:
        raise FetchError(f"{url}: its directory would start before the archive. Nothing was "
                         f"stored.")
    if start < opened.tail_start:
        directory = bytearray()

        class _Sink:
            def write(self, data):
                directory.extend(data)

            def flush(self):
                pass
        try:
            client.get_range(url, start, opened.tail_start, _Sink(), validator=opened.validator)
        except RangesRefused:
            raise FetchError(f"{url}: the archive changed while its directory was read; run "
                             f"the fetch again. Nothing was stored.") from None
        sparse.add(start, bytes(directory) + opened.tail)
    else:
        sparse.add(opened.tail_start, opened.tail)
    return _Archive(label, _open_zip(sparse, url), url=url, sparse=sparse,
                    validator=opened.validator)


def _open_zip(source, name: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError,
            struct.error) as error:
        raise FetchError(f"{name}: not a readable zip archive ({_describe(error)}). Nothing "
                         f"was stored.") from None


def _part_path(workdir: Path, archive: _Archive, member: MemberFetch,
               extent: tuple[int, int]) -> Path:
    key = f"{archive.label}|{member.name}|{member.info.CRC}|{member.info.compress_size}|{extent}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return workdir / f"{member.month}-{digest}.part"


def _download_member(client: HttpClient, archive: _Archive, member: MemberFetch,
                     workdir: Path, on_bytes: Callable[[int], None]) -> tuple[Path, bool]:
    start, end = archive.extent(member.info)
    part = _part_path(workdir, archive, member, (start, end))
    have = part.stat().st_size if part.exists() else 0
    if have > end - start:
        part.unlink()
        have = 0
    if have:
        on_bytes(have)
        client.notes.append(f"{member.name}: resuming a part file from an earlier run at "
                            f"byte {have:,} of {end - start:,}")
    try:
        with part.open("ab") as sink:
            client.get_range(archive.url, start + have, end, sink,
                             validator=archive.validator, on_bytes=on_bytes)
    except RangesRefused:
        raise FetchError(f"{archive.url}: the archive changed on the server while it was "
                         f"being read (If-Range failed); run the fetch again. Nothing was "
                         f"stored.") from None
    return part, have > 0


def _extract(archive: _Archive, members: list[MemberFetch], target: Path,
             limits) -> list[Path]:
    label = Path(archive.label)
    infos = [m.info for m in members]
    _check_directory(label, infos, limits)
    declared = sum(i.file_size for i in infos)
    written, files = 0, []
    for member in members:
        destination = target / Path(member.name).name  # YYYY-MM-<force>-street.csv
        try:
            written += _copy_member(archive.zip, label, member.info, destination, limits,
                                    written, declared)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
            raise FetchError(f"{archive.label}: member {member.name} is unreadable "
                             f"({_describe(error)}). Nothing was stored.") from None
        files.append(destination)
    return files


def fetch_police_uk(store: IncidentStore, *, force: str | None = None,
                    months_from: str | None = None, months_to: str | None = None,
                    base_url: str | None = None, from_zip: str | Path | None = None,
                    user: str | None = None, client: HttpClient | None = None,
                    rejects_path: str | Path | None = None,
                    progress: Progress | None = None) -> FetchResult:
    """Bring the store up to date with police.uk street-level crime for one force.

    Parameters
    ----------
    store : IncidentStore
        The store to update.
    force : str, optional
        The force as police.uk names its files (``humberside``); default the
        ``police_uk_force`` setting.
    months_from, months_to : str, optional
        ``YYYY-MM`` bounds of the months to bring up to date (inclusive). Default: every
        month of the newest archive. Months older than the newest archive holds are read
        from older archives (``{base}/data/archive/YYYY-MM.zip``).
    base_url : str, optional
        Where police.uk is; default the ``police_uk_base_url`` setting
        (``https://data.police.uk``).
    from_zip : str or Path, optional
        A police.uk archive downloaded elsewhere: the same member selection, no network.
    user : str, optional
        Recorded in the store's ingests table (default the login name).
    client : HttpClient, optional
        HTTP settings (timeouts, retries); a default one otherwise.
    rejects_path : str or Path, optional
        Where the ingest writes rejected rows (default ``<store>/rejects/``).
    progress : callable, optional
        Called as ``progress(fraction, message)`` while the fetch runs.

    Returns
    -------
    FetchResult
        What was fetched (nothing when up to date), the ingest report, bytes and requests.

    Raises
    ------
    FetchError
        If the source could not be reached, an archive or member is unreadable (a bad CRC-32
        included) or a fetched file cannot be read as police.uk CSV. Nothing is stored then.
    ValueError
        For a malformed force, month or URL, or `months_from` after `months_to`.
    """
    force = check_force(force) if force is not None else default_force()
    months_from = check_month(months_from, "--from")
    months_to = check_month(months_to, "--to")
    if months_from and months_to and months_from > months_to:
        raise ValueError(f"--from ({months_from}) must not be after --to ({months_to}).")
    if not isinstance(store, IncidentStore):
        raise TypeError(f"store must be an IncidentStore; got {type(store).__name__}.")
    base_url = check_base_url(base_url) if base_url is not None else default_base_url()
    report_progress = progress or (lambda fraction, message: None)
    client = client or HttpClient()
    workdir = store.directory / WORK_DIR
    workdir.mkdir(exist_ok=True)
    state = load_state(store)
    known = state["forces"].get(force, {})
    limits = archive_limits()

    if from_zip is not None:
        local = Path(from_zip)
        if not local.is_file():
            raise FetchError(f"{local}: no such file (expected a police.uk archive such as "
                             f"2024-06.zip). Nothing was stored.")
        result = FetchResult(force=force, source=str(local), newest_at_source=None)
        report_progress(0.05, f"reading the directory of {local.name}")
        archives = [_Archive(local.name, _open_zip(local, str(local)), local=local)]
        result.newest_at_source = (_archive_months(archives[0].zip) or [None])[-1]
    else:
        result = FetchResult(force=force, source=base_url, newest_at_source=None)
        report_progress(0.02, f"asking {base_url} for its newest month")
        result.newest_at_source = newest_month(client, base_url)
        state["source"] = {"base_url": base_url, "newest": result.newest_at_source,
                           "checked_at": _now()}
        archives = []

    # Choose the members: newest archive first, then older archives for older months (the
    # archive named by a month holds that month and the ~35 before it).
    last = min(months_to or "9999-12", result.newest_at_source or "9999-12")
    lower = months_from  # None: from the first month of the archive that holds `last`
    chosen: dict[str, tuple[_Archive, zipfile.ZipInfo]] = {}
    covered_from: str | None = None
    next_archive = result.newest_at_source
    while True:
        if from_zip is None:
            if len(archives) >= MAX_ARCHIVES:
                result.notes.append(f"stopped after reading {MAX_ARCHIVES} archives; months "
                                    f"before {covered_from} were not looked for")
                break
            archives.append(_open_remote(client, base_url, next_archive, workdir,
                                         lambda message: report_progress(0.05, message)))
        archive = archives[-1]
        result.archives.append(archive.label)
        months = _archive_months(archive.zip)
        if not months:
            raise FetchError(f"{archive.label}: holds no police.uk street-level files "
                             f"(YYYY-MM/YYYY-MM-<force>-street.csv). Nothing was stored.")
        members = _force_members(archive.zip, force)
        if not members and covered_from is None:
            forces = _forces_in(archive.zip)
            raise FetchError(f"{archive.label}: no files of force {force!r} (expected members "
                             f"named YYYY-MM/YYYY-MM-{force}-street.csv); forces in the "
                             f"archive: {', '.join(forces[:50]) or 'none'}. Nothing was stored.")
        if lower is None and last >= months[0]:
            lower = months[0]
        for month, info in members.items():
            if (lower or months[0]) <= month <= last and month not in chosen:
                chosen[month] = (archive, info)
        covered_from = min(months[0], covered_from or months[0])
        if from_zip is not None or (lower is not None and lower >= covered_from):
            break
        older = min(last, _month_add(covered_from, -1))
        if lower is not None and older < lower:
            break
        next_archive = last = older

    result.months_available = sorted(chosen)
    for month in sorted(chosen):
        archive, info = chosen[month]
        before = known.get(month)
        if before is None:
            reason = "missing"
        elif (before.get("crc"), before.get("size")) != (info.CRC, info.file_size):
            reason = "changed"
        else:
            continue
        result.members.append(MemberFetch(archive.label, month, reason, info))
    by_label = {a.label: a for a in archives}
    result.directory_bytes = client.bytes_received
    result.whole_archive = any(a.url and a.local for a in archives)

    if result.members:
        _fetch_and_ingest(result, by_label, client, store, workdir, limits, user,
                          rejects_path, report_progress)
        for member in result.members:
            known[member.month] = {"member": member.name, "crc": member.info.CRC,
                                   "size": member.info.file_size,
                                   "compressed": member.info.compress_size,
                                   "archive": member.archive, "fetched_at": _now()}
        state["forces"][force] = known
    save_state(store, state)
    for archive in archives:
        if archive.url and archive.local is not None:
            archive.local.unlink(missing_ok=True)  # a whole archive streamed as a fall-back
    result.bytes_transferred = client.bytes_received
    result.requests = client.requests
    result.notes.extend(client.notes)
    report_progress(1.0, "up to date" if not result.members else result.summary())
    return result


def _fetch_and_ingest(result: FetchResult, archives: dict[str, _Archive], client: HttpClient,
                      store: IncidentStore, workdir: Path, limits, user: str | None,
                      rejects_path, report_progress: Callable[[float, str], None]) -> None:
    remote = [m for m in result.members if archives[m.archive].sparse is not None]
    total = sum(archives[m.archive].extent(m.info)[1] - archives[m.archive].extent(m.info)[0]
                for m in remote) or 1
    done = [0, 0]

    def on_bytes(count: int) -> None:
        done[0] += count
        if done[0] - done[1] >= 1 << 18 or done[0] >= total:
            done[1] = done[0]
            report_progress(0.1 + 0.7 * min(1.0, done[0] / total),
                            f"fetching {len(remote)} file(s): {done[0] / 2**20:,.1f} of "
                            f"{total / 2**20:,.1f} MB")

    parts: list[Path] = []
    target = workdir / f"extracted-{os.getpid()}"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    try:
        files = []
        for label, archive in archives.items():
            members = [m for m in result.members if m.archive == label]
            if not members:
                continue
            if archive.sparse is not None:
                for member in members:
                    part, resumed = _download_member(client, archive, member, workdir, on_bytes)
                    parts.append(part)
                    start, end = archive.extent(member.info)
                    archive.sparse.add(start, part, end - start)
                    try:
                        files.extend(_extract(archive, [member], target, limits))
                    except FetchError:
                        part.unlink(missing_ok=True)  # never resume from corrupt bytes
                        if not resumed:
                            raise
                        client.notes.append(f"{member.name}: the part file resumed from an "
                                            f"earlier run was corrupt; fetched it again")
                        part, _ = _download_member(client, archive, member, workdir, on_bytes)
                        archive.sparse.add(start, part, end - start)
                        files.extend(_extract(archive, [member], target, limits))
            else:
                report_progress(0.5, f"reading {len(members)} file(s) from {label}")
                files.extend(_extract(archive, members, target, limits))
        report_progress(0.85, f"ingesting {len(files)} file(s)")
        report = ingest_files(files, store=store, source="police_uk", user=user,
                              rejects_path=rejects_path, require_all_readable=True)
        if report.unreadable:
            raise FetchError("; ".join(f.message for f in report.unreadable)
                             + " Nothing was stored.")
        result.report = report
    finally:
        shutil.rmtree(target, ignore_errors=True)
    for part in parts:  # stored: the part files are no longer needed
        part.unlink(missing_ok=True)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


# ----------------------------------------------------------------------------------- refresh
REFRESH_LOCK = ".refresh.lock"
#: Part files of fetches that never finished are removed by a refresh once this old.
STALE_PART_SECONDS = 7 * 24 * 3600


@contextlib.contextmanager
def refresh_lock(store: IncidentStore) -> Iterator[Path]:
    """Hold ``<store>/.refresh.lock`` (non-blocking ``fcntl.flock``) for one refresh.

    Raises
    ------
    RefreshBusy
        If another process (a cron or systemd run, or the Data page's "Fetch now") holds it.
    """
    path = store.directory / REFRESH_LOCK
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RefreshBusy(f"another refresh of {store.directory} is running (it holds "
                              f"{path}); nothing was done. Try again when it has finished.") \
                from None
        try:
            yield path
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_stale_parts(store: IncidentStore, *, older_than: float = STALE_PART_SECONDS) -> int:
    """Delete part files in ``<store>/.fetch/`` not touched for `older_than` seconds."""
    cutoff = time.time() - older_than
    removed = 0
    for path in (store.directory / WORK_DIR).glob("*.part"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def refresh(store: IncidentStore, **options) -> FetchResult:
    """One unattended refresh: take the refresh lock, fetch, then recompute.

    Parameters
    ----------
    store : IncidentStore
        The store to bring up to date.
    **options
        Passed to :func:`fetch_police_uk` (force, months, base URL, client, progress ...).

    Returns
    -------
    FetchResult

    Raises
    ------
    RefreshBusy
        If another refresh holds the lock (nothing is done).
    FetchError
        As :func:`fetch_police_uk`; nothing is stored then.

    Notes
    -----
    "Recompute" is, today, nothing to do ahead of time: every surface, outline and the
    back-tested bandwidth are cached by the dashboard per store *version*, in the serving
    process, so the first page view after a new version recomputes them. A refresh also
    removes part files of fetches abandoned more than a week ago.
    """
    with refresh_lock(store):
        remove_stale_parts(store)
        return fetch_police_uk(store, **options)
