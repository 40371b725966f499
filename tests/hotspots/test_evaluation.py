"""Back-testing metrics pinned by hand-computed examples (docs/methods.md)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots.backtest import (
    MethodSpec,
    cell_counts,
    default_method,
    evaluate_methods,
    evaluation_grid,
    hit_metrics,
    select_top_cells,
)
from hotspots.grid import Grid


def test_select_top_cells_splits_ties_evenly():
    # 10 cells, 20% -> k = 2. One cell above (5), three tied at 3: each tied cell gets 1/3.
    frac = select_top_cells([5, 3, 3, 3, 0, 0, 0, 0, 0, 0], 20.0)
    np.testing.assert_allclose(frac, [1, 1 / 3, 1 / 3, 1 / 3, 0, 0, 0, 0, 0, 0])
    assert frac.sum() == pytest.approx(2)


def test_hit_metrics_hand_computed():
    # 10 cells; selected = cells 0 and 1 (k=2, area share 0.2).
    train = np.array([6, 2, 1, 1, 0, 0, 0, 0, 0, 0])   # R = 10, 8 in the selection
    test = np.array([3, 1, 4, 0, 2, 0, 0, 0, 0, 0])    # T = 10, 4 in the selection
    sel = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], dtype=float)
    m = hit_metrics(sel, train, test)
    assert m["hit_rate"] == pytest.approx(0.4)                  # 4 / 10
    assert m["pai"] == pytest.approx(2.0)                       # 0.4 / 0.2
    assert m["rri"] == pytest.approx((4 / 8) / (10 / 10))       # 0.5
    assert m["pei_star"] == pytest.approx(4 / 7)                # best 2 cells: 4 + 3
    assert m["max_hits"] == 7


def test_hit_metrics_nan_when_undefined():
    m = hit_metrics([1.0, 0.0], [0, 0], [0, 0])
    assert math.isnan(m["hit_rate"]) and math.isnan(m["rri"]) and math.isnan(m["pei_star"])


def test_validation_messages():
    with pytest.raises(ValueError, match="'coverage' parameter of select_top_cells"):
        select_top_cells([1, 2], 0.0)
    with pytest.raises(ValueError, match="at least one cell"):
        select_top_cells([], 5.0)
    with pytest.raises(ValueError, match="same length"):
        hit_metrics([1.0], [1, 2], [1, 2])
    with pytest.raises(ValueError, match="fractions in"):
        hit_metrics([2.0], [1], [1])
    with pytest.raises(TypeError, match="must be a Grid"):
        cell_counts("grid", [0.0], [0.0])
    with pytest.raises(ValueError, match="'method' parameter of MethodSpec"):
        MethodSpec("magic")


def test_cell_counts_edges_and_outside():
    g = Grid(x0=0.0, y0=0.0, cell_size=100.0, nx=2, ny=2)
    c = cell_counts(g, [50, 100, 150, 250], [50, 50, 150, 50])
    # 100 on the shared edge goes east; 250 is outside.
    np.testing.assert_array_equal(c, [[1, 1], [0, 1]])


def _frame(points, month, crime_type="Violence and sexual offences"):
    xs, ys = zip(*points)
    return pd.DataFrame({"x": xs, "y": ys, "month": month, "crime_type": crime_type})


def test_evaluate_methods_naive_on_toy():
    area = shapely.box(0, 0, 1000, 1000)   # 10 x 10 cells of 100 m -> N = 100
    train = _frame([(50, 50)] * 3 + [(150, 50)] * 2 + [(950, 950)], "2024-01")
    test = _frame([(50, 50)] * 2 + [(550, 550)] * 2, "2024-02")
    table = evaluate_methods(pd.concat([train, test]), study_area=area,
                             train_months=["2024-01"], test_months=["2024-02"],
                             crime_types=["Violence and sexual offences"],
                             methods=[MethodSpec("naive")], coverages=[1.0, 2.0])
    one, two = table.iloc[0], table.iloc[1]
    assert one["cells"] == 100 and one["selected_cells"] == 1
    # 1%: the 3-incident cell -> 2 of 4 test incidents.
    assert one["hit_rate"] == pytest.approx(0.5) and one["pai"] == pytest.approx(50)
    assert one["rri"] == pytest.approx((2 / 3) / (4 / 6))
    assert one["pei_star"] == pytest.approx(1.0)
    # 2%: + the 2-incident cell (no test incidents) -> still 2 hits; PAI 25.
    assert two["hit_rate"] == pytest.approx(0.5) and two["pai"] == pytest.approx(25)
    assert two["pei_star"] == pytest.approx(2 / 4)


def test_evaluate_methods_rejects_overlapping_months():
    df = _frame([(50, 50)], "2024-01")
    with pytest.raises(ValueError, match="must not overlap"):
        evaluate_methods(df, study_area=shapely.box(0, 0, 100, 100), train_months=["2024-01"],
                         test_months=["2024-01"], crime_types=["Violence and sexual offences"])


def test_default_method_ranks_counts_then_busy_surroundings_then_other_crime():
    # 10 x 10 cells of 100 m. Two incidents in cell (0, 0); one in the isolated cell (5, 5);
    # one each in the neighbours (9, 8) and (9, 9); one shoplifting (other crime) in (0, 4).
    from hotspots.backtest import method_scores

    spec = default_method()
    egrid = evaluation_grid(shapely.box(0, 0, 1000, 1000), cell_size=spec.params["cell_size"])
    train = _frame([(50, 50), (50, 50), (550, 550), (850, 950), (950, 950)], "2024-01")
    context = _frame([(450, 50)], "2024-01", crime_type="Shoplifting")
    scores = method_scores(spec, egrid, train, context=context)
    j0, i0 = (int(round(-v / egrid.grid.cell_size)) for v in (egrid.grid.y0, egrid.grid.x0))

    def s(row: int, col: int) -> float:  # the score of the area's cell (row, col)
        return scores[j0 + row, i0 + col]

    assert s(0, 0) > s(9, 9) > s(5, 5) > s(0, 4) > s(0, 7)
    # Counts dominate; the 100 m density (x 0.25) only breaks ties between equal counts: a
    # lone incident's own 100 m cell holds about 1 / (2 pi) of its kernel (0.16, a little
    # more after linear binning), so it adds 0.04-0.05 (150 m would add 0.02, 0.5 x 0.09);
    # other crime adds 0.25.
    assert 0.035 < s(5, 5) - 1 < 0.06
    assert s(0, 4) - s(0, 7) == pytest.approx(0.25, abs=0.01)


def test_evaluation_grid_includes_cells_of_points_outside_the_polygon():
    eg = evaluation_grid(shapely.box(0, 0, 300, 300), cell_size=100.0, x=[350.0], y=[50.0])
    assert eg.n_cells == 10


def test_month_range_and_cli_errors(capsys):
    from hotspots.evaluate import month_range, run

    assert month_range("2023-11..2024-02") == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert month_range("2024-03") == ["2024-03"]
    with pytest.raises(ValueError, match="end is before the start"):
        month_range("2024-03..2024-01")
    with pytest.raises(ValueError, match="Bad month range"):
        month_range("2024-13")
    for argv, message in ((["--train", "2024-1", "--test", "2024-03"], "Bad month range"),
                          (["--train", "2024-01", "--test", "2024-01"], "overlap"),
                          (["--train", "2024-01", "--test", "2024-02", "--area", "X"],
                           "Unknown area 'X'"),
                          (["--train", "2024-01", "--test", "2024-02", "--crime-group", "Y"],
                           "Unknown crime group 'Y'"),
                          (["--train", "2024-01", "--test", "2024-02", "--coverage", "0"],
                           "Bad --coverage"),
                          (["--train", "2024-01", "--test", "2024-07"],
                           "Months not in the data: 2024-07")):
        with pytest.raises(SystemExit) as exit_info:
            run(argv)
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err
