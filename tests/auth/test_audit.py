"""The append-only, hash-chained audit log and its verifier."""

import datetime as dt
import hashlib
import json
import multiprocessing
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import auth.audit
from auth.audit import (
    EMPTY_SHA256,
    EVENTS,
    AuditLog,
    VerifyResult,
    default_audit_path,
    head_path,
    main,
    record_digest,
    verify_log,
)

REPO = Path(__file__).resolve().parents[2]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _log_of(tmp_path, count=6, name="audit.jsonl") -> AuditLog:
    log = AuditLog(tmp_path / name)
    for number in range(1, count + 1):
        log.record("login", user=f"user{number}", role="analyst", attempt=number)
    return log


def _lines(log: AuditLog) -> list[bytes]:
    return log.path.read_bytes().splitlines(keepends=True)


def _write_lines(log: AuditLog, lines: list[bytes]) -> None:
    log.path.write_bytes(b"".join(lines))


def _forge(record: dict) -> bytes:
    """A line as a careful forger would write it: the record with a correct own hash."""
    record = {key: value for key, value in record.items() if key != "hash"}
    record["hash"] = record_digest(record)
    return (json.dumps(record) + "\n").encode()


def _problem(log: AuditLog) -> tuple[int | None, str]:
    result = verify_log(log.path)
    assert not result.ok
    return result.first_bad_line, result.problem


# -- recording ---------------------------------------------------------------------------------

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
    assert records[1] == {"seq": 2, "at": records[1]["at"], "event": "export", "user": "alice",
                          "role": "analyst", "what": "lsoa table", "rows": 12,
                          "area": "E06000010", "months": 3}
    assert records[2]["role"] is None and records[2]["rows"] is None
    at = dt.datetime.fromisoformat(records[0]["at"])
    assert at.utcoffset() == dt.timedelta(0)
    assert len(third.decode().splitlines()) == 3
    assert all(json.loads(line) for line in third.decode().splitlines())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(head_path(path)).st_mode) == 0o600


def test_each_line_chains_to_the_bytes_of_the_line_before_and_hashes_itself(tmp_path):
    log = _log_of(tmp_path, count=3)
    lines = _lines(log)
    records = log.read(chain_fields=True)
    assert [r["seq"] for r in records] == [1, 2, 3]
    assert records[0]["prev"] == EMPTY_SHA256 == _sha(b"")
    assert records[1]["prev"] == _sha(lines[0]) and records[2]["prev"] == _sha(lines[1])
    for record in records:
        content = {k: v for k, v in record.items() if k != "hash"}
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
        assert record["hash"] == _sha(canonical.encode())
    head = json.loads(head_path(log.path).read_text())
    assert head == {"seq": 3, "offset": len(lines[0]) + len(lines[1]),
                    "size": len(b"".join(lines)), "line_sha256": _sha(lines[2])}
    # read() hides the digests by default: the Data page shows seq, not 64-character hashes
    assert set(log.read()[0]) == {"seq", "at", "event", "user", "role", "what", "rows",
                                  "attempt"}


def test_appending_reads_only_the_end_of_the_file(tmp_path, monkeypatch):
    log = AuditLog(tmp_path / "audit.jsonl")
    legacy = b"".join(b'{"at": "2023-01-01", "event": "login", "user": "u%06d"}\n' % number
                      for number in range(20000))  # ~1 MB written before the chain
    log.path.write_bytes(legacy)
    log.record("login", user="first")  # numbers and digests the legacy part: reads it once
    read = []
    real_pread = os.pread
    monkeypatch.setattr(auth.audit.os, "pread",
                        lambda fd, n, offset: read.append(n) or real_pread(fd, n, offset))
    log.record("logout", user="first")
    assert 0 < sum(read) <= 3 * 4096
    assert log.read()[-1]["seq"] == 20002 and verify_log(log.path).ok


@pytest.mark.parametrize("event", ["session_revoked", "password_changed", "access_denied"])
def test_new_events_are_accepted(tmp_path, event):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.record(event, user="admin", role="admin", what="alice")
    assert log.read()[0]["event"] == event and event in EVENTS


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
    for key in ("seq", "prev", "hash", "legacy", "head_mismatch"):
        with pytest.raises(ValueError, match=f"Detail '{key}' clashes"):
            log.record("export", user="alice", **{key: "forged"})
    with pytest.raises(TypeError, match="'path' of AuditLog must be a str or Path. Got int"):
        AuditLog(3)
    with pytest.raises(TypeError, match="'chain_fields' of AuditLog.read must be a bool"):
        log.read(chain_fields="yes")
    with pytest.raises(TypeError, match="'path' of verify_log must be a str or Path"):
        verify_log(None)
    with pytest.raises(TypeError, match="record_digest expects a dict. Got list"):
        record_digest([])
    assert not log.path.exists()


