"""Response evaluation: WDD and WDQ pinned by hand, calibration on synthetic panels, CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import shapely
from scipy import stats

from geodata.errors import DataValidationError
from hotspots.responses import (
    evaluate_monthly,
    main,
    period_months,
    read_target,
    response_areas,
    wdd,
    wdd_target,
    wdq,
)


# ------------------------------------------------------------------ hand-computed values
def test_wdd_shared_control_by_hand():
    # dT = 10-20 = -10, dD = 12-15 = -3, dC = 55-50 = 5: WDD = -10 - 3 - 2*5 = -23
    # var = T0+T1+D0+D1 + 4(C0+C1) = 20+10+15+12 + 4*105 = 477
    r = wdd(20, 10, 50, 55, 15, 12)
    assert r.wdd == pytest.approx(-23.0)
    assert r.variance == pytest.approx(477.0)
    assert r.se == pytest.approx(math.sqrt(477.0))
    assert r.z == pytest.approx(-23.0 / math.sqrt(477.0))
    assert r.p == pytest.approx(2 * stats.norm.sf(23.0 / math.sqrt(477.0)))
    assert (r.ci_low, r.ci_high) == pytest.approx((-23 - 1.959964 * math.sqrt(477),
                                                   -23 + 1.959964 * math.sqrt(477)), abs=1e-4)


def test_wdd_separate_displacement_control_is_the_papers_formula():
    # Wheeler & Ratcliffe (2018): (T1-T0) - (C1-C0) + (D1-D0) - (Cd1-Cd0)
    # = -10 - 5 - 3 + 2 = -16; var = 20+10+50+55+15+12+30+28 = 220
    r = wdd(20, 10, 50, 55, 15, 12, 30, 28)
    assert r.wdd == pytest.approx(-16.0)
    assert r.variance == pytest.approx(220.0)


def test_wdd_target_only_and_scaled_after_counts():
    t = wdd_target(20, 10, 50, 55)
    assert (t.wdd, t.variance) == pytest.approx((-15.0, 135.0))
    # after counts x2: (10-10) + (0-0) - 2(44-40) = -8; var 10 + 4*5 + 4*(40 + 4*22) = 542
    r = wdd(10, 5, 40, 22, 0, 0, scale=2.0)
    assert (r.wdd, r.variance) == pytest.approx((-8.0, 542.0))


def test_wdq_by_hand_and_its_readings():
    # (12/55 - 15/50) / (10/55 - 20/50) = (12 - 16.5) / (10 - 22) = 0.375
    q = wdq(20, 10, 50, 55, 15, 12)
    assert q.wdq == pytest.approx(0.375)
    assert q.success_measure == pytest.approx(10 / 55 - 0.4)
    assert "diffusion" in q.reading
    # buffer up: (20 - 16.5) / (10 - 22) = -0.2917: displacement smaller than the effect
    q = wdq(20, 10, 50, 55, 15, 20)
    assert q.wdq == pytest.approx(-3.5 / 12)
    assert q.reading.startswith("displacement:")
    # buffer down more than the target: (4 - 16.5) / -12 = 1.0417 > 1
    assert wdq(20, 10, 50, 55, 15, 4).wdq == pytest.approx(12.5 / 12)
    assert "greater than the direct effect" in wdq(20, 10, 50, 55, 15, 4).reading


def test_wdq_is_none_without_treatment_effect_or_with_zero_counts():
    q = wdq(10, 20, 50, 55, 15, 12)
    assert q.wdq is None and "did not improve" in q.reason
    q = wdq(20, 10, 50, 55, 0, 12)
    assert q.wdq is None and "d0" in q.reason


def test_bad_counts_are_refused_with_what_was_expected():
    with pytest.raises(ValueError, match=r"'t0' parameter of wdd .* \[0, inf\)\. Got -1"):
        wdd(-1, 10, 50, 55)
    with pytest.raises(ValueError, match="given together"):
        wdd(1, 1, 1, 1, 1, 1, cd0=3)


def test_period_months_start_counts_as_after():
    assert period_months("2024-02", 3, 2) == (["2023-11", "2023-12", "2024-01"],
                                              ["2024-02", "2024-03"])
    with pytest.raises(ValueError, match="'start' parameter .* 'YYYY-MM'. Got '2024-13'"):
        period_months("2024-13")


# ------------------------------------------------------------------ monthly panels
MONTHS = ["2023-10", "2023-11", "2023-12", "2024-01", "2024-02", "2024-03"]


def _panel(rng, mu_t=20.0, mu_d=30.0, mu_c=150.0, effect_t=1.0, effect_d=1.0):
    rows = []
    for k, m in enumerate(MONTHS):
        after = k >= 3
        rows.append({"month": m, "target": rng.poisson(mu_t * (effect_t if after else 1)),
                     "buffer": rng.poisson(mu_d * (effect_d if after else 1)),
                     "control": rng.poisson(mu_c)})
    return pd.DataFrame(rows)


def test_interval_covers_the_planted_effect():
    # -40% in T, +20% in D, control flat, 3 months each side: expected WDD
    # = 3*(12 - 20) + 3*(36 - 30) - 2*0 = -6
    planted = 3 * (0.6 * 20 - 20) + 3 * (1.2 * 30 - 30)
    covered = 0
    for seed in range(200):
        r = evaluate_monthly(_panel(np.random.default_rng(seed), effect_t=0.6, effect_d=1.2),
                             "2024-01")
        covered += r.wdd_ci[0] <= planted <= r.wdd_ci[1]
    assert covered / 200 >= 0.85
    # nominal 95%: >= 90% over 200 seeds (3 binomial sd). The printed variance with the
    # shared control counted twice, not four times, would cover only about 84%.
    assert covered / 200 >= 0.90


def test_p_values_are_uniform_without_effect():
    p = np.array([evaluate_monthly(_panel(np.random.default_rng(1000 + s)), "2024-01").wdd_p
                  for s in range(400)])
    assert stats.kstest(p, "uniform").pvalue > 0.01
    assert 0.02 <= np.mean(p < 0.05) <= 0.10


def test_gaps_are_reported_and_after_counts_scaled():
    panel = pd.DataFrame({"month": ["2023-12", "2024-01", "2024-02"], "target": [8, 4, 6],
                          "buffer": [3, 2, 2], "control": [40, 20, 21]})
    r = evaluate_monthly(panel, "2024-01", pre=2, post=2)
    assert r.months_before == ["2023-12"] and r.months_missing == ["2023-11"]
    assert r.post_scale == pytest.approx(0.5)
    # (0.5*10 - 8) + (0.5*4 - 3) - 2(0.5*41 - 40) = -3 - 1 + 39 = 35
    assert r.wdd == pytest.approx(35.0)
    assert r.target_before == 8 and r.target_after == 10
    assert "Too few incidents" in r.verdict and "2023-11" in r.verdict
    with pytest.raises(ValueError, match="No month before the start 2024-01.*2023-12"):
        evaluate_monthly(panel[panel.month >= "2024-01"], "2024-01", pre=1)


def test_verdicts_say_reduction_and_regression_to_the_mean():
    panel = pd.DataFrame({"month": ["2023-12", "2024-01"], "target": [200, 100],
                          "buffer": [50, 50], "control": [30, 30]})
    r = evaluate_monthly(panel, "2024-01", pre=1, post=1)
    # var = 200 + 100 + 50 + 50 + 4 * 60 = 640
    assert r.wdd == pytest.approx(-100.0) and r.wdd_se == pytest.approx(math.sqrt(640))
    assert r.wdd_p == pytest.approx(2 * stats.norm.sf(100 / math.sqrt(640)))
    assert r.verdict.startswith("Reduction")
    assert "Regression to the mean" in r.verdict and "police.uk" in r.verdict


def test_buffer_is_a_ring_clipped_to_the_study_area_and_control_the_rest():
    study = shapely.box(0, 0, 2000, 1000)
    target = shapely.box(900, 0, 1100, 200)
    a = response_areas(target, study_area=study, buffer_m=100)
    assert a.buffer.intersection(target).area == pytest.approx(0.0, abs=1e-6)
    assert a.buffer.within(study.buffer(1e-6))
    assert a.control.area == pytest.approx(study.area - a.target.area - a.buffer.area, rel=1e-9)
    assert "rest of the study area" in a.control_text
    with pytest.raises(ValueError, match="outside the study area"):
        response_areas(shapely.box(5000, 5000, 5100, 5100), study_area=study)


# ------------------------------------------------------------------ GeoJSON input
HULL = [[-0.345, 53.740], [-0.330, 53.740], [-0.330, 53.748], [-0.345, 53.748],
        [-0.345, 53.740]]


def _write(path, obj):
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


def test_read_target_refuses_bad_polygons(tmp_path):
    bowtie = [[-0.34, 53.74], [-0.33, 53.75], [-0.33, 53.74], [-0.34, 53.75], [-0.34, 53.74]]
    cases = {"empty": ({"type": "FeatureCollection", "features": []}, "got no geometry"),
             "bowtie": ({"type": "Polygon", "coordinates": [bowtie]}, "invalid"),
             "bng": ({"type": "Polygon", "coordinates": [[[508000, 429000], [509000, 429000],
                                                          [509000, 430000],
                                                          [508000, 429000]]]},
                     "expected longitude"),
             "point": ({"type": "Point", "coordinates": [-0.34, 53.74]}, "'Point'")}
    for name, (obj, message) in cases.items():
        with pytest.raises(DataValidationError, match=message):
            read_target(_write(tmp_path / f"{name}.geojson", obj))
    target = read_target(_write(tmp_path / "ok.geojson", {"type": "Polygon",
                                                           "coordinates": [HULL]}))
    assert 0.8e6 < target.area < 1.0e6 and target.bounds[0] > 500_000  # BNG metres


# ------------------------------------------------------------------ command line, shipped data
@pytest.fixture(scope="module")
def files():
    from geodata.paths import shipped_crime_files
    chosen = [p for p in shipped_crime_files() if p.name[:7] in ("2024-01", "2024-02",
                                                                   "2024-03")]
    assert len(chosen) == 3
    return [str(p) for p in chosen]


@pytest.fixture()
def target_file(tmp_path):
    return _write(tmp_path / "hull.geojson", {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon",
                                                         "coordinates": [HULL]}}]})


def _hand_counts(files):
    """Count raw CSV rows in T, D and C with shapely, independently of the module."""
    import geopandas as gpd

    from config import get_config
    from geodata.reference import load_lsoa_boundaries

    cfg = get_config()
    types = set(cfg.crime_group(cfg.default_crime_group).types)
    raw = pd.concat([pd.read_csv(f, dtype=str) for f in files], ignore_index=True)
    raw = raw[raw["Crime type"].isin(types)].copy()
    lon = pd.to_numeric(raw["Longitude"], errors="coerce")
    lat = pd.to_numeric(raw["Latitude"], errors="coerce")
    raw = raw[lon.notna() & lat.notna()]
    pts = gpd.GeoSeries(gpd.points_from_xy(lon[raw.index], lat[raw.index]),
                        crs="EPSG:4326").to_crs("EPSG:27700")
    t = gpd.GeoSeries([shapely.Polygon(HULL)], crs="EPSG:4326").to_crs("EPSG:27700").iloc[0]
    humber = shapely.union_all(load_lsoa_boundaries().geometry.to_numpy())
    outer = t.buffer(250, quad_segs=16)
    d = outer.difference(t).intersection(humber)
    c = humber.difference(outer)
    in_t = pts.within(t).to_numpy() | pts.touches(t).to_numpy()
    in_d = ~in_t & pts.intersects(d).to_numpy()
    in_c = ~in_t & ~in_d & pts.intersects(c).to_numpy()
    month = raw["Month"].to_numpy()
    out = {}
    for name, mask in (("target", in_t), ("buffer", in_d), ("control", in_c)):
        out[name] = {m: int((mask & (month == m)).sum()) for m in ("2024-01", "2024-02",
                                                                   "2024-03")}
    return out


def test_cli_json_matches_hand_counts_on_shipped_files(files, target_file, capsys):
    code = main(["evaluate", "--incidents", *files, "--target", str(target_file),
                 "--start", "2024-03", "--pre", "2", "--post", "1", "--format", "json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("target_before", "target_after", "buffer_before", "buffer_after",
                "control_before", "control_after", "control", "wdd", "wdd_se", "wdd_z",
                "wdd_p", "wdq", "verdict", "monthly", "months_used"):
        assert key in out
    hand = _hand_counts(files)
    for name in ("target", "buffer", "control"):
        assert out[f"{name}_before"] == hand[name]["2024-01"] + hand[name]["2024-02"]
        assert out[f"{name}_after"] == hand[name]["2024-03"]
        assert [r[name] for r in out["monthly"]] == [hand[name][m] for m in
                                                     ("2024-01", "2024-02", "2024-03")]
    assert out["target_before"] > 50  # a busy place: the test is not vacuous
    t0, t1 = out["target_before"], out["target_after"]
    d0, d1 = out["buffer_before"], out["buffer_after"]
    c0, c1 = out["control_before"], out["control_after"]
    # 2 months before, 1 after: after counts x2; shared control enters twice
    assert out["post_scale"] == 2.0
    assert out["wdd"] == pytest.approx((2 * t1 - t0) + (2 * d1 - d0) - 2 * (2 * c1 - c0))
    assert out["wdd_se"] == pytest.approx(math.sqrt(t0 + 4 * t1 + d0 + 4 * d1
                                                    + 4 * (c0 + 4 * c1)))
    expected_q = ((d1 / c1 - d0 / c0) / (t1 / c1 - t0 / c0)
                  if t1 / c1 - t0 / c0 < 0 else None)
    assert out["wdq"] == (pytest.approx(expected_q) if expected_q is not None else None)
    assert out["months_used"] == ["2024-01", "2024-02", "2024-03"]
    assert out["control"].startswith("rest of the Humber area") and "km²" in out["control"]


def test_cli_table_format(files, target_file, capsys):
    assert main(["evaluate", "--incidents", *files, "--target", str(target_file),
                 "--start", "2024-03", "--pre", "2", "--post", "1"]) == 0
    text = capsys.readouterr().out
    assert "WDD (target + buffer)" in text and "Caveats:" in text


@pytest.mark.parametrize("case", ["no_month_before", "empty_polygon", "not_geojson",
                                  "no_target"])
def test_cli_exits_2_on_bad_input(case, files, target_file, tmp_path, capsys):
    args = ["evaluate", "--incidents", *files, "--target", str(target_file),
            "--start", "2024-03", "--pre", "2", "--post", "1"]
    expected = {"no_month_before": "No month before the start 2024-01",
                "empty_polygon": "the polygon is empty",
                "not_geojson": "not a GeoJSON file",
                "no_target": "the following arguments are required: --target (or --id N "
                             "for a stored response)"}[case]
    if case == "no_month_before":
        args[args.index("2024-03")] = "2024-01"
        args[args.index("--pre") + 1] = "1"
    elif case == "empty_polygon":
        args[args.index(str(target_file))] = str(_write(
            tmp_path / "empty.geojson", {"type": "Feature", "properties": {},
                                         "geometry": {"type": "Polygon", "coordinates": []}}))
    elif case == "not_geojson":
        bad = tmp_path / "notes.geojson"
        bad.write_text("Crime ID,Month\n1,2024-01\n", encoding="utf-8")
        args[args.index(str(target_file))] = str(bad)
    else:
        at = args.index("--target")
        del args[at:at + 2]
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    assert expected in capsys.readouterr().err
