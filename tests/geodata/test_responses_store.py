"""The responses store: validation, history, audit, atomicity and concurrent writers."""

from __future__ import annotations

import multiprocessing
import sqlite3

import pytest
import shapely

from geodata.responses import (
    ResponseConflict,
    ResponseStore,
    ResponseValidationError,
    validate_fields,
)

HULL = "E06000010"
ERY = "E06000011"
SQUARE = shapely.box(507_000, 428_000, 507_400, 428_300)  # central Hull, EPSG:27700


def _values(**changes) -> dict:
    values = {"title": "Patrols on the high street", "type": "patrols",
              "lead_agency": "Humberside Police", "partners": ["Hull City Council"],
              "lad_code": HULL, "start_month": "2024-03", "status": "active",
              "geometry": SQUARE,
              "place": {"kind": "hotspots", "ids": [1], "names": ["Hotspot 1"],
                        "description": "hotspot outline(s) 1 of 2024-01 to 2024-03",
                        "settings": {"bandwidth_m": 150.0}}}
    values.update(changes)
    return values


@pytest.fixture
def store(tmp_path):
    return ResponseStore(tmp_path / "responses.sqlite")


def test_add_get_list_and_history(store):
    audited = []
    added = store.add(_values(), user="alice", audit=audited.append)
    assert added.id == 1 and added.version == 1 and added.created_by == "alice"
    again = store.get(1)
    assert again.title == "Patrols on the high street"
    assert again.partners == ("Hull City Council",)
    assert again.geometry.equals(SQUARE)
    assert again.place["ids"] == [1] and again.place["settings"] == {"bandwidth_m": 150.0}
    assert [r.id for r in store.list(lad_codes=[HULL])] == [1]
    assert store.list(lad_codes=[ERY]) == []
    assert store.list(status="ended") == [] and len(store.list(type="patrols")) == 1
    assert audited == [{"action": "add", "response_id": 1, "lad_code": HULL,
                        "title": "Patrols on the high street",
                        "fields": "title,type,lead_agency,partners,lad_code,start_month,"
                                  "end_month,notes,status,geometry,place", "user": "alice"}]
    history = store.history(1)
    assert len(history) == 1 and history[0]["action"] == "add"
    assert history[0]["changes"]["status"] == [None, "active"]


def test_update_keeps_old_and_new_values_and_audits(store):
    store.add(_values(), user="alice", audit=lambda change: None)
    audited = []
    bigger = shapely.box(507_000, 428_000, 507_600, 428_300)
    updated = store.update(1, {"status": "ended", "end_month": "2024-05", "geometry": bigger,
                               "title": "Patrols on the high street"},  # title unchanged
                           user="bob", audit=audited.append, expected_version=1)
    assert updated.version == 2 and updated.updated_by == "bob" and updated.status == "ended"
    history = store.history(1)
    assert [h["action"] for h in history] == ["add", "update"]
    changes = history[1]["changes"]
    assert history[1]["user"] == "bob"
    assert set(changes) == {"status", "end_month", "geometry"}  # the same title is no change
    assert changes["status"] == ["active", "ended"]
    assert changes["end_month"] == [None, "2024-05"]
    assert shapely.from_wkt(changes["geometry"][0]).equals(SQUARE)
    assert shapely.from_wkt(changes["geometry"][1]).equals(bigger)
    assert audited[0]["action"] == "update" and audited[0]["fields"] == \
        "status,end_month,geometry"
    # nothing changed: no history row, no audit record, same version
    same = store.update(1, {"status": "ended"}, user="bob", audit=audited.append)
    assert same.version == 2 and len(store.history(1)) == 2 and len(audited) == 1


def test_a_stale_edit_is_refused(store):
    store.add(_values(), user="alice", audit=lambda change: None)
    store.update(1, {"notes": "first"}, user="bob", audit=lambda change: None,
                 expected_version=1)
    with pytest.raises(ResponseConflict, match="changed by bob"):
        store.update(1, {"notes": "second"}, user="carol", audit=lambda change: None,
                     expected_version=1)
    assert store.get(1).notes == "first"


