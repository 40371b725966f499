"""Coordinate reference systems: analysis in British National Grid, display in WGS84."""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor

import numpy as np

#: British National Grid: every analysis layer's CRS (metres). The one definition: other
#: modules import it (``from geodata.crs import BNG``) instead of spelling "EPSG:27700".
BNG = "EPSG:27700"
#: WGS84 longitude/latitude: only the map (deck.gl) and GeoJSON exports use it.
WGS84 = "EPSG:4326"

# A generous lon/lat box around Great Britain (mainland, islands and territorial sea).
GB_LON_RANGE = (-8.75, 1.85)
GB_LAT_RANGE = (49.8, 60.95)
# The British National Grid's extent in metres (eastings, northings).
BNG_X_RANGE = (0.0, 700_000.0)
BNG_Y_RANGE = (0.0, 1_300_000.0)


@functools.lru_cache(maxsize=4)
def _transformer(source: str, target: str):
    from pyproj import Transformer  # imported on first use: the constants stay light

    return Transformer.from_crs(source, target, always_xy=True)


# pyproj gives each thread its own PROJ transformation, built on the thread's first use
# (30-40 ms for BNG <-> WGS84), and Streamlit runs every rerun of a page in a new thread: the
# projections all run on this one long-lived thread instead, so that cost is paid once.
_PROJECTING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="humber-crs")


def _project(source: str, target: str, a, b) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return _PROJECTING.submit(lambda: _transformer(source, target).transform(a, b)).result()


def lonlat_to_bng(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS84 longitude/latitude (degrees) to BNG easting/northing (metres)."""
    return _project(WGS84, BNG, lon, lat)


def bng_to_lonlat(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Project BNG easting/northing (metres) to WGS84 longitude/latitude (degrees)."""
    return _project(BNG, WGS84, x, y)
