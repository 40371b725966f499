"""What an attacker does with what an aggregate-only role receives.

Decode the density images found in deck JSON (or raw websocket frames), take their local
maxima, and measure how far they are from incidents; read counts back out of tooltips.
Used by the library tests and by the browser tests that capture websocket frames.
"""

from __future__ import annotations

import base64
import io
import json
import re

import numpy as np
from PIL import Image
from scipy import ndimage
from scipy.spatial import cKDTree

from geodata.crs import bng_to_lonlat, lonlat_to_bng

IMAGE = re.compile(rb'data:image/png;base64,([A-Za-z0-9+/=]+)')
BOUNDS = re.compile(rb'"bounds"\s*:\s*(\[\s*\[[-0-9.,\s\[\]]+\]\s*\])')


def decode_png(data: bytes | str) -> np.ndarray:
    """The (ny, nx, 4) RGBA array of a base64 PNG, row 0 the NORTHERN row (as drawn)."""
    raw = base64.b64decode(data)
    return np.asarray(Image.open(io.BytesIO(raw)).convert("RGBA"))


def images_in(blob: bytes) -> list[tuple[np.ndarray, list[list[float]]]]:
    """Every PNG data URL in `blob` with the ``"bounds"`` of its layer (deck.gl BitmapLayer
    corners: SW, NW, NE, SE in lon/lat): the nearest one before or after the image, so that
    the JSON's key order does not matter."""
    found = []
    all_bounds = list(BOUNDS.finditer(blob))
    for match in IMAGE.finditer(blob):
        before = [b for b in all_bounds if b.end() <= match.start()]
        after = [b for b in all_bounds if b.start() >= match.end()]
        candidates = ([(match.start() - before[-1].end(), before[-1])] if before else []) + \
            ([(after[0].start() - match.end(), after[0])] if after else [])
        corners = json.loads(min(candidates, key=lambda c: c[0])[1].group(1)) \
            if candidates else None
        found.append((decode_png(match.group(1)), corners))
    return found


def image_corners(blob: bytes) -> set[tuple[float, float]]:
    """The (lon, lat) corners of every image in `blob` (public placement, not incidents)."""
    return {(lon, lat) for _, found in images_in(blob) for lon, lat in found or []}


def peaks(rgba: np.ndarray) -> np.ndarray:
    """Local maxima of an image's intensity (alpha), as (row, col) from the top.

    A plateau (connected equal cells, none of its neighbours higher) counts once, at its
    centroid: that is where an attacker would put the peak.
    """
    value = rgba[..., 3].astype(float)
    drawn = value > 0
    local_max = (ndimage.maximum_filter(value, size=3, mode="constant") == value) & drawn
    labels, n = ndimage.label(local_max, structure=np.ones((3, 3)))
    if n == 0:
        return np.zeros((0, 2))
    result = []
    for label in range(1, n + 1):
        region = labels == label
        ring = (ndimage.binary_dilation(region, structure=np.ones((3, 3))) & ~region)
        level = value[region].max()
        if ring.any() and value[ring].max() > level:
            continue  # a shoulder of a higher plateau, not a peak
        rows, cols = np.nonzero(region)
        result.append((rows.mean(), cols.mean()))
    return np.array(result, dtype=float).reshape(-1, 2)


def peaks_bng(rgba: np.ndarray, corners: list[list[float]]) -> np.ndarray:
    """Peaks of an image placed by its lon/lat corners, as BNG (x, y) metres."""
    lon = [c[0] for c in corners]
    lat = [c[1] for c in corners]
    xs, ys = lonlat_to_bng(lon, lat)
    xmin, xmax, ymin, ymax = min(xs), max(xs), min(ys), max(ys)
    ny, nx = rgba.shape[:2]
    found = peaks(rgba)
    x = xmin + (found[:, 1] + 0.5) * (xmax - xmin) / nx
    y = ymax - (found[:, 0] + 0.5) * (ymax - ymin) / ny
    return np.column_stack([x, y])


def isolated(x: np.ndarray, y: np.ndarray, *, radius: float = 500.0) -> np.ndarray:
    """Incidents with no OTHER incident within `radius` metres (map points shared by two
    incidents are not isolated)."""
    points = np.column_stack([x, y])
    tree = cKDTree(points)
    counts = tree.query_ball_point(points, r=radius, return_length=True)
    return counts == 1


def nearest_peak_distance(targets: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Distance, metres, from each target (n, 2) to the nearest peak; inf without peaks."""
    if len(found) == 0:
        return np.full(len(targets), np.inf)
    return cKDTree(found).query(targets)[0]


__all__ = ["bng_to_lonlat", "decode_png", "images_in", "isolated", "nearest_peak_distance",
           "peaks", "peaks_bng"]
