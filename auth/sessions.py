"""Signed sign-in tokens, so that reloading the page does not sign a user out.

A token is ``base64url(json({"u": name, "exp": unix time})) + "." + HMAC-SHA256`` under a
random secret kept beside the incident store (mode 0600). The dashboard stores it in a
``SameSite=Strict`` cookie; the user's role is looked up afresh in the users file each time,
so removing a user or changing their role takes effect on their next page load.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path

COOKIE_NAME = "humber_session"
DEFAULT_TTL_SECONDS = 8 * 3600


def load_secret(path: str | Path) -> bytes:
    """The signing secret at `path`, created (32 random bytes, mode 0600) if missing."""
    path = Path(path)
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_bytes(32)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secret.hex())
        return secret
    except (ValueError, FileExistsError):
        return load_secret(path) if path.exists() else secrets.token_bytes(32)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    """Issue and check signed sign-in tokens.

    Parameters
    ----------
    secret : bytes
        At least 16 bytes.
    ttl_seconds : float, default 8 hours
        How long a token stays valid.
    clock : callable, default time.time
    """

    def __init__(self, secret: bytes, *, ttl_seconds: float = DEFAULT_TTL_SECONDS,
                 clock=time.time):
        if not isinstance(secret, bytes) or len(secret) < 16:
            raise ValueError("The 'secret' of SessionSigner must be at least 16 bytes.")
        if ttl_seconds <= 0:
            raise ValueError(f"The 'ttl_seconds' must be > 0. Got {ttl_seconds!r} instead.")
        self._secret = secret
        self.ttl_seconds = float(ttl_seconds)
        self._clock = clock

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, payload.encode("ascii"), hashlib.sha256).digest())

    def issue(self, name: str) -> str:
        """A token for user `name`, valid for :attr:`ttl_seconds`."""
        payload = _b64(json.dumps({"u": name, "exp": int(self._clock() + self.ttl_seconds)},
                                  separators=(",", ":")).encode("utf-8"))
        return f"{payload}.{self._mac(payload)}"

    def verify(self, token: str | None) -> str | None:
        """The user name of a valid, unexpired token; None for anything else."""
        if not isinstance(token, str) or token.count(".") != 1:
            return None
        payload, mac = token.split(".")
        if not hmac.compare_digest(mac, self._mac(payload)):
            return None
        try:
            data = json.loads(_unb64(payload))
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("u"), str) \
                or not isinstance(data.get("exp"), int) or data["exp"] < self._clock():
            return None
        return data["u"]
