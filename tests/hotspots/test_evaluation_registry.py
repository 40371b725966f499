"""One truth in the methods: the scorer registry, methods that cannot score, and the map's
predicted cells being exactly what the back-test scores (issue 13)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots import backtest as evaluation
from hotspots.backtest import (
    SCORERS,
    MethodSpec,
    Scores,
    evaluate_methods,
    n_selected,
    register_scorer,
    standard_methods,
)
from hotspots.clusters import ClusterMemoryError
from hotspots.coverage import top_cell_count, top_cell_fractions, top_cells
from hotspots.grid import Grid
from hotspots.kde import DensitySurface
from hotspots.outlines import density_threshold
from hotspots.pipeline import predicted_cells

V = "Robbery"


def _frame(points, month, crime_type=V):
    xs, ys = zip(*points) if points else ((), ())
    return pd.DataFrame({"x": np.array(xs, float), "y": np.array(ys, float), "month": month,
                         "crime_type": crime_type})


# ----------------------------------------------------------------------------- cannot score


def test_a_method_that_cannot_score_is_reported_and_the_others_still_are():
    # No robbery at all in the training month: every cell's count is 0, so every Gi* z-score
    # is 0/0. Gi* is "not scored" with the reason; the other methods keep their rows.
    area = shapely.box(0, 0, 1000, 1000)
    test = _frame([(550, 550), (560, 560)], "2024-02")
    other = _frame([(50, 50)], "2024-01", crime_type="Shoplifting")
    table = evaluate_methods(pd.concat([test, other]), study_area=area,
                             train_months=["2024-01"], test_months=["2024-02"],
                             crime_types=[V], coverages=[1.0, 5.0])
    assert set(table["kind"]) == {"naive", "kde", "gi_star", "dbscan", "blend"}
    gi = table[table["kind"] == "gi_star"]
    assert (gi["status"] == "not scored").all() and gi["hit_rate"].isna().all()
    assert gi["used"].str.contains("Gi\\* is undefined").all()
    naive = table[table["kind"] == "naive"]
    assert (naive["status"] == "scored").all() and naive["hit_rate"].notna().all()


# ----------------------------------------------------------------------------- registry


def test_a_registered_scorer_is_evaluated_without_touching_the_driver():
    @register_scorer("far_corner", "Prefers the north-east corner (a test method).")
    def _far_corner(egrid, train, context, params):
        g = egrid.grid
        cols, rows = np.meshgrid(np.arange(g.nx), np.arange(g.ny))
        return Scores((cols + rows).astype(float), used="corner")

    try:
        area = shapely.box(0, 0, 1000, 1000)
        incidents = pd.concat([_frame([(50, 50)], "2024-01"), _frame([(950, 950)], "2024-02")])
        spec = MethodSpec("far_corner", label="Corner")
        table = evaluate_methods(incidents, study_area=area, train_months=["2024-01"],
                                 test_months=["2024-02"], crime_types=[V], methods=[spec],
                                 coverages=[1.0])
        row = table.iloc[0]
        # The top 1% of 100 cells is the north-east cell, which holds the test incident.
        assert (row["method"], row["status"], row["used"]) == ("Corner", "scored", "corner")
        assert row["hit_rate"] == pytest.approx(1.0)
    finally:
        del SCORERS["far_corner"]
    with pytest.raises(ValueError, match="'method' parameter of MethodSpec"):
        MethodSpec("far_corner")


def test_every_standard_method_is_a_registered_scorer_with_a_description():
    for spec in standard_methods():
        assert spec.method in SCORERS and SCORERS[spec.method].description
    with pytest.raises(ValueError, match="already registered"):
        register_scorer("naive", "again")


def test_dbscan_says_which_eps_it_used_when_memory_forced_another(monkeypatch):
    real = evaluation.dbscan_incidents
    calls = []

    def tight(x, y, *, eps, min_samples, max_memory_mb):
        calls.append(eps)
        if len(calls) == 1:
            raise ClusterMemoryError("too much", predicted_mb=5000.0, max_memory_mb=1000.0,
                                     eps=400.0, suggested_eps=120.0)
        return real(x, y, eps=eps, min_samples=min_samples, max_memory_mb=max_memory_mb)

    monkeypatch.setattr(evaluation, "dbscan_incidents", tight)
    pts = [(500 + i, 500) for i in range(10)]
    table = evaluate_methods(pd.concat([_frame(pts, "2024-01"), _frame(pts, "2024-02")]),
                             study_area=shapely.box(0, 0, 1000, 1000), train_months=["2024-01"],
                             test_months=["2024-02"], crime_types=[V],
                             methods=[MethodSpec("dbscan", {}, label="DBSCAN (auto eps)")],
                             coverages=[1.0])
    assert calls == [None, 120.0]
    used = table.iloc[0]["used"]
    assert used.startswith("eps 120 m, not the automatic 400 m, which needed 5,000 MB"), used


# ----------------------------------------------------------------------------- top x %


def test_top_percent_is_one_count_everywhere():
    # 250 cells at 1%: ceil(2.5) = 3 cells (banker's rounding would give 2).
    assert top_cell_count(250, 1.0) == n_selected(250, 1.0) == 3
    values = np.arange(1.0, 251.0)
    assert top_cell_fractions(values, 1.0).sum() == pytest.approx(3)
    assert top_cells(values, 1.0).sum() == 3
    surface = DensitySurface(grid=Grid(x0=0.0, y0=0.0, cell_size=100.0, nx=25, ny=10),
                             density=values.reshape(10, 25), bandwidth=100.0,
                             kernel="gaussian", total_weight=1.0)
    threshold = density_threshold(surface, method="top_percent", value=1.0)
    assert int((values >= threshold).sum()) == 3


def test_top_cells_selects_exactly_k_with_ties_and_matches_the_fractions_on_average():
    scores = np.array([5.0, 3, 3, 3, 0, 0, 0, 0, 0, 0])
    chosen = top_cells(scores, 20.0)
    assert chosen.sum() == 2 and chosen[0] and chosen[1:4].sum() == 1
    np.testing.assert_array_equal(chosen, top_cells(scores, 20.0))  # same draw every time
    with pytest.raises(ValueError, match="must not contain NaN"):
        top_cells([1.0, math.nan], 50.0)


# ----------------------------------------------------------------------------- shown = scored


def _cells_in(outlines, points) -> int:
    geoms = shapely.points(np.asarray(points, float))
    return int(sum(outlines.geometry.union_all().covers(g) for g in geoms))


def test_the_drawn_predicted_cells_are_the_cells_the_back_test_scores():
    # Training counts 5, 4, 3, 2, 1 in cells far apart; 1% of 400 cells = 4 cells: the first
    # four. Test: 2 in the 5-cell, 1 in the 2-cell, 1 in the 1-cell -> hit rate 3/4.
    area = shapely.box(0, 0, 2000, 2000)
    spots = [(150, 150), (950, 150), (1750, 150), (150, 1750), (1750, 1750)]
    train = _frame([p for p, n in zip(spots, (5, 4, 3, 2, 1)) for _ in range(n)], "2024-01")
    test_points = [spots[0], spots[0], spots[3], spots[4]]
    test = _frame(test_points, "2024-02")
    table = evaluate_methods(pd.concat([train, test]), study_area=area,
                             train_months=["2024-01"], test_months=["2024-02"],
                             crime_types=[V], methods=[evaluation.default_method()],
                             coverages=[1.0])
    assert table.iloc[0]["hit_rate"] == pytest.approx(3 / 4)
    drawn = predicted_cells(train, train.iloc[:0], study_area=area, coverage=1.0)
    assert int(drawn.outlines["cells"].sum()) == table.iloc[0]["selected_cells"] == 4
    assert _cells_in(drawn.outlines, test_points) / len(test_points) == pytest.approx(3 / 4)


def test_adjacent_predicted_cells_merge_into_the_union_of_their_squares():
    # Busy cells in an L (sharing edges) and one apart: the coverage union must give what a
    # general union gives, one L-shaped outline of 3 cells and a lone cell, no slivers.
    area = shapely.box(0, 0, 1000, 1000)
    cells = [(150, 150), (250, 150), (250, 250), (750, 750)]
    train = _frame([p for p in cells for _ in range(20)], "2024-01")
    drawn = predicted_cells(train, train.iloc[:0], study_area=area, coverage=4.0)
    squares = [shapely.box(x - 50, y - 50, x + 50, y + 50) for x, y in cells]
    assert sorted(drawn.outlines["cells"]) == [1, 3]
    assert drawn.outlines.geometry.union_all().normalize().equals_exact(
        shapely.union_all(squares).normalize(), 1e-6)


def test_drawn_area_is_the_stated_coverage_even_with_tied_cells():
    # Two incidents in a 2 km square: almost every cell scores exactly 0, so at 10% most of
    # the 40 selected cells are tied; all-or-nothing rounding of the tie drew 0 or 400.
    area = shapely.box(0, 0, 2000, 2000)
    incidents = _frame([(1050, 1050), (1050, 1050)], "2024-01")
    drawn = predicted_cells(incidents, incidents.iloc[:0], study_area=area, coverage=10.0)
    assert int(drawn.outlines["cells"].sum()) == top_cell_count(400, 10.0) == 40


def test_test_incidents_add_no_cells_and_count_as_missed():
    # A test incident outside the polygon is not a cell a method could have picked, but it is
    # an incident the selection missed: N stays 100 and the hit rate is 1 of 2.
    area = shapely.box(0, 0, 1000, 1000)
    incidents = pd.concat([_frame([(50, 50)], "2024-01"),
                           _frame([(50, 50), (1450, 50)], "2024-02")])
    table = evaluate_methods(incidents, study_area=area, train_months=["2024-01"],
                             test_months=["2024-02"], crime_types=[V],
                             methods=[MethodSpec("naive")], coverages=[1.0])
    row = table.iloc[0]
    assert row["cells"] == 100 and row["n_test"] == 2
    assert row["hit_rate"] == pytest.approx(0.5)


def test_the_map_ranks_the_same_cells_as_the_back_test_outside_the_polygon_too():
    # police.uk points can sit just outside generalised boundaries: the busiest training
    # cell (6 incidents at x = 2,050 m) is outside the 2 km square, and both the back-test
    # and the map rank it (401 cells, so 1% is ceil(4.01) = 5 cells).
    area = shapely.box(0, 0, 2000, 2000)
    train = _frame([(2050, 150)] * 6 + [(150, 150)] * 2, "2024-01")
    test = _frame([(2050, 150)], "2024-02")
    table = evaluate_methods(pd.concat([train, test]), study_area=area,
                             train_months=["2024-01"], test_months=["2024-02"],
                             crime_types=[V], methods=[evaluation.default_method()],
                             coverages=[1.0])
    row = table.iloc[0]
    assert (row["cells"], row["selected_cells"], row["hit_rate"]) == (401, 5, 1.0)
    drawn = predicted_cells(train, train.iloc[:0], study_area=area, coverage=1.0)
    assert int(drawn.outlines["cells"].sum()) == 5
    assert _cells_in(drawn.outlines, [(2050, 150)]) == 1
