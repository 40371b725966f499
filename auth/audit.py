"""The append-only, tamper-evident audit log: logins, exports, ingests, refusals ...

One JSON object per line, ``{"seq", "at" (ISO 8601 UTC), "event", "user", "role", "what",
"rows", ...details, "prev", "hash"}``. Incident coordinates are refused, so the log holds no
locations. The lines form a hash chain:

- ``seq`` is the record's line number in the file (1 for the first line);
- ``prev`` is the SHA-256 (hex) of the exact bytes of the previous line, newline included, or of
  the empty string for the first line;
- ``hash`` is the SHA-256 of the record's own canonical content (its JSON without ``hash``,
  keys sorted, no spaces), so a changed line is named as itself, not only by its successor.

Lines written before the chain existed ("legacy" lines, always at the start of an older file)
are covered too: the first chained record carries ``legacy``, the SHA-256 of every byte before
it. After each append, ``audit.jsonl.head`` (beside the log, replaced atomically) holds the
last line's number, offset, size and hash, so that lines removed from the end are noticed:
by :func:`verify_log`, and by the next append, which then records ``head_mismatch`` in the
chain itself (so a truncation stays visible even after new records are added).

Appends are serialised across threads and processes with an exclusive ``fcntl.flock`` on the
log while its last line is read (from the end, never the whole file) and the record appended:
one ``write`` to a descriptor opened with ``O_APPEND``, then ``fsync``. The file (mode 0600) is
never rewritten or truncated.

What this detects, and what it does not: any edit, insertion or removal of lines made by hand or
by a tool that does not recompute the chain, and removal of lines from the end while the head
file is left alone. It does *not* stop someone who can write to the store folder from
rewriting the whole chain from the edited line onwards *and* the head file: there is no secret
key. Keep a copy of the head file (or of the last line's hash) outside the store to catch that.

Check a log from the command line (exit 0 intact, 1 tampered, 2 usage or unreadable file)::

    python -m auth.audit verify [FILE]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import fcntl
import hashlib
import json
import math
import os
import sys
import threading
import warnings
from pathlib import Path

from auth._checks import require_str
from config.storage import default_store_dir

EVENTS = ("login", "login_failed", "logout", "ingest", "export", "access_denied",
          "session_revoked", "password_changed", "account_changed", "response_changed")
CHAIN_KEYS = ("seq", "prev", "hash", "legacy", "head_mismatch")
_RESERVED = {"at", "event", "user", "role", "what", "rows", *CHAIN_KEYS}
_HIDDEN_BY_READ = ("prev", "hash", "legacy")
COORDINATE_KEYS = frozenset({"lon", "lat", "x", "y", "longitude", "latitude", "location",
                             "lng", "easting", "northing", "coordinates", "geometry"})
_SCALARS = (str, int, float, bool, type(None))
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_TAIL_BLOCK = 4096


def default_audit_path() -> Path:
    """``audit.jsonl`` in the incident store's folder (``config.storage.default_store_dir``)."""
    return default_store_dir() / "audit.jsonl"


def head_path(path: str | os.PathLike) -> Path:
    """The head file of the audit log at `path`: the same name plus ``.head``.

    Parameters
    ----------
    path : str or Path
        The audit log.

    Returns
    -------
    Path
        ``<path>.head``, beside the log.
    """
    path = _as_path(path, "path", "head_path")
    return path.with_name(path.name + ".head")


def line_digest(raw: bytes) -> str:
    """SHA-256 (hex) of one raw line of the log, newline included: what ``prev`` holds."""
    return hashlib.sha256(raw).hexdigest()


def record_digest(record: dict) -> str:
    """SHA-256 (hex) of a record's canonical content: what its ``hash`` holds.

    Parameters
    ----------
    record : dict
        A decoded record; its ``hash`` key, if any, is left out.

    Returns
    -------
    str
        The hex digest of the record's JSON with sorted keys, no spaces and ASCII escapes.
    """
    if not isinstance(record, dict):
        raise TypeError(f"record_digest expects a dict. Got {type(record).__name__} instead.")
    content = {key: value for key, value in record.items() if key != "hash"}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _as_path(path, name: str, owner: str) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"The '{name}' of {owner} must be a str or Path. Got "
                        f"{type(path).__name__} instead.")
    return Path(path).expanduser()


