"""Failed-login counting and lockout, per user name."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable


class LoginLimiter:
    """Lock a user name after too many failed logins.

    After `max_failures` failures within `lockout_seconds`, the name is locked for
    `lockout_seconds`. Names are counted lower-cased. Thread-safe.

    Parameters
    ----------
    max_failures : int
        Failures allowed within the window before the lock (default 5, the
        ``login_max_failures`` setting).
    lockout_seconds : float
        The counting window and the lock's length, in seconds (default 300, the
        ``login_lockout_seconds`` setting).
    clock : callable
        Returns the time in seconds; ``time.monotonic`` by default (tests pass a fake).
    """

    _PRUNE_ABOVE = 10_000  # names tracked before stale entries are dropped

    def __init__(self, *, max_failures: int = 5, lockout_seconds: float = 300.0,
                 clock: Callable[[], float] = time.monotonic):
        if isinstance(max_failures, bool) or not isinstance(max_failures, int) or max_failures < 1:
            raise ValueError(f"The 'max_failures' parameter of LoginLimiter must be an int of at "
                             f"least 1. Got {max_failures!r} instead.")
        if isinstance(lockout_seconds, bool) or not isinstance(lockout_seconds, (int, float)) \
                or not lockout_seconds > 0:
            raise ValueError(f"The 'lockout_seconds' parameter of LoginLimiter must be a number "
                             f"greater than 0. Got {lockout_seconds!r} instead.")
        self.max_failures = max_failures
        self.lockout_seconds = float(lockout_seconds)
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}

    @classmethod
    def from_config(cls, *, clock: Callable[[], float] = time.monotonic) -> "LoginLimiter":
        """A limiter with the ``login_max_failures`` and ``login_lockout_seconds`` settings."""
        from config import get_config

        config = get_config()
        return cls(max_failures=int(config.setting("login_max_failures").default),
                   lockout_seconds=float(config.setting("login_lockout_seconds").default),
                   clock=clock)

    @staticmethod
    def _key(name: str) -> str:
        return str(name).lower()

    def allowed(self, name: str) -> bool:
        """True unless `name` is locked now."""
        return self.retry_after(name) == 0.0

    def retry_after(self, name: str) -> float:
        """Seconds until `name` may try again; 0.0 if it may now."""
        with self._lock:
            until = self._locked_until.get(self._key(name))
            if until is None:
                return 0.0
            remaining = until - self._clock()
            return remaining if remaining > 0 else 0.0

    def failure(self, name: str) -> None:
        """Count a failed login for `name`; lock it at the `max_failures`-th in the window."""
        key = self._key(name)
        with self._lock:
            now = self._clock()
            if self._locked_until.get(key, -float("inf")) > now:
                return  # already locked: the lock does not grow
            self._locked_until.pop(key, None)
            window = self._failures.setdefault(key, deque())
            window.append(now)
            while window and window[0] <= now - self.lockout_seconds:
                window.popleft()
            if len(window) >= self.max_failures:
                self._locked_until[key] = now + self.lockout_seconds
                del self._failures[key]
            if len(self._failures) + len(self._locked_until) > self._PRUNE_ABOVE:
                self._prune(now)

    def success(self, name: str) -> None:
        """Forget the failures of `name` after a successful login."""
        key = self._key(name)
        with self._lock:
            self._failures.pop(key, None)
            self._locked_until.pop(key, None)

    def _prune(self, now: float) -> None:
        for key in [k for k, until in self._locked_until.items() if until <= now]:
            del self._locked_until[key]
        for key in [k for k, w in self._failures.items()
                    if not w or w[-1] <= now - self.lockout_seconds]:
            del self._failures[key]