def test_a_failing_audit_rolls_the_change_back(store):
    def broken(change):
        raise OSError("audit log not writable")

    with pytest.raises(OSError):
        store.add(_values(), user="alice", audit=broken)
    assert store.list() == []
    store.add(_values(), user="alice", audit=lambda change: None)
    with pytest.raises(OSError):
        store.update(1, {"status": "ended"}, user="bob", audit=broken)
    assert store.get(1).status == "active" and len(store.history(1)) == 1
    with pytest.raises(TypeError, match="every change is audited"):
        store.add(_values(), user="alice", audit=None)


@pytest.mark.parametrize("field, value, expected", [
    ("type", "flowers", "type: expected one of ['patrols'"),
    ("lad_code", "E06000099", "lad_code: expected one of the CSP codes"),
    ("start_month", "2024-13", "start_month: expected a month 'YYYY-MM'; got '2024-13'"),
    ("status", "done", "status: expected one of ['planned', 'active', 'ended']; got 'done'"),
    ("title", "  ", "title: expected non-empty text"),
    ("geometry", shapely.Point(507_000, 428_000), "geometry: expected a Polygon or "
                                                  "MultiPolygon in EPSG:27700; got 'Point'"),
    ("geometry", shapely.box(-0.4, 53.7, -0.3, 53.8), None),  # degrees, not metres
    ("geometry", shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)]), "valid polygon"),
    ("place", {"kind": "postcode", "description": "HU1"}, "place.kind: expected one of"),
])
def test_validation_names_the_field_what_was_expected_and_what_came(store, field, value,
                                                                     expected):
    with pytest.raises(ResponseValidationError) as info:
        store.add(_values(**{field: value}), user="alice", audit=lambda change: None)
    assert info.value.field.split(".")[0] == field
    if expected:
        assert expected in str(info.value)
    assert store.list() == []


def test_end_before_start_and_unknown_fields_are_refused(store):
    with pytest.raises(ResponseValidationError, match="end_month: expected a month on or "
                                                      "after the start month 2024-03"):
        store.add(_values(end_month="2024-01"), user="alice", audit=lambda change: None)
    with pytest.raises(ResponseValidationError, match="colour: expected one of the fields"):
        validate_fields({"colour": "red"}, types=["patrols"], lad_codes=[HULL], partial=True)
    with pytest.raises(ResponseValidationError, match="title: expected a value"):
        store.add({k: v for k, v in _values().items() if k != "title"}, user="alice",
                  audit=lambda change: None)


def _add_many(path: str, user: str, count: int, start, results) -> None:
    store = ResponseStore(path)
    start.wait()
    ids = [store.add(_values(title=f"{user} {i}"), user=user, audit=lambda change: None).id
           for i in range(count)]
    results.put(ids)


def test_two_processes_adding_at_once_lose_nothing(tmp_path):
    path = str(tmp_path / "responses.sqlite")
    ResponseStore(path)
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    results = context.Queue()
    workers = [context.Process(target=_add_many, args=(path, user, 25, start, results))
               for user in ("alice", "bob")]
    for worker in workers:
        worker.start()
    ids = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    store = ResponseStore(path)
    assert sorted(ids[0] + ids[1]) == list(range(1, 51))
    stored = store.list()
    assert len(stored) == 50
    assert {r.title for r in stored} == {f"{u} {i}" for u in ("alice", "bob")
                                         for i in range(25)}
    with sqlite3.connect(path) as connection:  # one history row per response, none lost
        rows = connection.execute("SELECT response_id, COUNT(*) FROM response_history "
                                  "GROUP BY response_id").fetchall()
    assert sorted(rows) == [(i, 1) for i in range(1, 51)]