def _chained(raw: bytes) -> dict | None:
    """The record on a raw line if it carries chain fields (``hash``), else None."""
    record = _decode(raw)
    return record if record is not None and "hash" in record else None


def _decode(raw: bytes) -> dict | None:
    try:
        record = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return record if isinstance(record, dict) else None


# -- appending --------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class _Tail:
    """The end of the log: its size, last complete line and any unterminated fragment."""

    size: int
    line: bytes  # the last complete line, newline included; b"" when there is none
    fragment: bytes  # bytes after the last newline (a write cut short); usually b""


@dataclasses.dataclass(frozen=True)
class _Link:
    """Where a new record joins the chain."""

    seq: int
    prev: str
    legacy: str | None  # digest of every byte before it, when it is the first chained record
    chain_exists: bool  # whether a chained record is already in the log


def _read_tail(descriptor: int) -> _Tail:
    """Read the last line by seeking back from the end in blocks, not the whole file."""
    size = os.fstat(descriptor).st_size
    position, buffer = size, b""
    while position > 0:
        step = min(_TAIL_BLOCK, position)
        position -= step
        buffer = os.pread(descriptor, step, position) + buffer
        last = buffer.rfind(b"\n")
        if last != -1 and buffer.rfind(b"\n", 0, last) != -1:
            break
    last = buffer.rfind(b"\n")
    if last == -1:
        return _Tail(size=size, line=b"", fragment=buffer)
    start = buffer.rfind(b"\n", 0, last) + 1
    return _Tail(size=size, line=buffer[start:last + 1], fragment=buffer[last + 1:])


