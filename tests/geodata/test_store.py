"""The incident store: idempotent, month-replacing, atomic under kill, readable while writing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from geodata.ingest import ingest_files, open_store
from geodata.paths import REPO_ROOT, shipped_crime_files
from geodata.store import IncidentStore

JANUARY = shipped_crime_files()[1]      # 2024-01, 7,718 rows
FEBRUARY = shipped_crime_files()[2]     # 2024-02, 7,729 rows


@pytest.fixture
def store(tmp_path) -> IncidentStore:
    return IncidentStore(tmp_path / "store")


def _reissue(path: Path, target: Path, *, drop: int, outcome: str) -> Path:
    """A re-published month: the same crimes with updated outcomes, minus `drop` rows."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = frame.iloc[drop:].assign(**{"Last outcome category": outcome})
    frame.to_csv(target, index=False)
    return target


def test_same_file_twice_adds_nothing(store):
    first = ingest_files([JANUARY], store=store, user="tester")
    assert first.summary() == "accepted 7718, rejected 0, outside-area 30, replaced months []"
    second = ingest_files([JANUARY], store=store, user="tester")
    assert [f.status for f in second.files] == ["unchanged"]
    assert second.accepted == 0 and store.row_count() == 7718
    copy = store.directory.parent / "renamed-copy.csv"
    copy.write_bytes(JANUARY.read_bytes())
    assert ingest_files([copy], store=store).files[0].status == "unchanged"
    assert store.row_count() == 7718


def test_reissued_month_replaces_the_stored_one(store, tmp_path):
    ingest_files([JANUARY, FEBRUARY], store=store)
    reissue = _reissue(JANUARY, tmp_path / "2024-01-humberside-street.csv", drop=18,
                       outcome="Investigation complete; no suspect identified")
    report = ingest_files([reissue], store=store)
    assert report.replaced_months == ["2024-01"]
    assert report.summary().endswith("replaced months [2024-01]")
    assert store.row_count() == 7700 + 7729
    january = store.query(months=["2024-01"], in_area=None)
    assert len(january) == 7700
    assert set(january["outcome"].dropna()) == {"Investigation complete; no suspect identified"}
    assert len(store.query(months=["2024-02"], in_area=None)) == 7729


def test_every_incident_keeps_its_provenance(store):
    report = ingest_files([JANUARY], store=store, user="analyst@vpp")
    rows = store.query(in_area=None)
    assert (rows["source_file"] == JANUARY.name).all()
    assert (rows["ingest_id"] == report.ingest_id).all()
    assert rows["ingested_at"].notna().all()
    assert sorted(rows["row"].tolist()) == list(range(2, 7718 + 2))
    ingests = store.ingests()
    assert ingests.loc[0, ["file", "user", "rows_read", "accepted", "rejected"]].tolist() == [
        JANUARY.name, "analyst@vpp", 7718, 7718, 0]


def test_readers_see_the_old_data_until_the_commit(store):
    ingest_files([JANUARY], store=store)
    with store.writing() as writer:
        writer.stage(pd.DataFrame({"month": ["2024-02"], "crime_type": ["Robbery"],
                                   "force": ["Humberside Police"], "in_area": [True]}),
                     source="police_uk", replaces_months=True)
        # While the writer holds the lock, a reader is neither blocked nor sees staged rows.
        seen = []
        reader = threading.Thread(target=lambda: seen.append(store.row_count()))
        reader.start()
        reader.join(timeout=10)
        assert seen == [7718]
        assert store.months() == ["2024-01"]
        version = writer.commit()
    assert store.version == version and store.months() == ["2024-01", "2024-02"]


def test_killed_ingest_leaves_the_store_exactly_as_it_was(store, tmp_path):
    ingest_files([JANUARY], store=store)
    before = (store.directory / "manifest.json").read_bytes()
    environment = {**os.environ, "HUMBER_INGEST_PAUSE_BEFORE_COMMIT": "60"}
    process = subprocess.Popen(
        [sys.executable, "-m", "geodata", "ingest", str(FEBRUARY), "--store",
         str(store.directory)], cwd=REPO_ROOT, env=environment, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()  # the ingest has staged its partition files
    assert "pausing before commit" in line, process.stderr.read()
    assert list((store.directory / "partitions").rglob("*2024-02*.parquet"))
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert (store.directory / "manifest.json").read_bytes() == before
    assert store.months() == ["2024-01"] and store.row_count() == 7718
    # The lock died with the process: the next ingest goes through.
    report = ingest_files([FEBRUARY], store=store)
    assert report.accepted == 7729 and store.months() == ["2024-01", "2024-02"]


def test_custom_download_zip_ingests_street_files_and_skips_the_rest(store, tmp_path):
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.write(JANUARY, "2024-01/2024-01-humberside-street.csv")
        bundle.writestr("2024-01/2024-01-humberside-outcomes.csv", "Crime ID,Month\n")
        bundle.writestr("2024-01/2024-01-humberside-stop-and-search.csv", "Type,Date\n")
        bundle.writestr("../evil.csv", "Month\n")  # a path that must not escape
    report = ingest_files([archive], store=store)
    statuses = {Path(f.file).name: f.status for f in report.files}
    assert statuses["2024-01-humberside-street.csv"] == "ingested"
    assert statuses["2024-01-humberside-outcomes.csv"] == "skipped"
    assert statuses["2024-01-humberside-stop-and-search.csv"] == "skipped"
    assert statuses["evil.csv"] == "unreadable"
    assert not (tmp_path.parent / "evil.csv").exists()
    assert store.row_count() == 7718


def test_a_folder_is_read_recursively(store, tmp_path):
    folder = tmp_path / "months" / "2024-01"
    folder.mkdir(parents=True)
    (folder / JANUARY.name).write_bytes(JANUARY.read_bytes())
    assert ingest_files([tmp_path / "months"], store=store).accepted == 7718


def test_open_store_seeds_a_new_store_once(tmp_path):
    store = open_store(tmp_path / "fresh")
    assert store.months() == ["2022-01", "2024-01", "2024-02", "2024-03"]
    assert store.row_count() == 8001 + 7718 + 7729 + 8413
    version = store.version
    assert open_store(tmp_path / "fresh").version == version  # not seeded twice


def test_typical_query_filters_on_area_months_and_types(tmp_path):
    store = open_store(tmp_path / "seeded")
    rows = store.query(area_code="E06000010", months=["2024-01", "2024-02", "2024-03"],
                       crime_types=["Robbery"], columns=["month", "lad_code", "crime_type"])
    raw = pd.concat(pd.read_csv(p) for p in shipped_crime_files()[1:])
    hull = set(store.query(area_code="E06000010", in_area=True, columns=["lsoa21cd"])
               ["lsoa21cd"])
    expected = ((raw["Crime type"] == "Robbery") & raw["LSOA code"].isin(hull)).sum()
    assert len(rows) == expected
    assert set(rows["lad_code"]) == {"E06000010"}
    with pytest.raises(ValueError, match=r"Unknown store columns \['colour'\]"):
        store.query(columns=["colour"])
