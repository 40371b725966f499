"""Emerging hot spots: Mann-Kendall, space-time Gi*, ArcGIS's rules and constructed cubes."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.emerging import (
    EMERGING_CATEGORIES,
    classify_emerging,
    cube_months,
    emerging_from_cube,
    emerging_hotspots,
    mann_kendall,
    space_time_cube,
    space_time_gi,
)

REPO = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------------ Mann-Kendall
def test_mann_kendall_hand_values_without_ties():
    # 1..5: S = 10, Var = 5*4*15/18 = 16.667, z = (10-1)/sqrt(16.667) = 2.2045, p = 0.0275
    s, var, z, p = mann_kendall([1, 2, 3, 4, 5])
    assert s == 10
    assert var == pytest.approx(50 / 3)
    assert z == pytest.approx(9 / math.sqrt(50 / 3))
    assert p == pytest.approx(0.027486, abs=1e-5)


def test_mann_kendall_hand_values_with_ties_and_decrease():
    # [1, 2, 2, 3]: S = 5; one tie group of 2: Var = (4*3*13 - 2*1*9)/18 = 7.667
    s, var, z, p = mann_kendall([1.0, 2.0, 2.0, 3.0])
    assert s == 5 and var == pytest.approx(138 / 18)
    assert z == pytest.approx(4 / math.sqrt(138 / 18))
    # reversed: S = -5, z = (S + 1)/sqrt(Var)
    s, var, z, p2 = mann_kendall([3.0, 2.0, 2.0, 1.0])
    assert s == -5 and z == pytest.approx(-4 / math.sqrt(138 / 18)) and p2 == pytest.approx(p)


def test_mann_kendall_constant_series_has_no_trend_and_rows_are_independent():
    s, var, z, p = mann_kendall(np.array([[2.0] * 6, [1, 3, 2, 5, 4, 6]]))
    assert (s[0], var[0], z[0], p[0]) == (0, 0, 0, 1)
    # 1,3,2,5,4,6: concordant 13, discordant 2 -> S = 11, Var = 6*5*17/18 = 28.33
    assert s[1] == 11 and z[1] == pytest.approx(10 / math.sqrt(28.3333333), rel=1e-6)


# ------------------------------------------------------------------------------ Gi*
def test_space_time_gi_matches_the_formula_bin_by_bin():
    rng = np.random.default_rng(3)
    cube = rng.poisson(2.0, (4, 5, 6)).astype(float)
    mask = np.ones((5, 6), bool)
    mask[0, 0] = False
    z = space_time_gi(cube, mask, radius_cells=1.5, time_window=1)
    values = cube[:, mask]
    n = values.size
    xbar, s = values.mean(), values.std()
    for t, r, c in [(0, 2, 2), (3, 4, 5), (1, 0, 1), (2, 1, 0)]:
        lag = w = 0.0
        for dt in (-1, 0, 1):
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    tt, rr, cc = t + dt, r + dr, c + dc
                    if 0 <= tt < 4 and 0 <= rr < 5 and 0 <= cc < 6 and mask[rr, cc]:
                        lag += cube[tt, rr, cc]
                        w += 1
        expected = (lag - xbar * w) / (s * math.sqrt((n * w - w * w) / (n - 1)))
        assert z[t, r, c] == pytest.approx(expected, rel=1e-9)
    assert np.isnan(z[:, 0, 0]).all()


# ------------------------------------------------------------------------------ the rules
H, C, _ = "H", "C", "."


def _classify(*series, trend=(0.0, 1.0)):
    hot = np.array([[ch == H for ch in s] for s in series])
    cold = np.array([[ch == C for ch in s] for s in series])
    tz = np.full(len(series), trend[0])
    tp = np.full(len(series), trend[1])
    return [EMERGING_CATEGORIES[k] for k in classify_emerging(hot, cold, tz, tp)]


@pytest.mark.parametrize("series, trend, expected", [
    (".........H", (0, 1), "new hot spot"),
    ("CC.......H", (0, 1), "new hot spot"),           # cold before: still never hot before
    ("......HHHH", (0, 1), "consecutive hot spot"),
    ("HHHHHHHHHH", (3.0, 0.001), "intensifying hot spot"),
    ("HHHHHHHHHH", (0.5, 0.6), "persistent hot spot"),
    ("HHHHHHHHHH", (-3.0, 0.001), "diminishing hot spot"),
    ("H.H.H....H", (0, 1), "sporadic hot spot"),
    ("H.H.H.....", (0, 1), "sporadic hot spot"),       # on and off, never cold
    ("C.H......H", (0, 1), "oscillating hot spot"),
    ("HHHHHHHHH.", (0, 1), "historical hot spot"),
    (".........C", (0, 1), "new cold spot"),
    (".......CCC", (0, 1), "consecutive cold spot"),
    ("CCCCCCCCCC", (-3.0, 0.001), "intensifying cold spot"),
    ("CCCCCCCCCC", (0.0, 1.0), "persistent cold spot"),
    ("CCCCCCCCCC", (3.0, 0.001), "diminishing cold spot"),
    ("..C..C...C", (0, 1), "sporadic cold spot"),
    ("H...C....C", (0, 1), "oscillating cold spot"),
    ("CCCCCCCCC.", (0, 1), "historical cold spot"),
    ("..........", (0, 1), "no pattern"),
    ("H...C.....", (0, 1), "no pattern"),             # both, final neither: no rule fits
    ("HHHHHHHH.H", (0.5, 0.6), "persistent hot spot"),  # 90% hot with a gap: still most
    ("HHHHHHH..H", (0.5, 0.6), "sporadic hot spot"),    # 80%, not one final run
])
def test_each_rule_on_hand_made_series(series, trend, expected):
    assert _classify(series, trend=trend) == [expected]


def test_ninety_percent_is_rounded_up():
    # 20 months: 18 hot (90%) including the final is "most"; 17 (85%) is not.
    assert _classify("." * 2 + "H" * 18) == ["persistent hot spot"]
    assert _classify("H.H" + "H" * 17) == ["persistent hot spot"]
    assert _classify("." * 3 + "H" * 17) == ["consecutive hot spot"]


# ------------------------------------------------------------------------------ cubes
def _cube(spec: dict, months: int, seed: int = 0):
    """Blocks on a 4 x 4 layout 9 cells apart over a background of 10 +- 1.

    Hot months put 40 (or the given values) in a 3 x 3 block, cold months 0 (or the given
    values) in a 5 x 5 block, centred on the block's cell."""
    size = 4 * 9 + 3
    cube = np.full((months, size, size), 10.0)
    cube += np.random.default_rng(seed).integers(-1, 2, cube.shape)
    centres = {}
    for k, (name, (kind, when, values)) in enumerate(spec.items()):
        r, c = 4 + 9 * (k // 4), 4 + 9 * (k % 4)
        centres[name] = (r, c)
        steps = when.items() if kind == "mix" else [(t, kind) for t in when]
        for i, (t, what) in enumerate(steps):
            half = 1 if what == "hot" else 2
            value = (40.0 if what == "hot" else 0.0) if values is None else values[i]
            cube[t, r - half:r + half + 1, c - half:c + half + 1] = value
    return cube, centres


def _spec_each_month(t: int) -> dict:
    every = list(range(t))
    return {
        "new hot spot": ("hot", [t - 1], None),
        "consecutive hot spot": ("hot", [t - 3, t - 2, t - 1], None),
        "intensifying hot spot": ("hot", every, [30 + 3 * i for i in every]),
        "persistent hot spot": ("hot", every, None),
        "diminishing hot spot": ("hot", every, [30 + 3 * (t - 1 - i) for i in every]),
        "sporadic hot spot": ("hot", [2, 5, 8, t - 1], None),
        "oscillating hot spot": ("mix", {1: "cold", 4: "cold", 8: "hot", t - 1: "hot"}, None),
        "historical hot spot": ("hot", every[:-1], None),
        "new cold spot": ("cold", [t - 1], None),
        "consecutive cold spot": ("cold", [t - 3, t - 2, t - 1], None),
        "intensifying cold spot": ("cold", every, [4 - 4 * i / (t - 1) for i in every]),
        "persistent cold spot": ("cold", every, None),
        "diminishing cold spot": ("cold", every, [4 * i / (t - 1) for i in every]),
        "sporadic cold spot": ("cold", [2, 5, 8, t - 1], None),
        "oscillating cold spot": ("mix", {1: "hot", 4: "hot", 8: "cold", t - 1: "cold"}, None),
        "historical cold spot": ("cold", every[:-1], None),
    }


def test_every_category_on_a_constructed_cube_month_by_month():
    """time_window=0: each month's significance follows from that month's counts alone, so
    every one of the 16 patterns can be built exactly."""
    t = 12
    cube, centres = _cube(_spec_each_month(t), t)
    result = emerging_from_cube(cube, np.ones(cube.shape[1:], bool),
                                months=[f"2023-{m + 1:02d}" for m in range(t)], time_window=0)
    assert result.enough
    got = {name: EMERGING_CATEGORIES[result.category[rc]] for name, rc in centres.items()}
    assert got == {name: name for name in centres}
    assert result.hot_months[centres["historical hot spot"]] == 11
    assert result.trend_z[centres["intensifying hot spot"]] > 4


def test_categories_with_the_default_space_time_neighbourhood():
    """With a time window of 1 month, a hot month makes its neighbouring months' bins hot
    too; the cubes are built for that (20 months)."""
    t = 20
    every = list(range(t))
    spec = {
        "consecutive hot spot": ("hot", [17, 18, 19], None),     # significant 16..19
        "intensifying hot spot": ("hot", every, [30 + 2 * i for i in every]),
        "persistent hot spot": ("hot", every, None),
        "diminishing hot spot": ("hot", every, [68 - 2 * i for i in every]),
        "sporadic hot spot": ("hot", [3, 9, 19], None),           # 2-4, 8-10, 18-19
        "oscillating hot spot": ("mix", {3: "cold", 9: "hot", 19: "hot"}, None),
        "historical hot spot": ("hot", every[:18], None),         # 0..18: 95%, not the final
        "consecutive cold spot": ("cold", [17, 18, 19], None),
        "persistent cold spot": ("cold", every, None),
        "sporadic cold spot": ("cold", [3, 9, 19], None),
        "oscillating cold spot": ("mix", {3: "hot", 9: "cold", 19: "cold"}, None),
        "historical cold spot": ("cold", every[:18], None),
    }
    cube, centres = _cube(spec, t)
    result = emerging_from_cube(cube, np.ones(cube.shape[1:], bool),
                                months=[f"2022-{m:02d}" for m in range(t)])
    got = {name: EMERGING_CATEGORIES[result.category[rc]] for name, rc in centres.items()}
    assert got == {name: name for name in centres}
    assert result.params["time_window"] == 1 and result.params["radius_cells"] == 1.5


def test_pure_noise_has_almost_no_pattern():
    rng = np.random.default_rng(7)
    cube = rng.poisson(3.0, (24, 30, 30)).astype(float)
    result = emerging_from_cube(cube, np.ones((30, 30), bool),
                                months=[f"m{i:02d}" for i in range(24)])
    counts = result.category_counts()
    assert counts["no pattern"] >= 0.99 * 900
    assert int((result.p_fdr < 0.10).sum()) <= 5


def test_too_short_cube_says_so():
    cube = np.ones((9, 4, 4))
    result = emerging_from_cube(cube, np.ones((4, 4), bool), months=[str(i) for i in range(9)])
    assert not result.enough
    assert "Too few contiguous months (need at least 10)" in result.message
    assert result.cells().empty and result.category_counts() == {}


def test_cube_months_treats_missing_months_as_gaps():
    stored = ["2022-01", "2024-01", "2024-02", "2024-03"]
    run, gaps, message = cube_months(stored, stored)
    assert run == () and len(gaps) == 23
    assert message.startswith("Too few contiguous months (need at least 10)")
    assert "2024-01..2024-03 (3)" in message and "2022-02..2023-12 are not stored" in message
    stored = [f"2023-{m:02d}" for m in range(1, 13)] + ["2021-05"]
    run, gaps, message = cube_months(["2021-05", "2023-12"], stored)
    assert run == tuple(f"2023-{m:02d}" for m in range(1, 13))
    assert "2021-05..2022-12 are left out" in message


def test_space_time_cube_counts_incidents_per_cell_and_month():
    area = shapely.box(0, 0, 1000, 1000)
    incidents = pd.DataFrame({"x": [10, 20, 600, 990, 10], "y": [10, 30, 600, 990, 10],
                              "month": ["2023-01", "2023-01", "2023-02", "2023-02", "2022-12"]})
    grid, mask, cube = space_time_cube(incidents, area, ["2023-01", "2023-02"], cell_size=500)
    assert grid.shape == (2, 2) and mask.all()
    assert cube[0, 0, 0] == 2 and cube[1, 1, 1] == 2 and cube.sum() == 4


def test_shipped_months_are_too_few(shipped_selection):
    incidents, area, stored = shipped_selection
    result = emerging_hotspots(incidents, area, months=stored, stored_months=stored)
    assert not result.enough
    assert "too few contiguous months (need at least 10)" in result.message.lower()


@pytest.fixture(scope="module")
def shipped_selection():
    from geodata.incidents import load_incidents
    from geodata.paths import shipped_crime_files
    from geodata.reference import load_lsoa11_lookup, load_lsoa_table
    from hotspots.pipeline import select_incidents, study_area

    lsoas = load_lsoa_table()
    types = {"Violence and sexual offences", "Robbery", "Possession of weapons",
             "Public order", "Anti-social behaviour", "Burglary", "Vehicle crime",
             "Shoplifting", "Criminal damage and arson", "Other theft", "Drugs", "Bicycle theft",
             "Theft from the person", "Other crime"}
    load = load_incidents(shipped_crime_files()[-1:], lsoas=lsoas, lookup=load_lsoa11_lookup(),
                          known_crime_types=types)
    stored = ["2022-01", "2024-01", "2024-02", "2024-03"]
    sel = select_incidents(load.accepted, area_code="E06000010", months=stored,
                           crime_types={"Violence and sexual offences"})
    return sel, study_area(lsoas, "E06000010"), stored


def test_command_line_json_on_twelve_synthetic_months(tmp_path):
    """Twelve police.uk files built from the shipped 2024-01 Hull rows, with one extra
    burst of 60 incidents at one map point in the last two months: the busiest places are
    persistent hot spots, and the burst is a consecutive (or new) hot spot."""
    raw = pd.read_csv(REPO / "data/crime/2024-01-humberside-street.csv", dtype=str)
    hull = raw[raw["LSOA name"].str.startswith("Kingston upon Hull", na=False)]
    hull = hull[hull["Crime type"] == "Violence and sexual offences"]
    quiet = hull[hull["Location"] == hull["Location"].value_counts().index[-1]].iloc[:1]
    files = []
    for k, month in enumerate([f"2023-{m:02d}" for m in range(4, 13)]
                              + ["2024-01", "2024-02", "2024-03"]):
        frame = hull.assign(Month=month)
        if k >= 10:
            frame = pd.concat([frame, pd.concat([quiet.assign(Month=month)] * 60)])
        path = tmp_path / f"{month}-humberside-street.csv"
        frame.to_csv(path, index=False)
        files.append(str(path))
    proc = subprocess.run([sys.executable, "-m", "hotspots.emerging", "--incidents", *files,
                           "--area", "E06000010", "--crime-group",
                           "Violence and sexual offences", "--format", "json"],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr
    records = json.loads(proc.stdout)
    assert records and {"x", "y", "category", "trend_z", "trend_p", "hot_months",
                        "months"} <= set(records[0])
    categories = {r["category"] for r in records}
    assert "persistent hot spot" in categories
    assert all(r["months"] == 12 for r in records)
    lon, lat = float(quiet["Longitude"].iloc[0]), float(quiet["Latitude"].iloc[0])
    from geodata.crs import lonlat_to_bng

    bx, by = (float(v[0]) for v in lonlat_to_bng([lon], [lat]))
    burst = [r for r in records if abs(r["x"] - bx) <= 250 and abs(r["y"] - by) <= 250]
    assert burst and burst[0]["category"] in ("consecutive hot spot", "new hot spot")
