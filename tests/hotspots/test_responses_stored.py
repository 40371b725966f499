"""Evaluating stored responses: control choice, buffer exclusions, harm, disclosure, the
pooled CSP summary, and the ``list``/``add``/``evaluate --id`` command lines.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geodata.responses import Response
from hotspots.disclosure import DisclosureRule
from hotspots.responses import (
    disclosed_evaluation,
    evaluate_response,
    main,
    outcome,
    place_from_lsoas,
    place_from_wards,
    summarise_evaluations,
)

CSP = shapely.box(0, 0, 10_000, 10_000)
TARGET = shapely.box(1_000, 1_000, 1_200, 1_200)
MONTHS = ["2024-01", "2024-02", "2024-03", "2024-04"]


def _response(id=1, geometry=TARGET, start="2024-03", end=None):
    return Response(id=id, title=f"r{id}", type="patrols", lead_agency="Police", partners=(),
                    lad_code="E06000010", start_month=start, end_month=end, notes="",
                    status="active", geometry=geometry, place={"kind": "geojson",
                                                               "description": "test"},
                    created_at="", created_by="t", updated_at="", updated_by="t", version=1)


def _points(spec):
    """spec: list of (x, y, month, n) -> incidents frame with harm 2 each."""
    rows = [{"x": x, "y": y, "month": m, "harm": 2.0} for x, y, m, n in spec for _ in range(n)]
    return pd.DataFrame(rows)


OUTLINES = gpd.GeoDataFrame(
    {"hotspot_id": [1, 2, 3]},
    geometry=[TARGET.buffer(10),                         # the target's own hotspot
              shapely.box(5_000, 5_000, 5_300, 5_300),   # a comparable hotspot, free
              shapely.box(8_000, 8_000, 8_300, 8_300)],  # covered by another response
    crs="EPSG:27700")


def _incidents():
    return _points([
        (1_100, 1_100, "2024-01", 20), (1_100, 1_100, "2024-02", 20),   # T: 40 before
        (1_100, 1_100, "2024-03", 10), (1_100, 1_100, "2024-04", 10),   # T: 20 after (2 mo)
        (1_300, 1_100, "2024-01", 5), (1_300, 1_100, "2024-03", 7),     # D (100 m out)
        (5_100, 5_100, "2024-01", 15), (5_100, 5_100, "2024-02", 15),   # hotspot 2
        (5_100, 5_100, "2024-03", 15), (5_100, 5_100, "2024-04", 15),
        (8_100, 8_100, "2024-01", 50), (8_100, 8_100, "2024-03", 5),    # other response
        (9_500, 500, "2024-01", 3), (9_500, 500, "2024-03", 3)])        # elsewhere in CSP


def _evaluate(incidents=None, *, outlines=OUTLINES, others=()):
    """The response at TARGET from 2024-03 on `incidents` (default :func:`_incidents`), two
    months before and two after, in the test CSP."""
    return evaluate_response(_response(), _incidents() if incidents is None else incidents,
                             study_area=CSP, study_text="Test CSP", months_present=MONTHS,
                             hotspot_outlines=outlines, other_responses=others, pre=2, post=2)


def test_comparable_hotspots_free_of_responses_are_the_control():
    other = _response(2, geometry=shapely.box(7_900, 7_900, 8_400, 8_400), start="2024-02")
    result = _evaluate(others=[other])
    assert result.extra["control_kind"] == "hotspots"
    assert result.extra["control_hotspot_ids"] == [2]
    assert "1 comparable hotspot(s) with no response in the period (Test CSP; ids 2;" in \
        result.control
    assert (result.target_before, result.target_after) == (40, 20)
    assert (result.buffer_before, result.buffer_after) == (5, 7)
    assert (result.control_before, result.control_after) == (30, 30)
    # WDD = dT + dD - 2 dC = -20 + 2 - 0; var = 40 + 20 + 5 + 7 + 4 * 60
    assert result.wdd == pytest.approx(-18.0)
    assert result.wdd_se == pytest.approx(math.sqrt(312.0))
    assert result.extra["target_harm_before"] == pytest.approx(80.0)
    assert result.extra["control_harm_after"] == pytest.approx(60.0)
    assert [row["target_harm"] for row in result.monthly] == [40.0, 40.0, 20.0, 20.0]
    assert result.extra["other_responses_excluded"] == 1


def test_falls_back_to_the_rest_of_the_csp_and_says_why():
    result = _evaluate(outlines=OUTLINES.iloc[[0]])
    assert result.extra["control_kind"] == "rest_of_csp"
    assert "rest of Test CSP" in result.control and "because every current hotspot" in \
        result.control
    # control = everything outside T and the 250 m ring: hotspot 2, 3 and the elsewhere point
    assert (result.control_before, result.control_after) == (30 + 50 + 3, 30 + 5 + 3)


def test_other_responses_are_cut_out_of_the_buffer():
    neighbour = _response(3, geometry=shapely.box(1_250, 1_000, 1_400, 1_200), start="2024-01")
    result = _evaluate(others=[neighbour])
    assert (result.buffer_before, result.buffer_after) == (0, 0)
    # a response that ended before the window is not excluded
    old = replace(neighbour, start_month="2023-01", end_month="2023-06")
    result = _evaluate(others=[old])
    assert (result.buffer_before, result.buffer_after) == (5, 7)


def test_disclosed_evaluation_uses_rounded_counts_only():
    result = _evaluate()
    rule = DisclosureRule()
    shown = disclosed_evaluation(result, rule)
    values = [shown.target_before, shown.target_after, shown.buffer_before, shown.buffer_after,
              shown.control_before, shown.control_after]
    # control: hotspots 2 and 3 (30 + 50 before, 30 + 5 after); buffer 7 -> 5
    assert values == [40, 20, 5, 5, 80, 35]
    assert result.buffer_after == 7
    # recomputed from the rounded totals: dT + dD - 2 dC = -20 + 0 + 90
    assert shown.wdd == pytest.approx(70.0)
    assert all(v is None or v % 5 == 0 for row in shown.monthly
               for v in (row["target"], row["buffer"], row["control"]))
    assert not any("harm" in k for k in shown.extra)
    assert "Disclosure control" in shown.verdict
    small = _points([(1_100, 1_100, "2024-01", 3), (1_100, 1_100, "2024-03", 2),
                     (5_100, 5_100, "2024-01", 30), (5_100, 5_100, "2024-03", 30)])
    tiny = _evaluate(small)
    hidden = disclosed_evaluation(tiny, rule)
    assert hidden.wdd_p is None and hidden.verdict.startswith("Too few incidents to show")
    assert outcome(hidden) == "not evaluable"
    assert all(row["target"] is None or row["target"] == 0 for row in hidden.monthly)


def test_pooled_summary_adds_wdds_and_variances():
    runs = []
    for shift, n in ((0, 40), (2_000, 60)):
        geometry = shapely.box(1_000 + shift, 1_000, 1_200 + shift, 1_200)
        spec = [(1_100 + shift, 1_100, "2024-01", n), (1_100 + shift, 1_100, "2024-03", n // 2),
                (5_100, 5_100, "2024-01", 30), (5_100, 5_100, "2024-03", 30)]
        runs.append(evaluate_response(_response(len(runs) + 1, geometry), _points(spec),
                                      study_area=CSP, study_text="CSP",
                                      months_present=["2024-01", "2024-02", "2024-03"],
                                      hotspot_outlines=OUTLINES, pre=2, post=1))
    summary = summarise_evaluations(runs)
    assert summary["responses"] == 2 and summary["pooled"] == 2
    assert summary["wdd"] == pytest.approx(runs[0].wdd + runs[1].wdd)
    assert summary["wdd_se"] == pytest.approx(math.hypot(runs[0].wdd_se, runs[1].wdd_se))
    assert summary["reduction"] + summary["no clear change"] + summary["increase"] + \
        summary["too few incidents"] == 2
    assert "too narrow" in summary["caveat"]


def test_place_builders(lsoas):
    hull = lsoas[lsoas["lad_code"] == "E06000010"]
    geometry, place = place_from_lsoas(hull, list(hull["lsoa21cd"][:2]))
    assert geometry.area == pytest.approx(hull.geometry.iloc[:2].area.sum(), rel=1e-6)
    assert place["kind"] == "lsoas" and len(place["names"]) == 2
    ward = hull["ward_code"].iloc[0]
    geometry, place = place_from_wards(hull, [ward])
    assert geometry.area == pytest.approx(hull[hull["ward_code"] == ward].geometry.area.sum(),
                                          rel=1e-6)
    assert place["ids"] == [ward] and ward in place["description"]
    with pytest.raises(ValueError, match="expected 2021 LSOA codes .* got \\['E01999999'\\]"):
        place_from_lsoas(hull, ["E01999999"])


@pytest.fixture(scope="module")
def lsoas():
    from geodata.reference import load_lsoa_table
    return load_lsoa_table()


# ------------------------------------------------------------------ command line on a store
@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    from geodata.ingest import open_store
    folder = tmp_path_factory.mktemp("store")
    open_store(folder)  # seeded with the shipped police.uk months
    return folder


def test_cli_add_list_and_evaluate_a_stored_response(store_dir, lsoas, capsys):
    from config import get_config
    from geodata.ingest import open_store

    cfg = get_config()
    incidents = open_store(store_dir).query(
        area_code="E06000010", months=["2024-01", "2024-02"],
        crime_types=cfg.crime_group(cfg.default_crime_group).types,
        columns=["lsoa21cd", "x", "y"])
    busiest = incidents["lsoa21cd"].value_counts().index[0]
    polygon = lsoas.set_index("lsoa21cd").geometry[busiest]
    code = main(["add", "--store", str(store_dir), "--title", "Night-time economy patrols",
                 "--type", "patrols", "--lead-agency", "Humberside Police", "--partners",
                 "Hull City Council, NHS", "--area", "E06000010", "--start", "2024-03",
                 "--lsoa", busiest, "--user", "analyst1", "--format", "json"])
    assert code == 0
    added = json.loads(capsys.readouterr().out)
    assert added["partners"] == ["Hull City Council", "NHS"]
    assert added["place_kind"] == "lsoas" and busiest in added["place"]
    audit = [json.loads(line) for line in
             (store_dir / "audit.jsonl").read_text().splitlines()]
    assert audit[-1]["event"] == "response_changed" and audit[-1]["user"] == "analyst1"
    assert audit[-1]["response_id"] == added["id"] and audit[-1]["action"] == "add"

    assert main(["list", "--store", str(store_dir), "--area", "E06000011",
                 "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["list", "--store", str(store_dir), "--status", "active"]) == 0
    assert "Night-time economy patrols" in capsys.readouterr().out

    assert main(["evaluate", "--id", str(added["id"]), "--store", str(store_dir), "--pre", "2",
                 "--post", "1", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    x, y = incidents["x"].to_numpy(float), incidents["y"].to_numpy(float)
    inside = shapely.intersects_xy(polygon, x, y)
    assert out["target_before"] == int(inside.sum()) > 20
    assert out["control_kind"] in ("hotspots", "rest_of_csp") and out["control"]
    for key in ("wdd", "wdd_se", "wdd_p", "wdq", "verdict", "target_harm_before"):
        assert key in out


@pytest.mark.parametrize("args, message", [
    (["--start", "2024-3"], "--start: start_month: expected a month 'YYYY-MM'; got '2024-3'."),
    (["--type", "flowers"], "--type: type: expected one of"),
    (["--area", "E06000099"], "--area: lad_code: expected one of the CSP codes"),
    (["--lsoa", "E01999999"], "--lsoa: place: expected 2021 LSOA codes"),
    (["--target", "missing.geojson"], "--target missing.geojson: no such file"),
])
def test_cli_add_exits_2_with_what_was_expected(store_dir, capsys, args, message):
    base = {"--title": "t", "--type": "patrols", "--lead-agency": "Police",
            "--area": "E06000010", "--start": "2024-03", "--lsoa": "E01012756"}
    for flag, value in zip(args[::2], args[1::2]):
        if flag == "--target":
            base.pop("--lsoa")
        base[flag] = value
    before = (store_dir / "audit.jsonl").read_text() if (store_dir / "audit.jsonl").exists() \
        else ""
    with pytest.raises(SystemExit) as info:
        main(["add", "--store", str(store_dir), *np.ravel(list(base.items())).tolist()])
    assert info.value.code == 2
    assert message in capsys.readouterr().err
    after = (store_dir / "audit.jsonl").read_text() if (store_dir / "audit.jsonl").exists() \
        else ""
    assert after == before  # nothing stored, nothing audited


def test_cli_evaluate_unknown_id_exits_2(store_dir, capsys):
    with pytest.raises(SystemExit) as info:
        main(["evaluate", "--id", "999", "--store", str(store_dir)])
    assert info.value.code == 2
    assert "No response with id 999" in capsys.readouterr().err


# ------------------------------------------------------------------ synthetic control
def _synthetic_panel(rng, effect: float, months_before: int = 8, months_after: int = 4,
                     donors: int = 30):
    months = [f"2023-{m:02d}" for m in range(1, months_before + months_after + 1)]
    trend = 1 + 0.05 * np.sin(np.arange(len(months)))
    levels = rng.uniform(10, 40, donors)
    panel = pd.DataFrame({f"E0{j}": rng.poisson(levels[j] * trend) for j in range(donors)},
                         index=months)
    weights = np.zeros(donors)
    weights[:3] = [0.5, 0.3, 0.2]
    expected = panel.to_numpy(float) @ weights
    target = rng.poisson(expected * np.r_[np.ones(months_before),
                                          np.full(months_after, 1 + effect)]).astype(float)
    return target, panel, months[:months_before], months[months_before:], expected


def test_synthetic_control_recovers_a_planted_effect_and_its_placebo_p_is_small():
    from hotspots.responses import synthetic_control

    rng = np.random.default_rng(7)
    target, panel, before, after, expected = _synthetic_panel(rng, effect=-0.6)
    result = synthetic_control(target, panel, months_before=before, months_after=after)
    planted = -0.6 * expected[len(before):].sum()
    assert result.effect == pytest.approx(planted, rel=0.35)
    assert result.p_placebo <= 0.1
    assert sum(result.weights.values()) == pytest.approx(1.0, abs=1e-6)


def test_synthetic_control_without_effect_is_not_significant_and_needs_six_months():
    from hotspots.responses import synthetic_control

    ps = []
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        target, panel, before, after, _ = _synthetic_panel(rng, effect=0.0)
        ps.append(synthetic_control(target, panel, months_before=before,
                                    months_after=after).p_placebo)
    assert np.mean(np.array(ps) <= 0.1) <= 0.3  # rarely "significant" without an effect
    rng = np.random.default_rng(1)
    target, panel, before, after, _ = _synthetic_panel(rng, effect=0.0, months_before=4)
    reason = synthetic_control(target, panel, months_before=before, months_after=after)
    assert reason == ("no synthetic control: it needs at least 6 months before the start in "
                      "the data; there are 4")


def test_evaluate_response_runs_the_synthetic_control_with_lsoa_donors():
    donors = gpd.GeoDataFrame(
        {"lsoa21cd": [f"L{i}{j}" for i in range(5) for j in range(5)]},
        geometry=[shapely.box(i * 2_000, j * 2_000, (i + 1) * 2_000, (j + 1) * 2_000)
                  for i in range(5) for j in range(5)], crs="EPSG:27700")
    rng = np.random.default_rng(3)
    months = [f"2023-{m:02d}" for m in range(1, 13)]
    spec = []
    for m_i, m in enumerate(months):
        for d in range(25):
            cx, cy = (d // 5) * 2_000 + 1_000, (d % 5) * 2_000 + 1_000
            spec.append((cx + 300, cy + 300, m, int(rng.poisson(5 + 2 * d))))
        spec.append((1_100, 1_100, m, 30 if m_i < 8 else 10))  # T, in donor L00
    result = evaluate_response(_response(start="2023-09"), _points(spec), study_area=CSP,
                               study_text="CSP", months_present=months,
                               hotspot_outlines=None, pre=8, post=4, donors=donors)
    synthetic = result.extra["synthetic"]
    assert synthetic is not None and "L00" not in synthetic["weights"]  # the target's LSOA
    assert synthetic["placebos"] == 24 and synthetic["effect"] < 0
    shown = disclosed_evaluation(result, DisclosureRule())
    assert "synthetic" not in shown.extra
