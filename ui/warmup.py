"""What a server process loads once, at its start, so that no visitor waits for it.

``serve.py`` runs :func:`warm_up` in a background thread as soon as Streamlit's runtime has
started (its lifespan hook), and the Data page runs it again after each ingest or refresh;
the bench (``python -m ui.bench``) runs it before timing the pages, as "after a start". In
order it imports the page modules; loads the reference tables (LSOAs, wards, districts),
the area unions and their map outlines; reads the current store version's per-ingest
aggregates, its incidents (into memory, :func:`ui.cached.incident_table`), street labels and
the "find a place" gazetteer; makes sure the back-tested default bandwidths are stored beside
the store (computed once per ingest when missing, :func:`ui.cached.precompute_defaults`);
and last computes the standard views (:func:`standard_views`): every area's default view of
each crime group, so that switching the crime group answers at once. Other selections (other
months or settings) are computed when asked for.

A page opened while it runs simply computes what it needs itself (Streamlit's caches let one
computation serve both).
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import threading
import time

_LOG = logging.getLogger(__name__)

#: ``HUMBER_WARM_UP=0`` turns the background warm-up off (the test suite does, so that its
#: many small stores are not back-tested behind its back).
ENV_SWITCH = "HUMBER_WARM_UP"

#: Modules a page imports on its first view (matplotlib and altair are slow to import).
PAGE_MODULES = ("ui.map_view", "ui.profile_view", "ui.tasking_view", "ui.need_view",
                "ui.summary_view", "ui.concentration_view", "ui.emerging_view",
                "reports.static_map", "altair")


def warm_up(*, defaults: bool = True, views: bool = True) -> dict[str, float]:
    """Load everything a page needs that does not depend on its selection, then compute the
    standard views.

    Parameters
    ----------
    defaults : bool, default True
        Also make sure the back-tested default bandwidths of the Humber and every CSP are
        stored beside the current store version (computed only when missing).
    views : bool, default True
        Then compute the standard views (:func:`standard_views`): each area's map and Need
        table for every crime group, at the default months and settings.

    Returns
    -------
    dict of str to float
        Seconds spent on each step (``imports``, ``reference``, ``aggregates``,
        ``streets``, ``defaults``, ``views``), in order.
    """
    from config import get_config
    from ui import cached

    seconds: dict[str, float] = {}

    def step(name: str, work) -> None:
        start = time.perf_counter()
        work()
        seconds[name] = time.perf_counter() - start

    def imports() -> None:
        from ui import compute_process

        compute_process.start()  # its own imports run in the background meanwhile
        for module in PAGE_MODULES:
            importlib.import_module(module)
    step("imports", imports)

    def reference() -> None:
        from geodata.crs import bng_to_lonlat

        bng_to_lonlat([500_000.0], [400_000.0])  # builds the process's transformer (30 ms)
        cached.lsoa_table()
        cached.wards()
        cached.lad_boundaries()
        for area_code in (None, *get_config().area_codes):
            cached.study_area(area_code)
        for kind in ("lsoa", "ward", "lad"):
            cached.boundary_rings(kind)
    step("reference", reference)

    def aggregates() -> None:
        cached.available_months()
        cached.data_span()
        cached.aggregates()
        cached.incident_table()
    step("aggregates", aggregates)

    def streets() -> None:
        from ui.map_view import _area_street_records, _street_labels

        version = cached.store_version()
        _street_labels(version)
        for area_code in (None, *get_config().area_codes):
            _area_street_records(version, area_code)
        cached.map_point_names()
        cached.gazetteer()  # "find a place": streets, wards, LSOAs and districts
    step("streets", streets)
    if defaults:
        step("defaults", cached.precompute_defaults)
    if views:
        step("views", standard_views)
    # What is loaded now lives as long as the process: keep it out of the garbage
    # collector's full passes, which otherwise walked it in the middle of page runs (0.1-0.2 s
    # pauses on the Humber map).
    gc.freeze()
    return seconds


def standard_views(area_codes=None) -> int:
    """Compute what an analyst's first view of each standard selection shows.

    A standard selection is an area (the Humber, then each CSP) with one crime group, the
    default months (the latest three contiguous stored months) and default settings (the
    back-tested bandwidth): what a page opens on, and what a tasking meeting switches
    between. For each, the map's analyses (:func:`ui.map_view.precompute_map`) and the Need
    table (:func:`ui.need_view.need_table`) are computed into the process's caches, so a
    change of crime group finds them ready. Selections with other months or settings, and
    the protected views of partner and public roles, are computed when asked for.

    Parameters
    ----------
    area_codes : iterable of str or None, optional
        The areas (None is the Humber); by default the Humber and every CSP.

    Returns
    -------
    int
        How many selections were computed.
    """
    from config import get_config
    from ui import cached
    from ui.map_view import precompute_map
    from ui.need_view import need_table
    from ui.widgets import default_filters

    config = get_config()
    months = cached.available_months()
    if not months:
        return 0
    areas = (None, *config.area_codes) if area_codes is None else tuple(area_codes)
    done = 0
    for area_code in areas:
        for group in (g.name for g in config.crime_groups):
            filters = default_filters(config, months, crime_group=group,
                                      bandwidth=cached.default_bandwidth(area_code, group))
            precompute_map(area_code, filters)
            need_table(config, area_code, filters.months, group)
            done += 1
    return done


def start_warm_up() -> threading.Thread | None:
    """Run :func:`warm_up` in a daemon thread (a failure is logged, never raised: the pages
    then load what they need themselves). Returns the thread, or None when
    ``HUMBER_WARM_UP=0`` turns it off."""
    if os.environ.get(ENV_SWITCH, "1").strip() == "0":
        return None
    def run() -> None:
        # Streamlit warns once per cached call made outside a page run; this thread makes
        # many on purpose.
        logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(
            logging.ERROR)
        try:
            seconds = warm_up()
        except Exception:  # noqa: BLE001 - a warm-up must never stop the server
            _LOG.exception("Warm-up failed; pages will load what they need on first view.")
            return
        _LOG.info("Warm-up done: %s", ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()))

    thread = threading.Thread(target=run, name="humber-warm-up", daemon=True)
    thread.start()
    return thread
