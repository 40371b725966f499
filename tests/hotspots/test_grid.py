"""Tests for hotspots.grid: snapping, centres, size limit, study-area mask."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Point, Polygon, box

from hotspots.grid import MAX_GRID_CELLS, Grid, cells_within, grid_for_extent


def test_grid_properties():
    g = Grid(x0=500_000.0, y0=420_000.0, cell_size=25.0, nx=4, ny=3)
    assert g.x1 == 500_100.0
    assert g.y1 == 420_075.0
    assert g.bounds == (500_000.0, 420_000.0, 500_100.0, 420_075.0)
    assert g.shape == (3, 4)
    assert g.n_cells == 12
    assert g.cell_area_km2 == pytest.approx(0.000625)
    xs, ys = g.cell_centres()
    np.testing.assert_array_equal(xs, [500_012.5, 500_037.5, 500_062.5, 500_087.5])
    # Row 0 is the south row: y increases with the row index.
    np.testing.assert_array_equal(ys, [420_012.5, 420_037.5, 420_062.5])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"cell_size": 0.0}, ValueError, r"'cell_size' parameter of Grid must be a float in the range \(0, inf\)\. Got 0 instead"),
        ({"cell_size": "25"}, TypeError, r"'cell_size' parameter of Grid"),
        ({"x0": math.nan}, ValueError, r"'x0' parameter of Grid"),
        ({"y0": None}, TypeError, r"'y0' parameter of Grid"),
        ({"nx": 0}, ValueError, r"'nx' parameter of Grid must be an int in the range \[1, inf\)\. Got 0 instead"),
        ({"ny": 2.0}, TypeError, r"'ny' parameter of Grid must be an int"),
        ({"nx": True}, TypeError, r"'nx' parameter of Grid must be an int"),
    ],
)
def test_grid_validation(kwargs, error, match):
    args = {"x0": 0.0, "y0": 0.0, "cell_size": 25.0, "nx": 2, "ny": 2} | kwargs
    with pytest.raises(error, match=match):
        Grid(**args)


def test_grid_for_extent_snaps_outward():
    g = grid_for_extent((100.3, 200.7, 349.9, 450.0), cell_size=25.0)
    assert (g.x0, g.y0, g.x1, g.y1) == (100.0, 200.0, 350.0, 450.0)
    assert (g.nx, g.ny) == (10, 10)


def test_grid_for_extent_margin():
    g = grid_for_extent((100.3, 200.7, 349.9, 450.0), cell_size=25.0, margin=30.0)
    # 100.3 - 30 = 70.3 -> 50; 349.9 + 30 = 379.9 -> 400; 170.7 -> 150; 480 -> 500
    assert (g.x0, g.y0, g.x1, g.y1) == (50.0, 150.0, 400.0, 500.0)
    assert g.shape == (14, 14)


def test_grid_for_extent_degenerate_extent_has_one_cell():
    g = grid_for_extent((500.0, 500.0, 500.0, 500.0), cell_size=100.0)
    assert g.shape == (1, 1)
    assert g.bounds[0] <= 500.0 <= g.bounds[2]


@settings(max_examples=60, deadline=None)
@given(
    xmin=st.floats(400_000, 600_000),
    ymin=st.floats(380_000, 480_000),
    w=st.floats(0, 16_000),  # with the margin, at most 4,001 x 4,001 cells of 5 m:
    h=st.floats(0, 16_000),  # below MAX_GRID_CELLS (tested separately)
    cell=st.sampled_from([5.0, 10.0, 25.0, 50.0, 100.0, 250.0]),
    margin=st.floats(0, 2_000),
)
def test_grid_for_extent_covers_minimally(xmin, ymin, w, h, cell, margin):
    g = grid_for_extent((xmin, ymin, xmin + w, ymin + h), cell_size=cell, margin=margin)
    assert g.x0 <= xmin - margin and g.y0 <= ymin - margin
    assert g.x1 >= xmin + w + margin and g.y1 >= ymin + h + margin
    # Edges are multiples of the cell size, and at most one spare cell per axis.
    assert g.x0 / cell == pytest.approx(round(g.x0 / cell), abs=1e-9)
    assert g.y0 / cell == pytest.approx(round(g.y0 / cell), abs=1e-9)
    assert g.nx <= math.ceil((w + 2 * margin) / cell) + 1
    assert g.ny <= math.ceil((h + 2 * margin) / cell) + 1


def test_grid_for_extent_too_many_cells_suggests_cell_size():
    bounds = (400_000.0, 380_000.0, 560_000.0, 480_000.0)  # 160 x 100 km
    with pytest.raises(ValueError, match=r"more than the limit of 20,000,000\. Use a larger cell size, e\.g\. cell_size=(\d+) m") as info:
        grid_for_extent(bounds, cell_size=10.0)  # 160 million cells
    suggested = float(info.value.args[0].split("cell_size=")[-1].split(" m")[0])
    assert suggested > 10.0
    assert grid_for_extent(bounds, cell_size=suggested).n_cells <= MAX_GRID_CELLS


@pytest.mark.parametrize(
    ("bounds", "kwargs", "error", "match"),
    [
        ((0, 0, 1, 1), {"cell_size": 0}, ValueError, r"The 'cell_size' parameter of grid_for_extent must be a float in the range \(0, inf\)\. Got 0 instead\."),
        ((0, 0, 1, 1), {"cell_size": -25.0}, ValueError, r"Got -25 instead"),
        ((0, 0, 1, 1), {"cell_size": math.inf}, ValueError, r"'cell_size' parameter of grid_for_extent"),
        ((0, 0, 1, 1), {"cell_size": "25"}, TypeError, r"'cell_size' parameter of grid_for_extent must be a float"),
        ((0, 0, 1, 1), {"cell_size": 25, "margin": -1}, ValueError, r"'margin' parameter of grid_for_extent must be a float in the range \[0, inf\)\. Got -1 instead"),
        ((0, 0, 1), {"cell_size": 25}, TypeError, r"'bounds' parameter of grid_for_extent must be a tuple \(xmin, ymin, xmax, ymax\)"),
        ((0, 0, "1", 1), {"cell_size": 25}, TypeError, r"'bounds' parameter of grid_for_extent"),
        (5.0, {"cell_size": 25}, TypeError, r"'bounds' parameter of grid_for_extent"),
        ((10, 0, 1, 1), {"cell_size": 25}, ValueError, r"xmin <= xmax and ymin <= ymax"),
        ((0, 0, math.nan, 1), {"cell_size": 25}, ValueError, r"'bounds' parameter of grid_for_extent must be a tuple"),
    ],
)
def test_grid_for_extent_validation(bounds, kwargs, error, match):
    with pytest.raises(error, match=match):
        grid_for_extent(bounds, **kwargs)


def test_cells_within_square():
    g = Grid(x0=0.0, y0=0.0, cell_size=10.0, nx=10, ny=10)
    mask = cells_within(g, box(0, 0, 50, 30))  # centres 5..45 in x, 5..25 in y
    assert mask.shape == (10, 10)
    assert mask.dtype == bool
    assert mask.sum() == 15
    # Row 0 is south: the selected block is in the first three rows.
    assert mask[:3, :5].all() and not mask[3:].any() and not mask[:, 5:].any()


def test_cells_within_hole_and_multipolygon():
    g = Grid(x0=0.0, y0=0.0, cell_size=10.0, nx=10, ny=10)
    ring = Polygon([(0, 0), (30, 0), (30, 30), (0, 30)], [[(10, 10), (20, 10), (20, 20), (10, 20)]])
    far = box(80, 80, 100, 100)
    mask = cells_within(g, MultiPolygon([ring, far]))
    assert mask.sum() == 8 + 4  # 3x3 block minus its centre, plus a 2x2 block
    assert not mask[1, 1]  # the hole's centre (15, 15)
    assert mask[9, 9] and mask[8, 8]


def test_cells_within_geometry_collection_uses_polygonal_parts():
    g = Grid(x0=0.0, y0=0.0, cell_size=10.0, nx=10, ny=10)
    collection = shapely.GeometryCollection([box(0, 0, 50, 30), Point(95, 95).buffer(0.1).boundary])
    np.testing.assert_array_equal(cells_within(g, collection), cells_within(g, box(0, 0, 50, 30)))


def test_cells_within_boundary_centres_are_outside():
    g = Grid(x0=0.0, y0=0.0, cell_size=10.0, nx=4, ny=1)
    mask = cells_within(g, box(5, 0, 25, 10))  # edges through centres 5 and 25
    np.testing.assert_array_equal(mask, [[False, True, False, False]])


def test_cells_within_outside_and_empty():
    g = Grid(x0=0.0, y0=0.0, cell_size=10.0, nx=3, ny=3)
    assert not cells_within(g, box(1000, 1000, 2000, 2000)).any()
    assert not cells_within(g, Polygon()).any()


def test_cells_within_leaves_geometry_unprepared():
    g = Grid(x0=0.0, y0=0.0, cell_size=10.0, nx=3, ny=3)
    poly = box(0, 0, 20, 20)
    before = poly.wkb
    cells_within(g, poly)
    assert poly.wkb == before
    assert not shapely.is_prepared(poly)


@pytest.mark.parametrize(
    ("grid", "geometry", "match"),
    [
        ("grid", box(0, 0, 1, 1), r"The 'grid' parameter of cells_within must be a Grid"),
        (Grid(x0=0.0, y0=0.0, cell_size=1.0, nx=1, ny=1), Point(0, 0), r"The 'geometry' parameter of cells_within must be a shapely Polygon, MultiPolygon or GeometryCollection"),
    ],
)
def test_cells_within_validation(grid, geometry, match):
    with pytest.raises(TypeError, match=match):
        cells_within(grid, geometry)


def test_cells_within_matches_contains_xy_on_every_centre():
    # A wiggly polygon with a hole over a 150 x 120 grid: the block shortcut
    # (32 x 32 cells) must give exactly the per-centre answer.
    angles = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    radius = 1_200 + 400 * np.sin(7 * angles)
    outer = np.column_stack([508_000 + radius * np.cos(angles), 429_000 + radius * np.sin(angles)])
    poly = Polygon(outer, [Point(508_000, 429_000).buffer(300).exterior.coords])
    g = grid_for_extent(poly.bounds, cell_size=25.0, margin=100.0)
    assert g.nx > 64 and g.ny > 64
    xs, ys = g.cell_centres()
    gx, gy = np.meshgrid(xs, ys)
    expected = shapely.contains_xy(poly, gx, gy)
    np.testing.assert_array_equal(cells_within(g, poly), expected)
    assert 0 < expected.sum() < expected.size


@pytest.mark.parametrize("cell_size", [25.0, 50.0, 100.0, 33.3])
def test_cells_within_windows_of_the_area_mask_equal_a_fresh_mask(cell_size):
    """Grids of any extent share the area's remembered mask; each answer is what testing
    every centre gives, and the caller's copy can be changed without changing the next."""
    from hotspots.grid import _cells_within

    area = Polygon([(500123.4, 400077.7), (505987.2, 400500.0), (503000.0, 406543.2),
                    (499000.0, 403000.0)]).union(Point(507000, 407000).buffer(800))
    rng = np.random.default_rng(0)
    grids = [grid_for_extent((x, y, x + rng.uniform(10, 9000), y + rng.uniform(10, 9000)),
                             cell_size=cell_size, margin=rng.uniform(0, 700))
             for x, y in rng.uniform([495000, 395000], [506000, 406000], size=(25, 2))]
    grids.append(Grid(x0=500012.5, y0=400007.0, cell_size=cell_size, nx=40, ny=30))  # unsnapped
    for grid in grids:
        mask = cells_within(grid, area)
        np.testing.assert_array_equal(mask, _cells_within(grid, area))
        mask[:] = ~mask
        np.testing.assert_array_equal(cells_within(grid, area), _cells_within(grid, area))
