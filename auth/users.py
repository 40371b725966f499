"""The local accounts file: user names, roles and argon2id password hashes.

The file is JSON, ``{"users": {name: {"role": "...", "hash": "$argon2id$..."}}}``, created with
mode 0600 on the first ``add`` and always rewritten atomically (a temporary file in the same
folder, then ``os.replace``), under an exclusive lock on ``<file>.lock`` so that the command
line and a running dashboard (which rehashes outdated hashes) never lose each other's changes.
Passwords are never stored, printed or logged.

Command line::

    python -m auth.users add NAME --role ROLE [--file PATH]   # password on standard input
    python -m auth.users passwd NAME [--file PATH]            # new password on standard input
    python -m auth.users role NAME --role ROLE [--file PATH]
    python -m auth.users remove NAME [--file PATH]
    python -m auth.users list [--file PATH]

A password is read from standard input: asked twice (not echoed) on a terminal, else the
first line. Without ``--file`` the file is ``HUMBER_USERS_FILE``, else the ``users_file``
setting. Exit status 0 on success, 2 with a message on standard error otherwise.

:func:`user_fingerprint` (and :meth:`UserStore.fingerprint`) digests a user's password hash
and role: it changes when the password or role changes, or the user is removed and added
again, so a session that keeps it from the sign-in can end itself then.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import getpass
import hashlib
import json
import os
import re
import sys
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from auth._checks import require_str
from auth.roles import Viewer, parse_role
from config import get_config

USERS_FILE_ENV = "HUMBER_USERS_FILE"
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
_NAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")  # used with fullmatch: no trailing newline
_REPO_ROOT = Path(__file__).resolve().parent.parent  # == geodata.paths.REPO_ROOT


def users_file_path() -> Path | None:
    """The accounts file, or None when the dashboard has no accounts.

    Returns
    -------
    Path or None
        ``HUMBER_USERS_FILE`` if set and non-empty, else the ``users_file`` setting of
        ``config/settings.toml`` (a relative path is taken from the repository root);
        None when both are empty.
    """
    configured = os.environ.get(USERS_FILE_ENV, "").strip()
    if not configured:
        configured = str(get_config().setting("users_file").default).strip()
    if not configured:
        return None
    path = Path(configured).expanduser()
    return path if path.is_absolute() else _REPO_ROOT / path


def validate_name(name: str) -> str:
    """Return `name` if it is a valid user name, else raise.

    Parameters
    ----------
    name : str
        1-64 characters of letters, digits, ``.``, ``_``, ``@`` and ``-`` (an e-mail address
        works).

    Raises
    ------
    TypeError
        If `name` is not a str.
    ValueError
        If it is any other text.
    """
    require_str(name, "user name")
    if not _NAME.fullmatch(name):
        raise ValueError(f"The user name must be 1-64 characters of letters, digits, '.', '_', "
                         f"'@' and '-' (an e-mail address works). Got {name!r} instead.")
    return name


def is_valid_name(text: object) -> bool:
    """True if `text` is a valid user name; never raises (for the login form).

    Parameters
    ----------
    text : object
        Anything; only a str of 1-64 letters, digits, ``.``, ``_``, ``@`` and ``-`` is valid.

    Returns
    -------
    bool
        Whether :func:`validate_name` would accept `text`.
    """
    return isinstance(text, str) and _NAME.fullmatch(text) is not None


def user_fingerprint(record: dict) -> str:
    """A SHA-256 hex digest of a user record's password hash and role.

    A session keeps it from the sign-in and ends when it changes: a new password (a new
    argon2 salt, so even the same password) or a new role changes it, and so does removing
    the user and adding them again.

    Parameters
    ----------
    record : dict
        A user record of the accounts file, ``{"role": "...", "hash": "$argon2id$..."}``.

    Returns
    -------
    str
        64 lowercase hexadecimal digits.

    Raises
    ------
    TypeError
        If `record` is not a dict.
    ValueError
        If its ``"hash"`` or ``"role"`` is missing or not a str.
    """
    if not isinstance(record, dict):
        raise TypeError(f"The user record must be a dict with 'role' and 'hash'. Got "
                        f"{type(record).__name__} instead.")
    for key in ("hash", "role"):
        if not isinstance(record.get(key), str):
            raise ValueError(f"The user record must have a str {key!r}. Got "
                             f"{record.get(key)!r} instead.")
    # JSON keeps the two fields apart unambiguously; "v1" leaves room for a new scheme.
    payload = json.dumps(["v1", record["hash"], record["role"]], ensure_ascii=True)
    return hashlib.sha256(payload.encode("ascii")).hexdigest()


def validate_password(password: str) -> str:
    """Return `password` if it is acceptable, else raise (never showing the password).

    Raises
    ------
    TypeError
        If `password` is not a str.
    ValueError
        If it is empty, shorter than 10 or longer than 1024 characters.
    """
    require_str(password, "password")
    if not password:
        raise ValueError("The password is empty.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters. "
                         f"Got {len(password)}.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"The password must have at most {MAX_PASSWORD_LENGTH} characters. "
                         f"Got {len(password)}.")
    return password


class UserStore:
    """Local accounts in a JSON file, with argon2id password hashes.

    Every call reads the file afresh, so accounts added with the command line are seen by a
    running dashboard at once. User names are unique regardless of case, and are looked up
    case-insensitively (e-mail addresses from an identity provider vary in case).

    Parameters
    ----------
    path : str or Path
        The accounts file. It need not exist until the first :meth:`add`.
    known_lad_codes : iterable of str, optional
        LAD codes a ``csp:<code>`` role may name; defaults to the areas of
        ``config/areas.toml``.
    hasher : argon2.PasswordHasher, optional
        Defaults to ``PasswordHasher()`` (argon2id, RFC 9106 low-memory profile). Hashes made
        with other parameters are rehashed on the next successful :meth:`verify`.
    """

    def __init__(self, path: str | Path, *, known_lad_codes: Iterable[str] | None = None,
                 hasher: PasswordHasher | None = None):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"The 'path' of UserStore must be a str or Path. Got "
                            f"{type(path).__name__} instead.")
        self.path = Path(path).expanduser()
        self._codes = (tuple(known_lad_codes) if known_lad_codes is not None
                       else get_config().area_codes)
        self._hasher = hasher if hasher is not None else PasswordHasher()
        self._dummy_hash: str | None = None
        self._thread_lock = threading.Lock()

    # -- public API ---------------------------------------------------------------------------

    def add(self, name: str, *, role: str, password: str) -> None:
        """Add a user.

        Parameters
        ----------
        name : str
            1-64 characters of letters, digits, ``.``, ``_``, ``@``, ``-``.
        role : str
            ``"analyst"``, ``"admin"``, ``"partner"``, ``"public"`` or ``"csp:<LAD code>"``.
        password : str
            At least 10 characters. Only its argon2id hash is stored.

        Raises
        ------
        ValueError
            For an invalid name, role or password, or a name already in the file.
        """
        validate_name(name)
        role_name, code = parse_role(role, known_lad_codes=self._codes)
        label = Viewer(name=name, role=role_name, lad_code=code).label
        validate_password(password)
        password_hash = self._hasher.hash(password)
        with self._locked():
            users = self._load()
            existing = _find(users, name)
            if existing is not None:
                raise ValueError(_exists_message(existing, self.path))
            users[name] = {"role": label, "hash": password_hash}
            self._save(users)

    def set_password(self, name: str, password: str) -> None:
        """Give the user `name` (case-insensitive) a new password.

        Its sessions end (its :meth:`fingerprint` changes), even for the same password.

        Parameters
        ----------
        name : str
            An existing user.
        password : str
            At least 10 characters. Only its argon2id hash is stored.

        Raises
        ------
        TypeError
            If `name` or `password` is not a str.
        ValueError
            For an invalid name or password, or no such user; the file is then unchanged.
        """
        validate_name(name)
        validate_password(password)
        self._update(name, "hash", self._hasher.hash(password))

    def set_role(self, name: str, role: str) -> None:
        """Give the user `name` (case-insensitive) a new role.

        Its sessions end (its :meth:`fingerprint` changes) unless the role is the same.

        Parameters
        ----------
        name : str
            An existing user.
        role : str
            ``"analyst"``, ``"admin"``, ``"partner"``, ``"public"`` or ``"csp:<LAD code>"``.

        Raises
        ------
        TypeError
            If `name` or `role` is not a str.
        ValueError
            If there is no such user, the name is invalid or :func:`auth.roles.parse_role`
            refuses the role; the file is then unchanged.
        """
        validate_name(name)
        role_name, code = parse_role(role, known_lad_codes=self._codes)
        self._update(name, "role", Viewer(name=name, role=role_name, lad_code=code).label)

    def _update(self, name: str, field: str, value: str) -> None:
        """Set one field of an existing user's record (locked read-modify-write)."""
        with self._locked():
            users = self._load()
            users[self._existing(users, name)][field] = value
            self._save(users)

    def fingerprint(self, name: str) -> str | None:
        """The :func:`user_fingerprint` of user `name` (case-insensitive), or None.

        Returns
        -------
        str or None
            None for an unknown or invalid name (never raises for the name).

        Raises
        ------
        ValueError
            If the file is malformed, or the user's record lacks a str hash or role.
        """
        if not is_valid_name(name):
            return None
        users = self._load()
        stored = _find(users, name)
        return None if stored is None else user_fingerprint(users[stored])

    def remove(self, name: str) -> None:
        """Remove the user `name` (case-insensitive).

        Raises
        ------
        ValueError
            If there is no such user.
        """
        require_str(name, "user name")
        with self._locked():
            users = self._load()
            del users[self._existing(users, name)]
            self._save(users)

    def list(self) -> list[tuple[str, str]]:
        """All users as ``(name, role)`` pairs, sorted by name; no hashes."""
        return sorted((name, str(record.get("role", ""))) for name, record in self._load().items())

    def verify(self, name: str, password: str) -> Viewer | None:
        """Check a password; return the user's :class:`Viewer`, or None.

        An unknown or invalid user name costs one argon2 verification against a dummy hash,
        so the time taken does not reveal which names exist. A hash made with outdated
        parameters is replaced after a successful check.

        Returns
        -------
        Viewer or None
            None for an unknown user, a wrong password or a user whose role is no longer
            valid (e.g. a CSP removed from ``config/areas.toml``; a warning says so).
        """
        if not isinstance(name, str) or not isinstance(password, str):
            return None
        users = self._load()
        stored = _find(users, name) if is_valid_name(name) else None
        if stored is None:
            with contextlib.suppress(VerificationError, InvalidHashError):
                self._hasher.verify(self._dummy(), password)
            return None
        record = users[stored]
        try:
            self._hasher.verify(str(record.get("hash", "")), password)
        except (VerificationError, InvalidHashError):
            return None
        viewer = self._viewer(stored, record)
        if viewer is not None and self._hasher.check_needs_rehash(record["hash"]):
            self._rehash(stored, record["hash"], password)
        return viewer

    def role_of(self, name: str) -> Viewer | None:
        """The :class:`Viewer` of user `name` without a password check (OIDC e-mails).

        Returns None for an unknown or invalid name, or an invalid stored role.
        """
        if not is_valid_name(name):
            return None
        users = self._load()
        stored = _find(users, name)
        return None if stored is None else self._viewer(stored, users[stored])

    # -- private steps ------------------------------------------------------------------------

    def _existing(self, users: dict[str, dict], name: str) -> str:
        """The stored spelling of user `name`; ValueError listing the users if there is none."""
        stored = _find(users, name)
        if stored is None:
            raise ValueError(f"No user {name!r} in {self.path}. Users: "
                             f"{', '.join(sorted(users)) or 'none'}.")
        return stored

    def _viewer(self, name: str, record: dict) -> Viewer | None:
        try:
            role, code = parse_role(str(record.get("role", "")), known_lad_codes=self._codes)
        except ValueError as error:
            warnings.warn(f"User {name!r} in {self.path} is refused: {error}", stacklevel=3)
            return None
        return Viewer(name=name, role=role, lad_code=code)

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash("not a real password, for timing only")
        return self._dummy_hash

    def _rehash(self, name: str, old_hash: str, password: str) -> None:
        new_hash = self._hasher.hash(password)
        with self._locked():
            users = self._load()
            record = users.get(name)
            if record is not None and record.get("hash") == old_hash:  # unchanged meanwhile
                record["hash"] = new_hash
                self._save(users)

    @contextlib.contextmanager
    def _locked(self):
        """Exclusive lock for a read-modify-write (threads of this process, then processes)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with self._thread_lock:
            descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                yield
            finally:
                os.close(descriptor)  # releases the lock

    def _load(self) -> dict[str, dict]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"The users file {self.path} is not valid JSON: {error}.") from None
        if not isinstance(raw, dict) or not isinstance(raw.get("users", {}), dict):
            raise ValueError(f"The users file {self.path} must hold an object "
                             f'{{"users": {{name: {{"role": ..., "hash": ...}}}}}}.')
        users = raw.get("users", {})
        for name, record in users.items():
            if not isinstance(record, dict):
                raise ValueError(f"User {name!r} in {self.path} must be an object with 'role' "
                                 f"and 'hash'. Got {record!r} instead.")
        return users

    def _save(self, users: dict[str, dict]) -> None:
        text = json.dumps({"users": dict(sorted(users.items()))}, indent=2) + "\n"
        descriptor, temporary = tempfile.mkstemp(dir=self.path.parent,
                                                 prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:  # mkstemp: mode 0600
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        with contextlib.suppress(OSError):  # make the rename durable
            directory = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)


def _exists_message(name: str, path: Path) -> str:
    return (f"User {name!r} already exists in {path}; change its password with 'passwd' or "
            f"its role with 'role'.")


def _find(users: dict[str, dict], name: str) -> str | None:
    """The stored spelling of `name`, matched exactly, else case-insensitively."""
    if name in users:
        return name
    folded = name.casefold()
    for stored in users:
        if stored.casefold() == folded:
            return stored
    return None


# -- command line -----------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse exits 2 too; keep its message shape
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _read_password(stdin) -> str:
    if stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Repeat the password: "):
            raise ValueError("The two passwords differ.")
        return first
    line = stdin.readline()
    return line.rstrip("\r\n")


def _audit(event: str, name: str, role: str | None, what: str) -> None:
    """Record an account change made on the command line in the store's audit log, as the
    operating-system user who ran it (the account's name goes in ``what``)."""
    from auth.audit import AuditLog, default_audit_path

    try:
        operator = getpass.getuser()
    except (KeyError, OSError):
        operator = "(command line)"
    try:
        AuditLog(default_audit_path()).record(event, user=f"{operator} (command line)",
                                              role=role, what=f"account {name}: {what}")
    except OSError as error:  # the change is made; say that it could not be logged
        print(f"warning: the change was not written to the audit log: {error}",
              file=sys.stderr)


def main(argv: list[str] | None = None, *, stdin=None) -> int:
    """Run the command line; return the exit status (0 success, 2 error)."""
    stdin = stdin if stdin is not None else sys.stdin
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--file", help=f"the accounts file (default: ${USERS_FILE_ENV}, else the "
                                       f"users_file setting of config/settings.toml)")
    parser = _Parser(prog="python -m auth.users",
                     description="Manage the dashboard's local accounts.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    add = commands.add_parser("add", parents=[common],
                              help="add a user; the password is read from standard input")
    add.add_argument("name")
    add.add_argument("--role", required=True,
                     help="analyst, admin, partner, public or csp:<LAD code>")
    passwd = commands.add_parser("passwd", parents=[common],
                                 help="change a user's password; the new one is read from "
                                      "standard input")
    passwd.add_argument("name")
    change_role = commands.add_parser("role", parents=[common], help="change a user's role")
    change_role.add_argument("name")
    change_role.add_argument("--role", required=True,
                             help="analyst, admin, partner, public or csp:<LAD code>")
    remove = commands.add_parser("remove", parents=[common], help="remove a user")
    remove.add_argument("name")
    commands.add_parser("list", parents=[common], help="list users and their roles")
    arguments = parser.parse_args(argv)

    path = Path(arguments.file).expanduser() if arguments.file else users_file_path()
    if path is None:
        print(f"error: no accounts file: pass --file PATH, or set {USERS_FILE_ENV} or the "
              f"users_file setting in config/settings.toml.", file=sys.stderr)
        return 2
    try:
        store = UserStore(path)
        if arguments.command == "add":
            validate_name(arguments.name)
            parse_role(arguments.role, known_lad_codes=store._codes)
            existing = _find(store._load(), arguments.name)
            if existing is not None:
                raise ValueError(_exists_message(existing, path))
            store.add(arguments.name, role=arguments.role, password=_read_password(stdin))
            label = store.role_of(arguments.name).label
            _audit("account_changed", arguments.name, label, f"added to {path}")
            print(f"Added {arguments.name} ({label}) to {path}.")
        elif arguments.command == "passwd":
            validate_name(arguments.name)
            stored = store._existing(store._load(), arguments.name)  # before asking
            store.set_password(stored, _read_password(stdin))
            _audit("password_changed", stored, None, f"in {path}; their sessions end")
            print(f"Changed the password of {stored} in {path}.")
        elif arguments.command == "role":
            validate_name(arguments.name)
            stored = store._existing(store._load(), arguments.name)
            store.set_role(stored, arguments.role)
            record = store._load()[stored]
            _audit("account_changed", stored, record["role"],
                   f"role set in {path}; their sessions end")
            print(f"Changed the role of {stored} to {record['role']} in {path}.")
        elif arguments.command == "remove":
            store.remove(arguments.name)
            _audit("account_changed", arguments.name, None,
                   f"removed from {path}; their sessions end")
            print(f"Removed {arguments.name} from {path}.")
        else:
            users = store.list()
            if not users:
                print(f"No users in {path}.")
            for name, role in users:
                print(f"{name}\t{role}")
    except (ValueError, TypeError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
