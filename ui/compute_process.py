"""A second Python process for the analyses a map page computes ahead.

:mod:`ui.background` computes a selection's clusters and predicted cells in a worker thread
while the page's own thread finds the hotspots. Both threads hold Python's global
interpreter lock for much of their work, so on a two-core machine the page's hotspots took
half as long again while the worker ran (0.14 s instead of 0.08 s for the Humber). The
worker thread now hands the computation to this process (:func:`run`) and waits for it
without holding the lock, so the page's thread has its core to itself.

The process is started once per server process, in the background, by the warm-up
(:func:`start`); until then, and whenever it is unavailable, :func:`run` computes in the
calling thread. Only library functions (:mod:`hotspots`, and :mod:`ui.offload_tasks`,
which adds the map records) run there: their arguments and results are pickled, which takes
a few milliseconds for a Humber selection. This module imports no Streamlit, so the process
does not either.
"""

from __future__ import annotations

import atexit
import gc
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

_LOG = logging.getLogger(__name__)

#: Modules the process imports as it starts, so that the first computation does not wait
#: for them.
PRELOAD = ("hotspots.pipeline", "hotspots.backtest", "hotspots.clusters",
           "sklearn.cluster", "sklearn.neighbors", "ui.offload_tasks")

_pool: ProcessPoolExecutor | None = None
_lock = threading.Lock()
_restarts = 0


#: Seconds between the process's checks that the server that started it still runs.
WATCH_S = 2.0
#: Times the process is started again after it died, before :func:`run` gives up on it for
#: the life of the server (and computes in its callers).
MAX_RESTARTS = 3


def _identity(pid: int) -> str | None:
    """The process `pid`'s start time (Linux ``/proc``), None when there is no such process:
    a pid and its start time name one process, even after the pid is reused."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _watch(server_pid: int, server: str | None) -> None:
    """End this process once the server that started it has gone (a server stopped by a
    signal runs no exit handler, and the process would be left behind)."""
    while _identity(server_pid) == server:
        time.sleep(WATCH_S)
    os._exit(0)


def _preload(server_pid: int, server: str | None) -> None:
    import importlib

    if server is not None:
        threading.Thread(target=_watch, args=(server_pid, server), name="humber-watch",
                         daemon=True).start()
    for name in PRELOAD:
        importlib.import_module(name)
    from ui.memory import use_system_allocator

    use_system_allocator()  # as the server does (see ui.memory)
    # The modules' objects live as long as the process: keep them out of the garbage
    # collector's full passes, which otherwise walked them in every other computation
    # (0.07 s of the Humber's 0.08 s predicted cells).
    gc.freeze()


def _ready() -> bool:
    return True


def _call(function, args, kwargs):
    """`function(*args, **kwargs)` in the process: ``(True, result)``, or ``(False, the
    exception's type name)`` when it raised (an exception may not survive pickling; the
    caller computes it again itself, which raises the real one)."""
    try:
        return True, function(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - reported to the caller, who raises it
        return False, type(error).__name__  # the name only: no value of the data


def start() -> None:
    """Start the compute process, if it is not running, and return at once.

    It is started from a fork server (a clean process, not a copy of the threaded server)
    and imports :data:`PRELOAD` in the background.
    """
    global _pool
    with _lock:
        if _pool is not None:
            return
        context = multiprocessing.get_context("forkserver")
        # The fork server imports the analysis modules once; a restarted process forks from
        # it with them loaded. (A process started from it still imports a main *script* run
        # by its path, as every multiprocessing start method does; `python -m` runs, as
        # `make run` and pytest are, import nothing more.)
        context.set_forkserver_preload(list(PRELOAD))
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_preload,
                                    initargs=(os.getpid(), _identity(os.getpid())))
        _pool.submit(_ready)


def stop() -> None:
    """Stop the compute process (at exit; tests). :func:`run` then computes in its caller."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def running() -> bool:
    """Whether :func:`run` hands its computations to the process."""
    return _pool is not None


def run(function, /, *args, **kwargs):
    """``function(*args, **kwargs)``, computed in the compute process when it runs.

    Parameters
    ----------
    function : callable
        A module-level function of the analysis library (picklable by name), for example
        :func:`hotspots.pipeline.cluster_analysis`.
    *args, **kwargs
        Its arguments (picklable).

    Returns
    -------
    object
        What `function` returns. Without the process, or when the process has died (it is
        started again) or `function` raised there, it is computed in the calling thread,
        so an error is raised here as itself.
    """
    global _restarts
    with _lock:
        pool = _pool
    if pool is not None:
        try:
            done, value = pool.submit(_call, function, args, kwargs).result()
        except BrokenProcessPool:
            with _lock:  # another caller may have replaced the broken pool already
                replace = _pool is pool
            if replace:
                stop()
                _restarts += 1
                if _restarts <= MAX_RESTARTS:
                    _LOG.warning("The compute process stopped; computing here and starting "
                                 "it again.")
                    start()
                else:
                    _LOG.warning("The compute process stopped %d times; computing in the "
                                 "server's own process from now on.", _restarts)
        except Exception as error:  # noqa: BLE001 - e.g. an argument that cannot be pickled
            _LOG.debug("Could not hand %s to the compute process (%s); computing it here.",
                       getattr(function, "__name__", function), type(error).__name__)
        else:
            if done:
                return value
            _LOG.debug("%s failed in the compute process (%s); computing it here.",
                       getattr(function, "__name__", function), value)
    return function(*args, **kwargs)


atexit.register(stop)
