"""The per-ingest aggregates: written with each commit, equal to counts of the raw incidents."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from geodata import aggregates
from geodata.ingest import ingest_files
from geodata.paths import shipped_crime_files
from geodata.store import MANIFEST, IncidentStore
from tests.geodata.conftest import police_row


@pytest.fixture(scope="module")
def shipped(tmp_path_factory) -> IncidentStore:
    """A store holding the shipped police.uk months (one commit)."""
    store = IncidentStore(tmp_path_factory.mktemp("aggregates-store"))
    ingest_files(shipped_crime_files(), store=store, user="test")
    return store


def _raw_counts(store: IncidentStore, keys: list[str], *, in_area) -> pd.DataFrame:
    raw = store.query(in_area=in_area, columns=[*keys, "weight"])
    raw["weight"] = raw["weight"].fillna(1.0)
    grouped = raw.groupby(keys, dropna=False, sort=True).agg(
        incidents=("weight", "size"), weight=("weight", "sum")).reset_index()
    return grouped


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = frame.sort_values(keys, na_position="first").reset_index(drop=True)
    for column in keys:
        if out[column].dtype != bool and column not in ("x", "y", "lon", "lat"):
            out[column] = out[column].astype("string")
    out["incidents"] = out["incidents"].astype("int64")
    return out


def test_a_commit_names_its_aggregate_files(shipped):
    manifest = shipped.manifest()
    entry = manifest[aggregates.MANIFEST_KEY]
    assert entry["version"] == manifest["version"] == 1
    assert set(entry["files"]) == {"lsoa_month", "map_points"}
    for path in entry["files"].values():
        assert (shipped.directory / path).is_file()
    loaded = aggregates.load_aggregates(shipped.directory, manifest)
    assert loaded.stored and loaded.version == 1


def test_lsoa_month_counts_equal_the_raw_incidents(shipped):
    keys = list(aggregates.LSOA_KEYS)
    table = aggregates.load_aggregates(shipped.directory, shipped.manifest()).lsoa_month
    raw = _raw_counts(shipped, keys, in_area=None)
    assert table["incidents"].sum() == shipped.row_count() == len(shipped.query(in_area=None))
    pd.testing.assert_frame_equal(_sorted(table, keys), _sorted(raw, keys),
                                  check_dtype=False)
    # Incidents outside the Humber area are counted, and flagged
    assert table.loc[~table["in_area"], "incidents"].sum() == \
        len(shipped.query(in_area=False, columns=["month"])) > 0


def test_map_point_counts_equal_the_raw_incidents_inside_the_area(shipped):
    keys = list(aggregates.POINT_KEYS)
    table = aggregates.load_aggregates(shipped.directory, shipped.manifest()).map_points
    raw = _raw_counts(shipped, keys, in_area=True)
    assert len(table) < len(shipped.query(columns=["month"]))  # points repeat: fewer rows
    pd.testing.assert_frame_equal(_sorted(table, keys), _sorted(raw, keys),
                                  check_dtype=False)


def test_a_store_committed_before_aggregates_is_counted_on_read(shipped, tmp_path):
    manifest = shipped.manifest()
    del manifest[aggregates.MANIFEST_KEY]
    counted = aggregates.load_aggregates(shipped.directory, manifest)
    stored = aggregates.load_aggregates(shipped.directory, shipped.manifest())
    assert not counted.stored
    pd.testing.assert_frame_equal(counted.lsoa_month, stored.lsoa_month)
    pd.testing.assert_frame_equal(counted.map_points, stored.map_points)


def test_a_new_ingest_writes_new_aggregates_and_keeps_the_old_ones_for_readers(
        tmp_path, write_police_csv):
    store = IncidentStore(tmp_path / "store")
    ingest_files([write_police_csv([police_row()] * 3)], store=store, user="test")
    first = store.manifest()[aggregates.MANIFEST_KEY]
    ingest_files([write_police_csv([police_row(Month="2024-02")] * 2,
                                   name="2024-02-humberside-street.csv")],
                 store=store, user="test")
    second = store.manifest()[aggregates.MANIFEST_KEY]
    assert (first["version"], second["version"]) == (1, 2)
    assert set(first["files"].values()).isdisjoint(second["files"].values())
    # A reader holding version 1's manifest can still read its files (grace period)
    assert all((store.directory / p).is_file() for p in first["files"].values())
    table = aggregates.load_aggregates(store.directory, store.manifest()).lsoa_month
    assert table.groupby("month")["incidents"].sum().to_dict() == {"2024-01": 3, "2024-02": 2}


def test_a_failure_writing_aggregates_leaves_the_store_as_it_was(
        tmp_path, write_police_csv, monkeypatch):
    store = IncidentStore(tmp_path / "store")
    ingest_files([write_police_csv([police_row()] * 3)], store=store, user="test")
    before = (store.directory / MANIFEST).read_text()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(aggregates, "write_aggregates", broken)
    with pytest.raises(OSError, match="disk full"):
        ingest_files([write_police_csv([police_row(Month="2024-02")],
                                       name="2024-02-humberside-street.csv")],
                     store=store, user="test")
    assert (store.directory / MANIFEST).read_text() == before
    assert store.version == 1 and store.months() == ["2024-01"]


def test_an_empty_store_has_empty_tables(tmp_path):
    store = IncidentStore(tmp_path / "empty")
    loaded = aggregates.load_aggregates(store.directory, store.manifest())
    assert loaded.lsoa_month.empty and loaded.map_points.empty
    assert list(loaded.lsoa_month.columns) == [*aggregates.LSOA_KEYS, "incidents", "weight"]


def test_derived_values_are_kept_per_version(tmp_path):
    assert aggregates.read_derived(tmp_path, 3) == {}
    aggregates.write_derived(tmp_path, 3, "bandwidth|humber|Robbery", 250.0)
    aggregates.write_derived(tmp_path, 3, "bandwidth|E06000010|Robbery", None)
    assert aggregates.read_derived(tmp_path, 3) == {"bandwidth|humber|Robbery": 250.0,
                                                    "bandwidth|E06000010|Robbery": None}
    assert aggregates.read_derived(tmp_path, 4) == {}
    path = tmp_path / aggregates.AGGREGATES_DIR / "derived-v3.json"
    assert json.loads(path.read_text())["bandwidth|humber|Robbery"] == 250.0
    assert not list(path.parent.glob("*.tmp"))


def test_derived_tables_are_kept_per_version(tmp_path):
    import geopandas as gpd
    import shapely

    assert aggregates.read_derived_table(tmp_path, 2, "streets") is None
    streets = gpd.GeoDataFrame({"name": ["Hessle Road"]},
                               geometry=[shapely.box(0, 0, 30, 30)], crs="EPSG:27700")
    aggregates.write_derived_table(tmp_path, 2, "streets", streets)
    back = aggregates.read_derived_table(tmp_path, 2, "streets")
    assert back.crs == streets.crs and back.geometry.geom_equals(streets.geometry).all()
    assert back["name"].tolist() == ["Hessle Road"]
    assert aggregates.read_derived_table(tmp_path, 3, "streets") is None
    with pytest.raises(ValueError, match="'name' should be an identifier .* got '../x'"):
        aggregates.read_derived_table(tmp_path, 2, "../x")


def test_derived_keys_are_checked(tmp_path):
    with pytest.raises(TypeError, match="'key' should be a non-empty string, got ''"):
        aggregates.write_derived(tmp_path, 1, "", 1.0)


def test_count_tables_checks_its_manifest(tmp_path):
    with pytest.raises(TypeError, match="'manifest' should be a store manifest"):
        aggregates.count_tables(tmp_path, [])


@pytest.mark.parametrize("value, enabled", [(None, True), ("1", True), ("0", False),
                                            ("false", False), ("off", False)])
def test_the_switch(monkeypatch, value, enabled):
    if value is None:
        monkeypatch.delenv(aggregates.ENV_SWITCH, raising=False)
    else:
        monkeypatch.setenv(aggregates.ENV_SWITCH, value)
    assert aggregates.aggregates_enabled() is enabled
