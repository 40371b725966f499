"""Regular raster grids in British National Grid (EPSG:27700) metres.

Array convention used by every module of :mod:`hotspots`: a raster is a
NumPy array of shape ``(ny, nx)``; row 0 is the **south** row (``y``
increases with the row index) and column 0 is the **west** column.  Values
are attached to cell centres ``(x0 + (i + 0.5) * cell_size,
y0 + (j + 0.5) * cell_size)`` for column ``i`` and row ``j``.
"""

from __future__ import annotations

import hashlib
import math
import numbers
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import GeometryCollection, MultiPolygon, Polygon

from hotspots._validation import check_bounds, check_float

__all__ = ["MAX_GRID_CELLS", "Grid", "cells_within", "grid_for_extent"]

#: Largest number of cells :func:`grid_for_extent` will create (about 160 MB
#: per float64 raster).  The Humber at 25 m is roughly 1.4 million cells.
MAX_GRID_CELLS: int = 20_000_000


@dataclass(frozen=True)
class Grid:
    """A regular square-cell grid in EPSG:27700.

    Parameters
    ----------
    x0 : float
        West edge of the grid, metres easting (EPSG:27700).  Grids made by
        :func:`grid_for_extent` have ``x0`` a multiple of ``cell_size``.
    y0 : float
        South edge of the grid, metres northing (EPSG:27700).
    cell_size : float
        Side of a square cell, metres.  Must be > 0.
    nx : int
        Number of columns (west to east), >= 1.
    ny : int
        Number of rows (south to north), >= 1.
    """

    x0: float
    y0: float
    cell_size: float
    nx: int
    ny: int

    def __post_init__(self) -> None:
        check_float(self.x0, "x0", "Grid")
        check_float(self.y0, "y0", "Grid")
        check_float(self.cell_size, "cell_size", "Grid", low=0.0)
        for name in ("nx", "ny"):
            value = getattr(self, name)
            msg = (
                f"The {name!r} parameter of Grid must be an int in the range [1, inf). "
                f"Got {value!r} instead."
            )
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
                raise TypeError(msg)
            if value < 1:
                raise ValueError(msg)

    @property
    def x1(self) -> float:
        """East edge, metres easting (EPSG:27700)."""
        return self.x0 + self.nx * self.cell_size

    @property
    def y1(self) -> float:
        """North edge, metres northing (EPSG:27700)."""
        return self.y0 + self.ny * self.cell_size

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the grid, metres (EPSG:27700)."""
        return (self.x0, self.y0, self.x1, self.y1)

    @property
    def shape(self) -> tuple[int, int]:
        """Array shape ``(ny, nx)`` of a raster on this grid."""
        return (self.ny, self.nx)

    @property
    def n_cells(self) -> int:
        """Number of cells, ``nx * ny``."""
        return self.nx * self.ny

    @property
    def cell_area_km2(self) -> float:
        """Area of one cell in square kilometres."""
        return (self.cell_size / 1000.0) ** 2

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre coordinates along each axis.

        Returns
        -------
        xs : numpy.ndarray of shape (nx,)
            Eastings of the column centres, metres (EPSG:27700), increasing.
        ys : numpy.ndarray of shape (ny,)
            Northings of the row centres, metres (EPSG:27700), increasing
            (row 0 is the south row).
        """
        xs = self.x0 + (np.arange(self.nx, dtype=np.float64) + 0.5) * self.cell_size
        ys = self.y0 + (np.arange(self.ny, dtype=np.float64) + 0.5) * self.cell_size
        return xs, ys


def _snapped_size(
    bounds: tuple[float, float, float, float], cell_size: float, margin: float
) -> tuple[int, int, int, int]:
    """Integer cell indices of the snapped west/south edges and the grid size."""
    xmin, ymin, xmax, ymax = bounds
    i0 = math.floor((xmin - margin) / cell_size)
    j0 = math.floor((ymin - margin) / cell_size)
    i1 = math.ceil((xmax + margin) / cell_size)
    j1 = math.ceil((ymax + margin) / cell_size)
    return i0, j0, max(1, i1 - i0), max(1, j1 - j0)


