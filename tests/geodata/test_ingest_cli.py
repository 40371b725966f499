"""`python -m geodata ingest`: summary line, rejects file and exit codes."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from geodata.paths import REPO_ROOT, shipped_crime_files
from tests.geodata.conftest import police_row


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "geodata", *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)


def test_ingest_prints_the_summary_and_exits_zero_with_rejected_rows(tmp_path, write_police_csv):
    path = write_police_csv([police_row(), police_row(Month="2024-13"),
                             police_row(Longitude="")])
    store = tmp_path / "store"
    result = _run("ingest", str(path), "--store", str(store), "--user", "cli-test")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "accepted 1, rejected 2, outside-area 0, replaced months []" in lines
    rejects = next(store.glob("rejects/*-rejects.csv"))
    frame = pd.read_csv(rejects)
    assert frame.columns.tolist() == ["source_file", "row", "column", "reason"]
    assert frame["row"].tolist() == [3, 4]
    listing = _run("ingests", "--store", str(store))
    assert "cli-test" in listing.stdout and path.name in listing.stdout


def test_rejects_can_go_to_a_named_file(tmp_path, write_police_csv):
    path = write_police_csv([police_row(**{"Crime type": "Knife crime"})])
    target = tmp_path / "out" / "my-rejects.csv"
    result = _run("ingest", str(path), "--store", str(tmp_path / "s"), "--rejects", str(target))
    assert result.returncode == 0
    assert pd.read_csv(target)["reason"].tolist() == ["unknown crime type"]


def test_unreadable_file_exits_two_and_names_it_without_a_traceback(tmp_path):
    bad = tmp_path / "not-a-csv.csv"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    result = _run("ingest", str(bad), str(shipped_crime_files()[0]), "--store",
                  str(tmp_path / "s"))
    assert result.returncode == 2
    assert "not-a-csv.csv" in result.stderr and "binary" in result.stderr
    assert "Traceback" not in result.stderr
    assert "accepted 8001, rejected 0" in result.stdout  # the good file still went in


def test_unknown_source_exits_two(tmp_path):
    result = _run("ingest", str(shipped_crime_files()[0]), "--source", "nhs_999",
                  "--store", str(tmp_path / "s"))
    assert result.returncode == 2
    assert "unknown source 'nhs_999'" in result.stderr and "police_uk" in result.stderr


@pytest.mark.parametrize("args", [["ingest"], ["frobnicate"]])
def test_bad_arguments_exit_two(args):
    assert _run(*args).returncode == 2
