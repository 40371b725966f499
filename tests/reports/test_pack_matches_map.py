"""The pack's hotspots are the map's: same filters, same outlines, ranks, names and classes."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest

from config import get_config
from reports.tasking_pack import build_tasking_pack
from ui import cached
from ui.tasking_view import pack_arguments
from ui.widgets import Filters

HULL = "E06000010"


def _filters(months, method: str, value: float, measure: str = "count") -> Filters:
    return Filters(months=months, crime_group=get_config().default_crime_group,
                   layers=("hotspots",), imd_domain="imd", bandwidth=200.0, cell_size=100.0,
                   threshold_method=method, threshold_value=value, eps=None, min_samples=None,
                   max_memory_mb=500.0, measure=measure)


def _map(filters: Filters):
    return cached.hotspot_analysis(HULL, filters.months, filters.crime_group,
                         bandwidth=filters.bandwidth, cell_size=filters.cell_size,
                         threshold_method=filters.threshold_method,
                         threshold_value=filters.threshold_value, measure=filters.measure)


def _pack(filters: Filters, folder):
    pack = build_tasking_pack(out_dir=folder, store=cached.store(),
                              **pack_arguments(HULL, filters))
    return gpd.read_file(pack.geojson).to_crs("EPSG:27700"), pd.read_csv(pack.csv)


@pytest.mark.parametrize("months, method, value, measure", [
    (("2024-01", "2024-02", "2024-03"), "mean_multiple", 4.0, "count"),
    (("2024-03",), "top_percent", 3.0, "count"),  # 2024-02 is stored: persistence compared
    (("2024-03",), "top_percent", 3.0, "harm"),   # drawn and ranked by harm, as on the map
])
def test_pack_outlines_equal_the_maps(tmp_path, months, method, value, measure):
    filters = _filters(months, method, value, measure)
    shown = _map(filters)
    geojson, csv = _pack(filters, tmp_path)
    assert len(shown.outlines) > 1
    assert geojson["hotspot_id"].tolist() == shown.outlines["hotspot_id"].tolist()
    assert geojson["name"].tolist() == shown.table["name"].tolist()
    assert csv["name"].tolist() == shown.table["name"].tolist()
    assert csv["incidents"].tolist() == shown.table["incidents"].tolist()
    for drawn, printed in zip(shown.outlines.geometry, geojson.geometry):
        # The GeoJSON rounds to 7 decimals of a degree (about 1 cm) after reprojection.
        assert drawn.hausdorff_distance(printed) < 0.5
        assert printed.area == pytest.approx(drawn.area, rel=1e-4)
    if shown.change is not None:
        assert csv["persistence"].fillna("").tolist() == shown.table["persistence"].tolist()
        assert set(shown.table["persistence"]) - {""}


def test_a_threshold_other_than_the_packs_old_default_changes_the_outlines():
    """Guards the test above: mean_multiple 4 is not the old fixed 'densest 2%'."""
    months = ("2024-01", "2024-02", "2024-03")
    chosen = _map(_filters(months, "mean_multiple", 4.0))
    fixed = _map(_filters(months, "top_percent", 2.0))
    assert len(chosen.outlines) != len(fixed.outlines) or not all(
        a.equals(b) for a, b in zip(chosen.outlines.geometry, fixed.outlines.geometry))
