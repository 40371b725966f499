"""What a server process loads once, at its start, so that no visitor waits for it.

``serve.py`` runs :func:`warm_up` in a background thread as soon as Streamlit's runtime has
started (its lifespan hook); the bench (``python -m ui.bench``) runs it before timing the
pages, as "after a start". It does per-process work only: importing the page modules,
loading the reference tables (LSOAs, wards, districts), the area unions, their map outlines, the current store
version's per-ingest aggregates and street labels, and the back-tested default bandwidths
(read from beside the store, or computed and stored there once per ingest when missing:
:func:`ui.cached.precompute_defaults`). It computes no selection's analysis: the pages'
figures still come from their own selections.

A page opened while it runs simply computes what it needs itself (Streamlit's caches let one
computation serve both).
"""

from __future__ import annotations

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


def warm_up(*, defaults: bool = True) -> dict[str, float]:
    """Load everything a page needs that does not depend on its selection.

    Parameters
    ----------
    defaults : bool, default True
        Also make sure the back-tested default bandwidths of the Humber and every CSP are
        stored beside the current store version (computed only when missing).

    Returns
    -------
    dict of str to float
        Seconds spent on each step (``imports``, ``reference``, ``aggregates``,
        ``streets``, ``defaults``), in order.
    """
    from config import get_config
    from ui import cached

    seconds: dict[str, float] = {}

    def step(name: str, work) -> None:
        start = time.perf_counter()
        work()
        seconds[name] = time.perf_counter() - start

    step("imports", lambda: [importlib.import_module(m) for m in PAGE_MODULES])

    def reference() -> None:
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
    step("aggregates", aggregates)

    def streets() -> None:
        from ui.map_view import _area_street_records, _street_labels

        version = cached.store_version()
        _street_labels(version)
        for area_code in (None, *get_config().area_codes):
            _area_street_records(version, area_code)
        cached.map_point_names()
    step("streets", streets)
    if defaults:
        step("defaults", cached.precompute_defaults)
    return seconds


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
