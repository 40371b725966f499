"""Hotspot analysis of incident locations: the library behind the dashboard (no UI code).

Every function takes and returns NumPy arrays or (Geo)DataFrames in British National Grid
(EPSG:27700) metres, so bandwidths, radii and cell sizes are metres. Rasters are arrays of
shape ``(ny, nx)`` with row 0 the south row and column 0 the west column. In a notebook::

    import hotspots

    surface = hotspots.kernel_density(x, y, bandwidth=150, cell_size=50)
    outlines = hotspots.hotspot_outlines(
        surface, hotspots.density_threshold(surface, method="top_percent", value=5))
    clusters = hotspots.dbscan_incidents(x, y)               # automatic eps / min_samples
    table = hotspots.evaluate_methods(incidents, study_area=area, train_months=["2024-01"],
                                      test_months=["2024-02"], crime_types=types)

The names below are the public API; importing ``hotspots`` loads none of them (nor
scikit-learn, SciPy or GeoPandas) until one is first used.

Density and hotspots
    :func:`kernel_density` (Gaussian or quartic KDE, integrates to the incidents),
    :func:`exact_kernel_density`, :class:`DensitySurface`; :func:`density_threshold` (the
    densest x % of the area, or k x its mean), :func:`hotspot_outlines`;
    :func:`top_cell_count` (how many cells "the top x %" is, everywhere).
Clusters
    :func:`dbscan_incidents` (DBSCAN in metres on unique locations, memory-checked),
    :func:`cluster_outlines`, :func:`auto_eps`, :func:`auto_min_samples`,
    :class:`ClusterMemoryError`.
Spatial statistics
    :func:`gi_star_lsoas`, :func:`gi_star_grid` (Getis-Ord Gi* with an FDR correction);
    :func:`risk_surface` (incidents per 1,000 residents, dual KDE);
    :func:`hotspot_change` (new / persistent / intensifying / diminishing / ceased);
    :func:`emerging_hotspots` (space-time Gi* trends).
Areas and harm
    :func:`summarise_areas`, :func:`assign_to_polygons`; :func:`harm_weights` (ONS Crime
    Severity Score per incident).
One selection, as the dashboard analyses it
    :func:`select_incidents`, :func:`study_area`, :func:`hotspot_analysis`,
    :func:`cluster_analysis`, :func:`predicted_cells`; :func:`hotspots_with_change` (the
    one analysis the map, the tasking pack and the response evaluation share: outlines named
    by their busiest street, change against the comparable previous period).
Did a response work?
    :func:`wdd`, :func:`wdq` (weighted displacement difference and quotient),
    :func:`evaluate_monthly`.
Back-testing
    :func:`evaluate_methods` (hit rate, PAI, RRI, PEI* of every registered method),
    :func:`default_method`, :func:`choose_bandwidth`, :class:`MethodSpec`,
    :func:`register_scorer` (add a method: one function, one line).
Grids
    :class:`Grid`, :func:`grid_for_extent`.

Other modules are imported by name, e.g. ``from hotspots import concentration`` (Lorenz
curves and Gini of incidents over places), ``disclosure``, ``need``, ``rates``,
``hotspot_profile``, ``responses``.
Command lines: ``python -m hotspots.evaluate``, ``python -m hotspots.bench``,
``python -m hotspots.responses``.

This package never imports ``streamlit`` or ``pydeck``.
"""

from __future__ import annotations

import importlib

#: Public name -> the module that defines it (PEP 562 lazy attributes).
_API = {
    # density and hotspots
    "DensitySurface": "kde", "kernel_density": "kde", "exact_kernel_density": "kde",
    "density_threshold": "outlines", "hotspot_outlines": "outlines",
    "top_cell_count": "coverage",
    # clusters
    "ClusterMemoryError": "clusters", "auto_eps": "clusters", "auto_min_samples": "clusters",
    "cluster_outlines": "clusters", "dbscan_incidents": "clusters",
    # spatial statistics
    "gi_star_grid": "getis_ord", "gi_star_lsoas": "getis_ord", "risk_surface": "risk",
    "hotspot_change": "change", "emerging_hotspots": "emerging",
    # areas and harm
    "assign_to_polygons": "summary", "summarise_areas": "summary", "harm_weights": "harm",
    # one selection
    "select_incidents": "pipeline", "study_area": "pipeline", "hotspot_analysis": "pipeline",
    "cluster_analysis": "pipeline", "predicted_cells": "pipeline",
    "hotspots_with_change": "tasking",
    # responses
    "wdd": "responses", "wdq": "responses", "evaluate_monthly": "responses",
    # back-testing
    "MethodSpec": "backtest", "choose_bandwidth": "backtest",
    "default_method": "backtest", "evaluate_methods": "backtest",
    "register_scorer": "backtest",
    # grids
    "Grid": "grid", "grid_for_extent": "grid",
}

__all__ = sorted(_API)


def __getattr__(name: str):
    """Import a public name's module on first use (PEP 562); submodules as usual."""
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'hotspots' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"hotspots.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    """The public API and the already-imported submodules."""
    return sorted(set(globals()) | set(__all__))
