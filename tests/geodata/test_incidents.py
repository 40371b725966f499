"""police.uk incidents: reading, validation, LSOA assignment and row accounting."""

from __future__ import annotations

import datetime as dt

import pytest

from geodata.errors import DataValidationError
from geodata.incidents import (
    ASSIGNED_2011,
    ASSIGNED_2011_SPLIT,
    ASSIGNED_2021,
    ASSIGNED_POINT,
    OUTSIDE,
    load_incidents,
    read_police_uk_csv,
)
from geodata.paths import shipped_crime_files
from tests.geodata.conftest import police_row

TODAY = dt.date(2026, 11, 26)


def _load(paths, lsoas, lookup, known_types):
    return load_incidents(paths, lsoas=lsoas, lookup=lookup, known_crime_types=known_types,
                          today=TODAY)


def test_every_bad_row_is_rejected_with_file_row_column_and_reason(
        write_police_csv, lsoas, lookup, known_types):
    rows = [
        police_row(),                                              # row 2: fine
        police_row(Longitude="", Latitude=""),                     # row 3: no location
        police_row(Longitude="west"),                              # row 4: not a number
        police_row(Longitude="53.745", Latitude="-0.336"),         # row 5: swapped
        police_row(Longitude="-40.0", Latitude="10.0"),            # row 6: mid-Atlantic
        police_row(Month="January 2024"),                          # row 7: bad month
        police_row(Month="2027-01"),                               # row 8: after TODAY
        police_row(**{"Crime type": "Knife crime"}),               # row 9: not in config
        police_row(Month="13-2024", **{"Crime type": "Unknown"}),  # row 10: two problems
    ]
    load = _load([write_police_csv(rows)], lsoas, lookup, known_types)
    assert load.rows_read == 9
    assert len(load.accepted) == 1 and len(load.rejected) == 8
    rejected = load.rejected.set_index("row")
    assert rejected["source_file"].unique().tolist() == ["2024-01-humberside-street.csv"]
    assert rejected.loc[3, "reason"] == "missing coordinates"
    assert rejected.loc[4, "reason"] == "unparseable coordinates"
    assert rejected.loc[5, "reason"] == "latitude and longitude swapped"
    assert rejected.loc[6, "reason"] == "coordinates outside Great Britain"
    assert rejected.loc[7, ["column", "reason"]].tolist() == [
        "Month", "unparseable date (expected a date like 2024-03)"]
    assert rejected.loc[8, "reason"] == "date in the future"
    assert rejected.loc[9, ["column", "reason"]].tolist() == ["Crime type", "unknown crime type"]
    assert rejected.loc[10, "reason"] == ("unparseable date (expected a date like 2024-03); "
                                          "unknown crime type")
    assert rejected.loc[10, "column"] == "Month; Crime type"


def test_lsoa_codes_of_both_vintages_are_placed_by_code_not_by_point(
        write_police_csv, lsoas, lookup, known_types):
    rows = [
        # 2021 code with a point far from its polygon: the code wins.
        police_row(**{"LSOA code": "E01012756", "Longitude": "-0.65", "Latitude": "53.60"}),
        # 2011 code merged into E01035463 ("M" in the ONS lookup).
        police_row(**{"LSOA code": "E01012823"}),
        # 2011 code split in 2021 ("S"): goes to the candidate polygon holding the point.
        police_row(**{"LSOA code": "E01012851"}),
        # No code: the point decides.
        police_row(**{"LSOA code": "", "LSOA name": ""}),
        # Doncaster: outside the Humber area, kept and flagged.
        police_row(**{"LSOA code": "E01007500", "LSOA name": "Doncaster 001A",
                      "Longitude": "-1.10", "Latitude": "53.55"}),
    ]
    accepted = _load([write_police_csv(rows)], lsoas, lookup, known_types).accepted
    assert accepted["assignment"].tolist() == [ASSIGNED_2021, ASSIGNED_2011,
                                               ASSIGNED_2011_SPLIT, ASSIGNED_POINT, OUTSIDE]
    assert accepted.loc[0, "lsoa21cd"] == "E01012756"
    assert accepted.loc[1, "lsoa21cd"] == "E01035463"
    split_targets = set(lookup.loc[lookup["lsoa11cd"] == "E01012851", "lsoa21cd"])
    assert accepted.loc[2, "lsoa21cd"] in split_targets
    assert accepted.loc[3, "lad_code"] == "E06000010"
    assert accepted["in_area"].tolist() == [True, True, True, True, False]
    assert accepted.loc[4, "lad_code"] is None or str(accepted.loc[4, "lad_code"]) == "<NA>"


