"""Property-based tests: malformed rows and files never crash validation or lose a row."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config import get_config
from geodata.errors import DataValidationError
from geodata.incidents import POLICE_UK_COLUMNS, police_uk_spec, read_table, validate_incidents

TODAY = dt.date(2026, 11, 26)
KNOWN = {t for g in get_config().crime_groups for t in g.types}
SPEC = police_uk_spec()

junk = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
               max_size=12)
numbers = st.floats(allow_nan=True, allow_infinity=True, width=32).map(str)
cells = {
    "Month": st.one_of(st.sampled_from(["2024-01", "2023-12", "2031-05", "2024-13", ""]), junk),
    "Longitude": st.one_of(st.floats(-3, 2).map(lambda v: f"{v:.6f}"), numbers, junk),
    "Latitude": st.one_of(st.floats(49, 61).map(lambda v: f"{v:.6f}"), numbers, junk),
    "Crime type": st.one_of(st.sampled_from(sorted(KNOWN)), junk),
    "LSOA code": st.one_of(st.sampled_from(["E01012756", "E01012851", "E01007500", ""]), junk),
    "Crime ID": st.one_of(st.just(""), st.sampled_from(["a", "b"]), junk),
}
row = st.fixed_dictionaries({c: cells.get(c, junk) for c in POLICE_UK_COLUMNS})


def _write(rows: list[dict], folder: Path) -> Path:
    path = folder / "generated.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=POLICE_UK_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(row, min_size=1, max_size=25))
def test_every_row_is_accepted_or_rejected_with_a_reason(rows):
    with tempfile.TemporaryDirectory() as folder:
        try:
            raw = read_table(_write(rows, Path(folder)), SPEC)
        except DataValidationError:
            return  # e.g. a row of empty strings only: the file is refused whole, with a message
        accepted, rejected = validate_incidents(raw, spec=SPEC, known_crime_types=KNOWN,
                                                today=TODAY)
    assert len(accepted) + len(rejected) == len(raw)
    assert rejected["reason"].str.len().gt(0).all()
    assert rejected["column"].str.len().gt(0).all()
    assert set(rejected["row"]).isdisjoint(set(accepted["row"]))
    assert np.isfinite(accepted[["x", "y", "lon", "lat"]].to_numpy()).all()
    assert accepted["x"].between(0, 700_000).all() and accepted["y"].between(0, 1_300_000).all()
    assert accepted["month"].str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])").all()
    assert (accepted["month"] <= "2026-11").all()
    assert accepted["crime_type"].isin(KNOWN).all()


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_are_refused_whole_or_validated(content):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload.csv"
        path.write_bytes(content)
        try:
            raw = read_table(path, SPEC)
        except DataValidationError as error:
            assert "upload.csv" in str(error)
            return
        accepted, rejected = validate_incidents(raw, spec=SPEC, known_crime_types=KNOWN,
                                                today=TODAY)
        assert len(accepted) + len(rejected) == len(raw)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(POLICE_UK_COLUMNS), max_size=12, unique=True),
       st.lists(junk, min_size=1, max_size=3))
def test_headers_missing_required_columns_name_what_was_expected(header, values):
    text = io.StringIO()
    csv.writer(text).writerows([header or ["x"], values])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "partial.csv"
        path.write_text(text.getvalue(), encoding="utf-8")
        required = {"Month", "Crime type", "Longitude", "Latitude"}
        try:
            read_table(path, SPEC)
        except DataValidationError as error:
            if not required <= set(header):
                assert "are missing" in str(error) or "not a readable CSV" in str(error) \
                    or "no rows" in str(error)
            return
        assert required <= set(header)
