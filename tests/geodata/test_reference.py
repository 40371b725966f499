"""Reference data shipped in the repo: LSOAs, deprivation and population (integration)."""

from __future__ import annotations

import pytest

from geodata.reference import IOD_DOMAINS, load_lad_boundaries, load_lsoa11_lookup, load_lsoa_table


@pytest.fixture(scope="module")
def lsoas():
    return load_lsoa_table()


def test_lsoa_counts_per_csp(lsoas):
    assert len(lsoas) == 591
    assert lsoas.groupby("lad_code").size().to_dict() == {
        "E06000010": 168, "E06000011": 213, "E06000012": 107, "E06000013": 103}


def test_everything_is_in_british_national_grid(lsoas):
    assert lsoas.crs.to_epsg() == 27700
    assert load_lad_boundaries().crs.to_epsg() == 27700
    xmin, ymin, xmax, ymax = lsoas.total_bounds
    # The Humber area in metres: roughly 470–550 km east, 385–480 km north.
    assert 450_000 < xmin < xmax < 560_000 and 380_000 < ymin < ymax < 490_000


def test_population_matches_census_totals(lsoas):
    # Census 2021 custom-dataset totals (perturbed by ONS cell-key), see data/SOURCES.md.
    assert lsoas.groupby("lad_code")["population"].sum().to_dict() == {
        "E06000010": 267_006, "E06000011": 342_231, "E06000012": 156_943,
        "E06000013": 169_666}
    assert (lsoas["population_16_34"] <= lsoas["population"]).all()


def test_imd_decile_one_counts_match_the_official_la_summary(lsoas):
    decile_one = lsoas[lsoas["imd_decile"] == 1].groupby("lad_code").size().to_dict()
    assert decile_one == {"E06000010": 70, "E06000011": 13, "E06000012": 29, "E06000013": 12}
    for domain in IOD_DOMAINS:
        assert lsoas[f"{domain.lower()}_decile"].between(1, 10).all()


def test_area_sums_match_the_lad_areas(lsoas):
    areas = lsoas.groupby("lad_code")["area_km2"].sum()
    assert areas["E06000010"] == pytest.approx(71.3, rel=0.02)
    assert areas["E06000011"] == pytest.approx(2412, rel=0.02)


def test_lookup_covers_split_and_merged_lsoas():
    lookup = load_lsoa11_lookup()
    assert lookup["change"].value_counts().to_dict() == {"U": 561, "S": 25, "M": 10}
