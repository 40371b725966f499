"""Partner extracts configured in TOML: generic CSV (BNG or lon/lat), GeoJSON, GeoPackage."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geodata.errors import DataValidationError
from geodata.incidents import validate_incidents
from geodata.ingest import ingest_files
from geodata.sources import get_source, parse_source
from geodata.store import IncidentStore

TODAY = dt.date(2026, 11, 26)


def _ae_rows() -> pd.DataFrame:
    return pd.DataFrame({
        "attendance_id": ["A1", "A2", "A3", "A4", "A5", "A2"],
        "attendance_date": ["2024-03-02", "2024-03-05", "2024/03/09", "2024-03-10",
                            "2099-01-01", "2024-03-11"],
        "assault_type": ["Assault - weapon", "Robbery", "Assault - weapon", "Fall",
                         "Sexual assault", "Robbery"],
        "easting": ["509800", "509836", "510000", "510000", "510000", "510100"],
        "northing": ["429000", "430312", "429000", "429000", "429000", "428900"],
        "location_text": ["<b>Hull city centre</b>", "", "", "", "", ""],
        "age_band": ["18-24", "25-34", "", "", "", ""],
        "weight": ["1", "2.5", "", "", "", ""],
    })


def test_partner_csv_with_bng_coordinates_and_type_mapping(tmp_path):
    path = tmp_path / "ae-2024-03.csv"
    _ae_rows().to_csv(path, index=False)
    store = IncidentStore(tmp_path / "store")
    report = ingest_files([path], store=store, source="hospital_ae", today=TODAY)
    rejected = report.rejected.set_index("row")
    # Row 4 (A3): the date uses slashes; row 5 (A4): "Fall" is not in [types];
    # row 6 (A5): 2099; row 7: A2 again.
    assert rejected.loc[4, "reason"].startswith("unparseable date")
    assert rejected.loc[5, ["column", "reason"]].tolist() == ["assault_type",
                                                              "unknown crime type"]
    assert rejected.loc[6, "reason"] == "date in the future"
    assert rejected.loc[7, ["column", "reason"]].tolist() == ["attendance_id", "duplicate id"]
    stored = store.query(in_area=None, sources=["hospital_ae"]).sort_values("row")
    assert stored["crime_type"].tolist() == ["Violence and sexual offences", "Robbery"]
    assert stored["weight"].tolist() == [1.0, 2.5]
    assert stored["date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-03-02", "2024-03-05"]
    assert stored["month"].tolist() == ["2024-03", "2024-03"]
    assert stored["lad_code"].tolist() == ["E06000010", "E06000010"]  # point in polygon
    assert stored["location"].iloc[0] == "<b>Hull city centre</b>"  # stored as given
    # A later extract repeating A1 is rejected against the store.
    again = tmp_path / "ae-2024-04.csv"
    _ae_rows().iloc[[0]].assign(attendance_date="2024-04-01").to_csv(again, index=False)
    second = ingest_files([again], store=store, source="hospital_ae", today=TODAY)
    assert second.rejected["reason"].tolist() == ["duplicate id (already stored)"]


def test_swapped_bng_coordinates_are_named():
    spec = get_source("hospital_ae")
    # Lerwick (Shetland) is E 447,000 N 1,141,000: given the other way round it lies off
    # the grid to the east, and only a swap puts it back inside Great Britain.
    raw = _ae_rows().iloc[[0]].assign(easting="1141000", northing="447000")
    raw["source_file"], raw["row"] = "x.csv", 2
    _, rejected = validate_incidents(raw.astype({"row": int}), spec=spec,
                                     known_crime_types={"Violence and sexual offences"},
                                     today=TODAY)
    assert rejected["reason"].tolist() == ["easting and northing swapped"]


def _points_spec(tmp_path):
    path = tmp_path / "points.toml"
    path.write_text('name = "points"\nunique_ids = true\n[columns]\nid = "ref"\n'
                    'date = "when"\ntype = "kind"\nlongitude = "lon"\nlatitude = "lat"\n')
    return parse_source(path)


def test_geojson_and_geopackage_points_in_any_crs(tmp_path, monkeypatch):
    frame = gpd.GeoDataFrame(
        {"ref": ["p1", "p2", "p3"], "when": ["2024-02-01", "2024-02-03", "2024-02-04"],
         "kind": ["Robbery", "Robbery", "Robbery"]},
        geometry=[shapely.Point(-0.336, 53.745), None, shapely.Point(-0.40, 53.74)],
        crs="EPSG:4326")
    geojson = tmp_path / "points.geojson"
    frame.to_file(geojson, driver="GeoJSON")
    gpkg = tmp_path / "points.gpkg"
    frame.assign(ref=["q1", "q2", "q3"]).to_crs("EPSG:27700").to_file(gpkg, driver="GPKG")
    spec = _points_spec(tmp_path)
    monkeypatch.setattr("geodata.ingest.get_source", lambda name: spec)
    store = IncidentStore(tmp_path / "store")
    report = ingest_files([geojson, gpkg], store=store, source="points", today=TODAY)
    assert report.accepted == 4 and report.rejected_count == 2
    assert set(report.rejected["reason"]) == {"missing coordinates (no point geometry)"}
    stored = store.query(in_area=None, sources=["points"])
    # The same place arrives in WGS84 and in BNG and is stored at the same metres.
    first = stored.set_index("crime_id")
    assert first.loc["p1", "x"] == pytest.approx(first.loc["q1", "x"], abs=0.01)
    assert first.loc["p1", "y"] == pytest.approx(first.loc["q1", "y"], abs=0.01)


@pytest.mark.parametrize(("text", "message"), [
    ('name = "x"\n[columns]\ndate = "d"\ntype = "t"\n', "either 'longitude' and 'latitude'"),
    ('name = "x"\n[columns]\ndate = "d"\ntype = "t"\nlon = "a"\n', "unknown key 'lon' in "
                                                                      r"\[columns\]"),
    ('name = "X Y"\n[columns]\n', "'name' must be lower-case"),
    ('name = "x"\nunique_id = true\n', r"unknown key 'unique_id' \(did you mean 'unique_ids'"),
    ('name = "x"\n[columns]\ntype = "t"\nlongitude = "a"\nlatitude = "b"\n',
     "must name the 'date' column"),
])
def test_bad_source_files_are_explained(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(DataValidationError, match=message):
        parse_source(path)


def test_unknown_source_lists_the_known_ones():
    with pytest.raises(DataValidationError, match=r"Unknown source 'nope'; known sources: "
                                                  r"hospital_ae, police_uk"):
        get_source("nope")
