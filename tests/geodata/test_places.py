"""The "find a place" gazetteer: wards, LSOAs and police.uk streets."""

from __future__ import annotations

import pandas as pd
import pytest

from geodata.places import build_gazetteer, find_places, street_name, street_places
from geodata.reference import load_wards


@pytest.fixture(scope="module")
def gazetteer(lsoas):
    incidents = pd.DataFrame({
        "location": ["On or near Hessle Road", "On or near Hessle Road", "On or near Parking Area",
                     "On or near Spring Bank", None],
        "lad_code": ["E06000010", "E06000010", "E06000010", "E06000010", "E06000010"],
        "x": [507_000.0, 507_400.0, 508_000.0, 508_500.0, 509_000.0],
        "y": [427_800.0, 427_900.0, 428_000.0, 429_300.0, 429_000.0]})
    return build_gazetteer(lsoas, load_wards(lsoas), street_places(incidents))


def test_street_names_lose_the_police_uk_prefix():
    assert street_name("On or near Hessle Road") == "Hessle Road"
    assert street_name("on or near  High Street ") == "High Street"
    assert street_name(None) == "" and street_name(float("nan")) == ""


def test_wards_are_dissolved_from_their_lsoas(lsoas):
    wards = load_wards(lsoas)
    assert len(wards) == lsoas["ward_code"].nunique()
    assert wards["lsoas"].sum() == 591
    assert wards.crs.to_epsg() == 27700
    assert wards.geometry.area.sum() == pytest.approx(lsoas.geometry.area.sum(), rel=1e-6)


def test_streets_are_outlined_and_non_streets_left_out(gazetteer):
    streets = gazetteer[gazetteer["kind"] == "street"]
    assert sorted(streets["name"]) == ["Hessle Road", "Spring Bank"]
    hessle = streets.set_index("name").geometry["Hessle Road"]
    # Two points 412 m apart, buffered by 30 m: a capsule about 472 m long.
    assert hessle.bounds[2] - hessle.bounds[0] == pytest.approx(460, abs=1)


def test_search_puts_exact_and_prefix_matches_first(gazetteer):
    found = find_places(gazetteer, "hessle")
    # The ward named exactly "Hessle" (East Riding), then the street that starts with it.
    assert found[["kind", "name"]].values.tolist()[:2] == [["ward", "Hessle"],
                                                           ["street", "Hessle Road"]]
    # Exact, then prefix, then anywhere; within each, wards, LSOAs, streets; then by name.
    toy = pd.DataFrame({"kind": ["LSOA", "ward", "street", "street", "ward", "street"],
                        "name": ["Riverbank 001", "West Bank", "Bankside Lane", "Bank",
                                 "Bank Side", "Bank Street"],
                        "code": ["E01", "E05a", "", "", "E05b", ""], "lad_code": "E06000010"})
    assert find_places(toy, "bank")["name"].tolist() == [
        "Bank", "Bank Side", "Bank Street", "Bankside Lane", "West Bank", "Riverbank 001"]
    by_code = find_places(gazetteer, "e01012756")
    assert by_code.iloc[0][["kind", "code"]].tolist() == ["LSOA", "E01012756"]
    assert find_places(gazetteer, "   ").empty
    hull_only = find_places(gazetteer, "a", lad_code="E06000012", limit=500)
    assert set(hull_only["lad_code"]) == {"E06000012"}
