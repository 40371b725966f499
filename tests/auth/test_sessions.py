"""Server-side sessions: issue, touch, expire, revoke, survive a restart, store only hashes."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import threading

import pytest

from auth.sessions import (
    CHANGED,
    EXPIRED,
    IDLE,
    MISSING,
    UNKNOWN,
    SessionStore,
    is_token,
    load_secret,
)


class Clock:
    def __init__(self):
        self.now = 1_700_000_000.0

    def __call__(self):
        return self.now


class Users:
    """A stand-in for UserStore.fingerprint."""

    def __init__(self, **fingerprints):
        self.fingerprints = dict(fingerprints)

    def fingerprint(self, name):
        return self.fingerprints.get(name)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def path(tmp_path):
    return tmp_path / "store" / "sessions.sqlite"


def _store(path, clock, **kwargs):
    return SessionStore(path, idle_seconds=kwargs.pop("idle", 1800),
                        max_seconds=kwargs.pop("max", 8 * 3600), clock=clock, **kwargs)


def test_a_session_is_issued_checked_and_touched(path, clock):
    store = _store(path, clock)
    users = Users(ana="fp-1")
    session_id = store.create("ana", "fp-1")
    assert is_token(session_id)
    clock.now += 60
    check = store.check(session_id, users.fingerprint)
    assert check.ok and check.reason == "" and check.user == "ana"
    assert check.session.created == clock.now - 60 and check.session.last_seen == clock.now


def test_idle_timeout_is_reset_by_activity(path, clock):
    store = _store(path, clock, idle=600)
    users = Users(ana="fp")
    session_id = store.create("ana", "fp")
    for _ in range(5):  # active every 9 minutes: stays signed in past the idle timeout
        clock.now += 540
        assert store.check(session_id, users.fingerprint).ok
    clock.now += 601
    check = store.check(session_id, users.fingerprint)
    assert not check.ok and check.reason == IDLE and check.user == "ana" and check.ended_now
    assert store.check(session_id, users.fingerprint).reason == UNKNOWN  # gone for good


def test_a_check_without_touch_does_not_count_as_activity(path, clock):
    store = _store(path, clock, idle=600)
    session_id = store.create("ana", "fp")
    clock.now += 500
    assert store.check(session_id, Users(ana="fp").fingerprint, touch=False).ok
    clock.now += 200
    assert store.check(session_id, Users(ana="fp").fingerprint).reason == IDLE


def test_absolute_lifetime_ends_even_an_active_session(path, clock):
    store = _store(path, clock, idle=1800, max=3600)
    users = Users(ana="fp")
    session_id = store.create("ana", "fp")
    for _ in range(6):
        clock.now += 600
        assert store.check(session_id, users.fingerprint).ok
    clock.now += 1
    assert store.check(session_id, users.fingerprint).reason == EXPIRED


def test_logout_revokes_and_a_replayed_id_is_refused(path, clock):
    store = _store(path, clock)
    users = Users(ana="fp")
    session_id = store.create("ana", "fp")
    other = store.create("ana", "fp")  # the same user in another browser
    ended = store.revoke(session_id)
    assert ended.user == "ana"
    assert store.check(session_id, users.fingerprint).reason == UNKNOWN
    assert not store.check(session_id, users.fingerprint).ended_now  # nothing more to audit
    assert store.check(other, users.fingerprint).ok  # only that session ended
    assert store.revoke(session_id) is None


def test_a_changed_fingerprint_ends_every_session_of_the_user(path, clock):
    store = _store(path, clock)
    users = Users(ana="old", bob="b")
    first, second = store.create("ana", "old"), store.create("ana", "old")
    bobs = store.create("bob", "b")
    users.fingerprints["ana"] = "new"  # new password, new role, or removed and added again
    assert store.check(first, users.fingerprint).reason == CHANGED
    assert store.check(second, users.fingerprint).reason == CHANGED
    assert store.check(bobs, users.fingerprint).ok
    del users.fingerprints["bob"]  # removed
    assert store.check(bobs, users.fingerprint).reason == CHANGED


def test_revoke_user_ends_all_their_sessions_case_insensitively(path, clock):
    store = _store(path, clock)
    ids = [store.create("Ana", "fp") for _ in range(3)]
    keep = store.create("bob", "fp")
    assert store.sessions_of("ana") == 3
    assert store.revoke_user("ana") == 3
    assert all(store.check(i, Users(Ana="fp").fingerprint).reason == UNKNOWN for i in ids)
    assert store.check(keep, Users(bob="fp").fingerprint).ok


def test_sessions_and_revocations_survive_a_restart(path, clock):
    store = _store(path, clock)
    users = Users(ana="fp")
    kept, ended = store.create("ana", "fp"), store.create("ana", "fp")
    store.revoke(ended)
    restarted = _store(path, clock)  # a new process: a new object on the same file
    assert restarted.check(kept, users.fingerprint).ok
    assert restarted.check(ended, users.fingerprint).reason == UNKNOWN


def test_only_hashes_of_ids_and_tickets_are_stored(path, clock):
    store = _store(path, clock)
    session_id = store.create("ana", "fp")
    ticket = store.issue_ticket(session_id)
    raw = path.read_bytes()
    assert session_id.encode() not in raw and ticket.encode() not in raw
    with sqlite3.connect(path) as connection:
        stored = {row[0] for row in connection.execute("SELECT id_hash FROM sessions")}
        sealed = connection.execute("SELECT sealed FROM tickets").fetchone()[0]
    assert stored == {hashlib.sha256(session_id.encode()).hexdigest()}
    assert session_id.encode() not in bytes(sealed)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_ticket_works_once_and_only_briefly(path, clock):
    store = _store(path, clock, ticket_seconds=60)
    session_id = store.create("ana", "fp")
    ticket = store.issue_ticket(session_id)
    assert store.redeem_ticket(ticket) == session_id
    assert store.redeem_ticket(ticket) is None  # single use
    late = store.issue_ticket(session_id)
    clock.now += 61
    assert store.redeem_ticket(late) is None  # too late
    for junk in (None, "", "x" * 43, "not a ticket", 42, session_id):
        assert store.redeem_ticket(junk) is None


def test_forged_or_malformed_ids_are_refused(path, clock):
    store = _store(path, clock)
    users = Users(ana="fp")
    store.create("ana", "fp")
    assert store.check(None, users.fingerprint).reason == MISSING
    for junk in ("abc", "a" * 43, "'; DROP TABLE sessions; --", "a" * 10_000, 42):
        assert store.check(junk, users.fingerprint).reason == UNKNOWN


def test_purge_drops_sessions_past_their_lifetime(path, clock):
    store = _store(path, clock, idle=60, max=3600)
    old = store.create("ana", "fp")
    clock.now += 2 * 3600 + 1
    store.create("bob", "fp")  # creating purges
    assert store.sessions_of("ana") == 0 and store.sessions_of("bob") == 1
    assert store.check(old, Users(ana="fp").fingerprint).reason == UNKNOWN


def test_settings_give_the_timeouts(path):
    store = SessionStore.from_config(path)
    assert (store.idle_seconds, store.max_seconds) == (30 * 60.0, 8 * 3600.0)


def test_several_threads_share_the_store(path, clock):
    store = _store(path, clock)
    users = Users(ana="fp")
    ids, errors = [], []

    def work():
        try:
            for _ in range(20):
                session_id = store.create("ana", "fp")
                ids.append(session_id)
                assert SessionStore(path, clock=clock).check(session_id, users.fingerprint).ok
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(set(ids)) == 80 and store.sessions_of("ana") == 80


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"idle_seconds": 0}, "'idle_seconds'"), ({"max_seconds": -1}, "'max_seconds'"),
    ({"ticket_seconds": float("inf")}, "'ticket_seconds'"), ({"idle_seconds": True}, "idle"),
    ({"clock": 5}, "'clock'")])
def test_bad_parameters_are_refused(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        SessionStore(tmp_path / "s.sqlite", **kwargs)
    with pytest.raises(TypeError, match="'path' of SessionStore"):
        SessionStore(42)


def test_bad_session_values_are_refused(path, clock):
    store = _store(path, clock)
    with pytest.raises(ValueError, match="'user' of a new session"):
        store.create("", "fp")
    with pytest.raises(ValueError, match="'fingerprint' of a new session"):
        store.create("ana", None)
    with pytest.raises(ValueError, match="session id"):
        store.issue_ticket("nope")


def test_secret_is_created_once_with_private_permissions(tmp_path):
    path = tmp_path / "store" / ".secret"
    first = load_secret(path)
    assert len(first) == 32 and load_secret(path) == first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