def _read_all(descriptor: int, size: int) -> bytes:
    chunks, offset = [], 0
    while offset < size:
        chunk = os.pread(descriptor, min(1 << 20, size - offset), offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _link(descriptor: int, tail: _Tail) -> _Link:
    """The seq, prev (and legacy digest) of the record about to be appended."""
    previous = tail.fragment + b"\n" if tail.fragment else tail.line
    last = _chained(tail.line)
    if last is not None and isinstance(last.get("seq"), int):
        seq = last["seq"] + (2 if tail.fragment else 1)
        return _Link(seq=seq, prev=line_digest(previous), legacy=None, chain_exists=True)
    if tail.size == 0:
        return _Link(seq=1, prev=EMPTY_SHA256, legacy=None, chain_exists=False)
    # The last line is not chained: the first record after legacy lines, or after a torn or
    # foreign line. Rare, so read the whole file to number the line and cover the legacy part.
    content = _read_all(descriptor, tail.size) + (b"\n" if tail.fragment else b"")
    lines = content.split(b"\n")[:-1]
    chain_exists = any(_chained(line + b"\n") is not None for line in lines)
    return _Link(seq=len(lines) + 1, prev=line_digest(previous),
                 legacy=None if chain_exists else line_digest(content),
                 chain_exists=chain_exists)


def _load_head(path: Path) -> dict | None:
    """The head file's content; None when it does not exist; ValueError when it is corrupt."""
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        return None
    head = _decode(text)
    valid = (head is not None and set(head) == {"seq", "offset", "size", "line_sha256"}
             and all(isinstance(head[key], int) and not isinstance(head[key], bool)
                     for key in ("seq", "offset", "size"))
             and head["seq"] >= 1 and 0 <= head["offset"] < head["size"]
             and isinstance(head["line_sha256"], str))
    if not valid:
        raise ValueError(f"the head file {path} is corrupt: expected a JSON object with seq, "
                         f"offset, size and line_sha256, found {text[:200]!r}")
    return head


def _head_note(descriptor: int, tail: _Tail, link: _Link, head_file: Path) -> str | None:
    """Why the log's end no longer matches its head file, or None when it does."""
    lines = link.seq - 1
    try:
        head = _load_head(head_file)
    except (ValueError, OSError):
        return (f"the head file was unreadable or corrupt; the log had {lines} lines "
                f"({tail.size} bytes)")
    if head is None:
        return (f"the head file was missing although the log had chained lines; the log had "
                f"{lines} lines ({tail.size} bytes)") if link.chain_exists else None
    held = os.pread(descriptor, head["size"] - head["offset"], head["offset"])
    if tail.size >= head["size"] and line_digest(held) == head["line_sha256"]:
        return None
    return (f"the head file said {head['seq']} lines ({head['size']} bytes), the log had "
            f"{lines} lines ({tail.size} bytes)")


def _write_all(descriptor: int, data: bytes) -> None:
    written = os.write(descriptor, data)
    while written < len(data):  # rare short write: finish the same line
        written += os.write(descriptor, data[written:])


def _write_head(path: Path, head: dict) -> None:
    """Replace the head file atomically (write a temporary file, fsync, os.replace)."""
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        _write_all(descriptor, json.dumps(head, sort_keys=True).encode("ascii") + b"\n")
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.replace(temporary, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _validate(event, user, role, what, rows, details) -> None:
    if event not in EVENTS:
        raise ValueError(f"The 'event' of an audit record must be one of {list(EVENTS)}. "
                         f"Got {event!r} instead.")
    require_str(user, "'user' of an audit record")
    require_str(role, "'role' of an audit record", none_ok=True)
    require_str(what, "'what' of an audit record")
    if rows is not None and (isinstance(rows, bool) or not isinstance(rows, int)):
        raise TypeError(f"The 'rows' of an audit record must be an int or None. Got "
                        f"{rows!r} instead.")
    for key, value in details.items():
        if key.lower() in COORDINATE_KEYS:
            raise ValueError(f"The audit log never stores coordinates: detail {key!r} is "
                             f"refused (refused keys: {', '.join(sorted(COORDINATE_KEYS))}).")
        if key in _RESERVED:
            raise ValueError(f"Detail {key!r} clashes with a field of every audit record "
                             f"(reserved: {', '.join(sorted(_RESERVED))}).")
        if not isinstance(value, _SCALARS):
            raise ValueError(f"Audit detail {key!r} must be a str, int, float, bool or None. "
                             f"Got {type(value).__name__} instead.")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"Audit detail {key!r} must be a finite number. Got {value!r}.")


class AuditLog:
    """Append-only, hash-chained JSON-lines audit log.

    Parameters
    ----------
    path : str or Path
        The log file; it and its folder are created on the first record (file mode 0600). Its
        head file is ``<path>.head``.
    """

    _locks: dict[Path, threading.Lock] = {}
    _locks_guard = threading.Lock()

    def __init__(self, path: str | Path):
        self.path = _as_path(path, "path", "AuditLog")
        self.head_path = head_path(self.path)
        with AuditLog._locks_guard:
            self._lock = AuditLog._locks.setdefault(self.path.resolve(), threading.Lock())

    def record(self, event: str, *, user: str, role: str | None = None, what: str = "",
               rows: int | None = None, **details) -> None:
        """Append one record to the chain.

        Parameters
        ----------
        event : str
            One of ``"login"``, ``"login_failed"``, ``"logout"``, ``"ingest"``, ``"export"``,
            ``"access_denied"``, ``"session_revoked"``, ``"password_changed"``.
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
            refused: the log never stores locations. So are the chain's own keys (``seq``,
            ``prev``, ``hash``, ``legacy``, ``head_mismatch``).

        Raises
        ------
        ValueError
            For an unknown event, a coordinate or reserved key or a detail value of another
            type.
        TypeError
            For `user`, `role`, `what` or `rows` of the wrong type.
        """
        _validate(event, user, role, what, rows, details)
        entry = {"at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
                 "event": event, "user": user, "role": role, "what": what, "rows": rows,
                 **details}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            descriptor = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)  # released by close
                self._append(descriptor, entry)
            finally:
                os.close(descriptor)

    def _append(self, descriptor: int, entry: dict) -> None:
        """Chain `entry` to the last line and append it; the caller holds the lock."""
        tail = _read_tail(descriptor)
        link = _link(descriptor, tail)
        note = _head_note(descriptor, tail, link, self.head_path)
        record = {"seq": link.seq, **entry}
        if note is not None:
            record["head_mismatch"] = note
        if link.legacy is not None:
            record["legacy"] = link.legacy
        record["prev"] = link.prev
        record["hash"] = record_digest(record)
        line = (json.dumps(record, ensure_ascii=True) + "\n").encode("ascii")
        heal = b"\n" if tail.fragment else b""  # end a torn line so this record stands alone
        _write_all(descriptor, heal + line)
        os.fsync(descriptor)
        offset = tail.size + len(heal)
        _write_head(self.head_path, {"seq": link.seq, "offset": offset,
                                     "size": offset + len(line), "line_sha256": line_digest(line)})

    def read(self, *, chain_fields: bool = False) -> list[dict]:
        """All records, oldest first (newest last); [] when the log does not exist yet.

        A line that is not valid JSON (a write cut short by a crash) is skipped with a warning.

        Parameters
        ----------
        chain_fields : bool
            Keep the chain's digests (``prev``, ``hash``, ``legacy``) in the records. By default
            they are dropped; ``seq`` (the line number) and any ``head_mismatch`` stay.

        Returns
        -------
        list of dict
            The decoded records.
        """
        if not isinstance(chain_fields, bool):
            raise TypeError(f"The 'chain_fields' of AuditLog.read must be a bool. Got "
                            f"{type(chain_fields).__name__} instead.")
        try:
            with open(self.path, "rb") as handle:
                fcntl.flock(handle.fileno(), fcntl.LOCK_SH)  # no half-written last line
                data = handle.read()
        except FileNotFoundError:
            return []
        records = []
        for number, line in enumerate(data.split(b"\n"), start=1):
            if not line.strip():
                continue
            record = _decode(line)
            if record is None:
                warnings.warn(f"Skipped unreadable line {number} of the audit log {self.path}.",
                              stacklevel=2)
                continue
            if not chain_fields:
                record = {k: v for k, v in record.items() if k not in _HIDDEN_BY_READ}
            records.append(record)
        return records

    def verify(self) -> VerifyResult:
        """Check this log's hash chain and head file: :func:`verify_log` on its path."""
        return verify_log(self.path)


