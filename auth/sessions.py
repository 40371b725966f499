"""Server-side sign-in sessions, kept on disk so that logging out and revocation really end them.

A session is a random opaque id (``secrets.token_urlsafe(32)``) that the browser holds in an
``HttpOnly`` cookie (:data:`COOKIE_NAME`). The server keeps, in a SQLite file beside the
incident store (``sessions.sqlite``, mode 0600), only the id's SHA-256, the user name, the
user's fingerprint at sign-in (:meth:`auth.users.UserStore.fingerprint`: a hash of their
password hash and role) and the created and last-seen times. A session ends, and its row is
deleted, when

- the user logs out (:meth:`SessionStore.revoke`),
- it has been idle for longer than the ``session_idle_minutes`` setting,
- it is older than the ``session_max_hours`` setting, or
- the user's fingerprint differs from the one at sign-in: their password or role changed, or
  they were removed (even if they were added again later under the same name).

Because the store is a file, revocation survives a restart of the dashboard, and several
dashboard processes may share it (SQLite's own locking). A stolen copy of the file holds no
usable session id.

A session id reaches the browser through a *ticket*: the Streamlit script, which cannot set an
``HttpOnly`` cookie, issues a one-time ticket (valid :data:`TICKET_SECONDS`), and a plain HTTP
route of ``serve.py`` exchanges it for the cookie. The ticket's row holds the session id
encrypted with a key derived from the ticket itself, so the file never holds a session id in
the clear either.

No Streamlit here: ``ui/access.py`` and ``serve.py`` use this module.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from auth._checks import require_str
from config.sqlite_tx import write_transaction
from config.storage import default_store_dir

COOKIE_NAME = "humber_session"
SESSIONS_FILE = "sessions.sqlite"
TICKET_SECONDS = 60.0
DEFAULT_IDLE_SECONDS = 30 * 60.0
DEFAULT_MAX_SECONDS = 8 * 3600.0
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)
_PAD_LABEL = b"humber-ticket-pad\x00"
_PURGE_GRACE_SECONDS = 3600.0  # the cookie's Max-Age runs from the ticket, a little later
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS sessions (id_hash TEXT PRIMARY KEY, user TEXT NOT NULL, "
    "fingerprint TEXT NOT NULL, created REAL NOT NULL, last_seen REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (user COLLATE NOCASE)",
    "CREATE TABLE IF NOT EXISTS tickets (ticket_hash TEXT PRIMARY KEY, sealed BLOB NOT NULL, "
    "expires REAL NOT NULL)",
)

# Why a session check failed (SessionCheck.reason).
VALID = ""
MISSING = "missing"      # no session id at all
UNKNOWN = "unknown"      # not in the store: logged out, revoked, ended earlier, or never issued
IDLE = "idle"            # idle for longer than the idle timeout
EXPIRED = "expired"      # older than the absolute lifetime
CHANGED = "changed"      # the user's password or role changed, or the user was removed
ENDED_REASONS = {
    IDLE: "session ended: idle for longer than session_idle_minutes",
    EXPIRED: "session ended: older than session_max_hours",
    CHANGED: "session ended: the user's password or role changed, or the user was removed"}
"""What the audit log says when a check ends a session (``session_revoked``)."""


ENTRY_ENV = "HUMBER_ENTRY"
"""Set to ``"serve"`` by ``serve.py``: the dashboard refuses accounts without its routes."""
ROUTE_PREFIX = "/_humber"
SIGN_IN_PATH = f"{ROUTE_PREFIX}/sign-in"
SIGN_OUT_PATH = f"{ROUTE_PREFIX}/sign-out"


def load_secret(path: str | Path) -> bytes:
    """The 32-byte secret at `path` (hex), created (random, mode 0600) if missing."""
    path = Path(path)
    try:
        text = path.read_text(encoding="ascii").strip()
        if not text:  # another process has created it and is writing it now
            time.sleep(0.05)
            return load_secret(path)
        return bytes.fromhex(text)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_bytes(32)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it meanwhile
            return load_secret(path)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secret.hex())
        return secret
    except ValueError:
        raise ValueError(f"The secret file {path} is not hex text; delete it to make a new "
                         f"one.") from None


def default_sessions_path() -> Path:
    """``sessions.sqlite`` in the incident store's folder (``config.storage.default_store_dir``)."""
    return default_store_dir() / SESSIONS_FILE


