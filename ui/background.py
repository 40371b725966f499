"""Cached computations started ahead, on the machine's other core, while a page computes.

A map page needs several independent analyses of one selection (the hotspots with their
change, the DBSCAN clusters, the predicted cells). They used to run one after another in the
page's script thread. :func:`start_ahead` calls a cached wrapper of :mod:`ui.cached` in a
worker thread and forgets it; when the page then makes the same call itself, Streamlit's
per-key compute lock makes it wait for the worker's result (or find it cached) instead of
computing it twice. A failure in the worker is left for the page's own call to raise, with
the page's error handling.

The workers run no Streamlit element and touch no session state: they only fill the
process-wide caches, like the server's warm-up (:mod:`ui.warmup`).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

_LOG = logging.getLogger(__name__)

#: Worker threads: the development and production machines have two cores, and the page's
#: own thread is the other.
WORKERS = 1

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            # A cached call outside a page run warns that it has no ScriptRunContext; these
            # calls are made there on purpose.
            logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context") \
                .setLevel(logging.ERROR)
            _pool = ThreadPoolExecutor(max_workers=WORKERS,
                                       thread_name_prefix="humber-ahead")
        return _pool


def start_ahead(function, /, *args, **kwargs) -> None:
    """Call the cached `function(*args, **kwargs)` in a worker thread and return at once.

    Parameters
    ----------
    function : callable
        A wrapper of :mod:`ui.cached` (its result lands in a Streamlit cache).
    *args, **kwargs
        Exactly the arguments the page will pass itself a moment later.
    """
    def run() -> None:
        try:
            function(*args, **kwargs)
        except Exception:  # noqa: BLE001 - the page's own call raises it, where it is shown
            _LOG.debug("A computation started ahead failed; the page will compute it.",
                       exc_info=True)

    _executor().submit(run)


def wait_idle(timeout_s: float = 120.0) -> None:
    """Return once every computation started ahead so far has ended (the worker runs them in
    order). Tests call it between stores, so a late result cannot land in the next test's
    caches."""
    with _pool_lock:
        pool = _pool
    if pool is not None:
        pool.submit(lambda: None).result(timeout=timeout_s)
