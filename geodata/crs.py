"""Coordinate reference systems: analysis in British National Grid, display in WGS84."""

from __future__ import annotations

import functools

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


def lonlat_to_bng(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS84 longitude/latitude (degrees) to BNG easting/northing (metres)."""
    return _transformer(WGS84, BNG).transform(np.asarray(lon, dtype=float),
                                               np.asarray(lat, dtype=float))


def bng_to_lonlat(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Project BNG easting/northing (metres) to WGS84 longitude/latitude (degrees)."""
    return _transformer(BNG, WGS84).transform(np.asarray(x, dtype=float),
                                               np.asarray(y, dtype=float))
