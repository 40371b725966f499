"""Hotspot analysis of incident locations (no UI code).

All coordinates are British National Grid (EPSG:27700) metres.  Rasters are
NumPy arrays of shape ``(ny, nx)`` with row 0 the south row and column 0 the
west column.

Modules
-------
grid
    :class:`Grid`, :func:`grid_for_extent`, :func:`cells_within`.
kde
    :class:`DensitySurface`, :func:`kernel_density`, :func:`exact_kernel_density`.
outlines
    :func:`density_threshold`, :func:`hotspot_outlines`.
clusters
    DBSCAN on unique locations: :func:`dbscan_incidents`, :func:`cluster_outlines` ...
summary
    :func:`summarise_areas`, :func:`assign_to_polygons`.

This package must never import ``streamlit`` or ``pydeck``.
"""

from hotspots.clusters import (
    ClusterMemoryError,
    ClusterResult,
    auto_eps,
    auto_min_samples,
    cluster_outlines,
    dbscan_incidents,
    estimate_dbscan_memory_mb,
    estimate_neighbour_pairs,
)
from hotspots.grid import MAX_GRID_CELLS, Grid, cells_within, grid_for_extent
from hotspots.kde import DensitySurface, exact_kernel_density, kernel_density
from hotspots.outlines import density_threshold, hotspot_outlines
from hotspots.summary import assign_to_polygons, summarise_areas

__all__ = [
    "MAX_GRID_CELLS",
    "ClusterMemoryError",
    "ClusterResult",
    "DensitySurface",
    "Grid",
    "assign_to_polygons",
    "auto_eps",
    "auto_min_samples",
    "cells_within",
    "cluster_outlines",
    "dbscan_incidents",
    "density_threshold",
    "estimate_dbscan_memory_mb",
    "estimate_neighbour_pairs",
    "exact_kernel_density",
    "grid_for_extent",
    "hotspot_outlines",
    "kernel_density",
    "summarise_areas",
]
