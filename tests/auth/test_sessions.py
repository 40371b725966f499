"""Signed sign-in tokens."""

from __future__ import annotations

import os
import stat

import pytest

from auth.sessions import SessionSigner, load_secret


class Clock:
    def __init__(self):
        self.now = 1_700_000_000.0

    def __call__(self):
        return self.now


def test_tokens_round_trip_and_expire():
    clock = Clock()
    signer = SessionSigner(b"k" * 32, ttl_seconds=60, clock=clock)
    token = signer.issue("alice@example.org")
    assert signer.verify(token) == "alice@example.org"
    clock.now += 61
    assert signer.verify(token) is None


def test_tampered_or_foreign_tokens_are_refused():
    signer = SessionSigner(b"k" * 32)
    token = signer.issue("alice")
    payload, mac = token.split(".")
    forged = SessionSigner(b"x" * 32).issue("admin")
    assert signer.verify(forged) is None
    assert signer.verify(payload + "." + mac[::-1]) is None
    assert signer.verify(forged.split(".")[0] + "." + mac) is None
    for junk in (None, "", "abc", "a.b.c", 42):
        assert signer.verify(junk) is None


def test_secret_is_created_once_with_private_permissions(tmp_path):
    path = tmp_path / "store" / ".session_secret"
    first = load_secret(path)
    assert len(first) == 32 and load_secret(path) == first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="at least 16 bytes"):
        SessionSigner(b"short")
    with pytest.raises(ValueError, match="'ttl_seconds' must be > 0"):
        SessionSigner(b"k" * 32, ttl_seconds=0)
