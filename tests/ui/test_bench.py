"""``python -m ui.bench`` and what it measures: the pages' figures from the per-ingest
aggregates equal those from the raw incidents, and the back-tested defaults are stored."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import streamlit as st

from geodata import aggregates
from geodata.paths import REPO_ROOT
from ui import bench, cached

GROUPS = ("Serious violence (police.uk proxy)", "All crime", "Robbery")
HULL = "E06000010"


@pytest.fixture
def caches_cleared():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def _figures(months: tuple[str, ...], ward: str) -> dict:
    figures = {}
    for group in GROUPS:
        figures[("summary", group)] = cached.csp_summary(months, group)
        figures[("trend", group)] = cached.csp_trend(months, group)
        for area in (None, HULL, ward):
            figures[("lsoa", area, group)] = cached.lsoa_rates(area, months, group)
    span = cached.data_span()
    figures["span"] = pd.DataFrame([{k: str(v) for k, v in span.items()}])
    names = cached.map_point_names()  # each map point once, in any order
    figures["map point names"] = names.sort_values(list(names.columns)).reset_index(drop=True)
    places = cached.gazetteer()
    figures["places"] = pd.DataFrame(places.drop(columns="geometry")).assign(
        geometry=places.geometry.normalize().to_wkt(rounding_precision=6))
    return figures


def _concentration(months: tuple[str, ...]) -> dict:
    """Map points' Gini and Lorenz curves: every stored map point of the area is a place."""
    return {area: [dataclasses.asdict(c) for c in cached.concentration(
        area, months, GROUPS[0], replicates=20)] for area in (None, HULL)}


def test_figures_from_the_aggregates_equal_those_from_the_raw_incidents(
        monkeypatch, caches_cleared):
    months = tuple(cached.available_months()[-3:])
    ward = cached.wards().query("lad_code == @HULL")["ward_code"].iloc[0]
    monkeypatch.setenv(aggregates.ENV_SWITCH, "0")
    raw = _figures(months, ward)
    raw_concentration = _concentration(months)
    st.cache_data.clear()
    st.cache_resource.clear()
    monkeypatch.setenv(aggregates.ENV_SWITCH, "1")
    assert cached.aggregates().stored  # read from the files the commit wrote
    # The pages' in-memory copy of the store: the one read of every incident, per version.
    assert len(cached.incident_table()) == len(cached.store().query(columns=["month"]))
    # With the aggregates, these figures read no incidents at all

    def no_incidents(*args, **kwargs):
        raise AssertionError("read the raw incidents")

    store_class = type(cached.store())
    query = store_class.query
    with monkeypatch.context() as patch:
        patch.setattr(cached, "selected_incidents", no_incidents)
        patch.setattr(store_class, "query", no_incidents)
        counted = _figures(months, ward)

    def months_only(self, **kwargs):  # the selection's incidents, not every stored one
        if kwargs.get("months") is None:
            raise AssertionError("read every stored incident")
        return query(self, **kwargs)

    monkeypatch.setattr(store_class, "query", months_only)
    np.testing.assert_equal(_concentration(months), raw_concentration)
    assert raw.keys() == counted.keys()
    for key in raw:
        pd.testing.assert_frame_equal(counted[key], raw[key], obj=str(key))
    assert raw[("summary", "All crime")]["incidents"].sum() > 0


def test_backtested_bandwidths_are_stored_and_read_back(monkeypatch, caches_cleared):
    group = "Serious violence (police.uk proxy)"
    monkeypatch.setenv(aggregates.ENV_SWITCH, "0")
    expected = cached.backtested_bandwidth(HULL, group)
    st.cache_data.clear()
    monkeypatch.setenv(aggregates.ENV_SWITCH, "1")
    assert cached.precompute_defaults([HULL]) >= 0
    stored = aggregates.read_derived(cached.store().directory, cached.store_version())
    key = next(k for k in stored if k.startswith(f"bandwidth|{HULL}|{group}|"))
    assert stored[key] == expected is not None
    assert aggregates.read_derived_table(cached.store().directory, cached.store_version(),
                                         "streets") is not None  # "find a place" streets
    st.cache_data.clear()  # as after a restart: nothing cached, the value read from disk

    def no_backtest(*args, **kwargs):
        raise AssertionError("back-tested again")

    monkeypatch.setattr(cached, "choose_bandwidth", no_backtest)
    assert cached.backtested_bandwidth(HULL, group) == expected
    assert cached.precompute_defaults([HULL]) == 0


def test_precompute_defaults_checks_its_areas(caches_cleared):
    with pytest.raises(ValueError, match="'area_codes' should be CSP codes .* got \\['E0'\\]"):
        cached.precompute_defaults(["E0"])


def test_store_version_follows_a_commit_made_elsewhere(caches_cleared, write_manifest_copy):
    version = cached.store_version()
    write_manifest_copy(version + 1)
    assert cached.store_version() == version + 1


@pytest.fixture
def write_manifest_copy():
    """Replace the manifest as a commit does (new file, os.replace), restoring it after."""
    import os

    from geodata.store import MANIFEST

    path = cached.store().directory / MANIFEST
    original = path.read_text(encoding="utf-8")

    def write(version: int) -> None:
        manifest = json.loads(original)
        manifest["version"] = version
        temporary = path.with_suffix(".test.tmp")
        temporary.write_text(json.dumps(manifest), encoding="utf-8")
        os.replace(temporary, path)

    yield write
    temporary = path.with_suffix(".test.tmp")
    temporary.write_text(original, encoding="utf-8")
    os.replace(temporary, path)


def test_generated_incidents_sit_on_real_map_points(tmp_path):
    from geodata.paths import shipped_crime_files

    files = bench.generate_incidents(tmp_path, rows=240, months=12, seed=3)
    again = bench.generate_incidents(tmp_path / "again", rows=240, months=12, seed=3)
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in files]
    generated = pd.concat(frames, ignore_index=True)
    assert [f["Month"].iloc[0] for f in frames] == list(
        pd.period_range(end=bench.GENERATED_LAST_MONTH, periods=12, freq="M").strftime("%Y-%m"))
    assert len(generated) == 240 and all(len(f) == 20 for f in frames)
    shipped = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False)
                         for p in shipped_crime_files()])
    real = set(zip(shipped["Longitude"], shipped["Latitude"], shipped["LSOA code"]))
    assert set(zip(generated["Longitude"], generated["Latitude"],
                   generated["LSOA code"])) <= real
    assert generated.equals(pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False)
                                       for p in again], ignore_index=True))
    with pytest.raises(ValueError, match="'rows' should be an integer of at least 12"):
        bench.generate_incidents(tmp_path, rows=5, months=12)


def test_the_bench_prints_one_json_record_per_page_and_action(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "ui.bench", "--format", "json", "--store", "shipped",
         "--store-dir", str(tmp_path / "store"), "--pages", "need", "--actions", "group"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    records = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert [(r["page"], r["action"]) for r in records] == [
        ("(ingest)", "precompute_defaults"), ("(start)", "warm_up"), ("need", "load"),
        ("need", "group")]
    for record in records:
        assert set(bench.RECORD_KEYS) <= set(record)
        assert record["cold_s"] > 0 and record["warm_s"] > 0
    for record in records[2:]:
        assert record["bytes"] > 0
        assert record["baseline_cold_s"] > 0 and record["baseline_warm_s"] > 0
        assert record["store_rows"] > 0 and record["store_months"] == 4