# -- verifying --------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class VerifyResult:
    """The outcome of :func:`verify_log`.

    Attributes
    ----------
    ok : bool
        True when every line and the head file are as they were written.
    lines : int
        Lines in the log (a final unterminated fragment counts as a line).
    first_bad_line : int or None
        The first line (1-based, as the file is now) that was changed or inserted, or before
        which lines were removed; for lines removed from the end, the first missing line number
        (``lines + 1``). None when ok, or when the problem cannot be pinned to one line (a
        change among the legacy lines, a missing or corrupt head file).
    problem : str
        What is wrong, in words ("line 17 was changed: its hash does not match its content");
        "" when ok.
    legacy_lines : int
        Lines before the chain (written before the log was chained), covered as a block.
    """

    ok: bool
    lines: int
    first_bad_line: int | None
    problem: str
    legacy_lines: int

    def summary(self) -> str:
        """One line for people: "audit log OK: 123 lines, chain intact" or what is wrong."""
        if not self.ok:
            return f"audit log NOT OK: {self.problem}"
        if self.lines == 0:
            return "audit log OK: empty"
        if self.legacy_lines == self.lines:
            return (f"audit log OK: {_plural(self.lines, 'line')}, all written before the hash "
                    f"chain existed, so none of them can be verified yet")
        legacy = (f" ({_plural(self.legacy_lines, 'legacy line')} before the chain)"
                  if self.legacy_lines else "")
        return f"audit log OK: {_plural(self.lines, 'line')}, chain intact{legacy}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _removed(count: int) -> str:
    return "a line was removed" if count == 1 else f"{count} lines were removed"


class _Broken(Exception):
    """The first problem found: the line it names (or None) and the words."""

    def __init__(self, line: int | None, problem: str):
        super().__init__(problem)
        self.line, self.problem = line, problem


