"""The append-only audit log."""

import datetime as dt
import json
import os
import stat

import pytest

from auth.audit import AuditLog, default_audit_path


def test_records_accumulate_across_instances_and_the_file_only_grows(tmp_path):
    path = tmp_path / "logs" / "audit.jsonl"
    AuditLog(path).record("login", user="alice", role="analyst")
    first = path.read_bytes()
    AuditLog(path).record("export", user="alice", role="analyst", what="lsoa table", rows=12,
                          area="E06000010", months=3)
    second = path.read_bytes()
    AuditLog(path).record("login_failed", user="mallory", what="wrong username or password")
    third = path.read_bytes()
    assert second.startswith(first) and len(second) > len(first)
    assert third.startswith(second) and len(third) > len(second)
    records = AuditLog(path).read()
    assert [r["event"] for r in records] == ["login", "export", "login_failed"]  # newest last
    assert records[1] == {"at": records[1]["at"], "event": "export", "user": "alice",
                          "role": "analyst", "what": "lsoa table", "rows": 12,
                          "area": "E06000010", "months": 3}
    assert records[2]["role"] is None and records[2]["rows"] is None
    at = dt.datetime.fromisoformat(records[0]["at"])
    assert at.utcoffset() == dt.timedelta(0)
    assert len(third.decode().splitlines()) == 3
    assert all(json.loads(line) for line in third.decode().splitlines())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.parametrize("key", ["lon", "lat", "x", "y", "longitude", "Latitude", "location"])
def test_coordinates_are_refused(tmp_path, key):
    log = AuditLog(tmp_path / "audit.jsonl")
    with pytest.raises(ValueError, match="never stores coordinates"):
        log.record("export", user="alice", **{key: 1.5})
    assert log.read() == []


@pytest.mark.parametrize("value", [[1, 2], {"a": 1}, (53.7, -0.3), b"bytes", float("nan")])
def test_non_scalar_details_are_refused(tmp_path, value):
    with pytest.raises(ValueError, match="Audit detail 'extra'"):
        AuditLog(tmp_path / "audit.jsonl").record("ingest", user="admin", extra=value)


def test_unknown_event_and_bad_fields_are_refused(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    with pytest.raises(ValueError, match="'event' of an audit record must be one of"):
        log.record("delete_everything", user="alice")
    with pytest.raises(TypeError, match="'rows'"):
        log.record("export", user="alice", rows="12")
    with pytest.raises(TypeError, match="'user'"):
        log.record("export", user=None)
    with pytest.raises(ValueError, match="clashes"):
        log.record("export", user="alice", at="yesterday")


def test_newlines_in_values_stay_on_one_line(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.record("login_failed", user="evil\n{\"event\": \"login\"}")
    assert len(log.read()) == 1 and log.read()[0]["event"] == "login_failed"


def test_a_torn_last_line_is_skipped_with_a_warning(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.record("logout", user="alice")
    with open(log.path, "ab") as handle:
        handle.write(b'{"at": "2024')
    with pytest.warns(UserWarning, match="unreadable line 2"):
        assert [r["event"] for r in log.read()] == ["logout"]


def test_default_path_is_next_to_the_store(isolated_store):
    assert default_audit_path() == isolated_store / "audit.jsonl"
