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
getis_ord
    Gi* on LSOAs or a grid with an FDR correction: :func:`~hotspots.getis_ord.gi_star_lsoas`,
    :func:`~hotspots.getis_ord.gi_star_grid`.
risk
    Incidents per 1,000 residents (dual KDE): :func:`~hotspots.risk.risk_surface`.
change
    New / persistent / intensifying / diminishing / ceased: :func:`~hotspots.change.hotspot_change`.
harm
    Per-incident harm weights: :func:`~hotspots.harm.harm_weights`.
evaluation
    Back-testing (hit rate, PAI, RRI, PEI*) and the default method:
    :func:`~hotspots.evaluation.evaluate_methods`, :func:`~hotspots.evaluation.default_method`.
evaluate, bench
    Command lines: ``python -m hotspots.evaluate``, ``python -m hotspots.bench``.

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
