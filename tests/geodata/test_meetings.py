"""The last meeting of each CSP, remembered beside the store (geodata/meetings.py)."""

from __future__ import annotations

import json
import threading

import pytest

from geodata.meetings import FILE_NAME, last_meeting, meetings_path, remember_meeting

HULL, NEL = "E06000010", "E06000012"


def test_remembered_per_csp(tmp_path):
    assert last_meeting(HULL, directory=tmp_path) is None
    remember_meeting(HULL, "2024-03", by="ana", directory=tmp_path)
    remember_meeting(NEL, "2024-01", directory=tmp_path)
    remember_meeting(HULL, "2024-02", by="bob", directory=tmp_path)
    assert last_meeting(HULL, directory=tmp_path) == "2024-02"
    assert last_meeting(NEL, directory=tmp_path) == "2024-01"
    saved = json.loads((tmp_path / FILE_NAME).read_text())
    assert saved["version"] == 1 and saved["meetings"][HULL]["by"] == "bob"
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".meetings-")]


def test_default_folder_is_the_store(monkeypatch, tmp_path):
    monkeypatch.setenv("HUMBER_DATA_DIR", str(tmp_path))
    assert meetings_path() == tmp_path / FILE_NAME


def test_concurrent_writers_keep_every_csp(tmp_path):
    codes = [f"E0600{i:04d}" for i in range(12)]
    threads = [threading.Thread(target=remember_meeting, args=(c, "2024-03"),
                                kwargs={"directory": tmp_path}) for c in codes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(last_meeting(c, directory=tmp_path) == "2024-03" for c in codes)


def test_an_unreadable_file_forgets_rather_than_fails(tmp_path):
    (tmp_path / FILE_NAME).write_text("{not json")
    assert last_meeting(HULL, directory=tmp_path) is None
    remember_meeting(HULL, "2024-03", directory=tmp_path)
    assert last_meeting(HULL, directory=tmp_path) == "2024-03"


@pytest.mark.parametrize("code, month, message", [
    ("hull", "2024-03", "LAD code"),
    (HULL, "2024-13", "YYYY-MM"),
    (HULL, "March", "YYYY-MM"),
])
def test_bad_values_are_refused(tmp_path, code, month, message):
    with pytest.raises(ValueError, match=message):
        remember_meeting(code, month, directory=tmp_path)
    assert not (tmp_path / FILE_NAME).exists()
