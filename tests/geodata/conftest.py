"""Fixtures for the data-layer tests: the real reference tables and a police.uk CSV writer."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from config import get_config
from geodata.incidents import POLICE_UK_COLUMNS
from geodata.reference import load_lsoa11_lookup, load_lsoa_table


@pytest.fixture(scope="session")
def lsoas():
    return load_lsoa_table()


@pytest.fixture(scope="session")
def lookup():
    return load_lsoa11_lookup()


@pytest.fixture(scope="session")
def known_types():
    return {t for group in get_config().crime_groups for t in group.types}


def police_row(**values) -> dict:
    """A valid police.uk row in Hull (E01012756, Kingston upon Hull 025A), overridable."""
    row = {"Crime ID": "", "Month": "2024-01", "Reported by": "Humberside Police",
           "Falls within": "Humberside Police", "Longitude": "-0.336", "Latitude": "53.745",
           "Location": "On or near Test Street", "LSOA code": "E01012756",
           "LSOA name": "Kingston upon Hull 025A", "Crime type": "Violence and sexual offences",
           "Last outcome category": "Under investigation", "Context": ""}
    row.update(values)
    return row


@pytest.fixture
def write_police_csv(tmp_path: Path):
    """Write rows (dicts of police.uk columns) to a CSV and return its path."""
    def write(rows: list[dict], name: str = "2024-01-humberside-street.csv") -> Path:
        path = tmp_path / name
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=POLICE_UK_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        return path
    return write