def verify_log(path: str | os.PathLike) -> VerifyResult:
    """Check an audit log's hash chain and head file, and name the first line tampered with.

    Parameters
    ----------
    path : str or Path
        The audit log; its head file is ``<path>.head``.

    Returns
    -------
    VerifyResult
        ``ok`` and the line count, or the first line changed, inserted, or before which (or
        after which, at the end) lines were removed, with the problem in words.

    Raises
    ------
    TypeError
        When `path` is not a str or Path.
    OSError
        When the log cannot be read (FileNotFoundError when it does not exist).
    """
    path = _as_path(path, "path", "verify_log")
    with open(path, "rb") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_SH)  # a consistent log and head file
        data = handle.read()
        try:
            head, head_problem = _load_head(head_path(path)), None
        except (ValueError, OSError) as error:
            head, head_problem = None, str(error)
    return _Verifier(data, head, head_problem, head_path(path).name).run()


class _Verifier:
    """Walk the lines once, checking each against its own hash and the line before it."""

    def __init__(self, data: bytes, head: dict | None, head_problem: str | None,
                 head_name: str):
        pieces = data.split(b"\n")
        self.fragment = pieces.pop()  # b"" when the log ends with a newline
        self.raws = [piece + b"\n" for piece in pieces]
        self.digests = [line_digest(raw) for raw in self.raws]
        self.count = len(self.raws) + (1 if self.fragment else 0)
        self.head, self.head_problem, self.head_name = head, head_problem, head_name
        self.legacy = 0
        # digest of each line checked so far -> its number; 0 stands for the start of the log
        self.seen: dict[str, int] = {EMPTY_SHA256: 0}

    def run(self) -> VerifyResult:
        try:
            self._check_lines()
            self._check_end()
        except _Broken as broken:
            return VerifyResult(ok=False, lines=self.count, first_bad_line=broken.line,
                                problem=broken.problem, legacy_lines=self.legacy)
        return VerifyResult(ok=True, lines=self.count, first_bad_line=None, problem="",
                            legacy_lines=self.legacy)

    def _check_lines(self) -> None:
        chain_started = False
        for number, raw in enumerate(self.raws, start=1):
            record = _decode(raw)
            if not chain_started and (record is None or "hash" not in record):
                self.legacy += 1
            else:
                self._check_line(number, record, first=not chain_started)
                chain_started = True
            self.seen[self.digests[number - 1]] = number

    def _digest_before(self, number: int) -> str:
        """What the ``prev`` of line `number` must be: the previous line's digest."""
        return self.digests[number - 2] if number >= 2 else EMPTY_SHA256

    def _next_skips(self, number: int) -> bool:
        """Whether the line after `number` chains straight to the line before it."""
        if number >= len(self.raws):
            return False
        following = _chained(self.raws[number])
        return following is not None and following.get("prev") == self._digest_before(number)

    def _check_line(self, number: int, record: dict | None, *, first: bool) -> None:
        if record is None or "hash" not in record:
            if self._next_skips(number):
                raise _Broken(number, f"line {number} was inserted: it is not a chained record "
                                      f"and line {number + 1} chains to the line before it")
            what = "not a JSON record" if record is None else "a record without a hash"
            raise _Broken(number, f"line {number} was changed: it is {what} inside the chain "
                                  f"(a write cut short by a crash, or an edit)")
        seq, prev = record.get("seq"), record.get("prev")
        if (not isinstance(seq, int) or isinstance(seq, bool) or not isinstance(prev, str)
                or not isinstance(record["hash"], str)):
            raise _Broken(number, f"line {number} was changed: its seq, prev or hash is missing "
                                  f"or of the wrong type")
        if record_digest(record) != record["hash"]:
            if self._next_skips(number):
                raise _Broken(number, f"line {number} was inserted: its hash does not match its "
                                      f"content and line {number + 1} chains to the line "
                                      f"before it")
            raise _Broken(number, f"line {number} was changed: its hash does not match its "
                                  f"content")
        if first:
            self._check_start(number, record)
        else:
            self._check_link(number, seq, prev)
        if "head_mismatch" in record:
            raise _Broken(number, f"the end of the log had been cut or changed when line "
                                  f"{number} was written: {record['head_mismatch']}")

    def _check_link(self, number: int, seq: int, prev: str) -> None:
        """Line `number` (its own hash fine) against the line before it."""
        if prev == self._digest_before(number):
            if seq != number:
                raise _Broken(number, f"line {number} was changed: its seq is {seq}, but it "
                                      f"follows line {number - 1}")
            return
        skipped_to = self.seen.get(prev)
        if skipped_to is not None and skipped_to < number - 1:
            first = skipped_to + 1
            lines = (f"line {first} was" if first == number - 1
                     else f"lines {first}-{number - 1} were")
            target = f"line {skipped_to}" if skipped_to else "the start of the log"
            raise _Broken(first, f"{lines} inserted: line {number} chains to {target}")
        if seq > number:
            raise _Broken(number, f"{_removed(seq - number)} before line {number}: seq jumps "
                                  f"from {number - 1} to {seq}")
        raise _Broken(number - 1, f"line {number - 1} was changed: it no longer matches the "
                                  f"prev recorded by line {number}")

    def _check_start(self, number: int, record: dict) -> None:
        """The first chained line: its seq, prev and digest of the legacy lines before it."""
        seq, before = record["seq"], number - 1
        if seq > number:
            raise _Broken(number, f"{_removed(seq - number)} before line {number}: the chain "
                                  f"starts at seq {seq}, so {_plural(seq - 1, 'line')} should come "
                                  f"before it, the log has {before}")
        if seq < number:
            claimed = b"".join(self.raws[:seq - 1])
            if seq == 1 or record.get("legacy") == line_digest(claimed):
                lines = f"line {seq} was" if seq == before else f"lines {seq}-{before} were"
                raise _Broken(seq, f"{lines} inserted: line {number} starts the chain at seq "
                                   f"{seq}, after {seq - 1} legacy lines")
            raise _Broken(None, f"the lines before line {number} were changed, removed or "
                                f"inserted: line {number} has seq {seq}")
        if before and record.get("legacy") != line_digest(b"".join(self.raws[:before])):
            lines = "line 1" if before == 1 else f"one of lines 1-{before}"
            raise _Broken(1 if before == 1 else None,
                          f"{lines} (written before the chain) was changed: their digest does "
                          f"not match the one recorded by line {number}")
        if record["prev"] != self._digest_before(number):
            raise _Broken(number, f"line {number} was changed: its prev does not match the "
                                  f"line before it")

    def _check_end(self) -> None:
        """An unterminated last line, and lines removed from the end (the head file)."""
        if self.fragment:
            raise _Broken(self.count, f"line {self.count} is incomplete: the log does not end "
                                      f"with a newline (a write cut short, or an edit)")
        if self.head_problem is not None:
            raise _Broken(None, self.head_problem)
        if self.head is None:
            if self.legacy < self.count:
                raise _Broken(None, f"the head file {self.head_name} is missing, so lines "
                                    f"removed from the end cannot be ruled out")
            return
        said = self.head["seq"]
        if said > self.count:
            raise _Broken(self.count + 1, f"lines were removed from the end: the head file says "
                                          f"{said} lines, the log has {self.count}")
        if self.digests[said - 1] != self.head["line_sha256"]:
            raise _Broken(said, f"line {said} was changed: it does not match the hash the head "
                                f"file holds for it")
        if said < self.count:
            raise _Broken(said + 1, f"line {said + 1} was appended behind the log's back: the "
                                    f"head file says {said} lines, the log has {self.count} (or "
                                    f"a crash came between writing it and updating the head "
                                    f"file; the next record then clears this)")


# -- command line -----------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    """Run ``python -m auth.audit verify [FILE]``.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 when the log is intact, 1 when it was tampered with (the first bad line is printed),
        2 for a usage error or a log that cannot be read.
    """
    parser = argparse.ArgumentParser(
        prog="python -m auth.audit",
        description="Check the audit log's hash chain and head file.")
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser(
        "verify", help="check every line; exit 0 intact, 1 tampered, 2 unreadable")
    verify.add_argument("file", nargs="?",
                        help="the audit log (default: audit.jsonl in the incident store)")
    try:
        arguments = parser.parse_args(argv)
    except SystemExit as stop:  # argparse has printed the usage error (2) or the help (0)
        return stop.code if isinstance(stop.code, int) else 2
    path = Path(arguments.file).expanduser() if arguments.file else default_audit_path()
    try:
        result = verify_log(path)
    except OSError as error:
        print(f"error: cannot read the audit log {path}: {error.strerror or error}",
              file=sys.stderr)
        return 2
    print(result.summary())
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
