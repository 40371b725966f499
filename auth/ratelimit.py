"""Login throttling that slows password guessing without letting a stranger lock users out.

:class:`LoginThrottle` never locks an account. It counts failed logins in three tables, and
each table imposes a delay, counted from its latest failure, once its count reaches that
table's free allowance; the delay doubles with every further failure, up to the table's cap::

    delay = min(cap, base_delay_seconds * 2 ** (failures - free))     when failures >= free

A key's failures are forgotten once ``window_seconds`` (the ``login_window_seconds`` setting,
900 s) have passed after its delay ended without a new failure on it. The count is deliberately
not a sliding window of failure times: with a 300 s cap and a 900 s window, old failures would
slide out while the guesser waits, and the delay would fall back to 0 every few attempts.

With the shipped settings (``free_failures`` = ``login_max_failures`` = 5,
``base_delay_seconds`` = 1, ``max_delay_seconds`` = ``login_lockout_seconds`` = 300):

============================ ===================== ============ ===================================
table                        free failures         cap          delays after the free failures
============================ ===================== ============ ===================================
(client, name) pair          ``free`` = 5          300 s        1, 2, 4, ... 256, 300, 300, ... s
client, across all names     ``2 * free`` = 10     300 s        1, 2, 4, ... 256, 300, 300, ... s
name, from all clients       ``4 * free`` = 20     30 s         1, 2, 4, 8, 16, 30, 30, ... s
============================ ===================== ============ ===================================

So one client guessing one password gets 5 tries at once, 9 more over the next 511 s, then
one every 300 s (under 300 a day); a client spraying many names gets 10 tries at once, then
the same slowdown.

- The **pair** table is strict: one client guessing one account.
- The **client** table slows one client guessing across many user names (password spraying).
- The **name** table is deliberately gentle (a larger allowance, and a cap of
  ``min(30 s, max_delay_seconds)``) so that a stranger hammering a user name delays the real
  user, who signs in from another client, by at most 30 s, never for minutes.

:meth:`LoginThrottle.retry_after` is the largest of the three waits (0.0: try now).
:meth:`LoginThrottle.success` clears the pair and the name's failures, and removes this name's
failures from the client's count (its failures on other names still count), so a user who
mistyped their password starts afresh, while an attacker cannot wipe their spraying record by
signing in to an account of their own.

User names are case-folded. A ``client`` of None or ``""`` counts as the single shared client
``"unknown"``. Memory is bounded: each key is at most 64 characters (a longer one is stored as
its SHA-256); per key a table keeps only the time of the latest failure and the names of at
most its newest failures (as many as bring the delay to its cap); keys
whose failures are forgotten are dropped at the next failure, and each table holds at most
``max_tracked_keys`` keys (10 000), dropping those that failed longest ago. All methods are
thread-safe.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable

from auth._checks import require_str

UNKNOWN_CLIENT = "unknown"
NAME_DELAY_CAP_SECONDS = 30.0  # the name table's cap (or max_delay_seconds if smaller)
_CLIENT_FREE_FACTOR = 2
_NAME_FREE_FACTOR = 4
_MAX_KEY_LENGTH = 64


def _number(value, *, parameter: str, low: float, inclusive: bool = False) -> float:
    """`value` as a finite float above (or, if `inclusive`, at least) `low`, else raise."""
    ok = (not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
          and (value >= low if inclusive else value > low))
    if not ok:
        relation = "at least" if inclusive else "greater than"
        raise ValueError(f"The '{parameter}' parameter of LoginThrottle must be a finite number "
                         f"{relation} {low:g}. Got {value!r} instead.")
    return float(value)


def _integer(value, *, parameter: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"The '{parameter}' parameter of LoginThrottle must be an int of at "
                         f"least {low}. Got {value!r} instead.")
    return value


def _bounded(key: str) -> str:
    """`key` itself if short, else its SHA-256 (memory per key stays bounded)."""
    if len(key) <= _MAX_KEY_LENGTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class _Entry:
    """The failures of one key: the latest failure's time and the newest failures' tags."""

    __slots__ = ("last", "tags")

    def __init__(self, keep: int):
        self.last = -math.inf
        self.tags: deque[str] = deque(maxlen=keep)


class _Table:
    """Failure counts per key, forgotten a window after the key's delay has ended.

    The table is ordered by each key's latest failure (oldest first), so stale keys are at
    its front. A key's count stops growing at `keep`, where the delay is at its cap anyway.
    """

    def __init__(self, *, free: int, base: float, cap: float, window: float, max_keys: int):
        self.free, self.base, self.cap, self.window = free, base, cap, window
        self.max_keys = max_keys
        steps = max(0, math.ceil(math.log2(cap / base))) if cap > base else 0
        self.keep = free + steps + 1  # more failures would give the cap too
        self.entries: OrderedDict[Hashable, _Entry] = OrderedDict()

    def delay_for(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        exponent = failures - self.free
        if exponent >= self.keep:  # 2.0 ** exponent could overflow
            return self.cap
        return min(self.cap, self.base * 2.0 ** exponent)

    def _forgotten(self, entry: _Entry, now: float) -> bool:
        """True once `window` has passed after the entry's delay ended."""
        return now >= entry.last + self.delay_for(len(entry.tags)) + self.window

    def _live(self, key: Hashable, now: float) -> _Entry | None:
        entry = self.entries.get(key)
        return None if entry is None or self._forgotten(entry, now) else entry

    def wait(self, key: Hashable, now: float) -> float:
        entry = self._live(key, now)
        if entry is None:
            return 0.0
        remaining = entry.last + self.delay_for(len(entry.tags)) - now
        return remaining if remaining > 0 else 0.0

    def add(self, key: Hashable, now: float, tag: str = "") -> None:
        entry = self._live(key, now)
        if entry is None:  # new, or its failures are forgotten: a fresh count
            self.entries.pop(key, None)
            entry = self.entries[key] = _Entry(self.keep)
        else:
            self.entries.move_to_end(key)
        entry.last = max(entry.last, now)
        entry.tags.append(tag)
        self.prune(now)

    def clear(self, key: Hashable) -> None:
        self.entries.pop(key, None)

    def discard_tag(self, key: Hashable, tag: str) -> None:
        entry = self.entries.get(key)
        if entry is None:
            return
        kept = [item for item in entry.tags if item != tag]
        if kept:
            entry.tags.clear()
            entry.tags.extend(kept)
        else:
            del self.entries[key]

    def prune(self, now: float) -> None:
        """Drop forgotten keys, then the keys failed longest ago above `max_keys`."""
        entries = self.entries
        while entries:
            entry = next(iter(entries.values()))
            if not self._forgotten(entry, now) and len(entries) <= self.max_keys:
                break
            entries.popitem(last=False)


