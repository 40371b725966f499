"""Hotspot change classes on hand-built surfaces."""

from __future__ import annotations

import numpy as np
import pytest

from hotspots.change import CHANGE_CLASSES, classify_change, hotspot_change
from hotspots.grid import Grid
from hotspots.kde import DensitySurface


def test_classify_change_hand_built():
    # Threshold 10 in both periods, X = 25%.
    before = [0, 20, 20, 20, 20, 5]
    after = [15, 0, 22, 30, 12, 5]
    out = classify_change(before, after, threshold_before=10, threshold_after=10)
    names = [CHANGE_CLASSES[i] for i in out]
    # 0: new; 20->0: ceased; 20->22 (+10%): persistent; 20->30 (+50%): intensifying;
    # 20->12 (-40%): diminishing; 5->5: none.
    assert names == ["new", "ceased", "persistent", "intensifying", "diminishing", "none"]


def test_hotspot_change_aligns_grids_and_uses_top_percent():
    g1 = Grid(x0=0.0, y0=0.0, cell_size=10.0, nx=4, ny=1)
    g2 = Grid(x0=10.0, y0=0.0, cell_size=10.0, nx=4, ny=1)
    before = DensitySurface(grid=g1, density=np.array([[9.0, 1, 1, 1]]), bandwidth=10.0,
                            kernel="gaussian", total_weight=1.0)
    after = DensitySurface(grid=g2, density=np.array([[1.0, 1, 1, 8]]), bandwidth=10.0,
                           kernel="gaussian", total_weight=1.0)
    res = hotspot_change(before, after, threshold_value=20.0)   # top 20% of 5 cells = 1 cell
    assert res.grid.nx == 5
    assert [CHANGE_CLASSES[i] for i in res.classes[0]] == ["ceased", "none", "none", "none", "new"]
    assert res.counts()["new"] == 1


def test_change_validation():
    with pytest.raises(ValueError, match="same shape"):
        classify_change([1, 2], [1], threshold_before=1, threshold_after=1)
    with pytest.raises(ValueError, match="'change_pct' parameter of classify_change"):
        classify_change([1], [1], threshold_before=1, threshold_after=1, change_pct=0)
    with pytest.raises(TypeError, match="'before' parameter of hotspot_change"):
        hotspot_change(np.zeros(3), np.zeros(3))
