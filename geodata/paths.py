"""Where the shipped reference data lives inside the repository."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_DATA_DIR = REPO_ROOT / "data"

LSOA_BOUNDARIES = SHIPPED_DATA_DIR / "boundaries" / "lsoa21_humber_bsc.geojson"
LAD_BOUNDARIES = SHIPPED_DATA_DIR / "boundaries" / "lad24_humber_buc.geojson"
IMD_2025 = SHIPPED_DATA_DIR / "deprivation" / "imd2025_lsoa21_humber.csv"
POPULATION_2021 = SHIPPED_DATA_DIR / "population" / "census2021_age6_lsoa21_humber.csv"
LSOA11_TO_LSOA21 = SHIPPED_DATA_DIR / "lookups" / "lsoa11_lsoa21_lad22_humber.csv"
LSOA21_TO_WARD24 = SHIPPED_DATA_DIR / "lookups" / "lsoa21_ward24_lad24_humber.csv"
SHIPPED_CRIME_DIR = SHIPPED_DATA_DIR / "crime"


def shipped_crime_files() -> list[Path]:
    """Return the shipped police.uk street-level CSV files, oldest month first."""
    return sorted(SHIPPED_CRIME_DIR.glob("*-street.csv"))
