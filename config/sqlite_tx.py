"""One SQLite write transaction, for every layer that keeps a database (``auth``, ``geodata``).

``config`` is the lowest layer, so :mod:`auth.sessions` and :mod:`geodata.responses` share
this helper without importing each other.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator


@contextlib.contextmanager
def write_transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` on `connection`: committed when the block ends, rolled back on any error.

    Parameters
    ----------
    connection : sqlite3.Connection
        Opened with ``isolation_level=None`` (the transaction is managed here).

    Yields
    ------
    sqlite3.Connection
        The same connection; other processes wait for it and never interleave.
    """
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
