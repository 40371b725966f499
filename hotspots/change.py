"""Change of hotspots between two periods: new, persistent, intensifying, diminishing, ceased.

Rule (also in ``docs/methods.md``).  For each period a cell is a **hotspot**
when its density is at or above that period's threshold (by default the
density of the densest 5 % of the study area's cells,
:func:`hotspots.outlines.density_threshold` with ``"top_percent"``).  Then,
with ``d0`` / ``d1`` the densities of the earlier / later period and ``X`` =
``change_pct`` (default 25 %):

* **new** - hotspot only in the later period;
* **ceased** - hotspot only in the earlier period;
* **intensifying** - hotspot in both and ``d1 > d0 * (1 + X/100)``;
* **diminishing** - hotspot in both and ``d1 < d0 * (1 - X/100)``;
* **persistent** - hotspot in both, density within +/- X %;
* cells that are a hotspot in neither period get ``"none"``.

Compare periods of the same length (or divide each surface by its number
of months): the thresholds are relative to each period, but the
intensifying / diminishing test compares absolute densities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hotspots._validation import check_float, check_option
from hotspots.grid import Grid
from hotspots.kde import DensitySurface
from hotspots.outlines import THRESHOLD_METHODS, density_threshold

__all__ = ["CHANGE_CLASSES", "HotspotChange", "classify_change", "hotspot_change"]

#: Class names; a class raster holds the index into this tuple.
CHANGE_CLASSES: tuple[str, ...] = (
    "none", "new", "persistent", "intensifying", "diminishing", "ceased",
)


@dataclass(frozen=True)
class HotspotChange:
    """Change classes on a common grid.

    Parameters
    ----------
    grid : Grid
        Common grid of both periods, EPSG:27700 metres.
    classes : numpy.ndarray of int8, shape (ny, nx)
        Index into :data:`CHANGE_CLASSES` per cell (row 0 south).
    before, after : numpy.ndarray of float, shape (ny, nx)
        Densities of the earlier and later period on ``grid``, per km².
    threshold_before, threshold_after : float
        Hotspot thresholds of the two periods, per km².
    change_pct : float
        The ``X`` of the rule, per cent.
    """

    grid: Grid
    classes: np.ndarray
    before: np.ndarray
    after: np.ndarray
    threshold_before: float
    threshold_after: float
    change_pct: float

    def counts(self) -> dict[str, int]:
        """Number of cells in each class (``"none"`` included)."""
        n = np.bincount(self.classes.ravel(), minlength=len(CHANGE_CLASSES))
        return {name: int(c) for name, c in zip(CHANGE_CLASSES, n)}


def classify_change(before, after, *, threshold_before: float, threshold_after: float,
                    change_pct: float = 25.0) -> np.ndarray:
    """Change class of each cell from two density arrays and their thresholds.

    Parameters
    ----------
    before, after : array-like of float, same shape
        Densities of the earlier and later period (same units, e.g. per km²).
    threshold_before, threshold_after : float
        Density at or above which a cell is a hotspot in each period, > 0.
    change_pct : float, default 25.0
        Relative change, in per cent (> 0), beyond which a cell that is a
        hotspot in both periods is intensifying or diminishing.

    Returns
    -------
    numpy.ndarray of int8
        Index into :data:`CHANGE_CLASSES` per cell.
    """
    func = "classify_change"
    b = np.asarray(before, dtype=np.float64)
    a = np.asarray(after, dtype=np.float64)
    if b.shape != a.shape:
        raise ValueError(f"The 'before' and 'after' parameters of {func} must have the same "
                         f"shape. Got {b.shape} and {a.shape} instead.")
    tb = check_float(threshold_before, "threshold_before", func, low=0.0, high=np.inf,
                     high_open=False)
    ta = check_float(threshold_after, "threshold_after", func, low=0.0, high=np.inf,
                     high_open=False)
    x = check_float(change_pct, "change_pct", func, low=0.0) / 100.0
    hb = b >= tb
    ha = a >= ta
    both = hb & ha
    out = np.zeros(b.shape, dtype=np.int8)
    out[ha & ~hb] = CHANGE_CLASSES.index("new")
    out[hb & ~ha] = CHANGE_CLASSES.index("ceased")
    out[both] = CHANGE_CLASSES.index("persistent")
    out[both & (a > b * (1 + x))] = CHANGE_CLASSES.index("intensifying")
    out[both & (a < b * (1 - x))] = CHANGE_CLASSES.index("diminishing")
    return out


def _embed(surface: DensitySurface, grid: Grid) -> np.ndarray:
    g = surface.grid
    i0 = int(round((g.x0 - grid.x0) / grid.cell_size))
    j0 = int(round((g.y0 - grid.y0) / grid.cell_size))
    if (i0, j0) == (0, 0) and (g.ny, g.nx) == grid.shape:
        return np.asarray(surface.density)  # already on the common grid: no copy
    out = np.zeros(grid.shape)
    out[j0:j0 + g.ny, i0:i0 + g.nx] = surface.density
    return out


def hotspot_change(before: DensitySurface, after: DensitySurface, *,
                   threshold_method: str = "top_percent", threshold_value: float = 5.0,
                   mask_geometry=None, change_pct: float = 25.0) -> HotspotChange:
    """Classify hotspot change between two density surfaces of the same cell size.

    Parameters
    ----------
    before, after : DensitySurface
        Kernel densities (:func:`hotspots.kde.kernel_density`) of the earlier
        and later period, with the same ``cell_size`` (metres).  Their grids
        are snapped to multiples of the cell size, so they are aligned on the
        union of their extents.
    threshold_method : {"top_percent", "mean_multiple"}, default "top_percent"
        Rule of :func:`hotspots.outlines.density_threshold`, applied to each
        period separately.
    threshold_value : float, default 5.0
        Percentage of the area or multiple of the mean density.
    mask_geometry : shapely Polygon or MultiPolygon, optional
        Study area (EPSG:27700) whose cells define the thresholds; default
        all cells of the common grid.
    change_pct : float, default 25.0
        ``X`` of the rule, per cent.

    Returns
    -------
    HotspotChange
    """
    func = "hotspot_change"
    for name, s in (("before", before), ("after", after)):
        if not isinstance(s, DensitySurface):
            raise TypeError(f"The {name!r} parameter of {func} must be a DensitySurface. "
                            f"Got an object of type {type(s).__name__} instead.")
    if before.grid.cell_size != after.grid.cell_size:
        raise ValueError(f"The 'before' and 'after' surfaces of {func} must have the same cell "
                         f"size. Got {before.grid.cell_size:g} m and "
                         f"{after.grid.cell_size:g} m instead.")
    threshold_method = check_option(threshold_method, "threshold_method", func,
                                    THRESHOLD_METHODS)
    cs = before.grid.cell_size
    x0 = min(before.grid.x0, after.grid.x0)
    y0 = min(before.grid.y0, after.grid.y0)
    x1 = max(before.grid.x1, after.grid.x1)
    y1 = max(before.grid.y1, after.grid.y1)
    grid = Grid(x0=x0, y0=y0, cell_size=cs, nx=int(round((x1 - x0) / cs)),
                ny=int(round((y1 - y0) / cs)))
    b = _embed(before, grid)
    a = _embed(after, grid)
    mask = None
    if mask_geometry is not None:
        from hotspots.grid import cells_within

        mask = cells_within(grid, mask_geometry)
    sb = DensitySurface(grid=grid, density=b, bandwidth=before.bandwidth, kernel=before.kernel,
                        total_weight=before.total_weight)
    sa = DensitySurface(grid=grid, density=a, bandwidth=after.bandwidth, kernel=after.kernel,
                        total_weight=after.total_weight)
    tb = density_threshold(sb, method=threshold_method, value=threshold_value, mask=mask)
    ta = density_threshold(sa, method=threshold_method, value=threshold_value, mask=mask)
    classes = classify_change(b, a, threshold_before=tb, threshold_after=ta,
                              change_pct=change_pct)
    if mask is not None:
        classes[~mask] = 0
    return HotspotChange(grid=grid, classes=classes, before=b, after=a, threshold_before=tb,
                         threshold_after=ta, change_pct=float(change_pct))