class LoginThrottle:
    """Delay repeated failed logins per (client, name), per client and per name.

    See the module docstring for the design and the numbers. The throttle only advises: the
    login form asks :meth:`retry_after` before checking a password, refuses the attempt while
    it is above 0, and then reports the outcome with :meth:`failure` or :meth:`success`.

    Parameters
    ----------
    free_failures : int
        Failures of one client on one name within the window before delays start (default
        5, the ``login_max_failures`` setting). A client has ``2 * free_failures`` across all
        names, a name ``4 * free_failures`` from all clients.
    base_delay_seconds : float
        The first delay, doubled by each further failure (default 1 s).
    max_delay_seconds : float
        The longest delay for a pair or a client (default 300 s, the
        ``login_lockout_seconds`` setting); a name's delay stops at
        ``min(30 s, max_delay_seconds)``. At least `base_delay_seconds`.
    window_seconds : float
        A key's failures are forgotten once this long has passed after its delay ended
        without a new failure (default 900 s, the ``login_window_seconds`` setting).
    clock : callable
        Returns the time in seconds; ``time.monotonic`` by default (tests pass a fake).
    max_tracked_keys : int
        Most keys each of the three tables holds (default 10 000).

    Raises
    ------
    ValueError
        For a parameter out of range, naming it, what it must be and what it was.
    """

    def __init__(self, *, free_failures: int = 5, base_delay_seconds: float = 1.0,
                 max_delay_seconds: float = 300.0, window_seconds: float = 900.0,
                 clock: Callable[[], float] = time.monotonic, max_tracked_keys: int = 10_000):
        self.free_failures = _integer(free_failures, parameter="free_failures", low=1)
        self.base_delay_seconds = _number(base_delay_seconds, parameter="base_delay_seconds",
                                          low=0.0)
        self.max_delay_seconds = _number(max_delay_seconds, parameter="max_delay_seconds",
                                         low=self.base_delay_seconds, inclusive=True)
        self.window_seconds = _number(window_seconds, parameter="window_seconds", low=0.0)
        self.max_tracked_keys = _integer(max_tracked_keys, parameter="max_tracked_keys", low=1)
        if not callable(clock):
            raise ValueError(f"The 'clock' parameter of LoginThrottle must be a callable "
                             f"returning seconds. Got {clock!r} instead.")
        self._clock = clock
        self._lock = threading.Lock()
        common = dict(base=self.base_delay_seconds, window=self.window_seconds,
                      max_keys=self.max_tracked_keys)
        self._pairs = _Table(free=self.free_failures, cap=self.max_delay_seconds, **common)
        self._clients = _Table(free=_CLIENT_FREE_FACTOR * self.free_failures,
                               cap=self.max_delay_seconds, **common)
        self._names = _Table(free=_NAME_FREE_FACTOR * self.free_failures,
                             cap=max(self.base_delay_seconds,
                                     min(NAME_DELAY_CAP_SECONDS, self.max_delay_seconds)),
                             **common)

    @classmethod
    def from_config(cls, *, clock: Callable[[], float] = time.monotonic) -> "LoginThrottle":
        """A throttle from the settings of ``config/settings.toml``.

        Parameters
        ----------
        clock : callable
            Returns the time in seconds; ``time.monotonic`` by default.

        Returns
        -------
        LoginThrottle
            With `free_failures` from ``login_max_failures``, `max_delay_seconds` from
            ``login_lockout_seconds`` and `window_seconds` from ``login_window_seconds``.
        """
        from config import get_config

        config = get_config()
        return cls(free_failures=int(config.setting("login_max_failures").default),
                   max_delay_seconds=float(config.setting("login_lockout_seconds").default),
                   window_seconds=float(config.setting("login_window_seconds").default),
                   clock=clock)

    # -- public API ---------------------------------------------------------------------------

    def retry_after(self, client: str | None, name: str) -> float:
        """Seconds to wait before `client` may try to sign in as `name`; 0.0 means now.

        Parameters
        ----------
        client : str or None
            Who is trying (e.g. the remote address); None or ``""`` is ``"unknown"``.
        name : str
            The user name typed (case-folded).

        Returns
        -------
        float
            The largest of the pair's, the client's and the name's remaining delays.
        """
        pair, client_key, name_key = self._keys(client, name)
        with self._lock:
            now = self._clock()
            return max(self._pairs.wait(pair, now), self._clients.wait(client_key, now),
                       self._names.wait(name_key, now))

    def failure(self, client: str | None, name: str) -> None:
        """Count a failed login of `client` as `name` in all three tables.

        Parameters
        ----------
        client : str or None
            Who tried; None or ``""`` is ``"unknown"``.
        name : str
            The user name typed (case-folded), valid or not.
        """
        pair, client_key, name_key = self._keys(client, name)
        with self._lock:
            now = self._clock()
            self._pairs.add(pair, now)
            self._clients.add(client_key, now, tag=name_key)
            self._names.add(name_key, now)

    def success(self, client: str | None, name: str) -> None:
        """Forget the pair's and the name's failures after a successful login.

        The client's failures on this name are forgotten too; those on other names still
        count.

        Parameters
        ----------
        client : str or None
            Who signed in; None or ``""`` is ``"unknown"``.
        name : str
            The user name (case-folded).
        """
        pair, client_key, name_key = self._keys(client, name)
        with self._lock:
            self._pairs.clear(pair)
            self._names.clear(name_key)
            self._clients.discard_tag(client_key, name_key)

    @property
    def tracked_keys(self) -> int:
        """How many keys the three tables hold together (at most ``3 * max_tracked_keys``)."""
        with self._lock:
            return (len(self._pairs.entries) + len(self._clients.entries)
                    + len(self._names.entries))

    # -- private steps ------------------------------------------------------------------------

    @staticmethod
    def _keys(client: str | None, name: str) -> tuple[tuple[str, str], str, str]:
        require_str(client, "client of a login", none_ok=True)
        require_str(name, "user name of a login")
        client_key = _bounded(client or UNKNOWN_CLIENT)
        name_key = _bounded(name.casefold())
        return (client_key, name_key), client_key, name_key
