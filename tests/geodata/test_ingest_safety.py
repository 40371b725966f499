"""Ingest under attack: zip bombs, forged zip headers, formula names, large files, races."""

from __future__ import annotations

import csv
import io
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import geodata.incidents
from geodata import ingest as ingest_module
from geodata.errors import ArchiveRefused
from geodata.incidents import iter_table, police_uk_spec
from geodata.ingest import RATIO_EXEMPT_BYTES, archive_limits, ingest_files
from geodata.paths import REPO_ROOT, shipped_crime_files
from geodata.store import IncidentStore
from tests.geodata.conftest import police_row

JANUARY = shipped_crime_files()[1]      # 2024-01, 7,718 rows
ZEROS_MB = 20                            # expands 20 MB from ~20 KB: a ratio of ~1,000


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "geodata", *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=180, env=env)


def _bomb(path: Path, member: str = "2024-01-humberside-street.csv",
          extra: dict[str, bytes] | None = None) -> Path:
    """A zip with `member` expanding to ZEROS_MB of zeros (written in blocks, never held)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open(member, "w") as handle:
            block = b"0" * (1 << 20)
            for _ in range(ZEROS_MB):
                handle.write(block)
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return path


def _no_store(directory: Path) -> bool:
    return not (directory / "manifest.json").exists() and not list(
        (directory / "partitions").rglob("*.parquet"))


# ------------------------------------------------------------------------ archive limits
def test_a_zip_bomb_is_refused_from_its_directory_before_anything_is_extracted(
        tmp_path, monkeypatch):
    archive = _bomb(tmp_path / "custom-download.zip")
    assert archive.stat().st_size < 200_000
    copied = []
    monkeypatch.setattr(ingest_module, "_copy_member",
                        lambda *args, **kwargs: copied.append(args) or 0)
    store = IncidentStore(tmp_path / "store")
    with pytest.raises(ArchiveRefused) as error:
        ingest_files([JANUARY, archive], store=store, user="tester")
    message = str(error.value)
    assert message.startswith("custom-download.zip: zip refused: member ")
    assert f"{ZEROS_MB:,.1f} MB" in message                       # the expanded size
    assert "times their compressed size" in message               # the ratio ...
    assert "raise the ingest_max_compression_ratio setting" in message  # ... the setting
    assert "ingest_max_expanded_mb" in message
    assert copied == []                                           # nothing was extracted
    assert _no_store(store.directory)     # the other file of the call was not stored either


def test_the_expanded_size_limit_counts_every_member_that_would_be_read(tmp_path):
    archive = tmp_path / "two-months.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.write(JANUARY, "2024-01/2024-01-humberside-street.csv")       # ~1.8 MB
        bundle.write(shipped_crime_files()[2], "2024-02/2024-02-humberside-street.csv")
    store = IncidentStore(tmp_path / "store")
    declared = sum(i.file_size for i in zipfile.ZipFile(archive).infolist())
    limit_mb = declared / 2**20 - 0.5     # either file alone fits, both do not
    with pytest.raises(ArchiveRefused, match=r"two-months.zip: .*declares [\d,]+ bytes.*"
                                             r"raise the ingest_max_expanded_mb setting"):
        ingest_files([archive], store=store, max_expanded_mb=limit_mb)
    assert _no_store(store.directory)
    report = ingest_files([archive], store=store, max_expanded_mb=limit_mb + 1)
    assert report.accepted == 7718 + 7729


def test_skipped_members_are_never_extracted_nor_counted(tmp_path):
    archive = tmp_path / "download.zip"
    long_name = "x" * 300 + "-street.csv"  # too long for a file name: extracted by our own
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.write(JANUARY, "2024-01/2024-01-humberside-street.csv")
        bundle.write(shipped_crime_files()[2], long_name)
        with bundle.open("2024-01/2024-01-humberside-outcomes.csv", "w") as handle:
            for _ in range(ZEROS_MB):
                handle.write(b"0" * (1 << 20))
    report = ingest_files([archive], store=IncidentStore(tmp_path / "store"))
    statuses = {Path(f.file).name: f.status for f in report.files}
    assert statuses == {"2024-01-humberside-street.csv": "ingested", long_name: "ingested",
                        "2024-01-humberside-outcomes.csv": "skipped"}


def test_the_command_line_exits_two_and_leaves_the_store_untouched(tmp_path):
    archive = _bomb(tmp_path / "bomb.zip")
    store = tmp_path / "store"
    assert _run("ingest", str(JANUARY), "--store", str(store)).returncode == 0
    before = (store / "manifest.json").read_bytes()
    result = _run("ingest", str(archive), "--store", str(store))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "bomb.zip" in result.stderr and "ingest_max_compression_ratio" in result.stderr
    assert "Traceback" not in result.stderr
    assert (store / "manifest.json").read_bytes() == before


def _forge_sizes(data: bytes, declared: int) -> bytes:
    """Rewrite the uncompressed size of the (only) member in both zip headers."""
    data = bytearray(data)
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, local + 22, declared)
    struct.pack_into("<I", data, central + 24, declared)
    return bytes(data)


def test_a_forged_header_cannot_make_a_member_expand_further(tmp_path):
    """The directory claims 1,000 bytes; the data is 20 MB of zeros."""
    buffer = io.BytesIO()
    _bomb(buffer)
    archive = tmp_path / "forged.zip"
    archive.write_bytes(_forge_sizes(buffer.getvalue(), 1000))
    assert zipfile.ZipFile(archive).infolist()[0].file_size == 1000  # passes the directory check
    store = IncidentStore(tmp_path / "store")
    report = ingest_files([archive], store=store)
    assert [f.status for f in report.files] == ["unreadable"]
    assert "forged.zip" in report.files[0].message
    assert _no_store(store.directory)


def test_the_limits_hold_on_the_bytes_a_member_really_yields(tmp_path, monkeypatch):
    """Whatever the zip reader returns, reading stops once the declared size is passed."""
    archive = tmp_path / "lying.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("2024-01-humberside-street.csv", b"Month\n" + b"2024-01\n" * 10)
    produced = []

    class Endless(io.RawIOBase):  # a member that never stops expanding
        def readable(self):
            return True

        def readinto(self, buffer):
            buffer[:] = b"0" * len(buffer)
            produced.append(len(buffer))
            return len(buffer)

    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, *a, **k: Endless())
    with pytest.raises(ArchiveRefused, match=r"lying.zip: .*expands beyond the 86 bytes its "
                                             r"header declares"):
        ingest_files([archive], store=IncidentStore(tmp_path / "store"))
    assert sum(produced) <= 2 * (1 << 20)   # stopped at the first block, not at the end


def test_archive_limits_come_from_the_settings_and_are_validated():
    limits = archive_limits()
    assert limits.max_expanded_bytes == 2048 * 2**20 and limits.max_ratio == 200
    assert archive_limits(1, 5).max_expanded_bytes == 2**20
    assert RATIO_EXEMPT_BYTES == 2**20
    with pytest.raises(ValueError, match="max_expanded_mb must be a positive number; got -1"):
        archive_limits(-1)
    with pytest.raises(ValueError, match="max_compression_ratio must be a positive number; "
                                         "got 'x'"):
        archive_limits(None, "x")


# ------------------------------------------------------------------------ formula names
def test_rejects_file_neutralises_a_member_name_that_is_a_formula(tmp_path):
    name = "=1+2;humberside-street.csv"
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(police_row()))
    writer.writeheader()
    writer.writerows([police_row(), police_row(Longitude=""),
                      police_row(**{"Crime type": "@SUM(1)"})])
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr(name, text.getvalue())
    store = IncidentStore(tmp_path / "store")
    report = ingest_files([archive], store=store)
    assert report.accepted == 1 and report.rejected_count == 2
    assert report.rejected["source_file"].tolist() == [name, name]  # the report keeps it as is
    with report.rejects_path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["source_file", "row", "column", "reason"]
    assert [r[0] for r in rows[1:]] == ["'" + name, "'" + name]
    assert [r[1] for r in rows[1:]] == ["3", "4"]
    assert not any(cell[:1] in ("=", "+", "-", "@") for row in rows for cell in row if cell)


# ------------------------------------------------------------------------ chunked reading
def test_a_large_csv_is_read_in_chunks_with_rows_numbered_across_them(
        tmp_path, write_police_csv, monkeypatch):
    rows = [police_row() for _ in range(25)]
    rows[3]["Longitude"] = ""                     # row 5, chunk 1
    rows[14]["Month"] = "2024-13"                 # row 16, chunk 2
    rows[23]["Crime type"] = "Knife crime"        # row 25, chunk 3
    path = write_police_csv(rows)
    chunks = list(iter_table(path, police_uk_spec(), chunk_rows=10))
    assert [len(c) for c in chunks] == [10, 10, 5]
    assert pd.concat(chunks)["row"].tolist() == list(range(2, 27))

    monkeypatch.setattr(geodata.incidents, "CHUNK_ROWS", 10)
    store = IncidentStore(tmp_path / "store")
    report = ingest_files([path], store=store)
    assert (report.files[0].rows_read, report.accepted, report.rejected_count) == (25, 22, 3)
    assert report.rejected["row"].tolist() == [5, 16, 25]
    stored = store.query(in_area=None)
    assert sorted(stored["row"]) == sorted(set(range(2, 27)) - {5, 16, 25})
    january = [p for p in store.partitions() if p.key == "Humberside Police|2024-01"]
    assert len(january) == 3 and sum(p.rows for p in january) == 22
    # A re-issued month replaces every part of the stored one.
    reissue = write_police_csv([police_row(Location="On or near New Road")] * 4,
                               name="reissue.csv")
    assert ingest_files([reissue], store=store).replaced_months == ["2024-01"]
    assert store.row_count() == 4
    with pytest.raises(ValueError, match="chunk_rows must be a positive integer; got 0"):
        iter_table(path, police_uk_spec(), chunk_rows=0)


def test_a_file_broken_in_a_later_chunk_stores_nothing_of_it(tmp_path, write_police_csv,
                                                             monkeypatch):
    good = write_police_csv([police_row()] * 3, name="good.csv")
    broken = write_police_csv([police_row()] * 30, name="broken.csv")
    with broken.open("a", encoding="utf-8") as handle:
        handle.write("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p\n")  # too many fields, row 32
    monkeypatch.setattr(geodata.incidents, "CHUNK_ROWS", 10)
    monkeypatch.setattr(geodata.incidents, "_BLOCK_BYTES", 1024)
    store = IncidentStore(tmp_path / "store")
    report = ingest_files([good, broken], store=store)
    assert [f.status for f in report.files] == ["ingested", "unreadable"]
    assert "broken.csv: not a readable CSV file" in report.files[1].message
    assert store.row_count() == 3
    assert len(list((store.directory / "partitions").rglob("*.parquet"))) == 1


def _ae_rows(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"attendance_id": ids, "attendance_date": "2024-03-02",
                         "assault_type": "Robbery", "easting": "509800", "northing": "429000"})


def test_duplicate_ids_are_found_across_chunks(tmp_path, monkeypatch):
    path = tmp_path / "ae.csv"
    _ae_rows([f"A{i}" for i in range(12)] + ["A3", "A11"]).to_csv(path, index=False)
    monkeypatch.setattr(geodata.incidents, "CHUNK_ROWS", 5)
    report = ingest_files([path], store=IncidentStore(tmp_path / "store"),
                          source="hospital_ae")
    assert report.accepted == 12
    assert report.rejected[["row", "reason"]].values.tolist() == [[14, "duplicate id"],
                                                                   [15, "duplicate id"]]


# ------------------------------------------------------------------------ concurrent ingests
def test_two_ingests_at_once_store_each_unique_id_once(tmp_path):
    first, second = tmp_path / "ae-week-1.csv", tmp_path / "ae-week-2.csv"
    _ae_rows([f"A{i:03d}" for i in range(0, 60)]).to_csv(first, index=False)
    _ae_rows([f"A{i:03d}" for i in range(40, 100)]).to_csv(second, index=False)  # 20 repeat
    store = tmp_path / "store"
    # Each ingest pauses between staging and the manifest swap, so without the lock around
    # the whole read-check-write-swap both would check against an empty store.
    env = {**os.environ, "HUMBER_INGEST_PAUSE_BEFORE_COMMIT": "2"}
    processes = [subprocess.Popen([sys.executable, "-m", "geodata", "ingest", str(path),
                                   "--store", str(store), "--source", "hospital_ae"],
                                  cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
                 for path in (first, second)]
    outputs = [process.communicate(timeout=180) for process in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    stored = IncidentStore(store).query(sources=["hospital_ae"], in_area=None)
    assert len(stored) == 100
    assert stored["crime_id"].value_counts().max() == 1
    summaries = [next(line for line in out.splitlines() if line.startswith("accepted"))
                 for out, _ in outputs]
    assert sorted(summaries)[0].startswith("accepted 40, rejected 20")
    assert sorted(summaries)[1].startswith("accepted 60, rejected 0")
    rejects = pd.read_csv(next(store.glob("rejects/*-rejects.csv")))
    assert len(rejects) == 20
    assert set(rejects["reason"]) == {"duplicate id (already stored)"}
    assert set(rejects["column"]) == {"attendance_id"}