def test_coordinates_are_projected_to_british_national_grid(
        write_police_csv, lsoas, lookup, known_types):
    # ONS publishes each LSOA centroid both ways: E01012756 is -0.37300, 53.75813 and
    # 507,363 E, 430,312 N (LSOA 2011 boundaries, BNG_E/BNG_N/LONG/LAT columns).
    row = police_row(Longitude="-0.37300", Latitude="53.75813")
    accepted = _load([write_police_csv([row])], lsoas, lookup, known_types).accepted
    assert accepted.loc[0, "x"] == pytest.approx(507_363, abs=2)
    assert accepted.loc[0, "y"] == pytest.approx(430_312, abs=2)


@pytest.mark.parametrize(("content", "message"), [
    (b"", r"the file is empty; expected a CSV with columns"),
    (b"\xff\xfe\x00\x00binary\x00", r"expected a UTF-8 CSV text file but found binary"),
    (b"PK\x03\x04zipped", r"expected a UTF-8 CSV text file but found binary"),
    ("Month,Crime type,Longitude,Latitude\n2024-01,Caf\xe9,1,2\n".encode("latin-1"),
     r"expected UTF-8 text"),
    (b"Month,Crime type,Longitude,Latitude\n", r"has a header but no rows"),
    (b"Crime ID,Month,Longitude\n1,2024-01,-0.3\n",
     r"expected the 'police_uk' source columns .* \['Crime type', 'Latitude'\] are missing"),
])
def test_unreadable_files_fail_whole_with_the_file_named(tmp_path, content, message):
    path = tmp_path / "upload.csv"
    path.write_bytes(content)
    with pytest.raises(DataValidationError, match=message) as error:
        read_police_uk_csv(path)
    assert "upload.csv" in str(error.value)


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(DataValidationError, match=r"nothing.csv: no such file"):
        read_police_uk_csv(tmp_path / "nothing.csv")


def test_shipped_months_every_row_is_placed_or_reported(lsoas, lookup, known_types):
    load = _load(shipped_crime_files(), lsoas, lookup, known_types)
    accepted = load.accepted
    assert load.rows_read == 8_001 + 7_718 + 7_729 + 8_413
    assert len(accepted) + len(load.rejected) == load.rows_read
    assert len(load.rejected) == 0  # the published files are clean
    inside = accepted[accepted["in_area"]]
    assert inside["lad_code"].isin(["E06000010", "E06000011", "E06000012", "E06000013"]).all()
    assert accepted.loc[~accepted["in_area"], "lad_code"].isna().all()
    # SOURCES.md: 5 to 30 rows a month lie outside the four authorities.
    outside = accepted[~accepted["in_area"]].groupby("month").size()
    assert outside.between(5, 30).all() and set(outside.index) == {
        "2022-01", "2024-01", "2024-02", "2024-03"}
    # Every 2021 LSOA in each CSP records at least one incident over four months.
    assert inside.groupby("lad_code")["lsoa21cd"].nunique().to_dict() == {
        "E06000010": 168, "E06000011": 213, "E06000012": 107, "E06000013": 103}
    # Violence and sexual offences per month, as published (SOURCES.md).
    violence = accepted[accepted["crime_type"] == "Violence and sexual offences"]
    assert violence.groupby("month").size().tolist() == [3_061, 3_267, 3_408, 3_654]