def grid_for_extent(
    bounds: tuple[float, float, float, float],
    *,
    cell_size: float,
    margin: float = 0.0,
) -> Grid:
    """Smallest grid of ``cell_size`` cells covering ``bounds`` plus a margin.

    The edges are snapped outward to multiples of ``cell_size`` so that grids
    built for different extents with the same cell size line up exactly.

    Parameters
    ----------
    bounds : tuple of 4 floats
        ``(xmin, ymin, xmax, ymax)`` to cover, metres (EPSG:27700).
    cell_size : float
        Side of a square cell, metres.  Must be > 0.
    margin : float, default 0.0
        Extra distance added on every side before snapping, metres (>= 0).

    Returns
    -------
    Grid
        Grid whose ``bounds`` contain ``bounds`` expanded by ``margin``; at
        least one cell in each direction.

    Raises
    ------
    ValueError
        If ``cell_size`` <= 0, ``margin`` < 0, ``bounds`` is not a valid box,
        or the grid would have more than :data:`MAX_GRID_CELLS` cells (the
        message suggests a cell size that fits).
    TypeError
        If an argument is not a number / 4-tuple of numbers.
    """
    func = "grid_for_extent"
    box = check_bounds(bounds, "bounds", func)
    cell_size = check_float(cell_size, "cell_size", func, low=0.0)
    margin = check_float(margin, "margin", func, low=0.0, low_open=False)
    i0, j0, nx, ny = _snapped_size(box, cell_size, margin)
    if nx * ny > MAX_GRID_CELLS:
        suggestion = math.ceil(cell_size * math.sqrt(nx * ny / MAX_GRID_CELLS))
        while True:
            _, _, sx, sy = _snapped_size(box, float(suggestion), margin)
            if sx * sy <= MAX_GRID_CELLS:
                break
            suggestion = math.ceil(suggestion * 1.1)
        raise ValueError(
            f"A grid with cell_size={cell_size:g} m over this extent would have "
            f"{nx * ny:,} cells ({nx} x {ny}), more than the limit of {MAX_GRID_CELLS:,}. "
            f"Use a larger cell size, e.g. cell_size={suggestion} m or more."
        )
    return Grid(x0=i0 * cell_size, y0=j0 * cell_size, cell_size=cell_size, nx=nx, ny=ny)


def cells_within(grid: Grid, geometry: Polygon | MultiPolygon | GeometryCollection) -> np.ndarray:
    """Mask of the cells whose centre lies inside a (multi)polygon.

    Parameters
    ----------
    grid : Grid
        The grid, EPSG:27700 metres.
    geometry : shapely.Polygon, shapely.MultiPolygon or shapely.GeometryCollection
        Study area in EPSG:27700 metres (e.g. a union of LSOA polygons).  Only
        the polygonal parts of a collection count.  Cell centres exactly on
        the boundary are outside (``shapely.contains_xy`` semantics).

    Returns
    -------
    numpy.ndarray of bool, shape (ny, nx)
        ``True`` where the cell centre is inside ``geometry``; row 0 is south.
    """
    func = "cells_within"
    if not isinstance(grid, Grid):
        raise TypeError(
            f"The 'grid' parameter of {func} must be a Grid. "
            f"Got an object of type {type(grid).__name__} instead."
        )
    if not isinstance(geometry, (Polygon, MultiPolygon, GeometryCollection)):
        raise TypeError(
            f"The 'geometry' parameter of {func} must be a shapely Polygon, MultiPolygon or "
            f"GeometryCollection. Got an object of type {type(geometry).__name__} instead."
        )
    if type(geometry) is GeometryCollection:
        parts = [g for g in shapely.get_parts(geometry) if isinstance(g, (Polygon, MultiPolygon))]
        geometry = shapely.union_all(parts) if parts else Polygon()
    # The same study area is masked several times per analysis (the current and previous
    # periods, change, concentration), on grids that differ only in extent: the mask of a
    # grid snapped like grid_for_extent's is a window of the mask of the area's own snapped
    # grid, which is computed once and remembered.
    digest = hashlib.blake2b(shapely.to_wkb(geometry), digest_size=16).digest()
    area_grid = _snapped_area_grid(grid, geometry)
    if area_grid is None:
        return _remembered((grid, digest), lambda: _cells_within(grid, geometry))
    area_mask = _remembered((area_grid, digest), lambda: _cells_within(area_grid, geometry),
                            copy=False)
    mask = np.zeros(grid.shape, dtype=bool)
    di = round(grid.x0 / grid.cell_size) - round(area_grid.x0 / grid.cell_size)
    dj = round(grid.y0 / grid.cell_size) - round(area_grid.y0 / grid.cell_size)
    cols = slice(max(0, -di), min(grid.nx, area_grid.nx - di))
    rows = slice(max(0, -dj), min(grid.ny, area_grid.ny - dj))
    if cols.start < cols.stop and rows.start < rows.stop:
        mask[rows, cols] = area_mask[rows.start + dj:rows.stop + dj,
                                     cols.start + di:cols.stop + di]
    return mask