def test_newlines_in_values_stay_on_one_line(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.record("login_failed", user="evil\n{\"event\": \"login\"}")
    assert len(log.read()) == 1 and log.read()[0]["event"] == "login_failed"
    assert verify_log(log.path).lines == 1


def test_a_torn_last_line_is_skipped_with_a_warning_and_reported(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.record("logout", user="alice")
    with open(log.path, "ab") as handle:
        handle.write(b'{"at": "2024')
    with pytest.warns(UserWarning, match="unreadable line 2"):
        assert [r["event"] for r in log.read()] == ["logout"]
    assert _problem(log) == (2, "line 2 is incomplete: the log does not end with a newline (a "
                                "write cut short, or an edit)")
    log.record("login", user="alice")  # ends the torn line, and chains over it
    assert _lines(log)[1] == b'{"at": "2024\n'
    with pytest.warns(UserWarning, match="unreadable line 2"):
        assert [r["seq"] for r in log.read()] == [1, 3]
    with pytest.warns(UserWarning, match="unreadable line 2"):
        assert log.read(chain_fields=True)[1]["prev"] == _sha(b'{"at": "2024\n')
    line, problem = _problem(log)
    assert line == 2 and problem.startswith("line 2 was changed: it is not a JSON record")


# -- verifying -----------------------------------------------------------------------------------

def test_an_intact_log_verifies(tmp_path):
    log = _log_of(tmp_path, count=6)
    assert verify_log(log.path) == VerifyResult(ok=True, lines=6, first_bad_line=None,
                                                problem="", legacy_lines=0)
    assert log.verify().summary() == "audit log OK: 6 lines, chain intact"
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert verify_log(empty).summary() == "audit log OK: empty"


@pytest.mark.parametrize("k", [1, 3, 6])
def test_editing_a_field_of_line_k_names_line_k(tmp_path, k):
    log = _log_of(tmp_path)
    lines = _lines(log)
    lines[k - 1] = lines[k - 1].replace(b'"user%d"' % k, b'"mallory"')
    _write_lines(log, lines)
    assert _problem(log) == (k, f"line {k} was changed: its hash does not match its content")


def test_an_edit_with_a_recomputed_hash_is_named_by_the_next_line(tmp_path):
    log = _log_of(tmp_path)
    lines = _lines(log)
    record = json.loads(lines[2])
    lines[2] = _forge({**record, "user": "mallory"})
    _write_lines(log, lines)
    assert _problem(log) == (3, "line 3 was changed: it no longer matches the prev recorded by "
                                "line 4")


def test_replacing_the_last_line_with_a_recomputed_hash_is_caught_by_the_head_file(tmp_path):
    log = _log_of(tmp_path)
    lines = _lines(log)
    lines[5] = _forge({**json.loads(lines[5]), "user": "mallory"})
    _write_lines(log, lines)
    assert _problem(log) == (6, "line 6 was changed: it does not match the hash the head file "
                                "holds for it")


@pytest.mark.parametrize("k, message", [
    (3, "a line was removed before line 3: seq jumps from 2 to 4"),
    (1, "a line was removed before line 1: the chain starts at seq 2, so 1 line should come "
        "before it, the log has 0"),
])
def test_deleting_line_k_is_reported(tmp_path, k, message):
    log = _log_of(tmp_path)
    lines = _lines(log)
    del lines[k - 1]
    _write_lines(log, lines)
    assert _problem(log) == (k, message)


def test_deleting_several_lines_counts_them(tmp_path):
    log = _log_of(tmp_path)
    lines = _lines(log)
    del lines[1:4]
    _write_lines(log, lines)
    assert _problem(log) == (2, "3 lines were removed before line 2: seq jumps from 1 to 5")


def test_inserting_a_forged_line_with_a_correct_hash_is_reported(tmp_path):
    log = _log_of(tmp_path)
    lines = _lines(log)
    forged = _forge({"seq": 3, "at": "2024-01-01T00:00:00.000+00:00", "event": "login",
                     "user": "mallory", "role": "admin", "what": "", "rows": None,
                     "prev": _sha(lines[1])})
    lines.insert(2, forged)
    _write_lines(log, lines)
    assert _problem(log) == (3, "line 3 was inserted: line 4 chains to line 2")


def test_inserting_a_forged_line_with_a_plausible_but_wrong_hash_is_reported(tmp_path):
    log = _log_of(tmp_path)
    lines = _lines(log)
    forged = json.loads(lines[2])
    forged["user"] = "mallory"  # a copy of line 3, keeping line 3's seq, prev and hash
    lines.insert(3, (json.dumps(forged) + "\n").encode())
    _write_lines(log, lines)
    assert _problem(log) == (4, "line 4 was inserted: its hash does not match its content and "
                                "line 5 chains to the line before it")


@pytest.mark.parametrize("where, message", [
    (2, "line 3 was inserted: it is not a chained record and line 4 chains to the line before "
        "it"),
    (0, "line 1 was inserted: line 2 starts the chain at seq 1, after 0 legacy lines"),
])
def test_inserting_a_line_without_chain_fields_is_reported(tmp_path, where, message):
    log = _log_of(tmp_path)
    lines = _lines(log)
    lines.insert(where, b'{"at": "2024-01-01", "event": "login", "user": "mallory"}\n')
    _write_lines(log, lines)
    assert _problem(log) == (where + 1, message)


def test_a_chained_line_forged_at_the_start_is_reported(tmp_path):
    log = _log_of(tmp_path)
    lines = _lines(log)
    lines.insert(0, _forge({"seq": 1, "at": "2024-01-01T00:00:00.000+00:00", "event": "login",
                            "user": "mallory", "role": "admin", "what": "", "rows": None,
                            "prev": EMPTY_SHA256}))
    _write_lines(log, lines)
    assert _problem(log) == (1, "line 1 was inserted: line 2 chains to the start of the log")


def test_truncating_the_tail_is_reported_and_stays_visible_after_new_records(tmp_path):
    log = _log_of(tmp_path)
    _write_lines(log, _lines(log)[:4])
    assert verify_log(log.path) == VerifyResult(
        ok=False, lines=4, first_bad_line=5, legacy_lines=0,
        problem="lines were removed from the end: the head file says 6 lines, the log has 4")
    log.record("login", user="alice")  # the next record notices, and says so in the chain
    assert log.read()[-1]["head_mismatch"].startswith("the head file said 6 lines")
    line, problem = _problem(log)
    assert line == 5 and problem.startswith(
        "the end of the log had been cut or changed when line 5 was written: the head file "
        "said 6 lines")


def test_a_missing_or_corrupt_head_file_is_reported(tmp_path):
    log = _log_of(tmp_path)
    head_path(log.path).write_text("{}")
    line, problem = _problem(log)
    assert line is None and problem.startswith(f"the head file {head_path(log.path)} is corrupt")
    head_path(log.path).unlink()
    assert _problem(log) == (None, "the head file audit.jsonl.head is missing, so lines removed "
                                   "from the end cannot be ruled out")


def test_a_line_appended_behind_the_logs_back_is_reported(tmp_path):
    log = _log_of(tmp_path)
    lines = _lines(log)
    lines.append(_forge({"seq": 7, "at": "2024-01-01T00:00:00.000+00:00", "event": "login",
                         "user": "mallory", "role": "admin", "what": "", "rows": None,
                         "prev": _sha(lines[-1])}))
    _write_lines(log, lines)
    line, problem = _problem(log)
    assert line == 7 and problem.startswith("line 7 was appended behind the log's back: the "
                                            "head file says 6 lines, the log has 7")


LEGACY = [b'{"at": "2023-05-01T09:00:00.000+00:00", "event": "login", "user": "alice", '
          b'"role": "analyst", "what": "", "rows": null}\n',
          b'{"at": "2023-05-01T17:00:00.000+00:00", "event": "logout", "user": "alice", '
          b'"role": "analyst", "what": "", "rows": null}\n']


def test_legacy_lines_at_the_start_verify_and_are_covered_by_the_chain(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.path.write_bytes(b"".join(LEGACY))
    assert verify_log(log.path).summary() == ("audit log OK: 2 lines, all written before the "
                                              "hash chain existed, so none of them can be "
                                              "verified yet")
    log.record("login", user="bob")
    log.record("logout", user="bob")
    first = log.read(chain_fields=True)[2]
    assert first["seq"] == 3 and first["prev"] == _sha(LEGACY[1])
    assert first["legacy"] == _sha(b"".join(LEGACY))
    assert verify_log(log.path) == VerifyResult(ok=True, lines=4, first_bad_line=None,
                                                problem="", legacy_lines=2)
    assert verify_log(log.path).summary() == ("audit log OK: 4 lines, chain intact (2 legacy "
                                              "lines before the chain)")
    assert main(["verify", str(log.path)]) == 0


@pytest.mark.parametrize("k", [1, 2])
def test_editing_a_legacy_line_is_detected(tmp_path, k):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.path.write_bytes(b"".join(LEGACY))
    log.record("login", user="bob")
    lines = _lines(log)
    lines[k - 1] = lines[k - 1].replace(b"alice", b"carol")
    _write_lines(log, lines)
    assert _problem(log) == (None, "one of lines 1-2 (written before the chain) was changed: "
                                   "their digest does not match the one recorded by line 3")


def test_deleting_a_legacy_line_is_detected(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.path.write_bytes(b"".join(LEGACY))
    log.record("login", user="bob")
    _write_lines(log, _lines(log)[1:])
    assert _problem(log) == (2, "a line was removed before line 2: the chain starts at seq 3, "
                                "so 2 lines should come before it, the log has 1")


def _append_many(path: str, who: str, count: int, start) -> None:
    start.wait()
    log = AuditLog(path)
    for number in range(count):
        log.record("export", user=who, what="lsoa table", rows=number)


def test_two_processes_appending_at_once_give_a_log_that_verifies(tmp_path):
    path = str(tmp_path / "audit.jsonl")
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [context.Process(target=_append_many, args=(path, who, 200, start))
               for who in ("dashboard", "cli")]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    assert verify_log(path) == VerifyResult(ok=True, lines=400, first_bad_line=None,
                                            problem="", legacy_lines=0)
    records = AuditLog(path).read()
    assert [r["seq"] for r in records] == list(range(1, 401))
    for who in ("dashboard", "cli"):
        assert [r["rows"] for r in records if r["user"] == who] == list(range(200))
    assert json.loads(head_path(path).read_text())["seq"] == 400


def test_threads_appending_at_once_give_a_log_that_verifies(tmp_path):
    path = tmp_path / "audit.jsonl"
    start = threading.Event()
    threads = [threading.Thread(target=_append_many, args=(path, f"t{n}", 50, start))
               for n in range(4)]
    for thread in threads:
        thread.start()
    start.set()
    for thread in threads:
        thread.join()
    assert verify_log(path).ok and verify_log(path).lines == 200


# -- command line --------------------------------------------------------------------------------

def test_the_command_line_exits_0_1_and_2(tmp_path, capsys):
    log = _log_of(tmp_path, count=3)
    assert main(["verify", str(log.path)]) == 0
    assert capsys.readouterr().out == "audit log OK: 3 lines, chain intact\n"
    lines = _lines(log)
    lines[1] = lines[1].replace(b"user2", b"eve")
    _write_lines(log, lines)
    assert main(["verify", str(log.path)]) == 1
    assert capsys.readouterr().out == ("audit log NOT OK: line 2 was changed: its hash does not "
                                       "match its content\n")
    assert main(["verify", str(tmp_path / "missing.jsonl")]) == 2
    assert "error: cannot read the audit log" in capsys.readouterr().err
    assert main(["verify", str(tmp_path)]) == 2  # a folder
    assert main([]) == 2
    assert "usage: python -m auth.audit" in capsys.readouterr().err
    assert main(["verify", "a", "b"]) == 2
    assert main(["check"]) == 2


def test_the_command_line_defaults_to_the_stores_log(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HUMBER_DATA_DIR", str(tmp_path))
    _log_of(tmp_path, count=2)
    assert main(["verify"]) == 0
    assert capsys.readouterr().out == "audit log OK: 2 lines, chain intact\n"


def test_python_m_auth_audit_verify(tmp_path):
    log = _log_of(tmp_path, count=4)
    command = [sys.executable, "-m", "auth.audit", "verify", str(log.path)]
    intact = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert (intact.returncode, intact.stdout, intact.stderr) == (
        0, "audit log OK: 4 lines, chain intact\n", "")
    _write_lines(log, _lines(log)[:3])
    cut = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert (cut.returncode, cut.stdout) == (
        1, "audit log NOT OK: lines were removed from the end: the head file says 4 lines, the "
           "log has 3\n")


def test_default_path_is_next_to_the_store(isolated_store):
    assert default_audit_path() == isolated_store / "audit.jsonl"