def is_token(text: object) -> bool:
    """True if `text` looks like a session id or ticket (43 URL-safe base64 characters)."""
    return isinstance(text, str) and bool(_TOKEN.match(text))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _pad(ticket: str) -> bytes:
    return hashlib.sha256(_PAD_LABEL + ticket.encode("ascii")).digest()


def _xor(left: bytes, right: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(left, right, strict=True))


def _raw(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=")


def _text(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Session:
    """One live sign-in.

    Parameters
    ----------
    user : str
        The user name as stored in the users file.
    fingerprint : str
        The user's fingerprint when they signed in.
    created, last_seen : float
        Unix times of the sign-in and of the latest check that touched the session.
    """

    user: str
    fingerprint: str
    created: float
    last_seen: float


@dataclass(frozen=True)
class SessionCheck:
    """The outcome of :meth:`SessionStore.check`.

    Parameters
    ----------
    session : Session or None
        The live session, or None.
    reason : str
        ``""`` for a live session; else ``"missing"``, ``"unknown"``, ``"idle"``,
        ``"expired"`` or ``"changed"`` (see the module's constants).
    user : str or None
        The session's user, when known (a live session, or one this check ended).
    """

    session: Session | None
    reason: str
    user: str | None = None

    @property
    def ok(self) -> bool:
        """True for a live session."""
        return self.session is not None

    @property
    def ended_now(self) -> bool:
        """True if this check ended a session (idle, expired or changed): worth auditing once."""
        return self.reason in (IDLE, EXPIRED, CHANGED)


def _seconds(value, *, parameter: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 \
            or value == float("inf"):
        raise ValueError(f"The '{parameter}' parameter of SessionStore must be a finite number "
                         f"of seconds greater than 0. Got {value!r} instead.")
    return float(value)


class SessionStore:
    """Server-side sessions in a SQLite file, shared by every dashboard process.

    Parameters
    ----------
    path : str or Path
        The SQLite file; it and its folder are created on first use (file mode 0600).
    idle_seconds : float
        A session unused for longer than this ends (default 30 minutes, the
        ``session_idle_minutes`` setting).
    max_seconds : float
        A session older than this ends however active it is (default 8 hours, the
        ``session_max_hours`` setting).
    ticket_seconds : float
        How long a sign-in ticket may wait to be exchanged for the cookie (default 60 s).
    clock : callable
        Returns the Unix time in seconds; ``time.time`` by default (tests pass a fake). A
        wall clock, because sessions outlive the process.

    Raises
    ------
    TypeError
        If `path` is not a str or Path.
    ValueError
        For a duration that is not a positive number, naming it.
    """

    def __init__(self, path: str | Path, *, idle_seconds: float = DEFAULT_IDLE_SECONDS,
                 max_seconds: float = DEFAULT_MAX_SECONDS,
                 ticket_seconds: float = TICKET_SECONDS,
                 clock: Callable[[], float] = time.time):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"The 'path' of SessionStore must be a str or Path. Got "
                            f"{type(path).__name__} instead.")
        self.path = Path(path).expanduser()
        self.idle_seconds = _seconds(idle_seconds, parameter="idle_seconds")
        self.max_seconds = _seconds(max_seconds, parameter="max_seconds")
        self.ticket_seconds = _seconds(ticket_seconds, parameter="ticket_seconds")
        if not callable(clock):
            raise ValueError(f"The 'clock' parameter of SessionStore must be a callable "
                             f"returning seconds. Got {clock!r} instead.")
        self._clock = clock
        self._ready = False

    @classmethod
    def from_config(cls, path: str | Path | None = None, *,
                    clock: Callable[[], float] = time.time) -> "SessionStore":
        """A store with the ``session_idle_minutes`` and ``session_max_hours`` settings.

        Parameters
        ----------
        path : str or Path, optional
            Defaults to :func:`default_sessions_path` (beside the incident store).
        clock : callable, optional
        """
        from config import get_config

        config = get_config()
        return cls(path if path is not None else default_sessions_path(),
                   idle_seconds=60.0 * float(config.setting("session_idle_minutes").default),
                   max_seconds=3600.0 * float(config.setting("session_max_hours").default),
                   clock=clock)

    # -- public API ---------------------------------------------------------------------------

    def create(self, user: str, fingerprint: str) -> str:
        """Start a session for `user` and return its id (the cookie's value).

        Parameters
        ----------
        user : str
            The user name as stored in the users file.
        fingerprint : str
            ``UserStore.fingerprint(user)`` now: the session ends when it changes.

        Returns
        -------
        str
            A new random id (``secrets.token_urlsafe(32)``); only its SHA-256 is stored.

        Raises
        ------
        ValueError
            For an empty user name or fingerprint.
        """
        for parameter, value in (("user", user), ("fingerprint", fingerprint)):
            if not isinstance(value, str) or not value:
                raise ValueError(f"The '{parameter}' of a new session must be a non-empty str. "
                                 f"Got {value!r} instead.")
        session_id = secrets.token_urlsafe(32)
        now = self._clock()
        with self._write() as connection:
            self._purge(connection, now)
            connection.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                               (_digest(session_id), user, fingerprint, now, now))
        return session_id

    def check(self, session_id: str | None, fingerprint_of: Callable[[str], str | None], *,
              touch: bool = True) -> SessionCheck:
        """Is `session_id` a live session? Ends it (deletes it) if it has just run out.

        Parameters
        ----------
        session_id : str or None
            The cookie's value (anything else, e.g. None or a forged string, is refused).
        fingerprint_of : callable
            ``UserStore.fingerprint``: the user's current fingerprint, None for an unknown user.
        touch : bool, default True
            Record this check as activity (resets the idle timer).

        Returns
        -------
        SessionCheck
            The live session, or None and why (see :class:`SessionCheck`).
        """
        if session_id is None or session_id == "":
            return SessionCheck(None, MISSING)
        if not is_token(session_id):
            return SessionCheck(None, UNKNOWN)
        key = _digest(session_id)
        now = self._clock()
        row = self._read("SELECT user, fingerprint, created, last_seen FROM sessions "
                         "WHERE id_hash = ?", (key,))
        if row is None:
            return SessionCheck(None, UNKNOWN)
        session = Session(*row)
        reason = VALID
        if now - session.created > self.max_seconds:
            reason = EXPIRED
        elif now - session.last_seen > self.idle_seconds:
            reason = IDLE
        else:
            current = fingerprint_of(session.user)
            if not isinstance(current, str) or not hmac.compare_digest(current,
                                                                       session.fingerprint):
                reason = CHANGED
        with self._write() as connection:
            if reason:
                connection.execute("DELETE FROM sessions WHERE id_hash = ?", (key,))
                return SessionCheck(None, reason, session.user)
            if touch:
                updated = connection.execute(
                    "UPDATE sessions SET last_seen = ? WHERE id_hash = ?", (now, key)).rowcount
                if not updated:  # revoked between the read and now
                    return SessionCheck(None, UNKNOWN)
                session = Session(session.user, session.fingerprint, session.created, now)
        return SessionCheck(session, VALID, session.user)

    def revoke(self, session_id: str | None) -> Session | None:
        """End the session `session_id` (log out). Returns it, or None if it was not live."""
        if not is_token(session_id):
            return None
        key = _digest(session_id)
        with self._write() as connection:
            row = connection.execute("SELECT user, fingerprint, created, last_seen FROM sessions "
                                     "WHERE id_hash = ?", (key,)).fetchone()
            connection.execute("DELETE FROM sessions WHERE id_hash = ?", (key,))
        return None if row is None else Session(*row)

    def revoke_user(self, user: str) -> int:
        """End every session of `user` (case-insensitive); returns how many there were."""
        require_str(user, "user name")
        with self._write() as connection:
            return connection.execute("DELETE FROM sessions WHERE user = ? COLLATE NOCASE",
                                      (user,)).rowcount

    def sessions_of(self, user: str) -> int:
        """How many sessions of `user` (case-insensitive) are in the store."""
        row = self._read("SELECT COUNT(*) FROM sessions WHERE user = ? COLLATE NOCASE", (user,))
        return int(row[0])

    def issue_ticket(self, session_id: str) -> str:
        """A one-time ticket that :meth:`redeem_ticket` exchanges for `session_id`.

        Valid for :attr:`ticket_seconds`. The store keeps the ticket's SHA-256 and the session
        id encrypted with a pad derived from the ticket, so the file alone reveals neither.

        Raises
        ------
        ValueError
            If `session_id` is not a session id.
        """
        if not is_token(session_id):
            raise ValueError("A ticket can only be issued for a session id from create().")
        ticket = secrets.token_urlsafe(32)
        sealed = _xor(_raw(session_id), _pad(ticket))
        now = self._clock()
        with self._write() as connection:
            connection.execute("DELETE FROM tickets WHERE expires < ?", (now,))
            connection.execute("INSERT INTO tickets VALUES (?, ?, ?)",
                               (_digest(ticket), sealed, now + self.ticket_seconds))
        return ticket

    def redeem_ticket(self, ticket: str | None) -> str | None:
        """The session id of a fresh, unused `ticket`; None for anything else.

        The ticket is spent whatever the outcome: it works once.
        """
        if not is_token(ticket):
            return None
        now = self._clock()
        with self._write() as connection:
            row = connection.execute("SELECT sealed, expires FROM tickets WHERE ticket_hash = ?",
                                     (_digest(ticket),)).fetchone()
            connection.execute("DELETE FROM tickets WHERE ticket_hash = ? OR expires < ?",
                               (_digest(ticket), now))
        if row is None or row[1] < now:
            return None
        return _text(_xor(bytes(row[0]), _pad(ticket)))

    def purge(self) -> int:
        """Delete sessions past their absolute lifetime and stale tickets; returns the count.

        Runs on every :meth:`create`. (Idle sessions are deleted when next checked.)
        """
        with self._write() as connection:
            return self._purge(connection, self._clock())

    # -- private steps ------------------------------------------------------------------------

    def _purge(self, connection: sqlite3.Connection, now: float) -> int:
        # Idle sessions stay until their absolute lifetime is over (their cookie until then
        # still comes back), so that their end is reported as "idle" and audited.
        removed = connection.execute("DELETE FROM sessions WHERE created < ?",
                                     (now - self.max_seconds - _PURGE_GRACE_SECONDS,)).rowcount
        return removed + connection.execute("DELETE FROM tickets WHERE expires < ?",
                                            (now,)).rowcount

    def _prepare(self) -> None:
        """Create the folder and the file (mode 0600) and the tables, once per object."""
        if self._ready:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.chmod(self.path, 0o600)
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA:
                connection.execute(statement)
            connection.execute("COMMIT")
        self._ready = True

    @contextlib.contextmanager
    def _connect(self):
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            yield connection
        finally:
            connection.close()

    @contextlib.contextmanager
    def _write(self):
        """One write transaction (``BEGIN IMMEDIATE``: other processes wait, never interleave)."""
        self._prepare()
        with self._connect() as connection, write_transaction(connection):
            yield connection

    def _read(self, query: str, parameters: tuple) -> tuple | None:
        self._prepare()
        with self._connect() as connection:
            return connection.execute(query, parameters).fetchone()