def _snapped_area_grid(grid: Grid, geometry) -> Grid | None:
    """The grid of `grid`'s cell size snapped to the geometry's bounds, when `grid` is snapped
    the same way (its edges on multiples of its cell size, as :func:`grid_for_extent` makes
    them) and the cell size is a whole number of metres (so that both grids' cell centres
    are the same floating-point numbers); else None."""
    size = grid.cell_size
    if size != round(size) or grid.x0 != round(grid.x0 / size) * size \
            or grid.y0 != round(grid.y0 / size) * size:
        return None
    try:
        return grid_for_extent(geometry.bounds, cell_size=size)
    except ValueError:  # an area too large for one grid of this cell size
        return None


def _remembered(key, compute, *, copy: bool = True) -> np.ndarray:
    """The mask remembered under `key`, or `compute()`'d and remembered (a copy is returned
    unless `copy` is False: the caller must then not change it)."""
    with _MASKS_LOCK:
        known = _MASKS.get(key)
        if known is not None:
            _MASKS.move_to_end(key)
            return known.copy() if copy else known
    mask = compute()
    mask.flags.writeable = False
    with _MASKS_LOCK:
        _MASKS[key] = mask
        while len(_MASKS) > _MASKS_KEPT:
            _MASKS.popitem(last=False)
    return mask.copy() if copy else mask


#: How many (grid, geometry) masks :func:`cells_within` remembers (the Humber at 50 m is
#: 2.9 MB each).
_MASKS_KEPT = 12
_MASKS: OrderedDict = OrderedDict()
_MASKS_LOCK = threading.Lock()


def _cells_within(grid: Grid, geometry: Polygon | MultiPolygon) -> np.ndarray:
    """:func:`cells_within` without validation or memory."""
    mask = np.zeros(grid.shape, dtype=bool)
    if geometry.is_empty:
        return mask
    xs, ys = grid.cell_centres()
    gx0, gy0, gx1, gy1 = geometry.bounds
    cols = np.flatnonzero((xs > gx0) & (xs < gx1))
    rows = np.flatnonzero((ys > gy0) & (ys < gy1))
    if cols.size == 0 or rows.size == 0:
        return mask
    # Prepare a private copy so the caller's geometry is left exactly as given.
    prepared = shapely.from_wkb(shapely.to_wkb(geometry))
    shapely.prepare(prepared)
    # Blocks of cells whose centre box lies wholly inside (or outside) the
    # geometry are filled at once; only blocks on the boundary test each
    # centre with contains_xy.  Same result as testing every centre.
    b = _BLOCK
    for r0 in range(rows[0], rows[-1] + 1, b):
        r1 = min(r0 + b, rows[-1] + 1)
        starts = np.arange(cols[0], cols[-1] + 1, b)
        ends = np.minimum(starts + b, cols[-1] + 1)
        boxes = shapely.box(xs[starts], ys[r0], xs[ends - 1], ys[r1 - 1])
        full = shapely.contains_properly(prepared, boxes)
        empty = shapely.disjoint(prepared, boxes)
        for c0, c1, is_full, is_empty in zip(starts, ends, full, empty):
            if is_empty:
                continue
            if is_full:
                mask[r0:r1, c0:c1] = True
                continue
            sub_x, sub_y = np.meshgrid(xs[c0:c1], ys[r0:r1])
            mask[r0:r1, c0:c1] = shapely.contains_xy(prepared, sub_x, sub_y)
    return mask


#: Side, in cells, of the blocks :func:`cells_within` classifies at once.
_BLOCK = 32
