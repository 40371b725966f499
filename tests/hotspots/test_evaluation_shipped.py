"""Integration: on the shipped data the default method is at least the naive baseline.

Target of issue 4: hit rate of :func:`hotspots.backtest.default_method` >= the naive
"training counts" baseline at 1% and 5% coverage in every CSP, on a month not used to tune
it (tuned on train 2024-01 -> test 2024-02; checked here on train 2024-01..02 -> test 2024-03).
"""

from __future__ import annotations

import pytest

from config import get_config
from hotspots._cli import load_every_crime_type
from hotspots.backtest import MethodSpec, default_method, evaluate_methods
from hotspots.pipeline import select_incidents, study_area


@pytest.fixture(scope="module")
def shipped():
    cfg = get_config()
    incidents, lsoas = load_every_crime_type()
    return cfg, {t for g in cfg.crime_groups for t in g.types}, lsoas, incidents


@pytest.mark.parametrize("code", ["E06000010", "E06000011", "E06000012", "E06000013"])
def test_default_method_beats_naive_on_held_out_month(shipped, code):
    cfg, types, lsoas, incidents = shipped
    sel = select_incidents(incidents, area_code=code, months=["2024-01", "2024-02", "2024-03"],
                           crime_types=types)
    table = evaluate_methods(sel, study_area=study_area(lsoas, code),
                             train_months=["2024-01", "2024-02"], test_months=["2024-03"],
                             crime_types=cfg.crime_group(cfg.default_crime_group).types,
                             methods=[MethodSpec("naive", label="naive"), default_method()],
                             coverages=[1.0, 5.0])
    hit = table.pivot(index="coverage", columns="kind", values="hit_rate")
    assert (hit["blend"] >= hit["naive"]).all(), hit
